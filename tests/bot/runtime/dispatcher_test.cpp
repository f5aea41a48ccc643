#include "bot/runtime/dispatcher.hpp"
#include "bot/runtime/console_adapter.hpp"
#include "bot/slack/quick_slash.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>

#include <functional>
#include <sstream>

namespace {

namespace asio = boost::asio;
using json = nlohmann::json;
using namespace std::chrono_literals;

struct recorded_ack {
  std::optional<json> payload;
  std::chrono::steady_clock::time_point at;
};

class dispatcher_test : public testing::Test {
 protected:
  asio::io_context ioc;
  std::ostringstream printed;
  flare::console_slack slack{printed};
  flare::remember_recent_events events;
  flare::dispatcher dispatch{ioc.get_executor(), slack, events, flare::dispatcher_options{200ms}};
  std::vector<recorded_ack> acks;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();

  flare::slack::ack_fn ack() {
    auto done = std::make_shared<bool>(false);
    return [this, done](std::optional<json> payload) {
      if (*done) return;
      *done = true;
      acks.push_back({std::move(payload), std::chrono::steady_clock::now()});
    };
  }

  flare::slack::envelope command_envelope(std::string id, bool accepts = true) {
    return {std::move(id),
            "slash_commands",
            json{{"command", "/incident"}, {"text", "help"}, {"user_id", "U1"}, {"channel_id", "C1"}},
            accepts,
            0,
            ""};
  }

  flare::slack::envelope message_envelope(std::string envelope_id, std::string event_id, int retry = 0) {
    return {std::move(envelope_id),
            "events_api",
            json{{"type", "event_callback"},
                 {"event_id", event_id},
                 {"event",
                  {{"type", "message"},
                   {"channel", "C1"},
                   {"user", "U1"},
                   {"text", "a &lt;b&gt; &amp; c"},
                   {"ts", "1.000001"}}}},
            false,
            retry,
            retry ? "timeout" : ""};
  }

  // /incident with a kept reply for the commands `is_kept` picks; any other runs the handler,
  // which counts its runs and answers "from the handler".
  int handler_runs = 0;
  std::shared_ptr<const std::string> kept_help =
      std::make_shared<const std::string>(R"({"response_type":"ephemeral","text":"help text"})");
  void register_kept_reply(const std::function<bool(const flare::slash_command&)>& is_kept) {
    dispatch.on_command(
        "/incident",
        [this](flare::slash_command) -> asio::awaitable<json> {
          ++handler_runs;
          co_return json{{"text", "from the handler"}};
        },
        [this, is_kept](const flare::slash_command& c) { return is_kept(c) ? kept_help : nullptr; });
  }

