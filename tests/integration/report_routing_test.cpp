// Issue 8 routing, end to end: the real `flare` binary against the fake Slack. The This is
// sensitive button, DM conversations and follow-ups, who is recorded as reporter, the Head of
// Finance & Operations' DM, the responders ping and the untriaged nudge (short configured time),
// and the start-up checks of the Slack setup. Every wait is bounded.
#include "tests/fake_slack/fake_slack.hpp"
#include "tests/support/bot_env.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/temp_dir.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <functional>
#include <thread>

namespace {

using flare::testing::child_process;
using flare::testing::fake_slack;
using flare::testing::temp_dir;
using json = nlohmann::json;
using namespace std::chrono_literals;
using testing::HasSubstr;
using testing::Not;

const std::string flare_binary = FLARE_BINARY;

std::map<std::string, std::string> slack_env(const fake_slack& fake, const temp_dir& dir) {
  return flare::testing::bot_env(fake, dir, {{"FLARE_SLACK_HEAD_OF_FINANCE_OPS", "U0HEAD"}});
}

json message(const std::string& event_id, const std::string& channel, const std::string& text,
             const std::string& ts, const std::string& user = "U0BOB") {
  const std::string type = channel.starts_with("D") ? "im" : channel.starts_with("G") ? "group" : "channel";
  return {{"type", "event_callback"},
          {"team_id", "T0001"},
          {"event_id", event_id},
          {"event_time", 1700000000},
          {"event",
           {{"type", "message"},
            {"channel", channel},
            {"channel_type", type},
            {"user", user},
            {"text", text},
            {"ts", ts},
            {"event_ts", ts}}}};
}

// Each interaction has its own trigger_id, as in Slack: the inbox recognises a redelivery by it,
// so two interactions sharing one would be one interaction.
std::string next_trigger_id() {
  static int interactions = 0;
  return "1.2." + std::to_string(++interactions);
}

// A button press on one of the bot's messages, as Slack sends it (docs/slack.md §4).
json press(const std::string& action_id, const std::string& value, const std::string& user,
           const std::string& channel, const std::string& message_ts) {
  return {
      {"type", "block_actions"},
      {"user", {{"id", user}}},
      {"channel", {{"id", channel}}},
      {"container", {{"type", "message"}, {"channel_id", channel}, {"message_ts", message_ts}}},
      {"trigger_id", next_trigger_id()},
      {"actions",
       json::array({{{"type", "button"}, {"action_id", action_id}, {"block_id", "b"}, {"value", value}}})}};
}

json slash(const std::string& text, const std::string& user) {
  return {{"command", "/incident"},
          {"text", text},
          {"user_id", user},
          {"channel_id", "C0INC"},
          {"trigger_id", next_trigger_id()},
          {"response_url", "https://hooks.invalid/x"},
          {"team_id", "T0001"}};
}

std::string button_value(const json& post, const std::string& action_id) {
  json blocks = post.value("blocks", json::array());
  if (blocks.is_string()) blocks = json::parse(blocks.get<std::string>(), nullptr, false);
  if (!blocks.is_array()) return {};
  for (const auto& b : blocks)
    if (b.value("type", "") == "actions")
      for (const auto& e : b["elements"])
        if (e.value("action_id", "") == action_id) return e.value("value", "");
  return {};
}

// Waits until a stored post satisfies `pred`; returns it.
std::optional<json> wait_for_post(const fake_slack& fake, const std::function<bool(const json&)>& pred,
                                  std::chrono::milliseconds timeout = 10s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    for (const auto& p : fake.posted_messages())
      if (pred(p)) return p;
    std::this_thread::sleep_for(20ms);
  }
  return std::nullopt;
}

std::function<bool(const json&)> in_channel_with(const std::string& channel, const std::string& text) {
  return [=](const json& p) {
    return p.value("channel", "") == channel && p.dump().find(text) != std::string::npos;
  };
}

std::size_t count_posts(const fake_slack& fake, const std::function<bool(const json&)>& pred) {
  std::size_t n = 0;
  for (const auto& p : fake.posted_messages()) n += pred(p);
  return n;
}

