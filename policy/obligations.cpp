#include "policy/obligations.hpp"

#include <algorithm>
#include <cctype>
#include <map>

#include "policy/clauses.hpp"
#include "policy/deadlines.hpp"
#include "policy/rfc3339.hpp"

namespace flare::policy {
namespace {

using std::chrono::sys_seconds;
namespace ids = obligation_ids;

std::string lower(std::string_view s) {
  std::string out{s};
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string{s};
}

std::string_view table_clause(severity s) {
  switch (s) {
    case severity::critical: return clauses::table_critical;
    case severity::high: return clauses::table_high;
    case severity::medium: return clauses::table_medium;
    case severity::low: return clauses::table_low;
  }
  return clauses::table_critical;
}

struct builder {
  const checklist_input& in;
  std::map<std::string, completion> completions;  // first recorded completion per id
  checklist out;

  explicit builder(const checklist_input& input) : in(input) {
    for (const auto& c : in.completions) completions.emplace(c.obligation_id, c);
  }

  const conflict_call* call_for(std::string_view conflict_id) const {
    const conflict_call* found = nullptr;
    // The latest call wins: a responder may change their mind, and the audit log keeps both.
    for (const auto& c : in.calls) {
      if (c.conflict_id == conflict_id && (!found || c.at >= found->at)) found = &c;
    }
    return found;
  }

  obligation& add(std::string id, std::string title, std::string_view clause, std::string reason) {
    obligation o;
    o.id = std::move(id);
    o.title = std::move(title);
    o.clause = std::string{clause};
    o.reason = std::move(reason);
    out.items.push_back(std::move(o));
    return out.items.back();
  }

