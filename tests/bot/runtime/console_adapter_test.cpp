#include "bot/runtime/console_adapter.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include <sstream>

namespace {

namespace asio = boost::asio;
using json = nlohmann::json;
using namespace std::chrono_literals;

class console_test : public testing::Test {
 protected:
  asio::io_context ioc;
  std::ostringstream out;
  flare::console_slack slack{out};
  flare::remember_recent_events events;
  flare::dispatcher dispatch{ioc.get_executor(), slack, events};
  flare::console_adapter console{dispatch, slack, out, {"U0ME", "C0INC"}};

  bool line(std::string text) {
    bool more = true;
    asio::co_spawn(
        ioc, [&]() -> asio::awaitable<void> { more = co_await console.handle_line(text); }, asio::detached);
    ioc.run_for(1s);
    ioc.restart();
    return more;
  }
};

TEST_F(console_test, slash_line_is_a_command_from_the_configured_user) {
  dispatch.on_command("/incident", [](flare::slash_command c) -> asio::awaitable<json> {
    co_return json{{"response_type", "ephemeral"},
                   {"text", c.user_id + " in " + c.channel_id + ": " + c.text}};
  });
  EXPECT_TRUE(line("/incident list all"));
  EXPECT_NE(out.str().find("flare (only visible to you):\n  U0ME in C0INC: list all"), std::string::npos)
      << out.str();
}

TEST_F(console_test, other_lines_are_messages_in_incidents) {
  std::vector<flare::message_event> seen;
  dispatch.on_message([&](flare::message_event e) -> asio::awaitable<void> {
    seen.push_back(e);
    co_return;
  });
  line("my laptop was stolen");
  line("!reply 1700000000.000001 more details");
  line("!dm this is private");
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0].channel, "C0INC");
  EXPECT_EQ(seen[0].user, "U0ME");
  EXPECT_EQ(seen[0].text, "my laptop was stolen");
  EXPECT_FALSE(seen[0].is_thread_reply());
  EXPECT_TRUE(seen[1].is_thread_reply());
  EXPECT_EQ(seen[2].channel_type, "im");
  EXPECT_NE(seen[0].event_id, seen[1].event_id);
}

TEST_F(console_test, lines_enter_through_the_dispatchers_one_entry_as_slack_would_send_them) {
  std::vector<flare::message_event> seen;
  dispatch.on_message([&](flare::message_event e) -> asio::awaitable<void> {
    seen.push_back(e);
    co_return;
  });
  line("a <b> & c");
  line("/incident help");  // no handler: answered by the dispatcher itself
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].text, "a <b> & c");  // encoded like Slack, decoded by the dispatcher
  EXPECT_EQ(dispatch.stats().envelopes, 2u);
  EXPECT_EQ(dispatch.stats().unhandled, 1u);
  EXPECT_NE(out.str().find("flare does not handle /incident."), std::string::npos) << out.str();
}

TEST_F(console_test, click_presses_a_button) {
  std::vector<flare::block_action> clicked;
  dispatch.on_action("open_incident", [&](flare::block_action a) -> asio::awaitable<void> {
    clicked.push_back(a);
    co_return;
  });
  line("!click open_incident C0INC|1.2");
  ASSERT_EQ(clicked.size(), 1u);
  EXPECT_EQ(clicked[0].value, "C0INC|1.2");
  EXPECT_EQ(clicked[0].user_id, "U0ME");
}

TEST_F(console_test, quit_and_unknown_verbs) {
  EXPECT_TRUE(line("!nonsense"));
  EXPECT_NE(out.str().find("unknown console verb !nonsense"), std::string::npos);
  EXPECT_FALSE(line("!quit"));
}

TEST_F(console_test, posts_threads_and_buttons_print_readably) {
  flare::slack::message msg;
  msg.channel = "C0INC";
  msg.thread_ts = "1.1";
  msg.text = "fallback";
  msg.blocks =
      json::array({{{"type", "section"}, {"text", {{"type", "mrkdwn"}, {"text", "*Report received*"}}}},
                   {{"type", "actions"},
                    {"elements",
                     {{{"type", "button"},
                       {"text", {{"type", "plain_text"}, {"text", "Open incident"}}},
                       {"action_id", "open_incident"},
                       {"value", "v"}}}}}});
  slack.name_channel("C0INC", "incidents");
  asio::co_spawn(
      ioc, [&]() -> asio::awaitable<void> { co_await slack.post_message(msg); }, asio::detached);
  ioc.run();
  EXPECT_NE(out.str().find("[#incidents] flare in thread 1.1"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("*Report received*"), std::string::npos);
  EXPECT_NE(out.str().find("[Open incident]  (!click open_incident v)"), std::string::npos) << out.str();
}

}  // namespace
