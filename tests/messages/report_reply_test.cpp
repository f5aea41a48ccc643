#include "messages/report_reply.hpp"
#include "messages/reminder_post.hpp"

#include <gtest/gtest.h>

#include "policy/rfc3339.hpp"

namespace flare::messages {
namespace {

std::chrono::sys_seconds at(const char* text) { return *policy::parse_rfc3339(text); }

const nlohmann::json* find_button(const slack_message& m, std::string_view action_id) {
  for (const auto& b : m.blocks) {
    if (b.value("type", "") != "actions") continue;
    for (const auto& e : b["elements"])
      if (e.value("action_id", "") == action_id) return &e;
  }
  return nullptr;
}

TEST(report_reply, acknowledgement_names_signals_and_carries_open_incident_button) {
  const auto m = report_acknowledgement("U1", {"phishing", "denial of service"}, "C1", "1.2", "Phish <mail>");
  EXPECT_NE(m.blocks.dump().find("phishing, denial of service"), std::string::npos);
  const auto* b = find_button(m, "open_incident");
  ASSERT_NE(b, nullptr);
  const auto req = parse_open_incident_value((*b)["value"].get<std::string>());
  ASSERT_TRUE(req);
  EXPECT_EQ(req->channel, "C1");
  EXPECT_EQ(req->ts, "1.2");
  EXPECT_FALSE(req->sensitive);
  EXPECT_EQ(req->title, "Phish <mail>");
}

TEST(report_reply, open_incident_value_round_trips_titles_with_bars) {
  const auto req = parse_open_incident_value(open_incident_value("C1", "1.2", true, "a|b"));
  ASSERT_TRUE(req);
  EXPECT_TRUE(req->sensitive);
  EXPECT_EQ(req->title, "a|b");
  EXPECT_FALSE(parse_open_incident_value("C1|1.2"));
  EXPECT_FALSE(parse_open_incident_value("C1|1.2|x|t"));
}

TEST(report_reply, open_incident_value_carries_the_author_and_still_reads_old_buttons) {
  const auto req = parse_open_incident_value(open_incident_value("C1", "1.2", false, "t", "U_AUTHOR"));
  ASSERT_TRUE(req);
  EXPECT_EQ(req->author, "U_AUTHOR");
  const auto old = parse_open_incident_value("C1|1.2|s|title|with bar");
  ASSERT_TRUE(old);
  EXPECT_TRUE(old->author.empty());
  EXPECT_EQ(old->title, "title|with bar");
  EXPECT_FALSE(parse_open_incident_value("{\"c\":\"C1\"}"));
  EXPECT_FALSE(parse_open_incident_value("{not json"));
  const auto with_kind =
      parse_open_incident_value(open_incident_value("C1", "1.2", true, "t", "U_AUTHOR", "people_and_safety"));
  ASSERT_TRUE(with_kind);
  EXPECT_EQ(with_kind->kind, "people_and_safety");
  EXPECT_TRUE(req->kind.empty()) << "no kind proposed: none carried";
}

TEST(report_reply, sensitive_value_round_trips_and_fits_slacks_button_limit) {
  std::string long_text;
  for (int i = 0; i < 3000; ++i) long_text += i % 7 ? "\u00e9" : "\"\x01";  // é, quotes, control characters
  const auto value = sensitive_value({"C1", "1.2", "U_REP", long_text});
  EXPECT_LE(value.size(), 2000u);
  const auto back = parse_sensitive_value(value);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->author, "U_REP");
  EXPECT_EQ(long_text.rfind(back->text, 0), 0u) << "a prefix of the text, cut on a character boundary";
  EXPECT_FALSE(back->text.empty());
  EXPECT_FALSE(parse_sensitive_value("{\"c\":\"C1\",\"t\":\"1.2\"}")) << "no author: nobody could press it";
}

TEST(report_reply, acknowledgement_pings_the_group_and_offers_this_is_sensitive) {
  const auto m = report_acknowledgement("U1", {"phishing"}, "C1", "1.2", "t", "S_RESP", "the report");
  EXPECT_NE(m.text.find("<!subteam^S_RESP>"), std::string::npos);
  const auto* b = find_button(m, "report_sensitive");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(parse_sensitive_value((*b)["value"].get<std::string>())->text, "the report");
  const auto quiet = report_acknowledgement("U1", {"phishing"}, "C1", "1.2", "t");
  EXPECT_EQ(quiet.blocks.dump().find("subteam"), std::string::npos);
}

TEST(report_reply, report_title_is_first_line_decoded_and_cut) {
  EXPECT_EQ(report_title("\n  Laptop &amp; phone stolen  \nmore"), "Laptop & phone stolen");
  EXPECT_EQ(report_title(std::string(200, 'a'), 10), std::string(10, 'a') + "…");
  EXPECT_EQ(report_title("   "), "Report");
}

TEST(report_reply, security_ping_mentions_group_and_head_and_neutralises_markup) {
  security_ping p;
  p.security_team_group = "S9";
  p.head_of_finance_ops = "U9";
  p.reporter = "U1";
  p.channel = "C1";
  p.ts = "1700000000.000100";
  p.categories = {"harassment"};
  p.text = "I am being harassed <!channel> &amp; more";
  const auto m = security_channel_ping(p);
  // Shown text only: a button's value is never rendered.
  std::string all = m.text;
  for (const auto& b : m.blocks)
    if (b["type"] != "actions") all += b.dump();
  EXPECT_NE(all.find("<!subteam^S9>"), std::string::npos);
  EXPECT_NE(all.find("<@U9>"), std::string::npos);
  EXPECT_EQ(all.find("<!channel>"), std::string::npos);
  EXPECT_NE(all.find("&lt;!channel&gt;"), std::string::npos);
  EXPECT_NE(all.find("https://slack.com/archives/C1/p1700000000000100"), std::string::npos);
  const auto* b = find_button(m, "open_incident");
  ASSERT_NE(b, nullptr);
  EXPECT_TRUE(parse_open_incident_value((*b)["value"].get<std::string>())->sensitive);
  EXPECT_TRUE(needs_head_of_finance_ops({"physical injury"}));
  EXPECT_FALSE(needs_head_of_finance_ops({"theft", "sensitive"}));
}

TEST(report_reply, neutral_echo_says_nothing_of_the_report) {
  const auto m = sensitive_report_received();
  EXPECT_EQ(m.text, "Received. The Security Team has it.");
  EXPECT_EQ(find_button(m, "open_incident"), nullptr);
}

TEST(reminder_post, before_deadline_says_how_long_and_has_both_buttons) {
  reminder_view r{7,  "INC-7", policy::reminder_kind::initial, at("2026-11-22T10:00:00Z"), "4h-before",
                  {}, "S9"};
  const auto m = reminder_post(r, at("2026-11-22T06:00:00Z"));
  const auto all = m.blocks.dump();
  EXPECT_NE(all.find("initial customer notification is due in 4 h"), std::string::npos);
  EXPECT_EQ(all.find("subteam"), std::string::npos);
  EXPECT_EQ(all.find("late"), std::string::npos);
  ASSERT_NE(find_button(m, "mark_notified"), nullptr);
  EXPECT_EQ((*find_button(m, "mark_notified"))["value"], "7");
  EXPECT_EQ((*find_button(m, "post_update"))["value"], "7");
}

TEST(reminder_post, overdue_pings_security_team_and_late_post_says_so) {
  reminder_view r{7,
                  "INC-7",
                  policy::reminder_kind::update,
                  at("2026-11-22T10:00:00Z"),
                  "overdue+4h",
                  std::chrono::minutes{95},
                  "S9"};
  const auto m = reminder_post(r, at("2026-11-22T15:35:00Z"));
  const auto all = m.text + m.blocks.dump();
  EXPECT_NE(all.find("<!subteam^S9>"), std::string::npos);
  EXPECT_NE(all.find("overdue* by 5 h 35 min"), std::string::npos);
  EXPECT_NE(all.find("posted 1 h 35 min late (the bot was down)"), std::string::npos);
}

TEST(reminder_post, modal_and_submitted_text) {
  const auto v = post_update_modal(7, "INC-7");
  EXPECT_EQ(v["callback_id"], "post_update");
  EXPECT_EQ(v["private_metadata"], "7");
  EXPECT_LE(v["title"]["text"].get<std::string>().size(), 24u);
  nlohmann::json values = {
      {"update_text", {{"text", {{"type", "plain_text_input"}, {"value", "  contained \n"}}}}}};
  EXPECT_EQ(post_update_text(values), "contained");
  values["update_text"]["text"]["value"] = nullptr;
  EXPECT_EQ(post_update_text(values), "");
}

TEST(reminder_post, duration_text_shapes) {
  using namespace std::chrono;
  EXPECT_EQ(duration_text(seconds{30}), "less than a minute");
  EXPECT_EQ(duration_text(minutes{45}), "45 min");
  EXPECT_EQ(duration_text(hours{2} + minutes{15}), "2 h 15 min");
  EXPECT_EQ(duration_text(hours{76} + minutes{5}), "3 d 4 h");
}

}  // namespace
}  // namespace flare::messages
