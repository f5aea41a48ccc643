// The obligation checklist in Slack: blocks for the card, the decision diff post, the "deadline
// moved" post, policy conflicts with a button to record a call, the Mark done modal and the
// `/incident deadlines` reply. Pure: `now` and the zone are parameters.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <date/tz.h>
#include <nlohmann/json.hpp>

#include "messages/incident_view.hpp"
#include "messages/slack_message.hpp"
#include "policy/checklist_diff.hpp"
#include "policy/disclosure.hpp"
#include "policy/obligations.hpp"

namespace flare::messages {

// Buttons on the card: value = "<incident id>|<obligation id>" (mark done) or
// "<incident id>|<conflict id>|<option id>" (record a call).
inline constexpr std::string_view mark_done_action = "mark_done";
inline constexpr std::string_view record_call_action = "record_call";
// Mark done modal: private_metadata = "<incident id>|<obligation id>".
inline constexpr std::string_view mark_done_callback = "mark_done";
inline constexpr std::string_view mark_done_at_block = "done_at";
inline constexpr std::string_view mark_done_at_input = "at";
inline constexpr std::string_view mark_done_evidence_block = "done_evidence";
inline constexpr std::string_view mark_done_evidence_input = "evidence";

// "<incident id>|<obligation id>" and back; nullopt for anything malformed.
std::string mark_done_value(std::int64_t incident_id, std::string_view obligation_id);
struct mark_done_target {
  std::int64_t incident_id = 0;
  std::string obligation_id;
};
std::optional<mark_done_target> parse_mark_done_value(std::string_view value);

// "<incident id>|<conflict id>|<option id>" and back.
std::string record_call_value(std::int64_t incident_id, std::string_view conflict_id,
                              std::string_view option_id);
struct record_call_target {
  std::int64_t incident_id = 0;
  std::string conflict_id;
  std::string option_id;
};
std::optional<record_call_target> parse_record_call_value(std::string_view value);

// One line per obligation: "✅ *Security bulletin* — done by <@U1>, Tue 1 Dec, 14:00 CET
// (evidence)", "⏳ *Paid-customer initial notice* — due Tue 1 Dec, 14:00 CET, in 3 h",
// "🔴 … *OVERDUE by 5 h*", "➖ … — not needed: <reason>", "⏸ … — waiting for: <what>".
std::string obligation_line(const policy::obligation& o, const date::time_zone* zone,
                            std::chrono::sys_seconds now);

// The checklist as blocks (a header section, one section per obligation with a Mark done button
// for pending ones when incident_id > 0, conflicts with a button per option, the legal
// precedence line). Caller appends them to a message and enforce_limits() it.
std::vector<nlohmann::json> checklist_blocks(const policy::checklist& c, std::int64_t incident_id,
                                             const date::time_zone* zone, std::chrono::sys_seconds now);

// The incident card with its checklist (replaces the decision's required-actions summary).
slack_message incident_card(const incident_view& incident, const policy::decision* decision,
                            const policy::checklist& c, std::int64_t incident_id, const date::time_zone* zone,
                            std::chrono::sys_seconds now);

// The first decision post, in full. Security: the disclosure decision (decision_post) with the
// obligations summary and any policy conflicts (both clauses) right below the legal line.
// People and safety: no disclosure decision at all, only the routing and the obligations.
slack_message first_decision_post(const incident_view& incident, const policy::decision& decision,
                                  const policy::checklist& c, const date::time_zone* zone,
                                  std::chrono::sys_seconds now);

// Later decision posts: only what changed, each change with its clause. Empty diff: nullopt
// (nothing to post).
std::optional<slack_message> decision_diff_post(const incident_view& incident,
                                                const policy::checklist_diff& d, const date::time_zone* zone,
                                                std::chrono::sys_seconds now);

// "Initial notice deadline moved from Tue 1 Dec, 14:00 CET to Wed 2 Dec, 10:00 CET because
// impact confirmation time changed …; confirmed by <@U1>." One line per move.
slack_message deadline_moved_post(const incident_view& incident,
                                  const std::vector<policy::deadline_move>& moves,
                                  std::string_view confirmed_by, const date::time_zone* zone,
                                  std::chrono::sys_seconds now);

// The confirmation request (ephemeral): the moves, and what to do: press Confirm or repeat the
// command with --confirm. Button action confirm_move_action, value = `token` (runtime's).
inline constexpr std::string_view confirm_move_action = "confirm_deadline_move";
slack_message deadline_move_confirmation(const incident_view& incident,
                                         const std::vector<policy::deadline_move>& moves,
                                         std::string_view token, const date::time_zone* zone,
                                         std::chrono::sys_seconds now);

// The Mark done modal (views.open): when (RFC 3339 or empty for now; never in the future) and
// evidence (a link or a short note).
nlohmann::json mark_done_modal(std::int64_t incident_id, const policy::obligation& o);
// What a Mark done click gets instead of the form when the item cannot be marked done any more
// (already done by someone, not needed, gone, or its incident closed): a modal with `text` and a
// Close button. `text` may use *bold* and `code`; it is escaped here (user mentions stay). Opened with the
// click's trigger_id, so it shows where the person clicked, the App Home tab included (no channel there for
// an ephemeral reply).
nlohmann::json mark_done_refused_modal(std::string_view text);
struct mark_done_submission {
  std::string at_text;  // as typed; empty means now
  std::string evidence;
};
mark_done_submission parse_mark_done_submission(const nlohmann::json& state_values);

// `/incident deadlines`: every open obligation across incidents, soonest first (the caller sorts
// nothing: rows are sorted here). Sensitive incidents the asker may not see show only
// "INC-n (sensitive)".
struct deadline_row {
  std::string reference;
  std::string title;  // raw; shown only when !sensitive || reveal
  bool sensitive = false;
  bool reveal = false;
  std::string obligation_id;
  std::string obligation_title;
  std::chrono::sys_seconds due{};
};
slack_message deadlines_reply(std::vector<deadline_row> rows, const date::time_zone* zone,
                              std::chrono::sys_seconds now);

}  // namespace flare::messages
