// Business days in the configured time zone. "N business days after t" ends at 23:59:59 local
// time of the N-th business day after the calendar day of t; that day itself does not count.
#pragma once

#include <chrono>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <date/tz.h>

#include "policy/tables.hpp"

namespace flare::policy {

class calendar_error : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

class business_calendar {
 public:
  // Throws calendar_error for an unknown IANA zone or a holiday that is not a valid YYYY-MM-DD.
  explicit business_calendar(const calendar_settings& settings = {});
  business_calendar(std::string_view zone, const std::vector<std::string>& holidays);

  // Saturdays, Sundays and configured holidays are not business days.
  bool is_business_day(date::local_days day) const;

  // 23:59:59 local time of the n-th business day after the local calendar day of t (n >= 1).
  std::chrono::sys_seconds end_of_business_days_after(std::chrono::sys_seconds t, int n) const;

  date::local_days local_day(std::chrono::sys_seconds t) const;

  // The effective settings: zone as given, holidays sorted and de-duplicated.
  const calendar_settings& settings() const { return settings_; }
  const date::time_zone* zone() const { return zone_; }

 private:
  calendar_settings settings_;
  const date::time_zone* zone_ = nullptr;
  std::set<date::local_days> holidays_;
};

}  // namespace flare::policy
