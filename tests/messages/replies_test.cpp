#include "messages/replies.hpp"

#include <gtest/gtest.h>

#include "block_kit_check.hpp"

namespace flare::messages {
namespace {

using testing::all_text;
using testing::at;
using testing::contains;
using testing::expect_valid;

incident_view make(int n, std::string title, bool sensitive = false) {
  incident_view i;
  i.reference = "INC-" + std::to_string(n);
  i.title = std::move(title);
  i.reporter = "U1";
  i.severity = "high";
  i.classification = "potential";
  i.sensitive = sensitive;
  i.created_at = at("2026-11-20T09:00:00Z");
  return i;
}

policy::facts high_facts() {
  policy::facts f;
  f.severity = policy::severity::high;
  f.classification = policy::classification::confirmed;
  f.impact_confirmed_at = at("2026-11-20T10:00:00Z");
  f.users_affected = policy::tristate::confirmed;
  f.legal_requirements = {"state law <x>"};
  return f;
}

TEST(replies, help_lists_every_subcommand_with_usage_and_who) {
  const auto m = help_message("/incident");
  expect_valid(m);
  const std::string text = all_text(m);
  for (const char* sub : {"open", "classify", "facts", "notified", "update", "resolve", "show", "list",
                          "decide", "export", "help"}) {
    EXPECT_TRUE(contains(text, std::string{"`/incident "} + sub)) << sub;
    EXPECT_TRUE(contains(m.text, sub)) << sub;
  }
  EXPECT_EQ(incident_subcommands().size(), 16u);
  EXPECT_TRUE(contains(text, "`/incident classify &lt;ID&gt; &lt;critical|high|medium|low&gt;"));
  EXPECT_TRUE(contains(text, "_Who: incident responders and the Security Team._"));
  EXPECT_TRUE(contains(text, "_Who: anyone._"));
}

TEST(replies, error_message_escapes_problem_and_usage) {
  const auto m = error_message("\"<!channel>\" is not an ID & never was", "/incident show <ID>");
  expect_valid(m);
  EXPECT_EQ(m.text, "\"&lt;!channel&gt;\" is not an ID &amp; never was Usage: /incident show &lt;ID&gt;");
  EXPECT_TRUE(contains(all_text(m), "Usage: `/incident show &lt;ID&gt;`"));
  EXPECT_FALSE(contains(all_text(m), "<!channel>"));
}

// "already done by <@U123>": the person who ran the command sees the name (an ephemeral reply
// notifies nobody); every other kind of token stays text.
TEST(replies, error_message_keeps_user_mentions_and_nothing_else) {
  const auto m = error_message(
      "done by <@U0123ABC> and <@W99_X>; not <!here>, <!subteam^S1>, <https://evil.example|x>, <#C1>, "
      "<@u123>, <@U1> or <@U123 & <@U123|ana>",
      "/incident done <ID> <item>");
  expect_valid(m);
  EXPECT_EQ(m.text,
            "done by <@U0123ABC> and <@W99_X>; not &lt;!here&gt;, &lt;!subteam^S1&gt;, "
            "&lt;https://evil.example|x&gt;, &lt;#C1&gt;, &lt;@u123&gt;, &lt;@U1&gt; or &lt;@U123 &amp; "
            "&lt;@U123|ana&gt; Usage: /incident done &lt;ID&gt; &lt;item&gt;");
  EXPECT_TRUE(contains(all_text(m), "⚠️ done by <@U0123ABC> and <@W99_X>; not &lt;!here&gt;"));
}

TEST(replies, refusal_says_who_may_and_that_nothing_changed) {
  const auto m = refusal_message("resolve INC-2", "incident responders");
  expect_valid(m);
  EXPECT_EQ(m.text,
            "You are not authorised to resolve INC-2: only incident responders may. Nothing was changed.");
}

TEST(replies, list_hides_sensitive_titles_unless_revealed) {
  const std::vector<incident_view> incidents{make(1, "Phishing wave"),
                                             make(2, "CFO payroll fraud <secret>", true)};
  const auto hidden = incident_list(incidents, false, "open");
  expect_valid(hidden);
  const std::string text = all_text(hidden);
  EXPECT_TRUE(contains(text, "*INC-1* · high · open · Phishing wave"));
  EXPECT_TRUE(contains(text, "*INC-2* (sensitive)"));
  EXPECT_FALSE(contains(text, "payroll"));
  EXPECT_EQ(hidden.text, "Open incidents: 2 (INC-1, INC-2)");

  const auto shown = incident_list(incidents, true, "all");
  expect_valid(shown);
  EXPECT_TRUE(contains(all_text(shown), "CFO payroll fraud &lt;secret&gt;"));
  EXPECT_TRUE(contains(shown.text, "All incidents: 2"));
  EXPECT_FALSE(contains(shown.text, "payroll")) << "fallback text never carries titles";
}

TEST(replies, empty_and_long_lists_stay_valid) {
  const auto empty = incident_list({}, false, "open");
  expect_valid(empty);
  EXPECT_TRUE(contains(all_text(empty), "No open incidents."));
  std::vector<incident_view> many;
  for (int n = 1; n <= 500; ++n) many.push_back(make(n, std::string(120, 't')));
  const auto long_list = incident_list(many, true, "all");
  expect_valid(long_list);
  EXPECT_TRUE(contains(all_text(long_list), "*INC-1* "));
}

TEST(replies, details_show_fields_facts_and_actions) {
  const auto f = high_facts();
  const auto d = testing::decide(f);
  const auto m = incident_details(make(4, "Token <leak>"), f, &d, false);
  expect_valid(m);
  const std::string text = all_text(m);
  EXPECT_TRUE(contains(text, "Token &lt;leak&gt;"));
  EXPECT_TRUE(contains(text, "`users_affected`: confirmed"));
  EXPECT_TRUE(contains(text, "`legal_requirements`: state law &lt;x&gt;"));
  EXPECT_TRUE(contains(text, "Legal disclosure requirements take precedence"));
  EXPECT_TRUE(contains(text, "Potential compromise"));
  EXPECT_EQ(m.text, "INC-4 · high · open: Token &lt;leak&gt;");
}

TEST(replies, details_of_a_sensitive_incident_need_reveal) {
  const auto f = high_facts();
  const auto hidden = incident_details(make(5, "Secret <thing>", true), f, nullptr, false);
  expect_valid(hidden);
  EXPECT_FALSE(contains(all_text(hidden), "Secret"));
  EXPECT_FALSE(contains(all_text(hidden), "state law"));
  EXPECT_TRUE(contains(hidden.text, "INC-5 is a sensitive incident"));
  const auto shown = incident_details(make(5, "Secret <thing>", true), f, nullptr, true);
  EXPECT_TRUE(contains(all_text(shown), "Secret &lt;thing&gt;"));
  EXPECT_TRUE(contains(all_text(shown), "No decision yet"));
}

TEST(replies, update_escapes_text_and_mentions_the_author) {
  const auto m = update_post(make(6, "t"), "U0AUTHOR", "rotated <keys> & told <!here>");
  expect_valid(m);
  const std::string text = all_text(m);
  EXPECT_TRUE(contains(text, "<@U0AUTHOR>"));
  EXPECT_TRUE(contains(text, "rotated &lt;keys&gt; &amp; told &lt;!here&gt;"));
  EXPECT_FALSE(contains(text, "<!here>"));
  EXPECT_EQ(m.text, "INC-6 update: rotated &lt;keys&gt; &amp; told &lt;!here&gt;");
}

TEST(replies, long_update_is_split_not_cut) {
  std::string body;
  for (int i = 0; i < 2000; ++i) body += "a&b ";  // 8000 chars raw, 16000 escaped
  const auto m = update_post(make(6, "t"), "U1", body);
  expect_valid(m);
  std::string joined;
  for (std::size_t i = 1; i < m.blocks.size(); ++i) joined += m.blocks[i]["text"]["text"].get<std::string>();
  EXPECT_EQ(joined, escape(body));
}

TEST(replies, resolution_names_the_author_and_summary) {
  incident_view i = make(8, "t");
  i.state = "resolved";
  i.resolved_at = at("2026-11-21T10:00:00Z");
  i.summary = "Patched <CVE> & rotated";
  const auto m = resolution_post(i, "U0R");
  expect_valid(m);
  EXPECT_TRUE(contains(all_text(m), "resolved* by <@U0R>"));
  EXPECT_TRUE(contains(all_text(m), "Patched &lt;CVE&gt; &amp; rotated"));
  EXPECT_EQ(m.text, "INC-8 resolved: Patched &lt;CVE&gt; &amp; rotated");
}

TEST(replies, sensitive_placeholder_carries_nothing_of_the_incident) {
  const auto m = sensitive_placeholder("INC-11");
  expect_valid(m);
  EXPECT_EQ(m.text, "INC-11 was opened as a sensitive incident; details are with the Security Team.");
  EXPECT_EQ(m.blocks.size(), 1u);
}

TEST(replies, command_reply_wraps_any_builder) {
  const auto reply = as_command_reply(help_message("/incident"));
  EXPECT_EQ(reply["response_type"], "ephemeral");
  EXPECT_FALSE(reply["text"].get<std::string>().empty());
}

}  // namespace
}  // namespace flare::messages