std::string reply_text(const std::optional<flare::testing::ack>& a) {
  return a && a->payload ? a->payload->dump() : std::string{};
}

class report_routing : public testing::Test {
 protected:
  fake_slack fake;
  temp_dir dir{"flare-routing"};

  void SetUp() override {
    fake.set_usergroup_members("S0RESP", {"U0ALICE"});
    fake.set_usergroup_members("S0SEC", {"U0SEC"});
  }
  std::unique_ptr<child_process> start(const std::map<std::string, std::string>& extra = {}) {
    auto env = slack_env(fake, dir);
    for (auto& [k, v] : extra) env[k] = v;
    auto bot = std::make_unique<child_process>(flare_binary, std::vector<std::string>{"run"}, env);
    EXPECT_TRUE(fake.wait_for_open_connections(1, 15s)) << bot->output();
    return bot;
  }
  void stop(child_process& bot) {
    bot.signal(SIGTERM);
    EXPECT_EQ(bot.wait(15s), 0) << bot.output();
  }
};

TEST_F(report_routing, this_is_sensitive_edits_the_reply_pings_security_and_dms_the_reporter) {
  auto bot = start();
  fake.send_envelope(
      "events_api",
      message("Ev1", "C0INC", "phishing mail, and it was my manager Zed who sent it", "1700000001.000100"));
  const auto reply = wait_for_post(fake, in_channel_with("C0INC", "report_sensitive"));
  ASSERT_TRUE(reply) << bot->output();
  EXPECT_EQ((*reply)["thread_ts"], "1700000001.000100");
  const std::string value = button_value(*reply, "report_sensitive");

  // Someone else may not; the reporter may.
  fake.send_envelope("interactive", press("report_sensitive", value, "U0MALLORY", "C0INC", (*reply)["ts"]));
  std::this_thread::sleep_for(300ms);
  EXPECT_TRUE(fake.calls("chat.update").empty());
  fake.send_envelope("interactive", press("report_sensitive", value, "U0BOB", "C0INC", (*reply)["ts"]));
  ASSERT_TRUE(fake.wait_for_calls("chat.update", 1, 10s)) << bot->output();

  const auto ping = wait_for_post(fake, in_channel_with("G0SEC", "subteam^S0SEC"));
  ASSERT_TRUE(ping) << bot->output();
  EXPECT_THAT(ping->dump(), HasSubstr("manager Zed"));
  const auto dm = wait_for_post(fake, in_channel_with("DU0BOB", "delete"));
  ASSERT_TRUE(dm) << bot->output();
  // The public reply now says only "Received": no category, no buttons. The fake records a call
  // before applying it, and the edit goes through #incidents' own queue (the ping and the DM do
  // not wait for it), so the edit is awaited, not assumed.
  ASSERT_TRUE(wait_for_post(fake, in_channel_with("C0INC", "Received"))) << bot->output();
  for (const auto& p : fake.posted_messages()) {
    if (p["channel"] != "C0INC") continue;
    EXPECT_THAT(p.dump(), HasSubstr("Received"));
    EXPECT_THAT(p.dump(), Not(HasSubstr("phishing")));
    EXPECT_THAT(p.dump(), Not(HasSubstr("report_sensitive")));
  }
  stop(*bot);
}

