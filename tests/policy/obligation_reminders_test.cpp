#include <gtest/gtest.h>

#include "policy/reminder_ladder.hpp"
#include "test_time.hpp"

namespace flare::policy {
namespace {

using testing::at;

obligation pending_due(std::string_view due) {
  obligation o;
  o.id = "paid_initial_notice";
  o.title = "Paid-customer initial notice";
  o.due = at(std::string{due});
  return o;
}

TEST(obligation_reminders, first_reminder_is_the_first_step_still_in_the_future) {
  // Notified at 10:00, the next update is due 24 h later: no "due in 1 d" now, the first
  // reminder is 4 hours before.
  const auto o = pending_due("2026-12-02T10:00:00Z");
  const auto r = next_reminder(o, reminder_settings{}, true, nullptr, at("2026-12-01T10:00:00Z"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->step, "4 hours before");
  EXPECT_EQ(r->fire_at, at("2026-12-02T06:00:00Z"));
  EXPECT_FALSE(r->overdue);
}

TEST(obligation_reminders, resolution_message_due_now_is_not_reminded_at_once) {
  const auto o = pending_due("2026-12-01T10:00:00Z");
  const auto r = next_reminder(o, reminder_settings{}, true, nullptr, at("2026-12-01T10:00:00Z"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->step, "overdue by 4 h");
  EXPECT_EQ(r->fire_at, at("2026-12-01T14:00:00Z"));
}

// The list stops at the first step after the horizon (here 3 d 12 h late, after 5 Dec 00:00).
TEST(obligation_reminders, step_names_are_readable) {
  const auto steps =
      ladder_steps("x", at("2026-12-02T10:00:00Z"), reminder_settings{}, at("2026-12-05T00:00:00Z"));
  std::vector<std::string> names;
  names.reserve(steps.size());
  for (const auto& s : steps) names.push_back(s.step);
  EXPECT_EQ(names,
            (std::vector<std::string>{"24 hours before", "4 hours before", "1 hour before", "at the deadline",
                                      "overdue by 4 h", "overdue by 12 h", "overdue by 1 d 12 h",
                                      "overdue by 2 d 12 h", "overdue by 3 d 12 h"}));
}

TEST(obligation_reminders, overdue_repeats_back_off_4h_8h_then_daily) {
  const auto o = pending_due("2026-12-01T10:00:00Z");
  std::vector<std::chrono::sys_seconds> fired;
  auto now = at("2026-12-01T10:00:00Z");
  for (int i = 0; i < 4; ++i) {
    const auto r = next_reminder(o, reminder_settings{}, true, nullptr, now);
    ASSERT_TRUE(r);
    fired.push_back(r->fire_at);
    now = r->fire_at;
  }
  EXPECT_EQ(fired, (std::vector{at("2026-12-01T14:00:00Z"), at("2026-12-01T22:00:00Z"),
                                at("2026-12-02T22:00:00Z"), at("2026-12-03T22:00:00Z")}));
}

TEST(obligation_reminders, done_and_not_needed_obligations_get_no_reminders) {
  auto o = pending_due("2026-12-02T10:00:00Z");
  o.state = obligation_state::done;
  EXPECT_FALSE(next_reminder(o, reminder_settings{}, true, nullptr, at("2026-12-01T10:00:00Z")));
  o.state = obligation_state::not_needed;
  EXPECT_FALSE(next_reminder(o, reminder_settings{}, true, nullptr, at("2026-12-01T10:00:00Z")));
  o.state = obligation_state::pending;
  o.due.reset();
  EXPECT_FALSE(next_reminder(o, reminder_settings{}, true, nullptr, at("2026-12-01T10:00:00Z")));
}

TEST(obligation_reminders, quiet_hours_defer_non_critical_reminders_to_the_morning) {
  reminder_settings s;
  s.quiet = parse_quiet_hours("22:00-07:00");
  ASSERT_TRUE(s.quiet);
  const auto* berlin = date::locate_zone("Europe/Berlin");
  // Due 14:00 UTC; overdue by 12 h is 02:00 UTC = 03:00 CET: quiet, moved to 07:00 CET = 06:00 UTC.
  const auto o = pending_due("2026-12-01T14:00:00Z");
  const auto r = next_reminder(o, s, false, berlin, at("2026-12-01T18:00:00Z"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->step, "overdue by 12 h");
  EXPECT_EQ(r->fire_at, at("2026-12-02T06:00:00Z"));
  // Critical ignores quiet hours.
  const auto c = next_reminder(o, s, true, berlin, at("2026-12-01T18:00:00Z"));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->fire_at, at("2026-12-02T02:00:00Z"));
}

TEST(obligation_reminders, quiet_hours_are_off_by_default) {
  EXPECT_FALSE(reminder_settings{}.quiet);
  EXPECT_FALSE(parse_quiet_hours("22:00"));
  EXPECT_FALSE(parse_quiet_hours("25:00-07:00"));
  EXPECT_FALSE(parse_quiet_hours("07:00-07:00"));
  EXPECT_EQ(describe(*parse_quiet_hours("22:00-07:00")), "22:00-07:00");
}

TEST(obligation_reminders, checklist_reminders_are_soonest_first_and_untriaged_counts_as_critical) {
  checklist c;
  auto a = pending_due("2026-12-03T10:00:00Z");
  auto b = pending_due("2026-12-02T10:00:00Z");
  b.id = "legal:gdpr-art33";
  c.items = {a, b};
  reminder_settings s;
  s.quiet = parse_quiet_hours("00:00-23:59");
  const auto r = next_reminders(c, s, nullptr, at("2026-12-01T10:00:00Z"));
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].obligation_id, "legal:gdpr-art33");
  EXPECT_EQ(r[0].fire_at, at("2026-12-02T06:00:00Z"));
  EXPECT_EQ(r[0].step, "4 hours before");  // 24 hours before is now, not in the future
}

TEST(obligation_reminders, overdue_step_names) {
  EXPECT_EQ(overdue_step_name(std::chrono::hours{8}), "overdue by 8 h");
  EXPECT_EQ(overdue_step_name(std::chrono::minutes{90}), "overdue by 1 h 30 min");
  EXPECT_EQ(overdue_step_name(std::chrono::hours{84}), "overdue by 3 d 12 h");
}

}  // namespace
}  // namespace flare::policy
