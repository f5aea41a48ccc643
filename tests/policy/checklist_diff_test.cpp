#include "policy/checklist_diff.hpp"

#include <gtest/gtest.h>

#include "test_time.hpp"

namespace flare::policy {
namespace {

using testing::at;

facts critical() {
  facts f;
  f.severity = severity::critical;
  f.classification = classification::confirmed;
  f.impact_confirmed_at = at("2026-12-01T10:00:00Z");
  f.user_action_required = true;
  f.users_affected = tristate::confirmed;
  return f;
}

checklist derive(const facts& f, const checklist_input& in = {}) {
  const tables t;
  const business_calendar cal;
  return derive_checklist(f, decide(f, t, cal), t, cal, in, at("2026-12-01T12:00:00Z"));
}

TEST(checklist_diff, same_facts_give_an_empty_diff) {
  EXPECT_TRUE(diff(derive(critical()), derive(critical())).empty());
}

TEST(checklist_diff, confirming_impact_adds_the_initial_notice_with_its_clause) {
  facts before = critical();
  before.impact_confirmed_at.reset();
  const auto d = diff(derive(before), derive(critical()));
  ASSERT_FALSE(d.empty());
  const auto it = std::find_if(d.changes.begin(), d.changes.end(),
                               [](const auto& c) { return c.id == "paid_initial_notice"; });
  ASSERT_NE(it, d.changes.end());
  EXPECT_EQ(it->kind, change_kind::added);
  EXPECT_EQ(it->due_after, at("2026-12-03T10:00:00Z"));
  EXPECT_FALSE(it->clause.empty());
}

TEST(checklist_diff, a_moved_deadline_and_a_done_item_are_reported) {
  facts after = critical();
  after.severity = severity::high;
  checklist_input in;
  in.completions = {{"admin_email", "U1", at("2026-12-01T11:00:00Z"), ""}};
  const auto d = diff(derive(critical()), derive(after, in));
  bool moved = false, done = false;
  for (const auto& c : d.changes) {
    if (c.id == "paid_initial_notice" && c.kind == change_kind::due_moved) {
      moved = true;
      EXPECT_EQ(c.due_before, at("2026-12-03T10:00:00Z"));
      EXPECT_EQ(c.due_after, at("2026-12-04T10:00:00Z"));
    }
    if (c.id == "admin_email" && c.kind == change_kind::done) done = true;
  }
  EXPECT_TRUE(moved);
  EXPECT_TRUE(done);
}

TEST(checklist_diff, a_new_conflict_is_reported) {
  facts after = critical();
  after.routine_dependency_patch = true;
  after.user_action_required = false;
  after.users_affected = tristate::none;
  const auto d = diff(derive(critical()), derive(after));
  EXPECT_TRUE(std::any_of(d.changes.begin(), d.changes.end(),
                          [](const auto& c) { return c.kind == change_kind::conflict_new; }));
}

TEST(deadline_moves, a_different_impact_time_needs_confirmation) {
  facts after = critical();
  after.impact_confirmed_at = at("2027-11-30T23:35:02Z");
  const auto moves =
      deadline_moves_requiring_confirmation(critical(), derive(critical()), after, derive(after));
  ASSERT_EQ(moves.size(), 1u);
  EXPECT_EQ(moves[0].id, "paid_initial_notice");
  EXPECT_EQ(moves[0].from, at("2026-12-03T10:00:00Z"));
  EXPECT_EQ(moves[0].to, at("2027-12-02T23:35:02Z"));
  EXPECT_NE(moves[0].because.find("impact confirmation time changed"), std::string::npos);
}

TEST(deadline_moves, clearing_the_impact_time_clears_the_running_deadline) {
  facts after = critical();
  after.impact_confirmed_at.reset();
  const auto moves =
      deadline_moves_requiring_confirmation(critical(), derive(critical()), after, derive(after));
  ASSERT_EQ(moves.size(), 1u);
  EXPECT_FALSE(moves[0].to);
  EXPECT_NE(moves[0].because.find("cleared"), std::string::npos);
}

TEST(deadline_moves, reclassifying_to_low_drops_an_overdue_obligation_and_says_so) {
  facts after = critical();
  after.severity = severity::low;
  const auto moves =
      deadline_moves_requiring_confirmation(critical(), derive(critical()), after, derive(after));
  ASSERT_EQ(moves.size(), 1u);
  EXPECT_FALSE(moves[0].to);
  EXPECT_NE(moves[0].because.find("severity lowered from critical to low"), std::string::npos);
}

TEST(deadline_moves, raising_severity_also_moves_a_deadline) {
  facts before = critical();
  before.severity = severity::high;
  const auto moves =
      deadline_moves_requiring_confirmation(before, derive(before), critical(), derive(critical()));
  ASSERT_EQ(moves.size(), 1u);
  EXPECT_NE(moves[0].because.find("severity raised"), std::string::npos);
}

TEST(deadline_moves, recording_a_notification_or_resolution_is_not_a_clock_edit) {
  facts after = critical();
  after.notifications_sent = {at("2026-12-01T11:00:00Z")};
  after.resolved_at = at("2026-12-01T12:00:00Z");
  after.fix_available = true;
  EXPECT_TRUE(
      deadline_moves_requiring_confirmation(critical(), derive(critical()), after, derive(after)).empty());
}

TEST(deadline_moves, changing_the_kind_to_people_and_safety_clears_customer_deadlines) {
  checklist_input ps;
  ps.kind = incident_kind::people_and_safety;
  const auto moves = deadline_moves_requiring_confirmation(critical(), derive(critical()), critical(),
                                                           derive(critical(), ps));
  ASSERT_EQ(moves.size(), 1u);
  EXPECT_NE(moves[0].because.find("kind changed"), std::string::npos);
}

}  // namespace
}  // namespace flare::policy