  obligation& not_needed(std::string id, std::string title, const reason& why) {
    obligation& o = add(std::move(id), std::move(title), why.clause, why.text);
    o.state = obligation_state::not_needed;
    return o;
  }
};

const reason& first_reason(const std::vector<reason>& reasons, const reason& fallback) {
  return reasons.empty() ? fallback : reasons.front();
}

// The reason that made something required: the first one whose clause is not an exception or
// "how" clause, falling back to the first.
reason required_reason(const std::vector<reason>& reasons) {
  for (const auto& r : reasons) {
    if (r.clause != clauses::no_routine_patching && r.clause != clauses::how_bulletin &&
        r.clause != clauses::how_email && r.clause != clauses::disclose_when_fix) {
      return r;
    }
  }
  return reasons.empty() ? reason{} : reasons.front();
}

// Legal requirements: each `legal=` fact becomes one item, first in the list (disclosure policy,
// introduction, paragraph 3: they take precedence). The clock runs from awareness; flare reads
// awareness as the earliest time it knows the company knew: the incident being opened or the
// recorded impact confirmation, whichever is earlier (protective: the earlier deadline).
void add_legal(builder& b, const facts& f, const tables& t, const business_calendar& calendar) {
  const legal_regime_table& table = b.in.regimes ? *b.in.regimes : t.legal_regimes;
  std::optional<sys_seconds> awareness;
  if (b.in.opened_at != sys_seconds{}) awareness = b.in.opened_at;
  if (f.impact_confirmed_at && (!awareness || *f.impact_confirmed_at < *awareness)) {
    awareness = f.impact_confirmed_at;
  }
  std::vector<std::string> seen;
  for (const auto& raw : f.legal_requirements) {
    const std::string key = lower(trim(raw));
    if (key.empty() || std::find(seen.begin(), seen.end(), key) != seen.end()) continue;
    seen.push_back(key);
    const std::string id = std::string{ids::legal_prefix} + key;
    if (const legal_regime* r = find_regime(table, key)) {
      std::string why = "Legal requirement recorded (" + key + "): notify " + r->notify + " ";
      why += r->within ? "within " + describe(*r->within) + " of awareness"
                       : "without undue delay (no fixed time)";
      why += "; it takes precedence over company policy.";
      obligation& o = b.add(id, r->title, r->citation, std::move(why));
      o.legal = true;
      if (r->within && awareness) o.due = due_after(*awareness, *r->within, calendar);
    } else {
      obligation& o = b.add(id, "Legal requirement: " + trim(raw), clauses::legal_precedence,
                            "Not in flare's table of legal regimes: confirm who must be told and by when "
                            "with counsel; flare cannot remind before a deadline it does not know.");
      o.legal = true;
    }
  }
}

// The paid-customer notice, its updates and the resolution message, on the SaaS severity table
// from the point of impact confirmation. Legacy `notified` times (facts.notifications_sent) count
// in order: the first at or after impact confirmation is the initial notice, later ones updates,
// one at or after resolution the resolution message. Explicit completions take precedence.
void add_paid(builder& b, const facts& f, const tables& t, const business_calendar& calendar,
              bool exception_call) {
  if (!f.impact_confirmed_at) {
    b.out.notes.push_back(
        f.classification == classification::potential
            ? "Potential compromise: customer notices start when impact confirmation is recorded."
            : "Customer notices start when impact confirmation is recorded.");
    return;
  }
  const severity s = f.severity.value_or(severity::critical);
  const severity_timing& timing = t.timing(s);
  if (!timing.initial) {
    b.not_needed(std::string{ids::paid_initial_notice}, "Paid-customer initial notice",
                 reason{"Severity " + std::string{to_string(s)} + ": no scheduled notifications.",
                        std::string{table_clause(s)}});
    return;
  }
  if (exception_call) {
    b.not_needed(std::string{ids::paid_initial_notice}, "Paid-customer initial notice",
                 reason{"A responder called the conflict: the disclosure-policy exception applies, so no "
                        "customer notices.",
                        std::string{clauses::paid_from_impact_confirmation}});
    return;
  }
  const sys_seconds impact = *f.impact_confirmed_at;
  std::vector<sys_seconds> legacy;
  for (auto t0 : f.notifications_sent) {
    if (t0 >= impact) legacy.push_back(t0);
  }
  std::sort(legacy.begin(), legacy.end());
  legacy.erase(std::unique(legacy.begin(), legacy.end()), legacy.end());
  std::optional<sys_seconds> legacy_resolution;
  if (f.resolved_at) {
    auto it = std::lower_bound(legacy.begin(), legacy.end(), *f.resolved_at);
    if (it != legacy.end()) legacy_resolution = *it;
    legacy.erase(it, legacy.end());
  }
  std::size_t next_legacy = 0;
  auto take = [&](const std::string& id) -> std::optional<completion> {
    if (auto it = b.completions.find(id); it != b.completions.end()) return it->second;
    if (next_legacy < legacy.size()) {
      return completion{id, "", legacy[next_legacy++], "recorded with `notified`"};
    }
    return std::nullopt;
  };

  const std::string row_clause{table_clause(s)};
  obligation& initial =
      b.add(std::string{ids::paid_initial_notice}, "Paid-customer initial notice", row_clause,
            "Severity " + std::string{to_string(s)} + ": initial notification " + describe(*timing.initial) +
                " after impact confirmation (" + format_rfc3339(impact) + ").");
  if (!f.severity) initial.reason += " Severity not set: Critical timings until triaged.";
  initial.due = due_after(impact, *timing.initial, calendar);
  std::optional<sys_seconds> last;
  if (auto c = take(initial.id)) {
    initial.state = obligation_state::done;
    initial.done = *c;
    last = c->at;
  }
  if (last && timing.update) {
    // Bounded: one item per recorded notification plus the next one.
    const std::size_t limit = b.completions.size() + legacy.size() + 1;
    for (std::size_t n = 1; n <= limit; ++n) {
      const std::string id = std::string{ids::update_prefix} + std::to_string(n);
      obligation& u =
          b.add(id, "Customer update " + std::to_string(n), row_clause,
                "Target update frequency " + describe(*timing.update) + " after the previous notice.");
      u.due = due_after(*last, *timing.update, calendar);
      if (auto c = take(id)) {
        u.state = obligation_state::done;
        u.done = *c;
        last = c->at;
        continue;
      }
      if (f.resolved_at && *f.resolved_at <= *u.due) {
        // Resolved before this update fell due: the resolution message takes its place.
        u.state = obligation_state::not_needed;
        u.reason = "Resolved before this update was due: the resolution message replaces it.";
        u.due.reset();
      } else if (f.resolved_at) {
        // Due before resolution and never sent: still owed, but the resolution message now
        // carries it; shown as not needed so it stops reminding, with the reason.
        u.state = obligation_state::not_needed;
        u.reason = "Resolved: the resolution message replaces further updates.";
        u.due.reset();
      }
      break;
    }
  }
  // The table gives no time for the resolution message; flare reads it as due at resolution.
  obligation& res =
      b.add(std::string{ids::resolution_message}, "Resolution message", clauses::resolution_message,
            f.resolved_at
                ? "Resolved at " + format_rfc3339(*f.resolved_at) + ": the resolution message is due then."
                : std::string{"Due when the incident is resolved."});
  if (auto it = b.completions.find(res.id); it != b.completions.end()) {
    res.state = obligation_state::done;
    res.done = it->second;
  } else if (legacy_resolution) {
    res.state = obligation_state::done;
    res.done = completion{res.id, "", *legacy_resolution, "recorded with `notified`"};
  }
  if (f.resolved_at) {
    res.due = *f.resolved_at;
  } else if (res.state == obligation_state::pending) {
    res.ready = false;
    res.waiting_for = "the incident to be resolved";
  }
}

std::string join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : std::string{sep}) + p;
  return out;
}

