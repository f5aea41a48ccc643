// The inbox on several replicas sharing one PostgreSQL (issue 10): a delivery acked by a replica
// that then died is replayed by another once its claim lapses, a live replica's running handler
// is never replayed elsewhere (its claim is renewed, however long past the first lease), and the
// replay cap parks a delivery that no replica ever finishes. A manual clock moves the leases;
// the claim loops tick every 20 ms of real time.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "bot/runtime/clock.hpp"
#include "bot/runtime/inbox.hpp"
#include "bot/store/pg_store.hpp"
#include "tests/support/pg_test_cluster.hpp"

namespace flare {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

constexpr store::sys_seconds t0{std::chrono::seconds{1795338000}};

// One replica: its own connection, its own inbox, the deliveries its claim loop replayed.
struct replica {
  std::unique_ptr<store::pg_store> db;
  std::unique_ptr<inbox> deliveries;
  std::vector<std::int64_t> replayed;
};

class inbox_replicas_test : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why_not;
    auto server = flare::testing::test_pg_server(&why_not);
    if (!server) GTEST_SKIP() << why_not;
    database = std::make_unique<flare::testing::pg_test_database>(*server);
  }
  void TearDown() override {
    for (auto& r : replicas)
      if (r->deliveries) r->deliveries->stop();
    io.run_for(100ms);
  }

  replica& start(const std::string& name) {
    auto r = std::make_unique<replica>();
    store::pg_options o;
    o.password = database->password();
    o.owner = name;
    o.inbox_lease = 30s;
    r->db = store::pg_store::open(database->url(), o);
    inbox_options options;
    options.claims = r->db.get();
    options.claim_every = 20ms;
    options.max_replays = 2;
    options.on_parked = [this](const store::delivery& d) { parked.push_back(d.id); };
    r->deliveries = std::make_unique<inbox>(io.get_executor(), *r->db, clock, options);
    auto* raw = r.get();
    asio::co_spawn(io, raw->deliveries->run_claims([raw](std::int64_t id, const slack::envelope&) {
      raw->replayed.push_back(id);
    }),
                   asio::detached);
    replicas.push_back(std::move(r));
    return *raw;
  }
  // A replica dies: its claim loop stops renewing, nothing is marked done.
  void kill(replica& r) {
    r.deliveries->stop();
    io.run_for(50ms);
    r.deliveries.reset();
  }
  // What the Socket Mode path does: records (and so claims) an envelope, as its replica.
  std::int64_t record(replica& r, const std::string& event_id) {
    slack::envelope env;
    env.envelope_id = "env-" + event_id;
    env.type = "events_api";
    env.payload = {{"event_id", event_id}, {"event", {{"type", "message"}}}};
    std::optional<std::int64_t> id;
    asio::co_spawn(
        io, [&]() -> asio::awaitable<void> { id = co_await r.deliveries->record(env); }, asio::detached);
    for (int i = 0; i < 100 && !id; ++i) io.run_for(10ms);
    EXPECT_TRUE(id) << "not recorded";
    return id.value_or(0);
  }
  // Lets every claim loop run a few passes at the current (manual) time.
  void passes() { io.run_for(150ms); }
  std::size_t total_replays() const {
    std::size_t n = 0;
    for (const auto& r : replicas) n += r->replayed.size();
    return n;
  }

  std::unique_ptr<flare::testing::pg_test_database> database;
  asio::io_context io;
  // The loop keeps running between the replicas' lives (no claim loop at all for a moment).
  asio::executor_work_guard<asio::io_context::executor_type> busy = asio::make_work_guard(io);
  manual_clock clock{t0};
  std::vector<std::unique_ptr<replica>> replicas;
  std::vector<std::int64_t> parked;
};

TEST_F(inbox_replicas_test, a_dead_replicas_delivery_is_replayed_once_by_another_and_a_live_ones_never) {
  auto& a = start("a");
  auto& b = start("b");
  auto& c = start("c");
  const auto orphan = record(a, "Ev1");   // a acks it, then dies before its handler finishes
  const auto running = record(b, "Ev2");  // b's handler runs for a long time, b stays alive
  passes();
  EXPECT_EQ(total_replays(), 0u) << "both are held by live claims";
  kill(a);
  // Well past the first lease: b renewed its claim at every pass, a's lapsed.
  for (int i = 0; i < 4; ++i) {
    clock.advance(20s);
    passes();
  }
  EXPECT_EQ(b.replayed.size() + c.replayed.size(), 1u);
  const auto& taker = b.replayed.empty() ? c : b;
  ASSERT_EQ(taker.replayed.size(), 1u);
  EXPECT_EQ(taker.replayed[0], orphan);
  EXPECT_NE(taker.replayed[0], running) << "a live replica's handler was replayed elsewhere";
  // The taker finishes it; b's long handler finishes too. Nothing is replayed again, ever.
  const_cast<replica&>(taker).deliveries->handled(orphan);
  b.deliveries->handled(running);
  passes();
  for (int i = 0; i < 3; ++i) {
    clock.advance(1h);
    passes();
  }
  EXPECT_EQ(total_replays(), 1u);
  EXPECT_EQ(b.deliveries->held(), 0u);
  EXPECT_EQ(c.deliveries->held(), 0u);
  auto check = replicas.back()->db.get();
  EXPECT_TRUE(check->unfinished_deliveries(10).empty());
  EXPECT_TRUE(parked.empty());
}

TEST_F(inbox_replicas_test, a_delivery_no_replica_ever_finishes_is_parked_after_max_replays) {
  auto* holder = &start("r0");
  const auto poison = record(*holder, "Ev-poison");
  // Each replica that takes it dies in its handler; the next one takes it after the lease.
  for (int round = 1; round <= 3; ++round) {
    kill(*holder);
    holder = &start("r" + std::to_string(round));
    clock.advance(31s);
    passes();
    if (round <= 2) {
      ASSERT_EQ(holder->replayed.size(), 1u) << "round " << round;
      EXPECT_EQ(holder->replayed[0], poison);
    } else {
      EXPECT_TRUE(holder->replayed.empty()) << "replayed a third time";
    }
  }
  ASSERT_EQ(parked.size(), 1u);
  EXPECT_EQ(parked[0], poison);
  const auto dead = holder->db->parked_deliveries(10);
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].replay_attempts, 3);
  EXPECT_NE(dead[0].parked_reason.find("2 replays"), std::string::npos) << dead[0].parked_reason;
  clock.advance(1h);
  passes();
  EXPECT_EQ(parked.size(), 1u);
}

}  // namespace
}  // namespace flare