  void run_for(std::chrono::milliseconds d) {
    ioc.run_for(d);
    ioc.restart();
  }
};

asio::awaitable<void> sleep_for(std::chrono::milliseconds d) {
  asio::steady_timer t(co_await asio::this_coro::executor, d);
  co_await t.async_wait(asio::use_awaitable);
}

TEST_F(dispatcher_test, fast_command_reply_rides_on_the_ack) {
  dispatch.on_command("/incident", [](flare::slash_command c) -> asio::awaitable<json> {
    co_return json{{"response_type", "ephemeral"}, {"text", "hi " + c.user_id}};
  });
  dispatch.dispatch(command_envelope("E1"), ack());
  run_for(500ms);
  ASSERT_EQ(acks.size(), 1u);
  ASSERT_TRUE(acks[0].payload);
  EXPECT_EQ((*acks[0].payload)["text"], "hi U1");
  EXPECT_TRUE(slack.history().empty());
}

TEST_F(dispatcher_test, a_static_reply_is_acked_at_once_with_its_kept_bytes_and_no_handler_runs) {
  register_kept_reply([](const flare::slash_command& c) { return c.text == "help"; });
  flare::slack::ack_payload sent;
  dispatch.dispatch(command_envelope("E1"), [&](flare::slack::ack_payload p) { sent = std::move(p); });
  // Acked inside dispatch(), before the io_context ran anything.
  ASSERT_TRUE(sent);
  std::string bytes;
  sent.append_json_to(bytes);
  EXPECT_EQ(bytes, *kept_help);
  EXPECT_EQ((*sent.value())["text"], "help text");

  // Any other text goes to the handler, as does help when the ack cannot carry a reply.
  auto other = command_envelope("E2");
  other.payload["text"] = "list";
  dispatch.dispatch(other, ack());
  dispatch.dispatch(command_envelope("E3", /*accepts=*/false), ack());
  run_for(300ms);
  EXPECT_EQ(handler_runs, 2);
  ASSERT_EQ(acks.size(), 2u);
  ASSERT_TRUE(acks[0].payload);
  EXPECT_EQ((*acks[0].payload)["text"], "from the handler");
}

// The Socket Mode client's quick path: the same kept reply, read from the frame, with the same
// envelope de-dup and counts as dispatch().
TEST_F(dispatcher_test, answer_at_once_gives_the_kept_reply_and_shares_the_envelope_dedup) {
  register_kept_reply([](const flare::slash_command& c) { return c.text == "help" && c.user_id == "U1"; });
  flare::slack::slash_frame help{"E1", "/incident", "help", "U1", "C1", "T1", "https://hooks.example/1"};

  auto first = dispatch.answer_at_once(help);
  ASSERT_TRUE(first);
  ASSERT_TRUE(first->has_value());
  std::string bytes;
  first->append_json_to(bytes);
  EXPECT_EQ(bytes, *kept_help);

  // The same envelope again, by either path: an empty ack, as dispatch() gives a repeat.
  auto again = dispatch.answer_at_once(help);
  ASSERT_TRUE(again);
  EXPECT_FALSE(again->has_value());
  flare::slack::ack_payload through_dispatch{json{{"not", "sent"}}};
  dispatch.dispatch(command_envelope("E1"),
                    [&](flare::slack::ack_payload p) { through_dispatch = std::move(p); });
  EXPECT_FALSE(through_dispatch.has_value());

  // Commands without a kept reply are left to dispatch(), and counted by it alone.
  auto other = help;
  other.envelope_id = "E2";
  other.text = "list";
  EXPECT_FALSE(dispatch.answer_at_once(other));
  other.command = "/other";
  other.text = "help";
  EXPECT_FALSE(dispatch.answer_at_once(other));
  EXPECT_EQ(handler_runs, 0);
  EXPECT_EQ(dispatch.stats().envelopes, 3u);
  EXPECT_EQ(dispatch.stats().duplicates, 2u);
}

TEST_F(dispatcher_test, answer_at_once_reports_its_ack_to_the_metrics) {
  std::vector<std::string> observed;
  flare::dispatcher_options options;
  options.reply_budget = 200ms;
  options.on_ack = [&](const std::string& type, std::chrono::steady_clock::duration) {
    observed.push_back(type);
  };
  flare::dispatcher with_metrics{ioc.get_executor(), slack, events, options};
  auto kept = std::make_shared<const std::string>(R"({"text":"help text"})");
  with_metrics.on_command(
      "/incident", [](flare::slash_command) -> asio::awaitable<json> { co_return json{}; },
      [&](const flare::slash_command&) { return kept; });
  ASSERT_TRUE(with_metrics.answer_at_once({"E1", "/incident", "help", "U1", "C1", "T1", ""}));
  EXPECT_EQ(observed, std::vector<std::string>{"slash_commands"});
}

TEST_F(dispatcher_test, slow_command_is_acked_within_budget_and_replies_ephemerally_later) {
  dispatch.on_command("/incident", [this](flare::slash_command) -> asio::awaitable<json> {
    co_await sleep_for(400ms);
    co_return json{{"response_type", "ephemeral"}, {"text", "late answer"}};
  });
  dispatch.dispatch(command_envelope("E1"), ack());
  run_for(1000ms);
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_FALSE(acks[0].payload);
  EXPECT_LT(acks[0].at - started, 350ms);  // the 200 ms budget, not the handler's 400 ms
  ASSERT_EQ(slack.history().size(), 1u);
  EXPECT_EQ(slack.history()[0].kind, "ephemeral");
  EXPECT_EQ(slack.history()[0].user, "U1");
  EXPECT_EQ(slack.history()[0].message.text, "late answer");
  EXPECT_EQ(dispatch.stats().late_replies, 1u);
}

TEST_F(dispatcher_test, throwing_command_is_acked_with_an_apology) {
  dispatch.on_command("/incident", [](flare::slash_command) -> asio::awaitable<json> {
    throw std::runtime_error("boom");
    co_return json{};
  });
  dispatch.dispatch(command_envelope("E1"), ack());
  run_for(300ms);
  ASSERT_EQ(acks.size(), 1u);
  ASSERT_TRUE(acks[0].payload);
  EXPECT_NE((*acks[0].payload)["text"].get<std::string>().find("failed on our side"), std::string::npos);
  EXPECT_EQ(dispatch.stats().handler_failures, 1u);
}

TEST_F(dispatcher_test, reply_is_not_put_on_an_ack_that_accepts_no_payload) {
  dispatch.on_command("/incident", [](flare::slash_command) -> asio::awaitable<json> {
    co_return json{{"response_type", "ephemeral"}, {"text", "x"}};
  });
  dispatch.dispatch(command_envelope("E1", false), ack());
  run_for(300ms);
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_FALSE(acks[0].payload);
  ASSERT_EQ(slack.history().size(), 1u);  // delivered as an ephemeral post instead
}

TEST_F(dispatcher_test, unknown_command_gets_a_specific_answer) {
  dispatch.dispatch(command_envelope("E1"), ack());
  run_for(100ms);
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ((*acks[0].payload)["text"], "flare does not handle /incident.");
}

TEST_F(dispatcher_test, events_are_acked_before_the_handler_runs_and_redeliveries_are_ignored) {
  std::vector<flare::message_event> seen;
  bool acked_before_handler = false;
  dispatch.on_message([&](flare::message_event e) -> asio::awaitable<void> {
    acked_before_handler = !acks.empty();
    seen.push_back(e);
    co_return;
  });
  dispatch.dispatch(message_envelope("E1", "Ev1"), ack());
  dispatch.dispatch(message_envelope("E2", "Ev1", 1), ack());  // Slack's retry: new envelope, same event
  dispatch.dispatch(message_envelope("E1", "Ev1"), ack());     // the same envelope twice
  run_for(100ms);
  EXPECT_EQ(acks.size(), 3u);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_TRUE(acked_before_handler);
  EXPECT_EQ(seen[0].text, "a <b> & c");  // Slack's entities decoded
  EXPECT_EQ(dispatch.stats().duplicates, 2u);
}

TEST_F(dispatcher_test, malformed_and_unknown_envelopes_are_acked_and_counted) {
  dispatch.dispatch({"E1", "events_api", json::array(), false, 0, ""}, ack());
  dispatch.dispatch({"E2", "slash_commands", json{{"text", "no command"}}, true, 0, ""}, ack());
  dispatch.dispatch({"E3", "interactive", json{{"type", "shortcut"}}, false, 0, ""}, ack());
  dispatch.dispatch({"E4", "something_new", json::object(), false, 0, ""}, ack());
  run_for(50ms);
  EXPECT_EQ(acks.size(), 4u);
}

TEST_F(dispatcher_test, block_action_is_acked_then_routed_by_action_id) {
  std::vector<flare::block_action> clicked;
  dispatch.on_action("open_incident", [&](flare::block_action a) -> asio::awaitable<void> {
    clicked.push_back(a);
    co_return;
  });
  json payload = {
      {"type", "block_actions"},
      {"user", {{"id", "U9"}}},
      {"trigger_id", "T.1"},
      {"container", {{"type", "message"}, {"message_ts", "5.5"}, {"channel_id", "C1"}, {"thread_ts", "4.4"}}},
      {"actions", {{{"action_id", "open_incident"}, {"block_id", "b"}, {"value", "C1|4.4"}}}}};
  dispatch.dispatch({"E1", "interactive", payload, false, 0, ""}, ack());
  run_for(50ms);
  ASSERT_EQ(acks.size(), 1u);
  ASSERT_EQ(clicked.size(), 1u);
  EXPECT_EQ(clicked[0].user_id, "U9");
  EXPECT_EQ(clicked[0].value, "C1|4.4");
  EXPECT_EQ(clicked[0].thread_ts, "4.4");
  EXPECT_EQ(clicked[0].trigger_id, "T.1");
}

TEST_F(dispatcher_test, view_submission_errors_ride_on_the_ack) {
  dispatch.on_view_submission(
      "post_update", [](flare::view_submission v) -> asio::awaitable<std::optional<json>> {
        EXPECT_EQ(v.private_metadata, "7");
        co_return json{{"response_action", "errors"}, {"errors", {{"text", "Write something"}}}};
      });
  json payload = {{"type", "view_submission"},
                  {"user", {{"id", "U1"}}},
                  {"view",
                   {{"id", "V1"},
                    {"callback_id", "post_update"},
                    {"private_metadata", "7"},
                    {"state", {{"values", json::object()}}}}}};
  dispatch.dispatch({"E1", "interactive", payload, true, 0, ""}, ack());
  run_for(100ms);
  ASSERT_EQ(acks.size(), 1u);
  ASSERT_TRUE(acks[0].payload);
  EXPECT_EQ((*acks[0].payload)["response_action"], "errors");
}

TEST_F(dispatcher_test, drain_waits_for_running_handlers) {
  bool finished = false;
  dispatch.on_message([&](flare::message_event) -> asio::awaitable<void> {
    co_await sleep_for(100ms);
    finished = true;
  });
  dispatch.dispatch(message_envelope("E1", "Ev1"), ack());
  bool drained = false;
  asio::co_spawn(
      ioc, [&]() -> asio::awaitable<void> { drained = co_await dispatch.drain(2s); }, asio::detached);
  run_for(1000ms);
  EXPECT_TRUE(finished);
  EXPECT_TRUE(drained);
  EXPECT_EQ(dispatch.in_flight(), 0u);
}

TEST(recent_events, forgets_the_oldest_beyond_capacity) {
  flare::remember_recent_events recent(2);
  EXPECT_TRUE(recent.first_time("a"));
  EXPECT_FALSE(recent.first_time("a"));
  EXPECT_TRUE(recent.first_time("b"));
  EXPECT_TRUE(recent.first_time("c"));
  EXPECT_TRUE(recent.first_time("a"));  // evicted
}

}  // namespace