void apply_completions(builder& b) {
  for (auto& o : b.out.items) {
    if (o.state == obligation_state::done) continue;
    if (auto it = b.completions.find(o.id); it != b.completions.end()) {
      o.state = obligation_state::done;
      o.done = it->second;
    }
  }
}

void apply_readiness(checklist& c, const facts& f) {
  for (auto& o : c.items) {
    if (o.state != obligation_state::pending) {
      o.ready = o.state == obligation_state::pending;
      o.waiting_for.clear();
      continue;
    }
    std::vector<std::string> waits;
    if (!o.waiting_for.empty()) waits.push_back(o.waiting_for);
    if (o.id == ids::bulletin && !f.fix_available) waits.push_back("a fix to be available");
    if (o.id == ids::public_announcement && !f.fix_applied) waits.push_back("the fix to be applied");
    for (const auto& dep : o.depends_on) {
      const obligation* d = c.find(dep);
      if (d && d->state == obligation_state::pending) waits.push_back(d->title);
    }
    o.ready = waits.empty();
    o.waiting_for = join(waits, "; ");
  }
}

}  // namespace

std::string_view to_string(incident_kind k) {
  switch (k) {
    case incident_kind::none: return "none";
    case incident_kind::security: return "security";
    case incident_kind::people_and_safety: return "people_and_safety";
  }
  return "none";
}

std::optional<incident_kind> parse_incident_kind(std::string_view s) {
  const std::string l = lower(s);
  if (l == "security") return incident_kind::security;
  if (l == "people_and_safety" || l == "people-and-safety" || l == "people" || l == "safety") {
    return incident_kind::people_and_safety;
  }
  return std::nullopt;
}

std::string_view to_string(obligation_state s) {
  switch (s) {
    case obligation_state::pending: return "pending";
    case obligation_state::done: return "done";
    case obligation_state::not_needed: return "not_needed";
  }
  return "pending";
}

const obligation* checklist::find(std::string_view id) const {
  for (const auto& o : items) {
    if (o.id == id) return &o;
  }
  return nullptr;
}

std::vector<const obligation*> checklist::open_deadlines() const {
  std::vector<const obligation*> out;
  for (const auto& o : items) {
    if (o.state == obligation_state::pending && o.due) out.push_back(&o);
  }
  std::stable_sort(out.begin(), out.end(), [](auto* a, auto* b) { return *a->due < *b->due; });
  return out;
}