TEST_F(report_routing, dm_conversation_asks_then_follow_ups_join_the_incident_without_a_second_page) {
  auto bot = start();
  fake.send_envelope("events_api",
                     message("Ev1", "D0BOB", "hello, can I ask you something", "1700000002.000100"));
  const auto ask = wait_for_post(fake, in_channel_with("D0BOB", "dm_report_privately"));
  ASSERT_TRUE(ask) << bot->output();
  EXPECT_FALSE(button_value(*ask, "dm_just_a_question").empty());
  EXPECT_EQ(count_posts(fake, in_channel_with("G0SEC", "")), 0u) << "nobody paged for an unclear DM";

  fake.send_envelope("interactive", press("dm_report_privately", button_value(*ask, "dm_report_privately"),
                                          "U0BOB", "D0BOB", (*ask)["ts"]));
  const auto page = wait_for_post(fake, in_channel_with("G0SEC", "subteam^S0SEC"));
  ASSERT_TRUE(page) << bot->output();
  EXPECT_THAT(page->dump(), HasSubstr("INC-1"));
  EXPECT_THAT(page->dump(), HasSubstr("can I ask you something"));

  fake.send_envelope(
      "events_api", message("Ev2", "D0BOB", "also: I got a phishing email right after", "1700000002.000200"));
  const auto follow_up = wait_for_post(fake, in_channel_with("G0SEC", "right after"));
  ASSERT_TRUE(follow_up) << bot->output();
  EXPECT_FALSE(follow_up->value("thread_ts", "").empty()) << "in the incident's private thread";
  ASSERT_TRUE(wait_for_post(fake, in_channel_with("D0BOB", "Added to your report INC-1"))) << bot->output();
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(
      count_posts(fake, [](const json& p) { return p.dump().find("subteam^S0SEC") != std::string::npos; }),
      1u)
      << "no second page";
  EXPECT_EQ(count_posts(fake, in_channel_with("G0SEC", "INC-2")), 0u) << "no second incident";
  stop(*bot);
}

TEST_F(report_routing, open_incident_button_records_the_reports_author_as_reporter) {
  auto bot = start();
  fake.send_envelope("events_api",
                     message("Ev1", "C0INC", "we are under a DDoS attack", "1700000003.000100"));
  const auto reply = wait_for_post(fake, in_channel_with("C0INC", "open_incident"));
  ASSERT_TRUE(reply) << bot->output();
  EXPECT_THAT(reply->dump(), HasSubstr("subteam^S0RESP")) << "the responders are pinged in the thread";
  fake.send_envelope("interactive", press("open_incident", button_value(*reply, "open_incident"), "U0ALICE",
                                          "C0INC", (*reply)["ts"]));
  ASSERT_TRUE(wait_for_post(fake, in_channel_with("C0INC", "INC-1"))) << bot->output();
  const auto shown = fake.wait_for_ack(fake.send_envelope("slash_commands", slash("show INC-1", "U0ALICE"),
                                                          {.accepts_response_payload = true}),
                                       5s);
  EXPECT_THAT(reply_text(shown), HasSubstr("<@U0BOB>")) << reply_text(shown);
  stop(*bot);
}

TEST_F(report_routing, security_ping_opens_with_the_author_as_reporter_who_can_then_see_it) {
  auto bot = start();
  fake.send_envelope("events_api", message("Ev1", "C0INC", "my colleague keeps harassing me at the offsite",
                                           "1700000004.000100"));
  const auto ping = wait_for_post(fake, in_channel_with("G0SEC", "open_incident"));
  ASSERT_TRUE(ping) << bot->output();
  fake.send_envelope("interactive", press("open_incident", button_value(*ping, "open_incident"), "U0SEC",
                                          "G0SEC", (*ping)["ts"]));
  ASSERT_TRUE(wait_for_post(fake, in_channel_with("G0SEC", "INC-1"))) << bot->output();
  auto show = [&](const std::string& user) {
    return reply_text(fake.wait_for_ack(
        fake.send_envelope("slash_commands", slash("show INC-1", user), {.accepts_response_payload = true}),
        5s));
  };
  EXPECT_THAT(show("U0BOB"), HasSubstr("offsite")) << "the reporter sees their own sensitive incident";
  EXPECT_THAT(show("U0MALLORY"), Not(HasSubstr("offsite")));
  stop(*bot);
}

TEST_F(report_routing, harassment_reaches_the_head_of_finance_ops_by_dm) {
  auto bot = start();
  fake.send_envelope("events_api", message("Ev1", "C0INC", "my team lead is harassing me with messages",
                                           "1700000005.000100"));
  const auto dm = wait_for_post(fake, in_channel_with("DU0HEAD", "harassing me"));
  ASSERT_TRUE(dm) << bot->output();
  bool opened = false;
  for (const auto& c : fake.calls("conversations.open"))
    opened = opened || c.body.dump().find("U0HEAD") != std::string::npos;
  EXPECT_TRUE(opened);
  for (const auto& p : fake.posted_messages())
    if (p["channel"] == "C0INC") EXPECT_THAT(p.dump(), Not(HasSubstr("subteam"))) << "no page in public";
  stop(*bot);
}

