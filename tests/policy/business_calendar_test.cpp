#include "policy/business_calendar.hpp"

#include <gtest/gtest.h>

#include "policy/rfc3339.hpp"
#include "test_time.hpp"

namespace flare::policy {
namespace {

using testing::at;

struct business_day_case {
  const char* name;
  const char* zone;
  std::vector<std::string> holidays;
  const char* from;
  int days;
  const char* due;  // UTC
};

TEST(business_calendar, n_business_days_end_at_local_midnight_minus_one_second) {
  const business_day_case cases[] = {
      {"weekday_to_next_weekday", "UTC", {}, "2026-11-16T10:00:00Z", 1, "2026-11-17T23:59:59Z"},
      {"the_start_day_does_not_count_even_at_00_00",
       "UTC",
       {},
       "2026-11-16T00:00:00Z",
       1,
       "2026-11-17T23:59:59Z"},
      {"friday_skips_the_weekend", "UTC", {}, "2026-11-20T15:00:00Z", 1, "2026-11-23T23:59:59Z"},
      {"saturday_confirmation_counts_from_monday",
       "UTC",
       {},
       "2026-11-21T09:00:00Z",
       1,
       "2026-11-23T23:59:59Z"},
      {"sunday_confirmation_counts_from_monday",
       "UTC",
       {},
       "2026-11-22T23:00:00Z",
       1,
       "2026-11-23T23:59:59Z"},
      {"seven_days_span_a_weekend", "UTC", {}, "2026-11-16T10:00:00Z", 7, "2026-11-25T23:59:59Z"},
      {"holiday_is_skipped", "UTC", {"2026-11-24"}, "2026-11-16T10:00:00Z", 7, "2026-11-26T23:59:59Z"},
      {"year_end_skips_new_year_holiday",
       "UTC",
       {"2027-01-01"},
       "2026-12-31T12:00:00Z",
       1,
       "2027-01-04T23:59:59Z"},
      {"year_end_without_holiday_lands_on_jan_1",
       "UTC",
       {},
       "2026-12-31T12:00:00Z",
       1,
       "2027-01-01T23:59:59Z"},
      // 2026-11-20T03:00Z is Thursday 22:00 in New York: the local day is what counts.
      {"calendar_day_is_the_local_day",
       "America/New_York",
       {},
       "2026-11-20T03:00:00Z",
       1,
       "2026-11-21T04:59:59Z"},
      // DST starts Sunday 2026-03-08 in New York: Monday ends at 23:59:59 EDT (UTC-4).
      {"new_york_spring_forward", "America/New_York", {}, "2026-03-06T17:00:00Z", 1, "2026-03-10T03:59:59Z"},
      {"new_york_before_spring_forward_is_est",
       "America/New_York",
       {},
       "2026-03-04T17:00:00Z",
       1,
       "2026-03-06T04:59:59Z"},
      // DST ends Sunday 2026-10-25 in Berlin: Monday ends at 23:59:59 CET (UTC+1).
      {"berlin_fall_back", "Europe/Berlin", {}, "2026-10-23T08:00:00Z", 1, "2026-10-26T22:59:59Z"},
      {"berlin_before_fall_back_is_cest",
       "Europe/Berlin",
       {},
       "2026-10-21T08:00:00Z",
       1,
       "2026-10-22T21:59:59Z"},
      {"holiday_in_local_zone",
       "Europe/Berlin",
       {"2026-10-26"},
       "2026-10-23T08:00:00Z",
       1,
       "2026-10-27T22:59:59Z"},
  };
  for (const auto& c : cases) {
    const business_calendar calendar{c.zone, c.holidays};
    EXPECT_EQ(format_rfc3339(calendar.end_of_business_days_after(at(c.from), c.days)), c.due) << c.name;
  }
}

TEST(business_calendar, weekends_and_holidays_are_not_business_days) {
  const business_calendar calendar{"UTC", {"2026-12-25"}};
  using date::local_days;
  using namespace date::literals;
  EXPECT_TRUE(calendar.is_business_day(local_days{2026_y / 11 / 20}));   // Friday
  EXPECT_FALSE(calendar.is_business_day(local_days{2026_y / 11 / 21}));  // Saturday
  EXPECT_FALSE(calendar.is_business_day(local_days{2026_y / 11 / 22}));  // Sunday
  EXPECT_FALSE(calendar.is_business_day(local_days{2026_y / 12 / 25}));  // holiday, a Friday
}

TEST(business_calendar, unknown_zone_is_a_clear_error) {
  try {
    business_calendar calendar{"Mars/Olympus_Mons", {}};
    FAIL() << "expected calendar_error";
  } catch (const calendar_error& e) {
    EXPECT_NE(std::string{e.what()}.find("Mars/Olympus_Mons"), std::string::npos) << e.what();
  }
}

TEST(business_calendar, bad_holiday_is_a_clear_error) {
  for (const char* bad : {"2026-02-30", "2026-1-01", "26-01-01", "2026/01/01", "2026-01-01x", ""}) {
    try {
      business_calendar calendar{"UTC", {bad}};
      FAIL() << "expected calendar_error for " << bad;
    } catch (const calendar_error& e) {
      EXPECT_NE(std::string{e.what()}.find(std::string{"\""} + bad + "\""), std::string::npos) << e.what();
    }
  }
}

TEST(business_calendar, empty_zone_defaults_to_utc_and_holidays_are_normalised) {
  const business_calendar calendar{"", {"2027-01-01", "2026-12-25", "2027-01-01"}};
  EXPECT_EQ(calendar.settings().zone, "UTC");
  EXPECT_EQ(calendar.settings().holidays, (std::vector<std::string>{"2026-12-25", "2027-01-01"}));
}

}  // namespace
}  // namespace flare::policy
