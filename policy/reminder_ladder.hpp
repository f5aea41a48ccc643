// Deadline reminders from the obligation checklist: for each pending obligation with a due time,
// readable steps before it ("24 hours before"), at it, and overdue repeats that back off (4 h, 8 h,
// then daily), with optional quiet hours. Pure: `now` and the zone are parameters. (The older
// per-incident ladder over the notification schedule was removed once the scheduler used this.)
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <date/tz.h>

#include "policy/deadlines.hpp"
#include "policy/obligations.hpp"

namespace flare::policy {

// The customer-notification deadline a reminder stored before checklists was about (such rows
// have no obligation id; messages/reminder_post.hpp still renders them).
enum class reminder_kind { initial, update, resolution };

std::string_view to_string(reminder_kind k);

// ---------------------------------------------------------------------------------------------
// Obligation reminders (issue 9): reminders come from the checklist, one ladder per pending
// obligation with a due time. Stateless: the next reminder is the first ladder step strictly
// after `now`, so the first reminder for a new deadline is never a step already past (no "due in
// 1 d" right after `notified`, no "resolution message due now" right after `resolve`), and asking
// again at the moment a step fires gives the one after it.

// Quiet hours in the calendar zone, [start, end) in minutes after local midnight; may wrap
// midnight (22:00–07:00). Reminders that would fire inside are moved to `end`, except for
// Critical incidents (and untriaged ones, which flare treats as Critical).
struct quiet_hours {
  int start_minute = 22 * 60;
  int end_minute = 7 * 60;

  friend bool operator==(const quiet_hours&, const quiet_hours&) = default;
};

// "22:00-07:00" → quiet_hours; nullopt for anything else (or start == end).
std::optional<quiet_hours> parse_quiet_hours(std::string_view text);
std::string describe(const quiet_hours& q);  // "22:00–07:00"

struct reminder_settings {
  std::vector<int> hours_before{24, 4, 1};  // config: reminder_hours_before
  // Gaps between overdue reminders: at the deadline, then +4 h, then +8 h more, then every
  // `overdue_then_every_hours` (daily).
  std::vector<int> overdue_backoff_hours{4, 8};
  int overdue_then_every_hours = 24;
  std::optional<quiet_hours> quiet;  // config: reminders.quiet_hours, default off

  friend bool operator==(const reminder_settings&, const reminder_settings&) = default;
};

struct obligation_reminder {
  std::string obligation_id;
  std::chrono::sys_seconds due{};
  std::chrono::sys_seconds fire_at{};  // after the quiet-hours shift
  std::string step;                    // "24 hours before", "at the deadline", "overdue by 12 h"
  bool overdue = false;                // at or past the deadline: ping the Security Team

  friend bool operator==(const obligation_reminder&, const obligation_reminder&) = default;
};

// The nominal steps for one deadline, without quiet hours, up to `horizon` (overdue steps
// continue for ever; the list stops at the first step after `horizon`).
std::vector<obligation_reminder> ladder_steps(std::string_view obligation_id, std::chrono::sys_seconds due,
                                              const reminder_settings& settings,
                                              std::chrono::sys_seconds horizon);

// The next reminder for one obligation, or nothing when it is not pending or has no due time.
// `zone` is the calendar zone for quiet hours (nullptr: UTC). Critical (or untriaged) ignores
// quiet hours. Steps that quiet hours push to the same instant collapse into the latest of them.
std::optional<obligation_reminder> next_reminder(const obligation& o, const reminder_settings& settings,
                                                 bool critical, const date::time_zone* zone,
                                                 std::chrono::sys_seconds now);

// next_reminder for every pending obligation of the checklist, soonest first. None for done or
// not-needed obligations, so marking one done stops its reminders.
std::vector<obligation_reminder> next_reminders(const checklist& c, const reminder_settings& settings,
                                                const date::time_zone* zone, std::chrono::sys_seconds now);

// "overdue by 4 h", "overdue by 1 d 12 h": readable step label for a lateness.
std::string overdue_step_name(std::chrono::seconds late);

}  // namespace flare::policy