checklist derive_checklist(const facts& f, const decision& d, const tables& t,
                           const business_calendar& calendar, const checklist_input& in,
                           sys_seconds /*now*/) {
  builder b{in};
  // No kind yet is a security incident (the protective default: the disclosure rules apply).
  b.out.kind = in.kind == incident_kind::none ? incident_kind::security : in.kind;
  b.out.severity = f.severity;
  b.out.legal_precedence = !f.legal_requirements.empty();
  add_legal(b, f, t, calendar);

  if (b.out.kind == incident_kind::people_and_safety) {
    // Injury, harassment, threats: the disclosure policy and the SaaS process are about security
    // vulnerabilities and customer data, so no bulletin, no customer notices. The response
    // policy routes sensitive reports to the Security Team or the Head of Finance & Operations.
    b.out.notes.push_back(
        "People and safety incident: no disclosure decision, no security bulletin and no customer "
        "notices. Routed to the Head of Finance & Operations and the Security Team.");
    b.add(
        std::string{ids::inform_hofo}, "Head of Finance & Operations informed", clauses::sensitive_routing,
        "Potentially sensitive report: the Head of Finance & Operations handles it with the Security Team.");
    b.add(std::string{ids::inform_security_team}, "Security Team informed", clauses::sensitive_routing,
          "Potentially sensitive report: the Security Team is told.");
    apply_completions(b);
    apply_readiness(b.out, f);
    return b.out;
  }

  const policy_exceptions e = find_exceptions(f);
  const bool paid = has_tier(f, customer_tier::paid) || f.customers.empty();
  const bool free = has_tier(f, customer_tier::free);
  const severity s = f.severity.value_or(severity::critical);
  const bool schedule_possible = f.impact_confirmed_at && t.timing(s).initial.has_value();

  // Conflict 1: a disclosure-policy exception says "don't notify", but a responder recorded impact
  // confirmation, which starts the SaaS process's customer clock.
  bool paid_exception_call = false;
  if ((e.routine_patch || e.not_exploited) && schedule_possible && paid) {
    policy_conflict c;
    c.id = "exception_vs_customer_clock";
    c.summary =
        "A disclosure-policy exception says not to notify, but impact confirmation was recorded, "
        "which starts the paid-customer notification clock.";
    c.first = e.routine_patch ? reason{"No notification for routine security patching of dependencies.",
                                       std::string{clauses::no_routine_patching}}
                              : reason{"No notification when confirmed not exploited and no users affected.",
                                       std::string{clauses::not_exploited_no_users}};
    c.second = reason{"Initial alert, updates and resolution message from the point of impact confirmation.",
                      std::string{clauses::paid_from_impact_confirmation}};
    c.options = {{"follow_saas_schedule", "Keep the customer notices",
                  "The paid-customer notices stay on the checklist with their deadlines."},
                 {"apply_exception", "Apply the exception",
                  "The paid-customer notices become not needed, citing this call."}};
    c.default_option = "follow_saas_schedule";
    if (const conflict_call* call = b.call_for(c.id)) {
      c.call = *call;
      paid_exception_call = call->choice == "apply_exception";
    }
    b.out.conflicts.push_back(std::move(c));
  }
  // Conflict 2: an exception says "don't notify", but free-tier applications are directly
  // impacted, for which the SaaS process says to e-mail them.
  bool free_exception_call = false;
  const bool free_conflict = (e.routine_patch || e.not_exploited) && free && f.free_tier_directly_impacted;
  if (free_conflict) {
    policy_conflict c;
    c.id = "exception_vs_free_tier_impact";
    c.summary =
        "A disclosure-policy exception says not to notify, but free-tier applications are "
        "directly impacted, for which free-tier users are e-mailed.";
    c.first = e.routine_patch ? reason{"No notification for routine security patching of dependencies.",
                                       std::string{clauses::no_routine_patching}}
                              : reason{"No notification when confirmed not exploited and no users affected.",
                                       std::string{clauses::not_exploited_no_users}};
    c.second = reason{"Free-tier users are notified when their applications are directly impacted.",
                      std::string{clauses::free_only_when_impacted}};
    c.options = {
        {"send_free_tier_email", "E-mail free-tier users", "The free-tier e-mail stays on the checklist."},
        {"apply_exception", "Apply the exception",
         "The free-tier e-mail becomes not needed, citing this call."}};
    c.default_option = "send_free_tier_email";
    if (const conflict_call* call = b.call_for(c.id)) {
      c.call = *call;
      free_exception_call = call->choice == "apply_exception";
    }
    b.out.conflicts.push_back(std::move(c));
  }

  if (paid) add_paid(b, f, t, calendar, paid_exception_call);
  // A copy of the state, not a pointer: adding items below may reallocate the list.
  const obligation* initial_item = b.out.find(ids::paid_initial_notice);
  const bool initial_owed = initial_item && initial_item->state != obligation_state::not_needed;
  const std::optional<sys_seconds> initial_due =
      schedule_possible ? std::optional{due_after(*f.impact_confirmed_at, *t.timing(s).initial, calendar)}
                        : std::nullopt;

  // Admin e-mails (disclosure policy, second list; "How We Notify Users", paragraph 2).
  const auto& dn = d.direct_notification;
  if (dn.required) {
    const reason why = required_reason(dn.reasons);
    if (in.organizations.empty()) {
      b.add(std::string{ids::admin_email}, "E-mail to affected Organizations' administrators", why.clause,
            why.text + " E-mail the default owner of each affected Organization.");
    } else {
      for (const auto& org : in.organizations) {
        b.add(std::string{ids::admin_email} + ":" + org, "E-mail to " + org + "'s administrators", why.clause,
              why.text + " E-mail the Organization's default owner.");
      }
    }
  } else {
    b.not_needed(
        std::string{ids::admin_email}, "E-mail to affected Organizations' administrators",
        first_reason(dn.reasons, reason{"Not required.", std::string{clauses::direct_org_affected}}));
  }

  // Free-tier e-mail: only when free-tier users are in the incident.
  if (free) {
    // Under the conflict the decision keeps the e-mail owed (protective); a call can drop it.
    const bool owed = free_conflict ? !free_exception_call : d.free_tier.notify_by_email;
    if (owed) {
      obligation& o = b.add(std::string{ids::free_tier_email}, "E-mail to free-tier users",
                            clauses::free_email_before_disclosure,
                            "Free-tier applications are directly impacted: e-mail them before any public "
                            "disclosure, giving paid customers their buffer.");
      // The process gives free-tier e-mails no timing; flare keeps the paid table's (protective).
      o.due = initial_due;
      if (o.due) o.reason += " Due on the paid table's initial-notice timing.";
    } else if (free_conflict) {
      b.not_needed(std::string{ids::free_tier_email}, "E-mail to free-tier users",
                   reason{"A responder called the conflict: the disclosure-policy exception applies.",
                          std::string{clauses::free_only_when_impacted}});
    } else {
      b.not_needed(std::string{ids::free_tier_email}, "E-mail to free-tier users",
                   first_reason(d.free_tier.reasons, reason{"Not directly impacted.",
                                                            std::string{clauses::free_only_when_impacted}}));
    }
  }

  // Public security bulletin (disclosure policy, first list): after a fix, after the paid notice
  // and the free-tier e-mails (SaaS process, free-tier item 1: the paid customers' buffer).
  const auto& pd = d.public_disclosure;
  if (pd.required) {
    const reason why = required_reason(pd.reasons);
    obligation& o = b.add(std::string{ids::bulletin}, "Public security bulletin", why.clause,
                          why.text + " Publish it as a public security bulletin once a fix is available.");
    if (initial_owed) o.depends_on.push_back(std::string{ids::paid_initial_notice});
    if (const obligation* fe = b.out.find(ids::free_tier_email);
        fe && fe->state != obligation_state::not_needed) {
      o.depends_on.push_back(fe->id);
    }
  } else {
    b.not_needed(std::string{ids::bulletin}, "Public security bulletin",
                 first_reason(pd.reasons, reason{"Not required.", std::string{clauses::disclose_when_fix}}));
  }

  // Public announcement (SaaS process, "Public Announcement Process"): after the fixes are applied.
  if (free) {
    if (d.free_tier.public_announcement) {
      obligation& o =
          b.add(std::string{ids::public_announcement}, "Public announcement", clauses::public_announcement,
                "Free-tier users are affected and need no individual action: announce publicly "
                "after the fix is applied.");
      if (const obligation* fe = b.out.find(ids::free_tier_email);
          fe && fe->state != obligation_state::not_needed) {
        o.depends_on.push_back(fe->id);
      }
    } else {
      b.not_needed(std::string{ids::public_announcement}, "Public announcement",
                   first_reason(d.free_tier.reasons,
                                reason{"Not required.", std::string{clauses::public_announcement}}));
    }
  }

  // Updates and the resolution message read best after the first actions: move them last.
  std::stable_partition(b.out.items.begin(), b.out.items.end(), [](const obligation& o) {
    return !(o.id.starts_with(ids::update_prefix) || o.id == ids::resolution_message);
  });
  apply_completions(b);
  apply_readiness(b.out, f);
  return b.out;
}

