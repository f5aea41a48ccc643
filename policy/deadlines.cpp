#include "policy/deadlines.hpp"

#include <algorithm>

namespace flare::policy {

std::chrono::sys_seconds due_after(std::chrono::sys_seconds from, const notification_interval& interval,
                                   const business_calendar& calendar) {
  if (interval.unit == interval_unit::hours) return from + std::chrono::hours{interval.count};
  return calendar.end_of_business_days_after(from, interval.count);
}

notification_schedule schedule_notifications(std::chrono::sys_seconds impact_confirmed_at,
                                             const severity_timing& timing,
                                             const std::vector<std::chrono::sys_seconds>& notifications_sent,
                                             std::optional<std::chrono::sys_seconds> resolved_at,
                                             const business_calendar& calendar) {
  notification_schedule s;
  if (!timing.initial) return s;
  s.scheduled = true;
  s.initial_due = due_after(impact_confirmed_at, *timing.initial, calendar);
  if (timing.update) s.update_interval = describe(*timing.update);

  if (resolved_at) {
    s.resolution_due = *resolved_at;
    return s;
  }
  std::optional<std::chrono::sys_seconds> last_sent;
  for (auto t : notifications_sent) {
    if (t >= impact_confirmed_at && (!last_sent || t > *last_sent)) last_sent = t;
  }
  if (!last_sent) {
    s.next_due = s.initial_due;
  } else if (timing.update) {
    s.next_due = due_after(*last_sent, *timing.update, calendar);
  }
  return s;
}

bool overdue(const notification_schedule& schedule,
             const std::vector<std::chrono::sys_seconds>& notifications_sent, std::chrono::sys_seconds now) {
  if (schedule.next_due && now > *schedule.next_due) return true;
  if (schedule.resolution_due && now > *schedule.resolution_due) {
    const bool sent = std::any_of(notifications_sent.begin(), notifications_sent.end(),
                                  [&](auto t) { return t >= *schedule.resolution_due; });
    return !sent;
  }
  return false;
}

}  // namespace flare::policy
