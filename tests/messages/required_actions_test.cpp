#include "messages/required_actions.hpp"

#include <gtest/gtest.h>

#include "block_kit_check.hpp"

namespace flare::messages {
namespace {

using testing::at;
using testing::contains;

std::string joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

policy::facts base() {
  policy::facts f;
  f.severity = policy::severity::high;
  f.classification = policy::classification::confirmed;
  f.impact_confirmed_at = at("2026-11-20T10:00:00Z");
  f.users_affected = policy::tristate::confirmed;
  return f;
}

TEST(required_actions, bulletin_without_a_fix_waits_for_it) {
  const auto text = joined(required_actions(testing::decide(base()), {}));
  EXPECT_TRUE(contains(text, "Public security bulletin required* as soon as a fix is available"));
}

TEST(required_actions, free_tier_email_and_announcement_lines) {
  policy::facts f = base();
  f.customers = {policy::customer_tier::free};
  f.free_tier_directly_impacted = true;
  f.fix_applied = true;
  const auto text = joined(required_actions(testing::decide(f), {}));
  EXPECT_TRUE(contains(text, "E-mail the directly impacted free-tier users"));
  EXPECT_TRUE(contains(text, "Make the public announcement* (the fix is applied)"));
}

TEST(required_actions, legal_precedence_is_the_first_line_and_escaped) {
  policy::facts f = base();
  f.legal_requirements = {"A & B"};
  const auto lines = required_actions(testing::decide(f), {});
  ASSERT_FALSE(lines.empty());
  EXPECT_TRUE(contains(lines.front(), "Legal disclosure requirements take precedence:* A &amp; B."));
  EXPECT_FALSE(contains(joined(policy_actions(testing::decide(f), {})), "Legal"));
}

TEST(required_actions, resolution_message_is_due_until_a_notice_after_resolution) {
  policy::facts f = base();
  f.resolved_at = at("2026-11-21T10:00:00Z");
  const auto d = testing::decide(f);
  const auto& s = d.customer_notifications.schedule;
  EXPECT_TRUE(contains(joined(required_actions(d, {at("2026-11-20T12:00:00Z")})),
                       "Resolution message to customers* due"));
  EXPECT_EQ(next_due_summary(s, {}), "resolution message due 2026-11-21 10:00 UTC");
  const std::vector<std::chrono::sys_seconds> sent{at("2026-11-21T11:00:00Z")};
  EXPECT_TRUE(resolution_message_sent(s, sent));
  EXPECT_TRUE(contains(joined(required_actions(d, sent)), "Resolution message to customers sent."));
  EXPECT_EQ(next_due_summary(s, sent), "resolution message sent");
}

TEST(required_actions, only_business_day_schedules_get_the_business_day_wording) {
  policy::facts f = base();
  const auto high = testing::decide(f).customer_notifications.schedule;
  EXPECT_EQ(due_text(at("2026-11-23T10:00:00Z"), high), slack_date(at("2026-11-23T10:00:00Z")));
  f.severity = policy::severity::medium;
  const auto medium = testing::decide(f).customer_notifications.schedule;
  EXPECT_TRUE(contains(due_text(*medium.initial_due, medium), "weekends and holidays are not counted"));
}

}  // namespace
}  // namespace flare::messages
