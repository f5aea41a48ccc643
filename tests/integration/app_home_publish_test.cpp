// The App Home tab end to end through the fake Slack (issue 12): published on app_home_opened
// with the person's time zone (users.info), republished on change for recent openers only, and
// sensitive incidents shown only to the Security Team.
#include "bot/runtime/app_home_publisher.hpp"

#include <gtest/gtest.h>

#include "policy/facts_json.hpp"
#include "policy/rfc3339.hpp"
#include "tests/support/evidence_fixture.hpp"

namespace flare {
namespace {

namespace asio = boost::asio;
using json = nlohmann::json;
using namespace std::chrono_literals;

class app_home_publish_test : public testing::evidence_fixture {
 protected:
  app_home_publish_test() : evidence_fixture("flare-home", *policy::parse_rfc3339("2026-11-20T12:00:00Z")) {
    home = std::make_unique<app_home_publisher>(
        io.get_executor(), *db, *client, *files, wall_clock, tables, calendar,
        [](std::string user) -> asio::awaitable<bool> { co_return user == "U_SEC"; });
  }
  ~app_home_publish_test() override { home.reset(); }

 public:
  app_home_publish_test(const app_home_publish_test&) = delete;
  app_home_publish_test& operator=(const app_home_publish_test&) = delete;

 protected:
  std::int64_t open_incident(const std::string& title, bool sensitive) {
    store::new_incident f;
    f.title = title;
    f.reporter = "U_REP";
    f.sensitive = sensitive;
    f.channel = sensitive ? "G_SECURITY" : "C_INCIDENTS";
    f.thread_ts = "1700000000.000100";
    f.facts = policy::to_json(policy::facts{});
    return db->create_incident(f, "U_REP", wall_clock.now(), {{"inputs", {{"title", title}}}}).id;
  }

  std::unique_ptr<app_home_publisher> home;

  // The view last published for `user` (views.publish), or nullopt.
  std::optional<json> home_view(const std::string& user) const {
    std::optional<json> out;
    for (const auto& c : fake.calls("views.publish"))
      if (c.body.value("user_id", "") == user) out = c.body["view"];
    return out;
  }
};

TEST_F(app_home_publish_test, opening_the_home_tab_publishes_the_open_incidents_in_the_persons_zone) {
  open_incident("Leaked API key in CI logs", false);
  run(home->opened("U_RESP"));
  const auto view = home_view("U_RESP");
  ASSERT_TRUE(view);
  EXPECT_EQ((*view)["type"], "home");
  const std::string text = view->dump();
  EXPECT_NE(text.find("INC-1"), std::string::npos);
  EXPECT_NE(text.find("Leaked API key in CI logs"), std::string::npos);
  EXPECT_NE(text.find("Europe/London"), std::string::npos) << "the fake's users.info tz";
  EXPECT_LE((*view)["blocks"].size(), messages::app_home_block_limit);
  EXPECT_EQ(fake.calls("users.info").size(), 1u);

  // The zone is cached: opening again looks nothing up.
  run(home->opened("U_RESP"));
  EXPECT_EQ(fake.calls("users.info").size(), 1u);
  EXPECT_EQ(fake.calls("views.publish").size(), 2u);
}

TEST_F(app_home_publish_test, a_change_republishes_for_recent_openers_only) {
  open_incident("Leaked API key in CI logs", false);
  run(home->opened("U_A"));
  wall_clock.advance(9h);  // U_A's visit is older than the recent window (8 h)
  run(home->opened("U_B"));
  open_incident("Phishing wave", false);
  const auto before = fake.calls("views.publish").size();
  run(home->republish());
  EXPECT_EQ(fake.calls("views.publish").size(), before + 1);
  EXPECT_NE(home_view("U_B")->dump().find("Phishing wave"), std::string::npos);
  EXPECT_EQ(home_view("U_A")->dump().find("Phishing wave"), std::string::npos);
  EXPECT_EQ(home->recent_users(), std::vector<std::string>{"U_B"});
}

TEST_F(app_home_publish_test, incident_changed_coalesces_into_one_round_per_burst) {
  run(home->opened("U_B"));
  const auto before = fake.calls("views.publish").size();
  for (int i = 0; i < 10; ++i) home->incident_changed();
  io.run_for(10s);  // bounded
  io.restart();
  EXPECT_LE(fake.calls("views.publish").size(), before + 2) << "ten changes, at most two rounds";
  EXPECT_GE(fake.calls("views.publish").size(), before + 1);
}

TEST_F(app_home_publish_test, a_sensitive_incident_is_shown_to_the_security_team_and_its_reporter_only) {
  open_incident("Harassment by a manager", true);
  run(home->opened("U_RESP"));
  run(home->opened("U_SEC"));
  run(home->opened("U_REP"));
  EXPECT_EQ(home_view("U_RESP")->dump().find("Harassment"), std::string::npos);
  EXPECT_NE(home_view("U_SEC")->dump().find("Harassment"), std::string::npos);
  EXPECT_NE(home_view("U_REP")->dump().find("Harassment"), std::string::npos);
}

TEST_F(app_home_publish_test, the_number_of_people_republished_is_bounded) {
  app_home_options small;
  small.max_recent_users = 3;
  home = std::make_unique<app_home_publisher>(
      io.get_executor(), *db, *client, *files, wall_clock, tables, calendar,
      [](std::string) -> asio::awaitable<bool> { co_return false; }, small);
  for (int i = 0; i < 10; ++i) run(home->opened("U_" + std::to_string(i)));
  EXPECT_EQ(home->recent_users(), (std::vector<std::string>{"U_7", "U_8", "U_9"}));
}

}  // namespace
}  // namespace flare
