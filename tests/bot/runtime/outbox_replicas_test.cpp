// Three outbox senders, each a replica with its own connection to one PostgreSQL (issue 10):
// every post is made once, an incident's posts in order, and a post claimed by a replica that
// died is taken over once its lease has passed (a manual clock: no waiting for the lease).
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
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

}  // namespace
