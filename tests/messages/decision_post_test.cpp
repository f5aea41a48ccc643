#include "messages/decision_post.hpp"

#include <gtest/gtest.h>

#include "block_kit_check.hpp"
#include "policy/clauses.hpp"

namespace flare::messages {
namespace {

using testing::all_text;
using testing::at;
using testing::contains;
using testing::expect_valid;

incident_view incident(std::string severity) {
  incident_view i;
  i.reference = "INC-3";
  i.title = "Bucket <public> & indexed";
  i.reporter = "U1";
  i.severity = std::move(severity);
  i.classification = "confirmed";
  i.created_at = at("2026-11-19T08:00:00Z");
  i.impact_confirmed_at = at("2026-11-20T10:00:00Z");
  return i;
}

policy::facts facts(policy::severity s) {
  policy::facts f;
  f.severity = s;
  f.classification = policy::classification::confirmed;
  f.impact_confirmed_at = at("2026-11-20T10:00:00Z");
  f.user_action_required = true;
  f.fix_available = true;
  f.users_affected = policy::tristate::confirmed;
  f.data_exposed = policy::tristate::confirmed;
  f.customers = {policy::customer_tier::paid, policy::customer_tier::free};
  f.free_tier_directly_impacted = true;
  return f;
}

std::vector<const std::vector<policy::reason>*> reason_lists(const policy::decision& d) {
  return {&d.public_disclosure.reasons, &d.direct_notification.reasons, &d.customer_notifications.reasons,
          &d.free_tier.reasons};
}

TEST(decision_post, cites_a_clause_for_every_reason) {
  const auto d = testing::decide(facts(policy::severity::critical));
  const auto post = decision_post(incident("critical"), d);
  expect_valid(post);
  const std::string text = all_text(post);
  std::size_t reasons = 0;
  for (const auto* list : reason_lists(d)) {
    for (const auto& r : *list) {
      ++reasons;
      // The reason and its clause sit in the same block.
      const bool found = std::any_of(post.blocks.begin(), post.blocks.end(), [&](const auto& b) {
        const std::string t = testing::text_of(b.value("text", nlohmann::json{}));
        return contains(t, escape(r.text)) && contains(t, escape(r.clause));
      });
      EXPECT_TRUE(found) << r.text;
    }
  }
  EXPECT_GE(reasons, 8u);
  EXPECT_TRUE(contains(text, "Policy version `" + d.policy_version + "`"));
}

TEST(decision_post, legal_precedence_comes_first_with_its_clause) {
  policy::facts f = facts(policy::severity::high);
  f.legal_requirements = {"CA Civil Code 1798.82", "GDPR Art. 33 <72h>"};
  const auto d = testing::decide(f);
  const auto post = decision_post(incident("high"), d);
  expect_valid(post);
  // header, policy version, then legal precedence before anything the policy requires.
  ASSERT_GE(post.blocks.size(), 4u);
  const std::string legal = post.blocks[2]["text"]["text"];
  EXPECT_TRUE(contains(legal, "take precedence"));
  EXPECT_TRUE(contains(legal, "CA Civil Code 1798.82, GDPR Art. 33 &lt;72h&gt;"));
  EXPECT_TRUE(contains(legal, escape(policy::clauses::legal_precedence)));
  EXPECT_TRUE(contains(post.text, "legal requirements take precedence"));
}

TEST(decision_post, no_legal_block_without_legal_requirements) {
  const auto post = decision_post(incident("critical"), testing::decide(facts(policy::severity::critical)));
  EXPECT_FALSE(contains(all_text(post), "take precedence"));
}

TEST(decision_post, says_what_is_required_and_by_when) {
  const auto d = testing::decide(facts(policy::severity::critical));
  const auto post = decision_post(incident("critical"), d);
  const std::string text = all_text(post);
  EXPECT_TRUE(contains(text, "Publish a public security bulletin"));
  EXPECT_TRUE(contains(text, "E-mail the affected Organizations' administrators"));
  EXPECT_TRUE(contains(text, "E-mail the directly impacted free-tier users"));
  EXPECT_TRUE(contains(text, "<!date^1795341600^{date_short_pretty} {time}|2026-11-22 10:00 UTC>"));
  EXPECT_EQ(post.text,
            "INC-3 decision: security bulletin required, admin e-mails required, initial customer "
            "notification due 2026-11-22 10:00 UTC");
}

TEST(decision_post, medium_deadline_uses_business_day_wording) {
  // Impact confirmed Friday 2026-11-20: 7 business days later is Tuesday 2026-12-01, 23:59:59 UTC.
  const auto d = testing::decide(facts(policy::severity::medium));
  const auto post = decision_post(incident("medium"), d);
  expect_valid(post);
  const std::string text = all_text(post);
  ASSERT_TRUE(d.customer_notifications.schedule.initial_due);
  EXPECT_TRUE(contains(text, slack_date(*d.customer_notifications.schedule.initial_due) +
                                 " (end of a business day: weekends and holidays are not counted)"));
  EXPECT_TRUE(contains(text, "then every 7 business days"));
  EXPECT_TRUE(contains(text, "2026-12-01 23:59 UTC"));
}

TEST(decision_post, many_reasons_are_capped_at_fifty_blocks) {
  auto d = testing::decide(facts(policy::severity::critical));
  for (int i = 0; i < 200; ++i)
    d.public_disclosure.reasons.push_back({"reason " + std::to_string(i), "clause " + std::to_string(i)});
  const auto post = decision_post(incident("critical"), d);
  expect_valid(post);
  EXPECT_EQ(post.blocks.size(), 50u);
  const auto& last = post.blocks.back();
  EXPECT_EQ(last["type"], "context");
  EXPECT_TRUE(contains(testing::text_of(last["elements"][0]), "more blocks omitted"));
  // The policy version is at the top, so it survives the cut.
  EXPECT_TRUE(contains(all_text(post), d.policy_version));
}

TEST(decision_post, low_severity_says_no_scheduled_notifications) {
  policy::facts f = facts(policy::severity::low);
  const auto d = testing::decide(f);
  const auto post = decision_post(incident("low"), d);
  expect_valid(post);
  EXPECT_TRUE(contains(all_text(post), "No scheduled customer notifications."));
  EXPECT_TRUE(contains(post.text, "no customer notification due"));
  EXPECT_TRUE(contains(all_text(post), escape(policy::clauses::table_low)));
}

}  // namespace
}  // namespace flare::messages
