// When customer notifications are due, per the SaaS process's "Paid Customer Notification
// Process" table. Pure: the scheduler asks with the facts it stored and compares with its clock.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "policy/business_calendar.hpp"
#include "policy/tables.hpp"

namespace flare::policy {

struct notification_schedule {
  bool scheduled = false;
  std::optional<std::chrono::sys_seconds> initial_due;
  // The next notification (initial or update) not yet sent; none once the incident is resolved.
  std::optional<std::chrono::sys_seconds> next_due;
  std::optional<std::string> update_interval;  // "24h", "48h", "7 business days"
  std::optional<std::chrono::sys_seconds> resolution_due;

  friend bool operator==(const notification_schedule&, const notification_schedule&) = default;
};

// `from` + interval: exact elapsed hours for hour intervals (independent of DST), end of the
// n-th business day after the local day of `from` for business-day intervals.
std::chrono::sys_seconds due_after(std::chrono::sys_seconds from, const notification_interval& interval,
                                   const business_calendar& calendar);

// The schedule from impact confirmation. Notifications sent before impact_confirmed_at are not
// counted: the table runs "from the point of impact confirmation", so a notice sent earlier
// does not stand in for the initial notification. A row without an initial interval (Low) gives
// an unscheduled result.
notification_schedule schedule_notifications(std::chrono::sys_seconds impact_confirmed_at,
                                             const severity_timing& timing,
                                             const std::vector<std::chrono::sys_seconds>& notifications_sent,
                                             std::optional<std::chrono::sys_seconds> resolved_at,
                                             const business_calendar& calendar);

// True when, at `now`, the next notification is late, or the resolution message is late because
// no notification has been sent since resolved_at.
bool overdue(const notification_schedule& schedule,
             const std::vector<std::chrono::sys_seconds>& notifications_sent, std::chrono::sys_seconds now);

}  // namespace flare::policy
