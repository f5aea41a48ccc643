// The App Home view (issue 12): ordering, the person's zone, buttons, Block Kit limits.
#include "messages/app_home.hpp"

#include <gtest/gtest.h>

#include "messages/checklist_view.hpp"
#include "policy/rfc3339.hpp"

namespace flare::messages {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

std::chrono::sys_seconds at(std::string_view t) { return *policy::parse_rfc3339(t); }

home_incident incident(std::int64_t id, std::optional<std::chrono::sys_seconds> due,
                       std::string title = "Leak") {
  home_incident i;
  i.id = id;
  i.reference = "INC-" + std::to_string(id);
  i.title = std::move(title);
  i.severity = "high";
  i.channel = "C_INC";
  i.thread_ts = "1700000000.000" + std::to_string(100 + id);
  i.obligation_id = "paid_initial_notice";
  i.obligation_title = "Paid-customer initial notice";
  i.due = due;
  return i;
}

std::vector<std::string> order_of(const json& view) {
  std::vector<std::string> refs;
  for (const auto& b : view["blocks"])
    if (b["type"] == "section" && b["block_id"].get<std::string>().starts_with("home_incident_"))
      refs.push_back(b["block_id"].get<std::string>().substr(14));
  return refs;
}

TEST(app_home, overdue_incidents_come_first_then_by_due_time_then_those_without_one) {
  const auto now = at("2026-11-20T12:00:00Z");
  const json view = app_home_view({incident(1, std::nullopt), incident(2, now + 5h), incident(3, now - 1h),
                                   incident(4, now + 1h), incident(5, now - 3h)},
                                  nullptr, now);
  EXPECT_EQ(view["type"], "home");
  EXPECT_EQ(order_of(view), (std::vector<std::string>{"5", "3", "4", "2", "1"}));
  EXPECT_NE(view.dump().find("2 overdue"), std::string::npos);
  EXPECT_NE(view.dump().find("OVERDUE by 3 h"), std::string::npos);
}

TEST(app_home, due_times_are_shown_in_the_persons_zone_with_a_countdown) {
  const auto now = at("2026-11-20T12:00:00Z");
  const json view =
      app_home_view({incident(1, at("2026-11-20T15:00:00Z"))}, date::locate_zone("America/New_York"), now);
  const std::string text = view.dump();
  EXPECT_NE(text.find("10:00"), std::string::npos) << text;  // 15:00 UTC is 10:00 in New York
  EXPECT_NE(text.find("in 3 h"), std::string::npos) << text;
  EXPECT_NE(text.find("America/New_York"), std::string::npos);
}

TEST(app_home, each_incident_has_a_thread_link_and_a_mark_done_button_for_its_next_obligation) {
  const auto now = at("2026-11-20T12:00:00Z");
  const json view = app_home_view({incident(7, now + 1h)}, nullptr, now);
  const json* actions = nullptr;
  for (const auto& b : view["blocks"])
    if (b["type"] == "actions") actions = &b;
  ASSERT_NE(actions, nullptr);
  ASSERT_EQ((*actions)["elements"].size(), 2u);
  EXPECT_EQ((*actions)["elements"][0]["url"], "https://slack.com/archives/C_INC/p1700000000000107");
  EXPECT_EQ((*actions)["elements"][1]["action_id"], mark_done_action);
  EXPECT_EQ((*actions)["elements"][1]["value"], mark_done_value(7, "paid_initial_notice"));
}

TEST(app_home, a_thousand_incidents_stay_within_the_100_block_limit_and_say_how_many_are_not_shown) {
  const auto now = at("2026-11-20T12:00:00Z");
  std::vector<home_incident> many;
  for (int i = 1; i <= 1000; ++i)
    many.push_back(incident(i, now + std::chrono::minutes(i), std::string(5000, 'x')));
  const json view = app_home_view(many, nullptr, now);
  EXPECT_LE(view["blocks"].size(), app_home_block_limit);
  EXPECT_NE(view["blocks"].back().dump().find("more not shown here"), std::string::npos);
  std::set<std::string> ids;
  for (const auto& b : view["blocks"]) {
    EXPECT_TRUE(ids.insert(b["block_id"].get<std::string>()).second)
        << "duplicate block_id " << b["block_id"];
    if (b["type"] == "section") EXPECT_LE(b["text"]["text"].get<std::string>().size(), 3000u);
  }
  EXPECT_LE(view.dump().size(), 250000u);
}

TEST(app_home, no_open_incidents_says_so) {
  const json view = app_home_view({}, nullptr, at("2026-11-20T12:00:00Z"));
  EXPECT_NE(view.dump().find("No open incidents"), std::string::npos);
}

TEST(app_home, titles_are_escaped_for_mrkdwn) {
  const auto now = at("2026-11-20T12:00:00Z");
  const json view = app_home_view({incident(1, std::nullopt, "<!channel> & co")}, nullptr, now);
  EXPECT_EQ(view.dump().find("<!channel>"), std::string::npos);
  EXPECT_NE(view.dump().find("&lt;!channel&gt; &amp; co"), std::string::npos);
}

}  // namespace
}  // namespace flare::messages
