// The reminder ladder for one incident: when to remind responders of the customer-notification
// deadline that is next (initial alert, periodic update, or resolution message), computed from
// the policy's notification_schedule (policy/deadlines.hpp). Pure: `now` is a parameter.
//
// Steps, for the one deadline that is current: "<N>h-before" for each configured N, then
// "at-deadline", then "overdue+<k*every>h" while it stays unmet. Only the first overdue step is
// ever produced up front; the scheduler asks next_overdue_step() when one fires, so an incident
// that stays overdue for a month stores one pending reminder, not hundreds.
//
// Protective reading for steps already in the past (a deadline that moved closer, an incident
// entered late, a resolution message that is due at once): they collapse into ONE reminder at
// `now`, labelled with the latest step that has passed, never a burst, and not even that one if
// a reminder for the same deadline was already sent at or after that step's time.
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

enum class reminder_kind { initial, update, resolution };

std::string_view to_string(reminder_kind k);

struct ladder_settings {
  std::vector<int> hours_before{24, 4, 1};  // config: reminder_hours_before
  int overdue_every_hours = 4;              // config: overdue_every_hours
};

struct ladder_step {
  reminder_kind kind = reminder_kind::initial;
  std::chrono::sys_seconds deadline{};
  std::chrono::sys_seconds fire_at{};
  std::string step;  // "24h-before", "at-deadline", "overdue+4h"

  friend bool operator==(const ladder_step&, const ladder_step&) = default;
};

// A reminder already posted for this incident (from the store), so recomputing after any change
// does not repeat it.
struct sent_step {
  reminder_kind kind = reminder_kind::initial;
  std::chrono::sys_seconds deadline{};
  std::chrono::sys_seconds fire_at{};
  std::string step;
};

// The deadline reminders are about, or nothing (unscheduled, or every notification made).
struct current_deadline {
  reminder_kind kind = reminder_kind::initial;
  std::chrono::sys_seconds due{};
};

// SaaS process, "Paid Customer Notification Process": the next notification while open (initial
// until one has been sent, then updates), and the resolution message once resolved — owed until
// a notification is recorded at or after resolved_at (the same reading as policy::overdue()).
std::optional<current_deadline> deadline_to_remind(
    const notification_schedule& schedule, const std::vector<std::chrono::sys_seconds>& notifications_sent);

// The pending steps to store at `now`, in fire_at order.
std::vector<ladder_step> reminder_ladder(const notification_schedule& schedule,
                                         const std::vector<std::chrono::sys_seconds>& notifications_sent,
                                         const ladder_settings& settings, std::chrono::sys_seconds now,
                                         const std::vector<sent_step>& already_sent = {});

// After a step at or past the deadline fired at `now`: the next overdue step, the first
// deadline + k*every (k >= 1) later than `now` — after downtime it skips the missed ones
// rather than posting them in a burst. Nothing for a step before the deadline, or when
// overdue_every_hours < 1.
std::optional<ladder_step> next_overdue_step(const ladder_step& fired, const ladder_settings& settings,
                                             std::chrono::sys_seconds now);

// True for "at-deadline" and "overdue+…" labels.
bool at_or_past_deadline(std::string_view step);

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
