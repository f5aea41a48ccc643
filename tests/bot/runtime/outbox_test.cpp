#include "bot/runtime/outbox.hpp"
#include "bot/runtime/clock.hpp"
#include "bot/store/sqlite_store.hpp"
#include "tests/support/recording_slack.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>


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
    asio::co_spawn(ioc, [&]() -> asio::awaitable<void> { sent = co_await outbox.drain_once(); }, asio::detached);
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

}  // namespace
