#include "messages/incident_card.hpp"

#include <gtest/gtest.h>

#include "block_kit_check.hpp"

namespace flare::messages {
namespace {

using testing::all_text;
using testing::at;
using testing::contains;
using testing::expect_valid;

incident_view critical_incident() {
  incident_view i;
  i.reference = "INC-7";
  i.title = "Leaked <token> & keys > /tmp <!channel>";
  i.reporter = "U0REPORTER";
  i.severity = "critical";
  i.classification = "confirmed";
  i.state = "open";
  i.created_at = at("2026-11-20T09:00:00Z");
  i.impact_confirmed_at = at("2026-11-20T10:00:00Z");
  return i;
}

policy::facts critical_facts() {
  policy::facts f;
  f.severity = policy::severity::critical;
  f.classification = policy::classification::confirmed;
  f.impact_confirmed_at = at("2026-11-20T10:00:00Z");
  f.user_action_required = true;
  f.fix_available = true;
  f.users_affected = policy::tristate::confirmed;
  return f;
}

TEST(incident_card, escapes_the_title_but_not_the_mentions_it_builds) {
  const auto card = incident_card(critical_incident(), nullptr);
  expect_valid(card);
  const std::string text = all_text(card);
  EXPECT_TRUE(contains(text, "Leaked &lt;token&gt; &amp; keys &gt; /tmp &lt;!channel&gt;"));
  EXPECT_FALSE(contains(text, "<token>"));
  EXPECT_FALSE(contains(text, "<!channel>"));
  EXPECT_TRUE(contains(text, "<@U0REPORTER>"));
  EXPECT_TRUE(contains(text, "<!date^1795165200^"));  // opened, rendered in the viewer's zone
}

TEST(incident_card, fallback_names_reference_severity_state_and_title) {
  const auto card = incident_card(critical_incident(), nullptr);
  EXPECT_EQ(card.text, "INC-7 · critical · open: Leaked &lt;token&gt; &amp; keys &gt; /tmp &lt;!channel&gt;");
  EXPECT_EQ(card.blocks[0]["type"], "header");
  EXPECT_EQ(card.blocks[0]["text"]["text"], "INC-7 · critical");
}

TEST(incident_card, shows_the_required_actions_of_the_decision) {
  const auto decision = testing::decide(critical_facts());
  const auto card = incident_card(critical_incident(), &decision);
  expect_valid(card);
  const std::string text = all_text(card);
  EXPECT_TRUE(contains(text, "Publish a public security bulletin"));
  EXPECT_TRUE(contains(text, "E-mail the affected Organizations' administrators"));
  // Critical: initial notification 48h after impact confirmation (2026-11-20T10:00Z).
  EXPECT_TRUE(contains(text, "Initial customer notification* due <!date^1795341600^"));
  EXPECT_TRUE(contains(text, "then every 24h"));
  EXPECT_TRUE(contains(text, "Policy version `" + decision.policy_version + "`"));
}

TEST(incident_card, without_a_decision_says_none_yet) {
  incident_view i = critical_incident();
  i.severity.reset();
  i.impact_confirmed_at.reset();
  const auto card = incident_card(i, nullptr);
  expect_valid(card);
  const std::string text = all_text(card);
  EXPECT_TRUE(contains(text, "No decision yet"));
  EXPECT_TRUE(contains(text, "untriaged"));
  EXPECT_TRUE(contains(text, "*Impact confirmed*\n_not yet_"));
}

TEST(incident_card, legal_precedence_comes_first_among_the_actions) {
  policy::facts f = critical_facts();
  f.legal_requirements = {"California data breach <notification>"};
  const auto decision = testing::decide(f);
  const auto card = incident_card(critical_incident(), &decision);
  const std::string text = all_text(card);
  const auto legal = text.find("Legal disclosure requirements take precedence");
  ASSERT_NE(legal, std::string::npos);
  EXPECT_LT(legal, text.find("security bulletin"));
  EXPECT_TRUE(contains(text, "California data breach &lt;notification&gt;"));
}

TEST(incident_card, resolved_incident_shows_resolution_and_summary) {
  incident_view i = critical_incident();
  i.state = "resolved";
  i.resolved_at = at("2026-11-21T10:00:00Z");
  i.summary = "Rotated keys & revoked <sessions>";
  policy::facts f = critical_facts();
  f.resolved_at = i.resolved_at;
  f.notifications_sent = {at("2026-11-20T12:00:00Z")};
  const auto decision = testing::decide(f);
  const auto card = incident_card(i, &decision);
  expect_valid(card);
  const std::string text = all_text(card);
  EXPECT_EQ(card.blocks[0]["text"]["text"], "INC-7 · critical · resolved");
  EXPECT_TRUE(contains(text, "*Resolved*"));
  EXPECT_TRUE(contains(text, "Rotated keys &amp; revoked &lt;sessions&gt;"));
  EXPECT_TRUE(contains(text, "Resolution message to customers"));
}

TEST(incident_card, very_long_title_stays_within_limits) {
  incident_view i = critical_incident();
  i.title = std::string(10000, '<');
  const auto card = incident_card(i, nullptr);
  expect_valid(card);
  EXPECT_FALSE(contains(all_text(card), "<<"));
}

}  // namespace
}  // namespace flare::messages
