#include "messages/slack_message.hpp"

#include <gtest/gtest.h>

#include "block_kit_check.hpp"
#include "messages/blocks.hpp"

namespace flare::messages {
namespace {

using testing::at;
using testing::code_points;
using testing::expect_valid;

TEST(slack_message, escape_replaces_only_ampersand_and_angle_brackets) {
  EXPECT_EQ(escape("a & b <c> \"d\" 'e' é"), "a &amp; b &lt;c&gt; \"d\" 'e' é");
  EXPECT_EQ(escape("<!channel> <@U1>"), "&lt;!channel&gt; &lt;@U1&gt;");
}

TEST(slack_message, mentions_use_slack_syntax) {
  EXPECT_EQ(user_mention("U123"), "<@U123>");
  EXPECT_EQ(group_mention("S123"), "<!subteam^S123>");
}

TEST(slack_message, slack_date_renders_in_viewer_zone_with_utc_fallback) {
  EXPECT_EQ(slack_date(std::chrono::sys_seconds{std::chrono::seconds{1700000000}}),
            "<!date^1700000000^{date_short_pretty} {time}|2023-11-14 22:13 UTC>");
  EXPECT_EQ(utc_text(at("2026-11-22T09:05:59Z")), "2026-11-22 09:05 UTC");
}

TEST(slack_message, caps_blocks_at_fifty_and_says_how_many_were_omitted) {
  slack_message m{"fallback"};
  for (int i = 0; i < 120; ++i) m.blocks.push_back(blocks::section("s", "line " + std::to_string(i)));
  const auto limited = enforce_limits(m);
  expect_valid(limited);
  ASSERT_EQ(limited.blocks.size(), 50u);
  EXPECT_EQ(limited.blocks[48]["text"]["text"], "line 48");
  EXPECT_EQ(limited.blocks[49]["type"], "context");
  EXPECT_TRUE(testing::contains(limited.blocks[49]["elements"][0]["text"].get<std::string>(), "71 more"));
}

TEST(slack_message, fifty_blocks_are_kept_as_they_are) {
  slack_message m{"fallback"};
  for (int i = 0; i < 50; ++i) m.blocks.push_back(blocks::section("s", "line " + std::to_string(i)));
  const auto limited = enforce_limits(m);
  ASSERT_EQ(limited.blocks.size(), 50u);
  EXPECT_EQ(limited.blocks[49]["text"]["text"], "line 49");
}

TEST(slack_message, section_text_is_truncated_to_3000_with_ellipsis) {
  slack_message m{"fallback"};
  m.blocks.push_back(blocks::section("long", std::string(5000, 'x')));
  const auto limited = enforce_limits(m);
  expect_valid(limited);
  const std::string text = limited.blocks[0]["text"]["text"];
  EXPECT_EQ(code_points(text), 3000u);
  EXPECT_EQ(text.substr(text.size() - 3), "…");
}

TEST(slack_message, truncation_counts_code_points_and_never_splits_an_entity_or_mention) {
  slack_message m{"fallback"};
  // 2998 'é' (2 bytes each) then an escaped '&': the cut would fall inside "&amp;".
  std::string s;
  for (int i = 0; i < 2998; ++i) s += "é";
  m.blocks.push_back(blocks::section("utf8", s + "&amp;&amp;"));
  m.blocks.push_back(blocks::section("mention", std::string(2995, 'y') + user_mention("U12345678")));
  const auto limited = enforce_limits(m);
  expect_valid(limited);
  const std::string a = limited.blocks[0]["text"]["text"];
  EXPECT_EQ(a, s + "…");
  const std::string b = limited.blocks[1]["text"]["text"];
  EXPECT_EQ(b, std::string(2995, 'y') + "…");
}

TEST(slack_message, header_fields_and_fallback_are_limited) {
  slack_message m{std::string(5000, 'f')};
  m.blocks.push_back(blocks::header("h", std::string(400, 'h')));
  std::vector<std::string> fields(14, std::string(2500, 'v'));
  m.blocks.push_back(blocks::fields("f", fields));
  const auto limited = enforce_limits(m);
  expect_valid(limited);
  EXPECT_EQ(code_points(limited.blocks[0]["text"]["text"].get<std::string>()), 150u);
  EXPECT_EQ(limited.blocks[1]["fields"].size(), 10u);
  EXPECT_EQ(code_points(limited.text), 4000u);
}

TEST(slack_message, button_text_is_limited_to_75) {
  slack_message m{"fallback"};
  m.blocks.push_back({{"type", "actions"},
                      {"elements",
                       {{{"type", "button"},
                         {"action_id", "a"},
                         {"text", {{"type", "plain_text"}, {"text", std::string(100, 'b')}}}}}}});
  const auto limited = enforce_limits(m);
  EXPECT_EQ(code_points(limited.blocks[0]["elements"][0]["text"]["text"].get<std::string>()), 75u);
}

TEST(slack_message, block_ids_are_unique_and_change_with_content) {
  slack_message m{"fallback"};
  m.blocks.push_back(blocks::section("same", "one"));
  m.blocks.push_back(blocks::section("same", "one"));
  m.blocks.push_back(blocks::divider(""));
  const auto limited = enforce_limits(m);
  expect_valid(limited);
  slack_message edited{"fallback"};
  edited.blocks.push_back(blocks::section("same", "two"));
  EXPECT_NE(enforce_limits(edited).blocks[0]["block_id"], limited.blocks[0]["block_id"]);
  EXPECT_EQ(enforce_limits(m).blocks, limited.blocks) << "ids must be deterministic";
}

TEST(slack_message, applying_limits_twice_changes_nothing) {
  slack_message m{std::string(5000, 'f')};
  for (int i = 0; i < 60; ++i) m.blocks.push_back(blocks::section("same", std::string(4000, 'x')));
  m.blocks[0]["block_id"] = "x.abc";
  const auto once = enforce_limits(m);
  EXPECT_EQ(enforce_limits(once).blocks, once.blocks);
  EXPECT_EQ(enforce_limits(once).text, once.text);
}

TEST(slack_message, empty_fallback_is_filled_from_the_blocks) {
  slack_message m;
  m.blocks.push_back(blocks::section("s", "something happened"));
  EXPECT_EQ(enforce_limits(m).text, "something happened");
  EXPECT_FALSE(enforce_limits(slack_message{}).text.empty());
}

TEST(slack_message, command_reply_is_ephemeral_unless_asked) {
  slack_message m = enforce_limits({"hello", nlohmann::json::array({blocks::section("s", "hello")})});
  const auto reply = as_command_reply(m);
  EXPECT_EQ(reply["response_type"], "ephemeral");
  EXPECT_EQ(reply["text"], "hello");
  EXPECT_EQ(reply["blocks"].size(), 1u);
  EXPECT_EQ(as_command_reply(m, true)["response_type"], "in_channel");
  EXPECT_EQ(as_post_body(m), (nlohmann::json{{"text", "hello"}, {"blocks", m.blocks}}));
}

}  // namespace
}  // namespace flare::messages
