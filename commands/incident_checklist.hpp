// An incident's obligation checklist as the runtime sees it: the pure derivation
// (policy/obligations.hpp) fed with what responders recorded in the store's obligation ledger
// (completions, not-needed marks, conflict calls, kind, close reason). The commands, the card and
// the reminder scheduler all read the checklist through here, so they cannot disagree.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "bot/store/store.hpp"
#include "policy/business_calendar.hpp"
#include "policy/disclosure.hpp"
#include "policy/facts.hpp"
#include "policy/obligations.hpp"
#include "policy/tables.hpp"

namespace flare::commands {

// How far ahead of the clock a typed time may be (clock skew between the responder's machine,
// Slack and flare). Anything later is a typo and is refused.
inline constexpr std::chrono::minutes kAllowedClockSkew{5};

// Intake's proposed kind (issue 9, section 4): kept in the ledger's `calls` list as
// {"kind_proposal": "<kind>", "by": "intake", "at": …} (not a policy conflict, so the checklist
// ignores it) until a responder confirms or changes the kind with `kind`, which clears it. The
// ledger's `kind` holds the proposed kind meanwhile, so the checklist follows the proposal.
void record_kind_proposal(store::obligation_ledger& ledger, std::string_view kind,
                          std::chrono::sys_seconds at);
std::optional<std::string> kind_proposal(const store::obligation_ledger& ledger);
void clear_kind_proposal(store::obligation_ledger& ledger);

// The ledger's recorded entries as the policy's inputs.
policy::checklist_input checklist_input_of(const store::incident& incident,
                                           const store::obligation_ledger& ledger);

// derive_checklist, then what the policy does not know about: obligations a responder marked not
// needed (with who and why), and a close reason other than "resolved" (not an incident, false
// positive, duplicate): pending obligations are then not needed, except a resolution message owed
// to customers who were already sent a notice (they must hear that it is over).
policy::checklist checklist_of(const store::incident& incident, const policy::facts& facts,
                               const policy::decision& decision, const store::obligation_ledger& ledger,
                               const policy::tables& tables, const policy::business_calendar& calendar,
                               std::chrono::sys_seconds now);

// The incident's checklist from what is stored (find_incident + ledger_for), or nullopt when it
// does not exist or has unreadable facts.
std::optional<policy::checklist> stored_checklist(store::store& store, std::int64_t incident_id,
                                                  const policy::tables& tables,
                                                  const policy::business_calendar& calendar,
                                                  std::chrono::sys_seconds now);

// "2027-11-30T23:35:02Z (Tue 30 Nov 2027, 23:35 UTC) is in the future …" when `t` is more than
// kAllowedClockSkew after `now`; nullopt otherwise. `what` names the field ("confirmed-at").
std::optional<std::string> future_time_problem(std::string_view what, std::chrono::sys_seconds t,
                                               std::chrono::sys_seconds now, const date::time_zone* zone);

}  // namespace flare::commands
