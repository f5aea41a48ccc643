// Deadline reminders posted in an incident's thread, their buttons, and the Post update modal.
// SaaS process, "Paid Customer Notification Process": the initial alert, periodic updates and
// the resolution message each have a deadline; reminders point at the one that is next.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <date/tz.h>
#include <nlohmann/json.hpp>

#include "messages/slack_message.hpp"
#include "policy/reminder_ladder.hpp"

namespace flare::messages {

inline constexpr std::string_view mark_notified_action = "mark_notified";
inline constexpr std::string_view post_update_action = "post_update";
inline constexpr std::string_view post_update_callback = "post_update";
// The modal's input block and element (view_submission values are keyed by these).
inline constexpr std::string_view post_update_block = "update_text";
inline constexpr std::string_view post_update_input = "text";

struct reminder_view {
  std::int64_t incident_id = 0;
  std::string reference;  // "INC-7"
  policy::reminder_kind kind = policy::reminder_kind::initial;
  std::chrono::sys_seconds deadline{};
  std::string step;                 // "4h-before", "at-deadline", "overdue+8h"
  std::chrono::seconds late_by{0};  // > 0: the bot was down when it was due
  std::string security_team_group;  // pinged when the deadline has passed
};

// "2 h 15 min", "3 d 4 h", "45 min", "less than a minute".
std::string duration_text(std::chrono::seconds d);

// Which deadline, due when (<!date>), how long until it or how long overdue; when the deadline
// has passed, the Security Team is mentioned; when posted late, "posted N min late (the bot was
// down)". Buttons: Mark notified and Post update, value = incident id. No incident title: the
// reminder lives in the incident's thread, and a sensitive incident's thread must not gain
// details from it either.
slack_message reminder_post(const reminder_view& reminder, std::chrono::sys_seconds now);

// A reminder for one checklist obligation (issue 9): which obligation, due when in the
// configured zone with a countdown or an OVERDUE badge, the readable ladder step ("24 hours
// before", "overdue by 8 h"), the Security Team mentioned once it is overdue, and a Mark done
// button (value messages::mark_done_value). No incident title, as for reminder_post.
struct obligation_reminder_view {
  std::int64_t incident_id = 0;
  std::string reference;
  std::string obligation_id;
  std::string obligation_title;
  std::chrono::sys_seconds due{};
  std::string step;
  std::chrono::seconds late_by{0};
  std::string security_team_group;
};
slack_message obligation_reminder_post(const obligation_reminder_view& r, const date::time_zone* zone,
                                       std::chrono::sys_seconds now);

// The Post update modal (views.open): callback_id post_update, private_metadata = incident id,
// one multiline plain_text_input.
nlohmann::json post_update_modal(std::int64_t incident_id, std::string_view reference);

// The typed text of a post_update submission (view.state.values), or empty.
std::string post_update_text(const nlohmann::json& state_values);

}  // namespace flare::messages
