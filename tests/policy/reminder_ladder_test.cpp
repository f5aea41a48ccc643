#include "policy/reminder_ladder.hpp"

#include <gtest/gtest.h>

#include "policy/rfc3339.hpp"
#include "test_time.hpp"

namespace flare::policy {
namespace {

using std::chrono::hours;
using testing::at;

struct expected_step {
  const char* step;
  const char* fire_at;
};

void expect_steps(const std::vector<ladder_step>& got, reminder_kind kind, const char* deadline,
                  const std::vector<expected_step>& want, const char* label) {
  ASSERT_EQ(got.size(), want.size()) << label;
  for (std::size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(got[i].kind, kind) << label;
    EXPECT_EQ(format_rfc3339(got[i].deadline), deadline) << label;
    EXPECT_EQ(got[i].step, want[i].step) << label << " #" << i;
    EXPECT_EQ(format_rfc3339(got[i].fire_at), want[i].fire_at) << label << " #" << i;
  }
}

notification_schedule schedule_for(severity s, const char* confirmed,
                                   std::vector<std::chrono::sys_seconds> sent = {},
                                   std::optional<std::chrono::sys_seconds> resolved = {},
                                   const business_calendar& cal = business_calendar{}) {
  const tables t;
  return schedule_notifications(at(confirmed), t.timing(s), sent, resolved, cal);
}

// SaaS process, "Paid Customer Notification Process", severity table: one ladder per row.
TEST(reminder_ladder, initial_notice_ladder_for_each_severity) {
  const ladder_settings settings;
  const auto now = at("2026-11-16T10:00:00Z");  // a Monday
  expect_steps(reminder_ladder(schedule_for(severity::critical, "2026-11-16T10:00:00Z"), {}, settings, now),
               reminder_kind::initial, "2026-11-18T10:00:00Z",
               {{"24h-before", "2026-11-17T10:00:00Z"},
                {"4h-before", "2026-11-18T06:00:00Z"},
                {"1h-before", "2026-11-18T09:00:00Z"},
                {"at-deadline", "2026-11-18T10:00:00Z"}},
               "critical 48h");
  expect_steps(reminder_ladder(schedule_for(severity::high, "2026-11-16T10:00:00Z"), {}, settings, now),
               reminder_kind::initial, "2026-11-19T10:00:00Z",
               {{"24h-before", "2026-11-18T10:00:00Z"},
                {"4h-before", "2026-11-19T06:00:00Z"},
                {"1h-before", "2026-11-19T09:00:00Z"},
                {"at-deadline", "2026-11-19T10:00:00Z"}},
               "high 72h");
  // 7 business days from Monday 16th: Tue..Fri (4), Mon 23, Tue 24, Wed 25 -> end of Wed 25th.
  expect_steps(reminder_ladder(schedule_for(severity::medium, "2026-11-16T10:00:00Z"), {}, settings, now),
               reminder_kind::initial, "2026-11-25T23:59:59Z",
               {{"24h-before", "2026-11-24T23:59:59Z"},
                {"4h-before", "2026-11-25T19:59:59Z"},
                {"1h-before", "2026-11-25T22:59:59Z"},
                {"at-deadline", "2026-11-25T23:59:59Z"}},
               "medium 7 business days");
  // Low: "No scheduled notifications".
  EXPECT_TRUE(
      reminder_ladder(schedule_for(severity::low, "2026-11-16T10:00:00Z"), {}, settings, now).empty());
}

TEST(reminder_ladder, business_day_deadline_skips_weekend_and_holiday) {
  // Confirmed Friday 20th in New York, Thursday 26th a holiday: Mon 23, Tue 24, Wed 25, Fri 27,
  // Mon 30, Tue 1, Wed 2 -> 23:59:59 local on Wed 2 Dec = 04:59:59Z on the 3rd.
  const business_calendar cal("America/New_York", {"2026-11-26"});
  const auto s = schedule_for(severity::medium, "2026-11-20T15:00:00Z", {}, {}, cal);
  const auto got = reminder_ladder(s, {}, ladder_settings{}, at("2026-11-20T15:00:00Z"));
  ASSERT_FALSE(got.empty());
  EXPECT_EQ(format_rfc3339(got.back().deadline), "2026-12-03T04:59:59Z");
  EXPECT_EQ(got.back().step, "at-deadline");
  EXPECT_EQ(format_rfc3339(got.front().fire_at), "2026-12-02T04:59:59Z");
}

TEST(reminder_ladder, update_ladder_after_a_notification) {
  const auto sent = at("2026-11-17T12:00:00Z");
  const auto s = schedule_for(severity::critical, "2026-11-16T10:00:00Z", {sent});
  const auto got = reminder_ladder(s, {sent}, ladder_settings{}, sent);
  expect_steps(got, reminder_kind::update, "2026-11-18T12:00:00Z",
               {{"24h-before", "2026-11-17T12:00:00Z"},
                {"4h-before", "2026-11-18T08:00:00Z"},
                {"1h-before", "2026-11-18T11:00:00Z"},
                {"at-deadline", "2026-11-18T12:00:00Z"}},
               "critical update 24h");
  // The 24h-before step falls exactly on `now`: it is "past", so it fires at once, once.
}

TEST(reminder_ladder, past_steps_collapse_into_one_immediate_reminder) {
  const auto s = schedule_for(severity::critical, "2026-11-16T10:00:00Z");
  // 30 minutes before the deadline: 24h, 4h and 1h steps passed -> one "1h-before" now.
  const auto now = at("2026-11-18T09:30:00Z");
  expect_steps(reminder_ladder(s, {}, ladder_settings{}, now), reminder_kind::initial, "2026-11-18T10:00:00Z",
               {{"1h-before", "2026-11-18T09:30:00Z"}, {"at-deadline", "2026-11-18T10:00:00Z"}},
               "late entry");
  // Entered 9 hours after the deadline: one overdue reminder now (the overdue+8h step).
  const auto later = at("2026-11-18T19:00:00Z");
  expect_steps(reminder_ladder(s, {}, ladder_settings{}, later), reminder_kind::initial,
               "2026-11-18T10:00:00Z", {{"overdue+8h", "2026-11-18T19:00:00Z"}}, "overdue entry");
}

TEST(reminder_ladder, recomputing_never_repeats_a_sent_reminder) {
  const auto s = schedule_for(severity::critical, "2026-11-16T10:00:00Z");
  const auto deadline = at("2026-11-18T10:00:00Z");
  const std::vector<sent_step> sent = {
      {reminder_kind::initial, deadline, at("2026-11-17T10:00:00Z"), "24h-before"},
  };
  // A new fact at 12:00 on the 17th: the 24h step was sent, nothing collapses, the rest stays.
  expect_steps(reminder_ladder(s, {}, ladder_settings{}, at("2026-11-17T12:00:00Z"), sent),
               reminder_kind::initial, "2026-11-18T10:00:00Z",
               {{"4h-before", "2026-11-18T06:00:00Z"},
                {"1h-before", "2026-11-18T09:00:00Z"},
                {"at-deadline", "2026-11-18T10:00:00Z"}},
               "after a change");
}

TEST(reminder_ladder, resolution_message_is_due_at_resolution) {
  const auto resolved = at("2026-11-17T15:00:00Z");
  const auto s = schedule_for(severity::high, "2026-11-16T10:00:00Z", {}, resolved);
  expect_steps(reminder_ladder(s, {}, ladder_settings{}, resolved), reminder_kind::resolution,
               "2026-11-17T15:00:00Z", {{"at-deadline", "2026-11-17T15:00:00Z"}}, "resolution");
  // A notification at or after resolution is the resolution message: nothing left to remind.
  const auto after = at("2026-11-17T16:00:00Z");
  EXPECT_TRUE(reminder_ladder(s, {after}, ladder_settings{}, after).empty());
}

TEST(reminder_ladder, overdue_steps_are_generated_one_at_a_time) {
  const ladder_settings settings;
  const auto deadline = at("2026-11-18T10:00:00Z");
  const ladder_step fired{reminder_kind::initial, deadline, deadline, "at-deadline"};
  auto next = next_overdue_step(fired, settings, deadline);
  ASSERT_TRUE(next);
  EXPECT_EQ(next->step, "overdue+4h");
  EXPECT_EQ(format_rfc3339(next->fire_at), "2026-11-18T14:00:00Z");
  next = next_overdue_step(*next, settings, next->fire_at);
  ASSERT_TRUE(next);
  EXPECT_EQ(next->step, "overdue+8h");
  // Fired 13 hours late after downtime: the next one is the first step after now, no burst.
  next = next_overdue_step(fired, settings, at("2026-11-18T23:00:00Z"));
  ASSERT_TRUE(next);
  EXPECT_EQ(next->step, "overdue+16h");
  EXPECT_EQ(format_rfc3339(next->fire_at), "2026-11-19T02:00:00Z");
  // A step before the deadline has no overdue follower; nor does a ladder without repeats.
  EXPECT_FALSE(next_overdue_step({reminder_kind::initial, deadline, deadline - hours{1}, "1h-before"},
                                 settings, deadline));
  EXPECT_FALSE(next_overdue_step(fired, ladder_settings{{24}, 0}, deadline));
}

TEST(reminder_ladder, configured_hours_are_sorted_and_deduplicated) {
  const auto s = schedule_for(severity::critical, "2026-11-16T10:00:00Z");
  const auto got = reminder_ladder(s, {}, ladder_settings{{1, 2, 2}, 4}, at("2026-11-16T10:00:00Z"));
  expect_steps(got, reminder_kind::initial, "2026-11-18T10:00:00Z",
               {{"2h-before", "2026-11-18T08:00:00Z"},
                {"1h-before", "2026-11-18T09:00:00Z"},
                {"at-deadline", "2026-11-18T10:00:00Z"}},
               "custom");
}

}  // namespace
}  // namespace flare::policy
