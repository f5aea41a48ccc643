#include "policy/deadlines.hpp"

#include <gtest/gtest.h>

#include "policy/rfc3339.hpp"
#include "test_time.hpp"

namespace flare::policy {
namespace {

using testing::at;

std::string text(const std::optional<std::chrono::sys_seconds>& t) {
  return t ? format_rfc3339(*t) : std::string{"null"};
}

struct schedule_case {
  const char* name;
  severity sev;
  const char* zone;
  std::vector<std::string> holidays;
  const char* confirmed_at;
  std::vector<const char*> sent;
  const char* resolved_at;  // nullptr: open
  const char* initial_due;
  const char* next_due;
  const char* interval;
  const char* resolution_due;
};

TEST(deadlines, schedule_follows_the_severity_table) {
  const schedule_case cases[] = {
      {"critical_initial_48h_then_24h",
       severity::critical,
       "UTC",
       {},
       "2026-11-20T10:00:00Z",
       {},
       nullptr,
       "2026-11-22T10:00:00Z",
       "2026-11-22T10:00:00Z",
       "24h",
       "null"},
      {"high_initial_72h_then_48h",
       severity::high,
       "UTC",
       {},
       "2026-11-20T10:00:00Z",
       {},
       nullptr,
       "2026-11-23T10:00:00Z",
       "2026-11-23T10:00:00Z",
       "48h",
       "null"},
      {"medium_initial_notice_skips_weekend_and_holiday",
       severity::medium,
       "UTC",
       {"2026-11-24"},
       "2026-11-16T10:00:00Z",
       {},
       nullptr,
       "2026-11-26T23:59:59Z",
       "2026-11-26T23:59:59Z",
       "7 business days",
       "null"},
      {"medium_confirmed_on_saturday_counts_from_monday",
       severity::medium,
       "UTC",
       {},
       "2026-11-21T10:00:00Z",
       {},
       nullptr,
       "2026-12-01T23:59:59Z",
       "2026-12-01T23:59:59Z",
       "7 business days",
       "null"},
      {"medium_over_year_end_with_new_year_holiday",
       severity::medium,
       "UTC",
       {"2027-01-01"},
       "2026-12-28T10:00:00Z",
       {},
       nullptr,
       "2027-01-07T23:59:59Z",
       "2027-01-07T23:59:59Z",
       "7 business days",
       "null"},
      {"medium_ends_2359_local_in_berlin_across_fall_back",
       severity::medium,
       "Europe/Berlin",
       {},
       "2026-10-21T08:00:00Z",
       {},
       nullptr,
       "2026-10-30T22:59:59Z",
       "2026-10-30T22:59:59Z",
       "7 business days",
       "null"},
      {"medium_ends_2359_local_in_new_york_across_spring_forward",
       severity::medium,
       "America/New_York",
       {},
       "2026-03-04T17:00:00Z",
       {},
       nullptr,
       "2026-03-14T03:59:59Z",
       "2026-03-14T03:59:59Z",
       "7 business days",
       "null"},
      // 48 elapsed hours across the New York spring-forward: 12:00 EST becomes 13:00 EDT.
      {"critical_hours_are_elapsed_hours_across_spring_forward",
       severity::critical,
       "America/New_York",
       {},
       "2026-03-07T12:00:00-05:00",
       {},
       nullptr,
       "2026-03-09T17:00:00Z",
       "2026-03-09T17:00:00Z",
       "24h",
       "null"},
      // 72 elapsed hours across the Berlin fall-back: 12:00 CEST becomes 11:00 CET.
      {"high_hours_are_elapsed_hours_across_fall_back",
       severity::high,
       "Europe/Berlin",
       {},
       "2026-10-24T12:00:00+02:00",
       {},
       nullptr,
       "2026-10-27T10:00:00Z",
       "2026-10-27T10:00:00Z",
       "48h",
       "null"},
      {"next_update_is_last_notification_plus_24h",
       severity::critical,
       "UTC",
       {},
       "2026-11-20T10:00:00Z",
       {"2026-11-21T09:00:00Z", "2026-11-22T08:30:00Z", "2026-11-21T20:00:00Z"},
       nullptr,
       "2026-11-22T10:00:00Z",
       "2026-11-23T08:30:00Z",
       "24h",
       "null"},
      {"next_update_is_last_notification_plus_48h",
       severity::high,
       "UTC",
       {},
       "2026-11-20T10:00:00Z",
       {"2026-11-21T09:00:00Z"},
       nullptr,
       "2026-11-23T10:00:00Z",
       "2026-11-23T09:00:00Z",
       "48h",
       "null"},
      {"next_medium_update_is_seven_business_days_after_last_notice",
       severity::medium,
       "UTC",
       {},
       "2026-11-16T10:00:00Z",
       {"2026-11-20T16:00:00Z"},
       nullptr,
       "2026-11-25T23:59:59Z",
       "2026-12-01T23:59:59Z",
       "7 business days",
       "null"},
      {"notice_sent_before_impact_confirmation_does_not_count",
       severity::critical,
       "UTC",
       {},
       "2026-11-20T10:00:00Z",
       {"2026-11-19T10:00:00Z"},
       nullptr,
       "2026-11-22T10:00:00Z",
       "2026-11-22T10:00:00Z",
       "24h",
       "null"},
      {"resolution_message_due_at_resolved_at",
       severity::critical,
       "UTC",
       {},
       "2026-11-20T10:00:00Z",
       {"2026-11-21T09:00:00Z"},
       "2026-11-21T18:00:00Z",
       "2026-11-22T10:00:00Z",
       "null",
       "24h",
       "2026-11-21T18:00:00Z"},
  };
  for (const auto& c : cases) {
    const business_calendar calendar{c.zone, c.holidays};
    std::vector<std::chrono::sys_seconds> sent;
    for (const char* s : c.sent) sent.push_back(at(s));
    std::optional<std::chrono::sys_seconds> resolved;
    if (c.resolved_at) resolved = at(c.resolved_at);
    const notification_schedule s =
        schedule_notifications(at(c.confirmed_at), tables{}.timing(c.sev), sent, resolved, calendar);
    EXPECT_TRUE(s.scheduled) << c.name;
    EXPECT_EQ(text(s.initial_due), c.initial_due) << c.name;
    EXPECT_EQ(text(s.next_due), c.next_due) << c.name;
    EXPECT_EQ(s.update_interval.value_or("null"), c.interval) << c.name;
    EXPECT_EQ(text(s.resolution_due), c.resolution_due) << c.name;
  }
}

TEST(deadlines, low_severity_has_no_scheduled_notifications) {
  const notification_schedule s = schedule_notifications(at("2026-11-20T10:00:00Z"), tables{}.low, {},
                                                         at("2026-11-21T10:00:00Z"), business_calendar{});
  EXPECT_FALSE(s.scheduled);
  EXPECT_FALSE(s.initial_due);
  EXPECT_FALSE(s.next_due);
  EXPECT_FALSE(s.update_interval);
  EXPECT_FALSE(s.resolution_due);
}

TEST(deadlines, overridden_table_changes_the_deadline) {
  tables t;
  t.critical.initial = parse_interval("24h");
  const notification_schedule s =
      schedule_notifications(at("2026-11-20T10:00:00Z"), t.critical, {}, std::nullopt, business_calendar{});
  EXPECT_EQ(text(s.initial_due), "2026-11-21T10:00:00Z");
}

TEST(deadlines, overdue_only_after_the_next_deadline_passes) {
  const business_calendar calendar;
  const auto confirmed = at("2026-11-20T10:00:00Z");
  const notification_schedule open =
      schedule_notifications(confirmed, tables{}.critical, {}, std::nullopt, calendar);
  EXPECT_FALSE(overdue(open, {}, at("2026-11-22T10:00:00Z")));
  EXPECT_TRUE(overdue(open, {}, at("2026-11-22T10:00:01Z")));

  const std::vector<std::chrono::sys_seconds> before_resolution{at("2026-11-21T09:00:00Z")};
  const notification_schedule resolved = schedule_notifications(
      confirmed, tables{}.critical, before_resolution, at("2026-11-21T18:00:00Z"), calendar);
  EXPECT_TRUE(overdue(resolved, before_resolution, at("2026-11-21T18:00:01Z")));
  const std::vector<std::chrono::sys_seconds> with_resolution{at("2026-11-21T09:00:00Z"),
                                                              at("2026-11-21T18:05:00Z")};
  EXPECT_FALSE(overdue(resolved, with_resolution, at("2026-11-21T19:00:00Z")));
}

}  // namespace
}  // namespace flare::policy
