// The obligation checklist: every thing a responder owes for one incident (bulletin, admin
// e-mails, paid-customer notices, updates, resolution message, free-tier e-mails, public
// announcement, legal requirements), each with its state, its due time where a policy gives
// one, what it waits for, and the clause it comes from. Pure: derived from the facts, the
// decision, the completions recorded so far and `now`; the runtime stores completions and calls.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "policy/business_calendar.hpp"
#include "policy/disclosure.hpp"
#include "policy/facts.hpp"
#include "policy/incident_kind.hpp"
#include "policy/legal_regimes.hpp"
#include "policy/tables.hpp"

namespace flare::policy {

// incident_kind (incident_kind.hpp). Security (and none): the disclosure policy and the SaaS
// notification process apply. People and safety (injury, harassment, threats; incident response
// policy, "Incident Detection", paragraph 2): no disclosure decision, no bulletin, no customer
// notices; routed to the Head of Finance & Operations and the Security Team.
std::string_view to_string(incident_kind k);  // "none", "security", "people_and_safety"
// "security", "people_and_safety" (also "people-and-safety", "people", "safety"); not "none".
std::optional<incident_kind> parse_incident_kind(std::string_view s);

enum class obligation_state { pending, done, not_needed };
std::string_view to_string(obligation_state s);

// Stable obligation ids (stored with completions; used in `/incident done INC-7 <id>`).
namespace obligation_ids {
inline constexpr std::string_view bulletin = "bulletin";
inline constexpr std::string_view admin_email = "admin_email";  // or "admin_email:<org>"
inline constexpr std::string_view paid_initial_notice = "paid_initial_notice";
inline constexpr std::string_view update_prefix = "update:";  // "update:1", "update:2", …
inline constexpr std::string_view resolution_message = "resolution_message";
inline constexpr std::string_view free_tier_email = "free_tier_email";
inline constexpr std::string_view public_announcement = "public_announcement";
inline constexpr std::string_view legal_prefix = "legal:";  // "legal:gdpr-art33"
inline constexpr std::string_view inform_hofo = "inform_hofo";
inline constexpr std::string_view inform_security_team = "inform_security_team";
}  // namespace obligation_ids

// A "done" recorded by a responder (or the legacy `notified` command: paid_initial_notice or the
// next update; the runtime decides which via next_notification_id()).
struct completion {
  std::string obligation_id;
  std::string by;  // Slack user id ("" for a notification recorded before checklists)
  std::chrono::sys_seconds at{};
  std::string evidence;  // a link or a short note; may be empty

  friend bool operator==(const completion&, const completion&) = default;
};

// A responder's call on a policy conflict (see policy_conflict).
struct conflict_call {
  std::string conflict_id;
  std::string choice;  // one of the conflict's option ids
  std::string by;
  std::chrono::sys_seconds at{};
  std::string note;

  friend bool operator==(const conflict_call&, const conflict_call&) = default;
};

struct conflict_option {
  std::string id;      // "follow_saas_schedule", "apply_exception", …
  std::string label;   // button text
  std::string effect;  // what the checklist does when chosen

  friend bool operator==(const conflict_option&, const conflict_option&) = default;
};

// Two documents disagree for the facts at hand. Until a call is recorded, the checklist follows
// `default_option` (the reading that protects customers) and the decision shows the conflict.
struct policy_conflict {
  std::string id;  // "exception_vs_customer_clock", "exception_vs_free_tier_impact"
  std::string summary;
  reason first;   // one document's rule, with its clause
  reason second;  // the other's
  std::vector<conflict_option> options;
  std::string default_option;
  std::optional<conflict_call> call;

  friend bool operator==(const policy_conflict&, const policy_conflict&) = default;
};

struct obligation {
  std::string id;
  std::string title;   // "Paid-customer initial notice"
  std::string clause;  // where the obligation comes from
  obligation_state state = obligation_state::pending;
  std::string reason;                           // why it is owed, or why it is not needed
  std::optional<std::chrono::sys_seconds> due;  // none where the policy gives no time
  std::vector<std::string> depends_on;          // obligation ids that must be done first
  // Pending only: false while a dependency is pending or a precondition (a fix available, the
  // fix applied, the incident resolved) does not hold; `waiting_for` says which, in words.
  bool ready = true;
  std::string waiting_for;
  std::optional<completion> done;  // set when state == done
  bool legal = false;              // a legal requirement (takes precedence over company policy)

  friend bool operator==(const obligation&, const obligation&) = default;
};

struct checklist {
  incident_kind kind = incident_kind::security;
  std::optional<policy::severity> severity;
  std::vector<obligation> items;  // in the documents' order
  std::vector<policy_conflict> conflicts;
  bool legal_precedence = false;   // disclosure policy, introduction, paragraph 3
  std::vector<std::string> notes;  // e.g. the clock has not started, routing for people & safety

  const obligation* find(std::string_view id) const;
  // Pending obligations with a due time, soonest first.
  std::vector<const obligation*> open_deadlines() const;

  friend bool operator==(const checklist&, const checklist&) = default;
};

struct checklist_input {
  incident_kind kind = incident_kind::security;
  std::chrono::sys_seconds opened_at{};    // legal clocks run from awareness
  std::vector<std::string> organizations;  // affected Organizations ("" → one item)
  std::vector<completion> completions;
  std::vector<conflict_call> calls;
  const legal_regime_table* regimes = nullptr;  // nullptr → the tables' legal_regimes (config)
};

// `d` must be decide(f, t, calendar). `now` is used only for the legal clocks' and updates'
// wording; the result holds no countdowns (those are display, messages/time_text.hpp).
checklist derive_checklist(const facts& f, const decision& d, const tables& t,
                           const business_calendar& calendar, const checklist_input& in,
                           std::chrono::sys_seconds now);

// Which obligation a `notified` (customer notification sent at `at`) completes: the paid initial
// notice if pending, else the next pending update, else the resolution message; nullopt if none.
std::optional<std::string> next_notification_id(const checklist& c);

// Resolve a typed name against a checklist: "update" → the pending update id, "admin" → the
// only admin e-mail (nullopt if several), anything else must match an id exactly.
const obligation* find_obligation(const checklist& c, std::string_view typed);

// Every id the checklist knows, for "unknown obligation, expected one of …" messages.
std::string known_ids(const checklist& c);

}  // namespace flare::policy
