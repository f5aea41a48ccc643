#include "bot/runtime/outbox.hpp"
#include "bot/runtime/clock.hpp"
#include "bot/store/sqlite_store.hpp"
#include "tests/support/recording_slack.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>

namespace {

namespace asio = boost::asio;
using json = nlohmann::json;
using namespace std::chrono_literals;
using flare::slack::api_error;
using flare::slack::api_result;

class outbox_test : public testing::Test {
 protected:
  asio::io_context ioc;
  flare::testing::recording_slack slack;
  std::unique_ptr<flare::store::sqlite_store> store = flare::store::sqlite_store::open(":memory:");
  flare::manual_clock clock{std::chrono::sys_seconds{std::chrono::seconds{1'800'000'000}}};
  flare::outbox_sender outbox{ioc.get_executor(), *store, slack, clock, flare::outbox_options{3, 10ms, 50ms}};

  flare::store::incident open_incident() {
    flare::store::new_incident fields;
    fields.title = "t";
    fields.reporter = "U1";
    fields.channel = "C1";
    return store->create_incident(fields, "U1", clock.now(), json::object());
  }

  std::size_t drain() {
    std::size_t sent = 0;
    asio::co_spawn(
        ioc, [&]() -> asio::awaitable<void> { sent = co_await outbox.drain_once(); }, asio::detached);
    ioc.run_for(2s);
    ioc.restart();
    return sent;
  }

  json post(std::string text) { return {{"channel", "C1"}, {"text", text}, {"blocks", json::array()}}; }
};

TEST_F(outbox_test, card_then_thread_post_lands_in_the_cards_thread) {
  const auto incident = open_incident();
  json card = post("card");
  card["record_as"] = "card";
  json decision = post("decision");
  decision["thread_of_incident"] = incident.id;
  store->enqueue({"card:1", incident.id, "post", card}, clock.now());
  store->enqueue({"decision:1", incident.id, "post", decision}, clock.now());
  EXPECT_EQ(drain(), 2u);
  const auto history = slack.delivered_messages();
  ASSERT_EQ(history.size(), 2u);
  const auto stored = store->find_incident(incident.id);
  ASSERT_TRUE(stored->card_ts);
  EXPECT_EQ(*stored->card_ts, history[0].ts);
  EXPECT_EQ(history[1].message.thread_ts, history[0].ts);
  EXPECT_TRUE(store->pending_outbox(10).empty());
}

TEST_F(outbox_test, update_edits_the_card_in_place) {
  const auto incident = open_incident();
  json card = post("v1");
  card["record_as"] = "card";
  store->enqueue({"card:1", incident.id, "post", card}, clock.now());
  json update = post("v2");
  update["card_of_incident"] = incident.id;
  store->enqueue({"card:1:v2", incident.id, "update", update}, clock.now());
  EXPECT_EQ(drain(), 2u);
  const auto history = slack.delivered_messages();
  ASSERT_EQ(history.size(), 2u);
  EXPECT_EQ(history[1].method, "chat.update");
  EXPECT_EQ(history[1].ts, history[0].ts);
}

TEST_F(outbox_test, transient_failure_is_retried_and_holds_later_posts_of_the_incident_back) {
  const auto incident = open_incident();
  json card = post("card");
  card["record_as"] = "card";
  json decision = post("decision");
  decision["thread_of_incident"] = incident.id;
  store->enqueue({"card:1", incident.id, "post", card}, clock.now());
  store->enqueue({"decision:1", incident.id, "post", decision}, clock.now());
  slack.fail("chat.postMessage", api_error{"http_503", "", true});
  outbox.wake();
  asio::co_spawn(ioc, outbox.run(), asio::detached);
  ioc.run_for(500ms);  // the retry is 10-50 ms away
  outbox.stop();
  ioc.run_for(50ms);
  const auto history = slack.delivered_messages();
  ASSERT_EQ(history.size(), 2u);
  EXPECT_EQ(history[0].message.text, "card");  // order kept: the decision waited for its card
  EXPECT_EQ(history[1].message.thread_ts, history[0].ts);
  EXPECT_EQ(slack.calls_to("chat.postMessage").size(), 3u);
  EXPECT_EQ(outbox.stats().retried, 1u);
}

TEST_F(outbox_test, permanent_failure_is_recorded_not_retried) {
  const auto incident = open_incident();
  const auto item = store->enqueue({"x", incident.id, "post", post("x")}, clock.now());
  slack.fail("chat.postMessage", api_error{"channel_not_found", "", false});
  EXPECT_EQ(drain(), 0u);
  const auto stored = store->find_outbox_item(item.id);
  EXPECT_EQ(stored->state, flare::store::outbox_state::failed);
  EXPECT_EQ(slack.calls_to("chat.postMessage").size(), 1u);
  EXPECT_EQ(outbox.stats().failed, 1u);
}

TEST_F(outbox_test, transient_failures_give_up_after_max_attempts) {
  const auto item = store->enqueue({"x", std::nullopt, "post", post("x")}, clock.now());
  for (int i = 0; i < 5; ++i) slack.fail("chat.postMessage", api_error{"timeout", "", true});
  for (int i = 0; i < 5; ++i) drain();
  EXPECT_EQ(store->find_outbox_item(item.id)->state, flare::store::outbox_state::failed);
  EXPECT_EQ(slack.calls_to("chat.postMessage").size(), 3u);
}

TEST_F(outbox_test, post_interrupted_by_a_crash_is_sent_again_with_a_note) {
  const auto item = store->enqueue({"x", std::nullopt, "post", post("x")}, clock.now());
  ASSERT_TRUE(store->begin_attempt(item.id, clock.now()));  // the previous process died here
  EXPECT_EQ(drain(), 1u);
  const auto sent = slack.delivered_messages().at(0).message;
  EXPECT_NE(sent.blocks.dump().find("Re-sent after a restart"), std::string::npos);
  EXPECT_EQ(drain(), 0u);  // and only once
}

TEST_F(outbox_test, idempotency_key_means_one_post) {
  store->enqueue({"same", std::nullopt, "post", post("x")}, clock.now());
  store->enqueue({"same", std::nullopt, "post", post("x")}, clock.now());
  EXPECT_EQ(drain(), 1u);
  EXPECT_EQ(slack.calls_to("chat.postMessage").size(), 1u);
}

// ---- one lane per destination (issue 13: a ping waited 58.9 s behind 61 public posts) ----

// Records every post with its time and, like Slack (and the Web API client's pacing), lets one
// post per second into each channel.
class paced_slack final : public flare::slack::slack_api {
 public:
  explicit paced_slack(asio::any_io_executor ex, std::chrono::milliseconds per_post)
      : ex_(ex), per_post_(per_post) {}
  struct post {
    std::string channel;
    std::string text;
    std::chrono::steady_clock::time_point at;
  };
  std::vector<post> posts;

  asio::awaitable<api_result<flare::slack::posted_message>> post_message(flare::slack::message m) override {
    auto& free_at = next_free_[m.channel];
    const auto now = std::chrono::steady_clock::now();
    const auto at = std::max(now, free_at);
    free_at = at + per_post_;
    if (at > now) {
      asio::steady_timer t(ex_, at);
      co_await t.async_wait(asio::use_awaitable);
    }
    posts.push_back({m.channel, m.text, std::chrono::steady_clock::now()});
    co_return flare::slack::posted_message{m.channel, std::to_string(++ts_) + ".000100"};
  }
  asio::awaitable<api_result<std::string>> post_ephemeral(std::string, flare::slack::message m) override {
    posts.push_back({"ephemeral:" + m.channel, m.text, std::chrono::steady_clock::now()});
    co_return std::to_string(++ts_) + ".000200";
  }
  asio::awaitable<api_result<flare::slack::posted_message>> update_message(std::string c, std::string ts,
                                                                           flare::slack::message) override {
    co_return flare::slack::posted_message{c, ts};
  }
  asio::awaitable<api_result<flare::slack::auth_identity>> auth_test() override {
    co_return api_error{"unused", "", false};
  }
  asio::awaitable<api_result<std::string>> open_dm(std::string) override {
    co_return api_error{"unused", "", false};
  }
  asio::awaitable<api_result<flare::slack::conversation_info>> conversations_info(std::string) override {
    co_return api_error{"unused", "", false};
  }
  asio::awaitable<api_result<flare::slack::user_info>> users_info(std::string) override {
    co_return api_error{"unused", "", false};
  }
  asio::awaitable<api_result<std::vector<std::string>>> usergroup_members(std::string) override {
    co_return api_error{"unused", "", false};
  }
  asio::awaitable<api_result<flare::slack::view_ref>> open_view(std::string, json) override {
    co_return api_error{"unused", "", false};
  }
  asio::awaitable<api_result<flare::slack::view_ref>> update_view(std::string, json, std::string) override {
    co_return api_error{"unused", "", false};
  }

 private:
  asio::any_io_executor ex_;
  std::chrono::milliseconds per_post_;
  std::map<std::string, std::chrono::steady_clock::time_point> next_free_;
  int ts_ = 1'700'000'000;
};

struct lanes_fixture {
  explicit lanes_fixture(std::chrono::milliseconds per_post, flare::outbox_options o = {})
      : slack(ioc.get_executor(), per_post), outbox(ioc.get_executor(), *store, slack, clock, std::move(o)) {}
  asio::io_context ioc;
  std::unique_ptr<flare::store::sqlite_store> store = flare::store::sqlite_store::open(":memory:");
  flare::manual_clock clock{std::chrono::sys_seconds{std::chrono::seconds{1'800'000'000}}};
  paced_slack slack;
  flare::outbox_sender outbox;

  void enqueue(const std::string& key, const std::string& channel, const std::string& text,
               std::optional<std::int64_t> incident = std::nullopt) {
    store->enqueue({key, incident, "post", {{"channel", channel}, {"text", text}, {"blocks", json::array()}}},
                   clock.now());
  }
  // Runs the loop until `done` or `limit` (bounded: the test never hangs).
  template <class F>
  bool run_until(F done, std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done() && std::chrono::steady_clock::now() < deadline) {
      if (ioc.stopped()) ioc.restart();
      ioc.run_for(10ms);
    }
    return done();
  }
};

TEST(outbox_lanes, a_sensitive_reports_ping_arrives_within_2_s_behind_60_public_posts) {
  flare::outbox_options o;
  o.private_channels = {"CSECURITY"};
  lanes_fixture f(1000ms, o);  // Slack's pace: one post per second per channel
  for (int i = 0; i < 60; ++i)
    f.enqueue("public:" + std::to_string(i), "CINCIDENTS", "report " + std::to_string(i));
  asio::co_spawn(f.ioc, f.outbox.run(), asio::detached);
  f.run_until([&] { return !f.slack.posts.empty(); }, 2000ms);  // the public lane is under way

  f.enqueue("report-security:1", "CSECURITY", "sensitive report");
  f.store->enqueue({"report-hint:1",
                    std::nullopt,
                    "ephemeral",
                    {{"channel", "CINCIDENTS"}, {"user", "U1"}, {"text", "hint"}, {"blocks", json::array()}}},
                   f.clock.now());
  f.enqueue("dm:1", "D0123", "dm reply");
  const auto enqueued = std::chrono::steady_clock::now();
  f.outbox.wake();
  auto arrived = [&](const std::string& text) {
    return std::find_if(f.slack.posts.begin(), f.slack.posts.end(),
                        [&](auto& p) { return p.text == text; }) != f.slack.posts.end();
  };
  ASSERT_TRUE(f.run_until(
      [&] { return arrived("sensitive report") && arrived("hint") && arrived("dm reply"); }, 2000ms));
  EXPECT_LT(std::chrono::steady_clock::now() - enqueued, 2000ms);
  std::size_t public_before = 0;
  for (const auto& p : f.slack.posts) {
    if (p.text == "sensitive report") break;
    if (p.channel == "CINCIDENTS") ++public_before;
  }
  EXPECT_LE(public_before, 4u) << "the ping waited behind the public posts";
  f.outbox.stop();
  f.ioc.run_for(50ms);
}

TEST(outbox_lanes, two_thousand_pending_posts_all_drain_with_nothing_new_arriving) {
  lanes_fixture f(0ms);
  for (int i = 0; i < 2000; ++i)
    f.enqueue("p" + std::to_string(i), "C" + std::to_string(i % 7), "post " + std::to_string(i));
  asio::co_spawn(f.ioc, f.outbox.run(), asio::detached);
  EXPECT_TRUE(f.run_until([&] { return f.slack.posts.size() == 2000; }, 20000ms)) << f.slack.posts.size();
  EXPECT_TRUE(f.store->pending_outbox(10).empty());
  // Each channel's posts in the order they were enqueued.
  std::map<std::string, int> last;
  for (const auto& p : f.slack.posts) {
    const int n = std::stoi(p.text.substr(5));
    EXPECT_LT(last.contains(p.channel) ? last[p.channel] : -1, n) << p.channel;
    last[p.channel] = n;
  }
  f.outbox.stop();
  f.ioc.run_for(50ms);
}

TEST(outbox_lanes, more_pending_than_max_loaded_are_read_as_room_frees) {
  flare::outbox_options o;
  o.max_loaded = 10;
  lanes_fixture f(0ms, o);
  for (int i = 0; i < 95; ++i) f.enqueue("p" + std::to_string(i), "C1", "post " + std::to_string(i));
  asio::co_spawn(f.ioc, f.outbox.run(), asio::detached);
  EXPECT_TRUE(f.run_until([&] { return f.slack.posts.size() == 95; }, 5000ms)) << f.slack.posts.size();
  f.outbox.stop();
  f.ioc.run_for(50ms);
}

TEST(outbox_lanes, an_incidents_posts_keep_their_order_across_channels) {
  lanes_fixture f(200ms);
  flare::store::new_incident fields;
  fields.title = "t";
  fields.reporter = "U1";
  fields.channel = "CSECURITY";
  const auto incident = f.store->create_incident(fields, "U1", f.clock.now(), json::object());
  // Busy public channel first, so a lane-by-lane sender would post the DM reply early.
  for (int i = 0; i < 3; ++i) f.enqueue("busy" + std::to_string(i), "CSECURITY", "busy " + std::to_string(i));
  f.enqueue("card", "CSECURITY", "card", incident.id);
  f.enqueue("placeholder", "D0042", "placeholder", incident.id);
  asio::co_spawn(f.ioc, f.outbox.run(), asio::detached);
  ASSERT_TRUE(f.run_until([&] { return f.slack.posts.size() == 5; }, 5000ms));
  std::vector<std::string> order;
  for (const auto& p : f.slack.posts) order.push_back(p.text);
  const auto card = std::find(order.begin(), order.end(), "card");
  const auto placeholder = std::find(order.begin(), order.end(), "placeholder");
  EXPECT_LT(card, placeholder);
  f.outbox.stop();
  f.ioc.run_for(50ms);
}

TEST(outbox_lanes, drain_once_after_stop_sends_everything_once) {
  lanes_fixture f(0ms);
  for (int i = 0; i < 30; ++i) f.enqueue("p" + std::to_string(i), "C" + std::to_string(i % 3), "x");
  f.outbox.stop();
  std::size_t sent = 0;
  asio::co_spawn(
      f.ioc, [&]() -> asio::awaitable<void> { sent = co_await f.outbox.drain_once(); }, asio::detached);
  f.ioc.run_for(2s);
  EXPECT_EQ(sent, 30u);
  EXPECT_EQ(f.slack.posts.size(), 30u);
}

}  // namespace
