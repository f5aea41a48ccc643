// Three outbox senders, each a replica with its own connection to one PostgreSQL (issue 10):
// every post is made once, an incident's posts in order, a post claimed by a replica that died
// is taken over once its lease has passed, and a live replica whose call waits longer than the
// lease (Slack's Retry-After) keeps its claim by renewing it (a manual clock: no waiting for the
// lease).
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <vector>

#include "bot/runtime/clock.hpp"
#include "bot/runtime/outbox.hpp"
#include "bot/store/pg_store.hpp"
#include "tests/support/pg_test_cluster.hpp"
#include "tests/support/recording_slack.hpp"

namespace {

namespace asio = boost::asio;
using json = nlohmann::json;
using namespace std::chrono_literals;

// A Slack whose chat.postMessage does not answer until release(): a call that waits out long
// Retry-After answers, as the Web API client does inside one post_message. Everything else is
// the recording Slack's.
class held_slack final : public flare::slack::slack_api {
 public:
  held_slack(asio::io_context& ioc, flare::testing::recording_slack& inner) : gate_(ioc), inner_(inner) {
    gate_.expires_at(std::chrono::steady_clock::time_point::max());
  }
  void release() {
    released_ = true;
    gate_.cancel();
  }
  int waiting() const { return waiting_; }

  asio::awaitable<flare::slack::api_result<flare::slack::posted_message>> post_message(
      flare::slack::message msg) override {
    ++waiting_;
    while (!released_) co_await gate_.async_wait(asio::as_tuple(asio::use_awaitable));
    --waiting_;
    co_return co_await inner_.post_message(std::move(msg));
  }
  asio::awaitable<flare::slack::api_result<flare::slack::auth_identity>> auth_test() override {
    return inner_.auth_test();
  }
  asio::awaitable<flare::slack::api_result<flare::slack::posted_message>> update_message(
      std::string channel, std::string ts, flare::slack::message msg) override {
    return inner_.update_message(std::move(channel), std::move(ts), std::move(msg));
  }
  asio::awaitable<flare::slack::api_result<std::string>> post_ephemeral(std::string user,
                                                                        flare::slack::message msg) override {
    return inner_.post_ephemeral(std::move(user), std::move(msg));
  }
  asio::awaitable<flare::slack::api_result<std::string>> open_dm(std::string user) override {
    return inner_.open_dm(std::move(user));
  }
  asio::awaitable<flare::slack::api_result<flare::slack::conversation_info>> conversations_info(
      std::string channel) override {
    return inner_.conversations_info(std::move(channel));
  }
  asio::awaitable<flare::slack::api_result<flare::slack::user_info>> users_info(std::string user) override {
    return inner_.users_info(std::move(user));
  }
  asio::awaitable<flare::slack::api_result<std::vector<std::string>>> usergroup_members(
      std::string usergroup) override {
    return inner_.usergroup_members(std::move(usergroup));
  }
  asio::awaitable<flare::slack::api_result<flare::slack::view_ref>> open_view(std::string trigger_id,
                                                                              nlohmann::json view) override {
    return inner_.open_view(std::move(trigger_id), std::move(view));
  }
  asio::awaitable<flare::slack::api_result<flare::slack::view_ref>> update_view(std::string view_id,
                                                                                nlohmann::json view,
                                                                                std::string hash) override {
    return inner_.update_view(std::move(view_id), std::move(view), std::move(hash));
  }

 private:
  asio::steady_timer gate_;
  flare::testing::recording_slack& inner_;
  bool released_ = false;
  int waiting_ = 0;
};

class outbox_replicas_test : public testing::Test {
 protected:
  void SetUp() override {
    std::string why_not;
    auto server = flare::testing::test_pg_server(&why_not);
    if (!server) GTEST_SKIP() << why_not;
    database = std::make_unique<flare::testing::pg_test_database>(*server);
    for (int i = 0; i < 3; ++i) {
      stores.push_back(open_store("replica-" + std::to_string(i)));
      flare::outbox_options o{3, 10ms, 50ms};
      o.shared_store = true;
      o.look_every = 1s;
      o.claimed_elsewhere_retry = 20ms;
      senders.push_back(
          std::make_unique<flare::outbox_sender>(ioc.get_executor(), *stores.back(), slack, clock, o));
    }
  }
  void TearDown() override {
    for (auto& s : senders) s->stop();
    ioc.run_for(200ms);
  }
  std::unique_ptr<flare::store::pg_store> open_store(const std::string& owner) {
    flare::store::pg_options o;
    o.password = database->password();
    o.owner = owner;
    o.outbox_lease = 60s;
    return flare::store::pg_store::open(database->url(), o);
  }
  void start() {
    for (auto& s : senders) asio::co_spawn(ioc, s->run(), asio::detached);
  }
  // Runs the replicas until nothing is pending, at most `limit`.
  bool run_until_sent(std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      ioc.run_for(50ms);
      if (stores[0]->pending_outbox(1).empty()) return true;
    }
    return false;
  }