TEST_F(report_routing, untriaged_incident_nudges_responders_then_the_security_team) {
  auto bot = start({{"FLARE_INTAKE_UNTRIAGED_AFTER_SECONDS", "2"}});
  fake.send_envelope("slash_commands", slash("open Strange login alerts", "U0ALICE"),
                     {.accepts_response_payload = true});
  const auto nudge = wait_for_post(fake, in_channel_with("C0INC", "has not been classified"), 15s);
  ASSERT_TRUE(nudge) << bot->output();
  EXPECT_THAT(nudge->dump(), HasSubstr("subteam^S0RESP"));
  const auto escalation = wait_for_post(
      fake,
      [](const json& p) {
        return p.dump().find("has not been classified") != std::string::npos &&
               p.dump().find("subteam^S0SEC") != std::string::npos;
      },
      15s);
  ASSERT_TRUE(escalation) << bot->output();
  EXPECT_FALSE(escalation->value("thread_ts", "").empty());
  stop(*bot);
}

// ---- start-up checks ----

class startup_checks : public report_routing {
 protected:
  int run_expecting_exit(const std::map<std::string, std::string>& extra, std::string& output,
                         const std::vector<std::string>& args = {"run"}) {
    auto env = slack_env(fake, dir);
    for (auto& [k, v] : extra) env[k] = v;
    child_process bot(flare_binary, args, env);
    const int rc = bot.wait(20s);
    output = bot.output();
    return rc;
  }
};

TEST_F(startup_checks, a_public_security_channel_stops_the_bot_naming_the_setting) {
  fake.set_conversation("G0SEC", {{"is_private", false}});
  std::string out;
  EXPECT_EQ(run_expecting_exit({}, out), 3) << out;
  EXPECT_THAT(out, HasSubstr("slack.security_channel"));
  EXPECT_THAT(out, HasSubstr("public"));
  EXPECT_EQ(fake.open_connections(), 0);
}

TEST_F(startup_checks, the_bot_missing_from_incidents_stops_it_naming_the_setting) {
  fake.set_conversation("C0INC", {{"is_member", false}});
  std::string out;
  EXPECT_EQ(run_expecting_exit({}, out), 3) << out;
  EXPECT_THAT(out, HasSubstr("slack.incidents_channel"));
  EXPECT_THAT(out, HasSubstr("not a member"));
}

TEST_F(startup_checks, an_unknown_security_channel_and_group_are_named) {
  fake.set_conversation("G0SEC", {{"error", "channel_not_found"}});
  std::string out;
  EXPECT_EQ(run_expecting_exit({{"FLARE_SLACK_RESPONDERS_GROUP", "S0NOPE"}}, out), 3) << out;
  EXPECT_THAT(out, HasSubstr("slack.security_channel"));
  EXPECT_THAT(out, HasSubstr("slack.responders_group"));
  EXPECT_THAT(out, HasSubstr("S0NOPE"));
}

TEST_F(startup_checks, the_same_channel_twice_is_refused) {
  std::string out;
  EXPECT_EQ(run_expecting_exit({{"FLARE_SLACK_SECURITY_CHANNEL", "C0INC"}}, out), 3) << out;
  EXPECT_THAT(out, HasSubstr("same channel"));
  EXPECT_THAT(out, Not(HasSubstr(fake.options().bot_token)));
}

TEST_F(startup_checks, check_config_online_runs_the_same_checks_without_starting_the_bot) {
  std::string out;
  EXPECT_EQ(run_expecting_exit({}, out, {"check-config", "--online"}), 0) << out;
  EXPECT_THAT(out, HasSubstr("Slack setup OK"));
  EXPECT_EQ(fake.connections_opened(), 0) << "no Socket Mode link";

  fake.set_conversation("G0SEC", {{"is_member", false}});
  EXPECT_EQ(run_expecting_exit({}, out, {"check-config", "--online"}), 3) << out;
  EXPECT_THAT(out, HasSubstr("slack.security_channel"));
  EXPECT_THAT(out, HasSubstr("invite"));
  EXPECT_EQ(fake.connections_opened(), 0);
}

}  // namespace
