#include "commands/incident_checklist.hpp"

#include <algorithm>
#include <vector>

#include "commands/grammar.hpp"
#include "messages/time_text.hpp"
#include "policy/facts_json.hpp"
#include "policy/rfc3339.hpp"

namespace flare::commands {
namespace {

using json = nlohmann::json;

std::vector<std::string> split_waits(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    const auto end = text.find("; ", start);
    const std::string part = text.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (!part.empty()) out.push_back(part);
    if (end == std::string::npos) break;
    start = end + 2;
  }
  return out;
}

// An obligation stopped being pending after derivation: whatever waited for it waits no more.
void release_dependents(policy::checklist& c, const policy::obligation& released) {
  for (auto& o : c.items) {
    if (o.state != policy::obligation_state::pending) continue;
    if (std::find(o.depends_on.begin(), o.depends_on.end(), released.id) == o.depends_on.end()) continue;
    auto waits = split_waits(o.waiting_for);
    waits.erase(std::remove(waits.begin(), waits.end(), released.title), waits.end());
    std::string joined;
    for (const auto& w : waits) joined += (joined.empty() ? "" : "; ") + w;
    o.waiting_for = joined;
    o.ready = waits.empty();
  }
}

void mark_not_needed(policy::checklist& c, policy::obligation& o, std::string reason) {
  o.state = policy::obligation_state::not_needed;
  o.reason = std::move(reason);
  o.due.reset();
  o.ready = false;
  o.waiting_for.clear();
  release_dependents(c, o);
}

bool customers_were_told(const policy::checklist& c) {
  return std::any_of(c.items.begin(), c.items.end(), [](const policy::obligation& o) {
    return o.state == policy::obligation_state::done &&
           (o.id == policy::obligation_ids::paid_initial_notice ||
            o.id.starts_with(policy::obligation_ids::update_prefix) ||
            o.id.starts_with(policy::obligation_ids::admin_email) ||
            o.id == policy::obligation_ids::free_tier_email);
  });
}

}  // namespace

void record_kind_proposal(store::obligation_ledger& ledger, std::string_view kind,
                          std::chrono::sys_seconds at) {
  clear_kind_proposal(ledger);
  ledger.calls.push_back(
      {{"kind_proposal", std::string{kind}}, {"by", "intake"}, {"at", policy::format_rfc3339(at)}});
}

std::optional<std::string> kind_proposal(const store::obligation_ledger& ledger) {
  if (!ledger.calls.is_array()) return std::nullopt;
  for (const auto& c : ledger.calls) {
    if (c.is_object() && c.contains("kind_proposal") && c["kind_proposal"].is_string())
      return c["kind_proposal"].get<std::string>();
  }
  return std::nullopt;
}

void clear_kind_proposal(store::obligation_ledger& ledger) {
  if (!ledger.calls.is_array()) return;
  json kept = json::array();
  for (auto& c : ledger.calls) {
    if (!(c.is_object() && c.contains("kind_proposal"))) kept.push_back(std::move(c));
  }
  ledger.calls = std::move(kept);
}

policy::checklist_input checklist_input_of(const store::incident& incident,
                                           const store::obligation_ledger& ledger) {
  policy::checklist_input in;
  in.kind = policy::parse_incident_kind(ledger.kind).value_or(policy::incident_kind::security);
  in.opened_at = incident.created_at;
  for (const auto& c : ledger.completions) {
    policy::completion done;
    done.obligation_id = c.value("obligation", "");
    done.by = c.value("by", "");
    if (auto at = policy::parse_rfc3339(c.value("at", ""))) done.at = *at;
    const std::string link = c.value("link", "");
    const std::string note = c.value("note", "");
    // NOLINTNEXTLINE(performance-inefficient-string-concatenation): a few completions, not a hot loop
    done.evidence = link.empty() ? note : (note.empty() ? link : link + " (" + note + ")");
    if (!done.obligation_id.empty()) in.completions.push_back(std::move(done));
  }
  for (const auto& c : ledger.calls) {
    if (!c.is_object() || c.contains("kind_proposal")) continue;  // not a call on a conflict
    policy::conflict_call call;
    call.conflict_id = c.value("conflict", "");
    call.choice = c.value("choice", "");
    call.by = c.value("by", "");
    if (auto at = policy::parse_rfc3339(c.value("at", ""))) call.at = *at;
    call.note = c.value("note", "");
    // A later call on the same conflict replaces the earlier one (both stay in the audit log).
    std::erase_if(in.calls,
                  [&](const policy::conflict_call& x) { return x.conflict_id == call.conflict_id; });
    if (!call.conflict_id.empty()) in.calls.push_back(std::move(call));
  }
  return in;
}