std::optional<std::string> next_notification_id(const checklist& c) {
  if (const obligation* o = c.find(obligation_ids::paid_initial_notice);
      o && o->state == obligation_state::pending) {
    return o->id;
  }
  for (const auto& o : c.items) {
    if (o.id.starts_with(obligation_ids::update_prefix) && o.state == obligation_state::pending) return o.id;
  }
  if (const obligation* o = c.find(obligation_ids::resolution_message);
      o && o->state == obligation_state::pending && o->ready) {
    return o->id;
  }
  return std::nullopt;
}

const obligation* find_obligation(const checklist& c, std::string_view typed) {
  const std::string t = lower(trim(typed));
  for (const auto& o : c.items) {
    if (lower(o.id) == t) return &o;  // ids are matched case-insensitively ("admin_email:Acme")
  }
  if (t == "update" || t == "updates") {
    for (const auto& o : c.items) {
      if (o.id.starts_with(obligation_ids::update_prefix) && o.state == obligation_state::pending) return &o;
    }
    return nullptr;
  }
  if (t == "admin" || t == "admin_email" || t == "admin-email") {
    const obligation* only = nullptr;
    for (const auto& o : c.items) {
      if (o.id.starts_with(obligation_ids::admin_email)) {
        if (only) return nullptr;  // several Organizations: the id must name one
        only = &o;
      }
    }
    return only;
  }
  static const std::map<std::string, std::string_view, std::less<>> aliases{
      {"notice", obligation_ids::paid_initial_notice},
      {"initial", obligation_ids::paid_initial_notice},
      {"initial-notice", obligation_ids::paid_initial_notice},
      {"resolution", obligation_ids::resolution_message},
      {"resolution-message", obligation_ids::resolution_message},
      {"free-tier", obligation_ids::free_tier_email},
      {"free_tier", obligation_ids::free_tier_email},
      {"free-tier-email", obligation_ids::free_tier_email},
      {"announcement", obligation_ids::public_announcement},
      {"public-announcement", obligation_ids::public_announcement},
      {"hofo", obligation_ids::inform_hofo},
      {"security-team", obligation_ids::inform_security_team},
  };
  if (auto it = aliases.find(t); it != aliases.end()) return c.find(it->second);
  if (const obligation* o = c.find(std::string{obligation_ids::legal_prefix} + t)) return o;
  return nullptr;
}

std::string known_ids(const checklist& c) {
  std::vector<std::string> out;
  for (const auto& o : c.items) out.push_back(o.id);
  return join(out, ", ");
}

}  // namespace flare::policy
