#include "policy/disclosure.hpp"

#include "policy/clauses.hpp"
#include "policy/rfc3339.hpp"

namespace flare::policy {
namespace {

reason because(std::string text, std::string_view clause) {
  return reason{std::move(text), std::string{clause}};
}

using exceptions = policy_exceptions;

}  // namespace

policy_exceptions find_exceptions(const facts& f) {
  exceptions e;
  const bool confirmed_harm = f.users_affected == tristate::confirmed ||
                              f.data_exposed == tristate::confirmed ||
                              f.metadata_exposed == tristate::confirmed;
  // Disclosure policy, "When We Notify Users", paragraph 1, sentence 2. The policy is silent on a
  // "routine" patch that also has confirmed affected users or exposed data; that is not routine,
  // so (protective reading) the exception only holds without confirmed harm.
  e.routine_patch = f.routine_dependency_patch && !confirmed_harm;
  e.routine_voided = f.routine_dependency_patch && confirmed_harm;
  // Disclosure policy, "When We Notify Users", paragraph 1, sentence 3: confirmed not exploited
  // and no users affected. User action needed keeps it actionable (sentence 1: "we aim to ...
  // only notify users for actionable incidents"). Confirmed exposure of data or metadata
  // contradicts "no users were affected", so (protective reading) it also keeps it.
  e.not_exploited = f.exploited == tristate::none && f.users_affected == tristate::none &&
                    !f.user_action_required && f.data_exposed != tristate::confirmed &&
                    f.metadata_exposed != tristate::confirmed;
  return e;
}

namespace {

std::string_view table_clause(severity s) {
  switch (s) {
    case severity::critical: return clauses::table_critical;
    case severity::high: return clauses::table_high;
    case severity::medium: return clauses::table_medium;
    case severity::low: return clauses::table_low;
  }
  return clauses::table_critical;
}

disclosure_decision decide_public_disclosure(const facts& f, const exceptions& e) {
  disclosure_decision d;
  if (e.routine_patch) {
    d.reasons.push_back(because("Routine security patching of dependencies: no security bulletin.",
                                clauses::no_routine_patching));
    return d;
  }
  if (e.not_exploited) {
    d.reasons.push_back(
        because("Confirmed not exploited, no users affected and no user action needed: no security bulletin.",
                clauses::not_exploited_no_users));
    return d;
  }
  if (e.routine_voided) {
    d.reasons.push_back(
        because("Flagged as routine dependency patching, but users or data are confirmed affected, so the "
                "routine-patching exception does not apply.",
                clauses::no_routine_patching));
  }
  if (f.user_action_required) {
    d.required = true;
    d.reasons.push_back(
        because("User action is needed to fix the vulnerability.", clauses::disclose_user_action));
  }
  if (f.data_exposed == tristate::confirmed) {
    d.required = true;
    d.reasons.push_back(because("Organization data is confirmed visible to an unauthorized party.",
                                clauses::disclose_data_visible));
  }
  if (f.users_affected != tristate::none) {
    d.required = true;
    d.reasons.push_back(because(f.users_affected == tristate::confirmed
                                    ? "Users are confirmed affected."
                                    : "It cannot be confirmed that no users were affected.",
                                clauses::disclose_users_not_ruled_out));
  }
  if (!d.required) {
    d.reasons.push_back(because(
        "No user action needed, no confirmed data exposure, and confirmed that no users were affected.",
        clauses::disclose_when_fix));
    return d;
  }
  d.ready = f.fix_available;
  d.reasons.push_back(because(f.fix_available ? "A fix is available: publish the security bulletin."
                                              : "No fix is available yet: publish the bulletin once it is.",
                              clauses::disclose_when_fix));
  d.reasons.push_back(because("Publish as a public security bulletin.", clauses::how_bulletin));
  return d;
}

direct_notification_decision decide_direct_notification(const facts& f, const exceptions& e) {
  direct_notification_decision d;
  if (e.routine_patch) {
    d.reasons.push_back(because("Routine security patching of dependencies: no direct notification.",
                                clauses::no_routine_patching));
    return d;
  }
  // "when we can confirm that the Organization was affected": confirmed affected users confirm
  // it; so (protective reading) does the Organization's data or metadata being confirmed
  // visible to an unauthorized party, since that exposure is the Organization being affected.
  const bool data_visible =
      f.data_exposed == tristate::confirmed || f.metadata_exposed == tristate::confirmed;
  if (f.users_affected != tristate::confirmed && !data_visible) {
    d.reasons.push_back(because(std::string{"The Organization is not confirmed affected (users_affected="} +
                                    std::string{to_string(f.users_affected)} +
                                    "): no direct notification yet.",
                                clauses::direct_org_affected));
    return d;
  }
  if (f.user_action_required) {
    // An untriaged incident is treated as critical/high (protective reading): the policy gives
    // no rule for a missing severity, and waiting for triage could delay a required e-mail.
    const bool critical_or_high =
        !f.severity || *f.severity == severity::critical || *f.severity == severity::high;
    if (critical_or_high) {
      d.required = true;
      d.reasons.push_back(because(
          f.severity
              ? "User action is needed and the severity is " + std::string{to_string(*f.severity)} + "."
              : std::string{"User action is needed and the severity is not yet set "
                            "(treated as critical until triaged)."},
          clauses::direct_user_action_critical_high));
    } else {
      d.reasons.push_back(because("User action is needed, but the severity is " +
                                      std::string{to_string(*f.severity)} + ", not critical or high.",
                                  clauses::direct_user_action_critical_high));
    }
  }
  if (data_visible) {
    d.required = true;
    d.reasons.push_back(
        because("Organization data or metadata is confirmed visible to an unauthorized party.",
                clauses::direct_data_visible));
  }
  if (d.required) {
    d.reasons.push_back(because("E-mail the affected Organizations' default owners.", clauses::how_email));
  } else if (!f.user_action_required) {
    d.reasons.push_back(
        because("The Organization is affected, but no user action is needed and no data or metadata "
                "exposure is confirmed: no direct notification.",
                clauses::direct_org_affected));
  }
  return d;
}

customer_notification_decision decide_customer_notifications(const facts& f, const tables& t,
                                                             const business_calendar& calendar,
                                                             const exceptions& e) {
  customer_notification_decision d;
  const bool paid = has_tier(f, customer_tier::paid) || f.customers.empty();
  if (!paid) {
    // The severity table is the "Paid Customer Notification Process"; free-tier users are
    // notified "only ... when their applications are directly impacted". The process gives free
    // tier e-mails no timing; (protective reading) when they are owed, they keep the paid
    // table's timing rather than having no deadline at all.
    if (!f.free_tier_directly_impacted) {
      d.reasons.push_back(because(
          "Only free-tier users, whose applications are not directly impacted: no scheduled notifications.",
          clauses::free_only_when_impacted));
      return d;
    }
    d.reasons.push_back(
        because("Only free-tier users, directly impacted: their e-mails follow the severity table's timing.",
                clauses::free_only_when_impacted));
  } else if (f.customers.empty()) {
    d.reasons.push_back(because("No customer tier recorded: treated as paid customers.",
                                clauses::paid_from_impact_confirmation));
  }
  if (!f.impact_confirmed_at) {
    if (f.classification == classification::potential) {
      d.reasons.push_back(because(
          "Potential compromise: the notification clock starts when a responder records impact confirmation.",
          clauses::classification_potential));
    } else {
      d.reasons.push_back(because("Impact confirmation time not recorded: the clock has not started.",
                                  clauses::paid_from_impact_confirmation));
    }
    return d;
  }
  const severity s = f.severity.value_or(severity::critical);
  if (!f.severity) {
    // Protective reading: until triage sets a severity, keep the tightest deadlines.
    d.reasons.push_back(
        because("Severity not set: Critical timings apply until it is triaged.", clauses::table_critical));
  }
  const severity_timing& timing = t.timing(s);
  if (!timing.initial) {
    d.reasons.push_back(
        because("Severity " + std::string{to_string(s)} + ": no scheduled notifications.", table_clause(s)));
    return d;
  }
  if (e.routine_patch || e.not_exploited) {
    // The two documents disagree here (decision::conflicts): the schedule is computed so the
    // checklist can keep it (protective) until a responder records a call; the reason says so.
    d.reasons.push_back(
        because("Policy conflict: a disclosure-policy exception says not to notify, but impact confirmation "
                "was recorded, which starts this schedule. A responder records a call; until then the "
                "schedule is kept.",
                clauses::paid_from_impact_confirmation));
  }
  d.schedule =
      schedule_notifications(*f.impact_confirmed_at, timing, f.notifications_sent, f.resolved_at, calendar);
  std::string row = "Severity " + std::string{to_string(s)} + ": initial notification " +
                    describe(*timing.initial) + " after impact confirmation (" +
                    format_rfc3339(*f.impact_confirmed_at) + ")";
  if (timing.update) row += ", then an update every " + describe(*timing.update);
  d.reasons.push_back(because(row + ".", table_clause(s)));
  if (f.resolved_at) {
    d.reasons.push_back(
        because("Resolved at " + format_rfc3339(*f.resolved_at) + ": the resolution message is due then.",
                clauses::paid_from_impact_confirmation));
  } else if (d.schedule.next_due && d.schedule.next_due != d.schedule.initial_due) {
    d.reasons.push_back(
        because("The next update is due one interval after the last notification sent.", table_clause(s)));
  }
  return d;
}

free_tier_decision decide_free_tier(const facts& f, const exceptions& e, bool bulletin_required) {
  free_tier_decision d;
  if (!has_tier(f, customer_tier::free)) {
    d.reasons.push_back(because("No free-tier users are affected.", clauses::free_only_when_impacted));
    return d;
  }
  if ((e.routine_patch || e.not_exploited) && f.free_tier_directly_impacted) {
    // The exception says not to notify; the SaaS process says directly impacted free-tier users
    // are e-mailed. Not settled here (decision::conflicts): the e-mail stays owed, the protective
    // reading, until a responder records a call on the checklist.
    d.notify_by_email = true;
    d.before_public_disclosure = true;
    d.reasons.push_back(
        because("Policy conflict: " +
                    std::string{e.routine_patch ? "the routine-dependency-patching exception"
                                                : "the \"not exploited, no users affected\" exception"} +
                    " says not to notify, but free-tier applications are directly impacted. A responder "
                    "records a call; until then the e-mail is owed.",
                clauses::free_only_when_impacted));
    return d;
  }
  if (e.routine_patch) {
    d.reasons.push_back(because("Routine security patching of dependencies: no free-tier notification.",
                                clauses::no_routine_patching));
    return d;
  }
  if (e.not_exploited) {
    d.reasons.push_back(because("Confirmed not exploited and no users affected: no free-tier notification.",
                                clauses::not_exploited_no_users));
    return d;
  }
  if (f.free_tier_directly_impacted) {
    d.notify_by_email = true;
    d.reasons.push_back(because("Free-tier applications are directly impacted: e-mail them.",
                                clauses::free_only_when_impacted));
    // The e-mail goes out before any public bulletin, whether or not one is required yet: the
    // order is what gives paid customers their buffer (protective reading).
    d.before_public_disclosure = true;
    d.reasons.push_back(because(bulletin_required ? "Send the e-mail before the public security bulletin."
                                                  : "Send the e-mail before any public disclosure.",
                                clauses::free_email_before_disclosure));
  } else {
    d.reasons.push_back(because("Free-tier applications are not directly impacted: no e-mail.",
                                clauses::free_only_when_impacted));
  }
  // Free-tier users are affected unless it is confirmed that no users were.
  const bool free_affected = f.free_tier_directly_impacted || f.users_affected != tristate::none;
  if (free_affected && !f.user_action_required) {
    d.public_announcement = true;
    d.announcement_ready = f.fix_applied;
    d.reasons.push_back(because(f.fix_applied
                                    ? "Free-tier users are affected and need no individual action; the fix "
                                      "is applied: make the public announcement."
                                    : "Free-tier users are affected and need no individual action: make "
                                      "a public announcement once the fix is applied.",
                                clauses::public_announcement));
  } else if (free_affected) {
    d.reasons.push_back(because("Individual action is needed, so a public announcement alone does not serve.",
                                clauses::public_announcement));
  }
  return d;
}

std::string yes_no(bool b) { return b ? "yes" : "no"; }

}  // namespace

std::vector<decision_conflict> find_conflicts(const facts& f, const tables& t) {
  std::vector<decision_conflict> out;
  const exceptions e = find_exceptions(f);
  if (!e.routine_patch && !e.not_exploited) return out;
  const reason exception =
      e.routine_patch ? because("No notification for routine security patching of dependencies.",
                                clauses::no_routine_patching)
                      : because("No notification when confirmed not exploited and no users affected.",
                                clauses::not_exploited_no_users);
  const bool paid = has_tier(f, customer_tier::paid) || f.customers.empty();
  const severity s = f.severity.value_or(severity::critical);
  if (paid && f.impact_confirmed_at && t.timing(s).initial) {
    out.push_back(
        {"exception_vs_customer_clock",
         "A disclosure-policy exception says not to notify, but impact confirmation was recorded, "
         "which starts the paid-customer notification clock.",
         exception,
         because("Initial alert, updates and resolution message from the point of impact confirmation.",
                 clauses::paid_from_impact_confirmation)});
  }
  if (has_tier(f, customer_tier::free) && f.free_tier_directly_impacted) {
    out.push_back({"exception_vs_free_tier_impact",
                   "A disclosure-policy exception says not to notify, but free-tier applications are "
                   "directly impacted, for which free-tier users are e-mailed.",
                   exception,
                   because("Free-tier users are notified when their applications are directly impacted.",
                           clauses::free_only_when_impacted)});
  }
  return out;
}

decision decide(const facts& f, const tables& t, const business_calendar& calendar) {
  decision d;
  tables effective = t;
  effective.calendar = calendar.settings();
  d.policy_version = policy_version(effective);

  const exceptions e = find_exceptions(f);
  d.public_disclosure = decide_public_disclosure(f, e);
  d.direct_notification = decide_direct_notification(f, e);
  d.customer_notifications = decide_customer_notifications(f, t, calendar, e);
  d.free_tier = decide_free_tier(f, e, d.public_disclosure.required);

  d.legal_requirements = f.legal_requirements;
  d.legal_precedence = !f.legal_requirements.empty();
  d.conflicts = find_conflicts(f, t);

  if (d.legal_precedence) {
    std::string list;
    for (const auto& r : f.legal_requirements) list += (list.empty() ? "" : ", ") + r;
    d.explanation.push_back("Legal disclosure requirements apply (" + list +
                            "): they take precedence over this decision [" +
                            std::string{clauses::legal_precedence} + "].");
  }
  d.explanation.push_back("Public security bulletin: required " + yes_no(d.public_disclosure.required) +
                          ", ready " + yes_no(d.public_disclosure.ready) + ".");
  d.explanation.push_back("Direct e-mail to affected Organizations: required " +
                          yes_no(d.direct_notification.required) + ".");
  const notification_schedule& s = d.customer_notifications.schedule;
  if (s.scheduled) {
    std::string line = "Customer notifications: initial due " + format_rfc3339(*s.initial_due);
    if (s.next_due) line += ", next due " + format_rfc3339(*s.next_due);
    if (s.resolution_due) line += ", resolution message due " + format_rfc3339(*s.resolution_due);
    d.explanation.push_back(line + ".");
  } else {
    d.explanation.push_back("Customer notifications: none scheduled.");
  }
  d.explanation.push_back("Free tier: e-mail " + yes_no(d.free_tier.notify_by_email) +
                          ", public announcement " + yes_no(d.free_tier.public_announcement) +
                          (d.free_tier.public_announcement
                               ? std::string{", ready "} + yes_no(d.free_tier.announcement_ready)
                               : std::string{}) +
                          ".");
  for (const auto& c : d.conflicts) {
    d.explanation.push_back("Policy conflict (" + c.id + "): " + c.summary + " [" + c.first.clause +
                            "] vs [" + c.second.clause + "]; a responder records a call.");
  }
  return d;
}

}  // namespace flare::policy