  asio::io_context ioc;
  flare::testing::recording_slack slack;
  flare::manual_clock clock{std::chrono::sys_seconds{std::chrono::seconds{1'800'000'000}}};
  std::unique_ptr<flare::testing::pg_test_database> database;
  std::vector<std::unique_ptr<flare::store::pg_store>> stores;
  std::vector<std::unique_ptr<flare::outbox_sender>> senders;
};

TEST_F(outbox_replicas_test, every_post_goes_once_and_an_incidents_posts_in_order) {
  constexpr int incidents = 5, posts_each = 6;
  std::vector<std::int64_t> ids;
  for (int i = 0; i < incidents; ++i) {
    flare::store::new_incident f;
    f.title = "t";
    f.reporter = "U1";
    f.channel = "C" + std::to_string(i);
    ids.push_back(stores[0]->create_incident(f, "U1", clock.now(), json::object()).id);
  }
  // Enqueued by different replicas, interleaved, as commands handled anywhere would.
  for (int k = 0; k < posts_each; ++k) {
    for (int i = 0; i < incidents; ++i) {
      const std::string text = "inc" + std::to_string(i) + "-post" + std::to_string(k);
      stores[(i + k) % 3]->enqueue(
          {text,
           ids[i],
           "post",
           {{"channel", "C" + std::to_string(i)}, {"text", text}, {"blocks", json::array()}}},
          clock.now());
    }
  }
  start();
  ASSERT_TRUE(run_until_sent(20s)) << "posts still pending";
  std::map<std::string, int> times;
  std::map<std::string, std::vector<std::string>> per_channel;
  for (const auto& c : slack.delivered_messages()) {
    ++times[c.message.text];
    per_channel[c.target].push_back(c.message.text);
  }
  EXPECT_EQ(times.size(), static_cast<std::size_t>(incidents * posts_each));
  for (const auto& [text, n] : times) EXPECT_EQ(n, 1) << text << " was posted " << n << " times";
  for (int i = 0; i < incidents; ++i) {
    const auto& got = per_channel["C" + std::to_string(i)];
    ASSERT_EQ(got.size(), static_cast<std::size_t>(posts_each));
    for (int k = 0; k < posts_each; ++k)
      EXPECT_EQ(got[k], "inc" + std::to_string(i) + "-post" + std::to_string(k)) << "out of order";
  }
}

TEST_F(outbox_replicas_test, a_post_claimed_by_a_dead_replica_is_taken_over_after_its_lease) {
  auto dead = open_store("dead-replica");
  auto item = dead->enqueue({"decided:1",
                             std::nullopt,
                             "post",
                             {{"channel", "C1"}, {"text", "decided"}, {"blocks", json::array()}}},
                            clock.now());
  ASSERT_TRUE(dead->begin_attempt(item.id, clock.now()));  // ...and the process is killed here
  dead.reset();
  start();
  for (int i = 0; i < 10; ++i) ioc.run_for(50ms);
  EXPECT_TRUE(slack.delivered_messages().empty()) << "the claim is still live: nobody else posts";
  clock.advance(61s);
  ASSERT_TRUE(run_until_sent(20s)) << "the expired claim was not taken over";
  const auto delivered = slack.delivered_messages();
  ASSERT_EQ(delivered.size(), 1u);
  EXPECT_EQ(delivered[0].message.text, "decided");
  // It may have reached Slack before the crash: the survivor says so rather than stay silent.
  EXPECT_NE(delivered[0].message.blocks.dump().find("Re-sent after a restart"), std::string::npos);
}

TEST_F(outbox_replicas_test, a_live_replica_renews_its_claim_through_a_call_longer_than_the_lease) {
  // A replica of its own whose chat.postMessage waits (Retry-After after Retry-After) for more
  // than two leases of the manual clock, renewing its claim every 20 ms of real time.
  auto slow_store = open_store("slow-replica");
  held_slack held(ioc, slack);
  flare::outbox_options o{3, 10ms, 50ms};
  o.shared_store = true;
  o.look_every = 1s;
  o.claimed_elsewhere_retry = 20ms;
  o.claims = slow_store.get();
  o.claim_renew_every = 20ms;
  auto slow = std::make_unique<flare::outbox_sender>(ioc.get_executor(), *slow_store, held, clock, o);
  const auto item = slow_store->enqueue({"decided:1",
                                         std::nullopt,
                                         "post",
                                         {{"channel", "C1"}, {"text", "decided"}, {"blocks", json::array()}}},
                                        clock.now());
  asio::co_spawn(ioc, slow->run(), asio::detached);
  // Whatever happens below, the held call ends and the sender stops before they go away.
  struct finish {
    held_slack& held;
    flare::outbox_sender& sender;
    asio::io_context& ioc;
    ~finish() {
      held.release();
      sender.stop();
      ioc.run_for(100ms);
    }
  } finish_last{held, *slow, ioc};
  for (int i = 0; i < 100 && held.waiting() == 0; ++i) ioc.run_for(20ms);
  ASSERT_EQ(held.waiting(), 1) << "the post's call did not start";
  // The lease is 60 s: 150 s of waiting in steps of 30 s, each followed by a renewal. The other
  // replicas run all along and must never take the post over.
  start();
  const auto claim_expiry = [&] {
    std::string value;
    EXPECT_EQ(
        database->exec("SELECT claim_expires_at FROM outbox WHERE id = " + std::to_string(item.id), &value),
        "");
    return value.empty() ? 0LL : std::stoll(value);
  };
  for (int step = 0; step < 5; ++step) {
    clock.advance(30s);
    const auto wanted =
        std::chrono::duration_cast<std::chrono::seconds>(clock.now().time_since_epoch()).count() + 60;
    for (int i = 0; i < 100 && claim_expiry() < wanted; ++i) ioc.run_for(20ms);
    ASSERT_EQ(claim_expiry(), wanted) << "not renewed at step " << step;
  }
  EXPECT_FALSE(stores[1]->begin_attempt(item.id, clock.now())) << "another replica could take the post over";
  EXPECT_TRUE(slack.delivered_messages().empty()) << "another replica posted it meanwhile";
  held.release();
  ASSERT_TRUE(run_until_sent(20s));
  const auto delivered = slack.delivered_messages();
  ASSERT_EQ(delivered.size(), 1u);
  EXPECT_EQ(delivered[0].message.blocks.dump().find("Re-sent after a restart"), std::string::npos)
      << "sent once, by the replica that kept its claim: not a re-send";
  EXPECT_EQ(slow->stats().claims_lost, 0u);
}

TEST_F(outbox_replicas_test, a_claim_renewed_until_its_replica_died_is_taken_over_one_lease_later) {
  // The replica renewed its claim (at t0 + 30 s) and then died: another takes the post over one
  // lease after that renewal, not one lease after the claim was first made, and not before.
  auto dead = open_store("dead-replica");
  auto item = dead->enqueue({"decided:1",
                             std::nullopt,
                             "post",
                             {{"channel", "C1"}, {"text", "decided"}, {"blocks", json::array()}}},
                            clock.now());
  ASSERT_TRUE(dead->begin_attempt(item.id, clock.now()));
  clock.advance(30s);
  const std::vector<std::int64_t> ids{item.id};
  ASSERT_EQ(dead->renew_outbox_claims(ids, clock.now()), 1u);
  dead.reset();  // killed
  start();
  clock.advance(45s);  // 75 s after the claim, 45 s after its renewal: still live
  for (int i = 0; i < 10; ++i) ioc.run_for(50ms);
  EXPECT_TRUE(slack.delivered_messages().empty()) << "taken over before the renewed lease ran out";
  clock.advance(16s);
  ASSERT_TRUE(run_until_sent(20s)) << "the expired claim was not taken over";
  ASSERT_EQ(slack.delivered_messages().size(), 1u);
  // A renewal by a replica whose claim was taken over renews nothing.
  auto late = open_store("dead-replica");
  EXPECT_EQ(late->renew_outbox_claims(ids, clock.now()), 0u);
}

}  // namespace
