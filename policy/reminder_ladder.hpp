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

#include "policy/deadlines.hpp"

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
std::optional<current_deadline> deadline_to_remind(const notification_schedule& schedule,
                                                   const std::vector<std::chrono::sys_seconds>& notifications_sent);

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

}  // namespace flare::policy