policy::checklist checklist_of(const store::incident& incident, const policy::facts& facts,
                               const policy::decision& decision, const store::obligation_ledger& ledger,
                               const policy::tables& tables, const policy::business_calendar& calendar,
                               std::chrono::sys_seconds now) {
  policy::checklist c =
      policy::derive_checklist(facts, decision, tables, calendar, checklist_input_of(incident, ledger), now);
  if (c.kind == policy::incident_kind::security && !facts.severity &&
      incident.state == store::incident_state::open) {
    // The card shows the checklist from the moment the incident is opened; say what is missing.
    c.notes.insert(c.notes.begin(),
                   "Not classified yet: Critical timings apply until a responder classifies it "
                   "with `/incident classify " +
                       incident.reference() + " <severity> <confirmed|potential>`.");
  }
  if (const auto proposed = kind_proposal(ledger)) {
    const bool people = c.kind == policy::incident_kind::people_and_safety;
    c.notes.insert(c.notes.begin(), std::string{"Kind proposed by intake from the report: "} +
                                        (people ? "people and safety" : "security") +
                                        ". A responder confirms it with `/incident kind " +
                                        incident.reference() + " " + (people ? "people" : "security") +
                                        "` or changes it.");
  }
  for (const auto& mark : ledger.not_needed) {
    const std::string id = mark.value("obligation", "");
    for (auto& o : c.items) {
      if (o.id != id || o.state != policy::obligation_state::pending) continue;
      // Plain text: the card escapes reasons, so a <@mention> would show as typed.
      mark_not_needed(c, o,
                      "Marked not needed by " + mark.value("by", "") + " on " + mark.value("at", "") + ": " +
                          mark.value("reason", ""));
    }
  }
  const auto reason = ledger.close_reason ? parse_close_reason(*ledger.close_reason) : std::nullopt;
  if (reason && *reason != close_reason::resolved) {
    const bool told = customers_were_told(c);
    std::string why = "Closed as " + std::string{to_string(*reason)};
    if (*reason == close_reason::duplicate && ledger.duplicate_of)
      why = "Closed as a duplicate of " + store::incident_reference(*ledger.duplicate_of) +
            ": its obligations continue there";
    for (auto& o : c.items) {
      if (o.state != policy::obligation_state::pending) continue;
      // Customers who were sent a notice must hear that it is over, whatever the close reason.
      if (o.id == policy::obligation_ids::resolution_message && told) continue;
      mark_not_needed(c, o, why + ".");
    }
  }
  return c;
}

std::optional<policy::checklist> stored_checklist(store::store& store, std::int64_t incident_id,
                                                  const policy::tables& tables,
                                                  const policy::business_calendar& calendar,
                                                  std::chrono::sys_seconds now) {
  const auto incident = store.find_incident(incident_id);
  if (!incident) return std::nullopt;
  auto parsed = policy::facts_from_json(incident->facts);
  if (!parsed) return std::nullopt;
  auto facts = std::move(parsed.value);
  if (incident->state == store::incident_state::resolved && !facts.resolved_at)
    facts.resolved_at = incident->resolved_at;
  const auto decision = policy::decide(facts, tables, calendar);
  return checklist_of(*incident, facts, decision, store.ledger_for(incident_id), tables, calendar, now);
}

std::optional<std::string> future_time_problem(std::string_view what, std::chrono::sys_seconds t,
                                               std::chrono::sys_seconds now, const date::time_zone* zone) {
  if (t <= now + kAllowedClockSkew) return std::nullopt;
  return std::string{what} + " " + policy::format_rfc3339(t) + " is " +
         messages::local_time_text(t, zone, now) + ", which is in the future (it is now " +
         messages::local_time_text(now, zone, now) + "). A time may be at most " +
         std::to_string(kAllowedClockSkew.count()) + " minutes ahead; nothing was changed.";
}

}  // namespace flare::commands
