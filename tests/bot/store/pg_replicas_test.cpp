// What several flare replicas on one PostgreSQL rely on (issue 10): each replica is a pg_store
// connection of its own here, racing on threads where the race matters.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "bot/store/pg_store.hpp"
#include "bot/store/sqlite_store.hpp"
#include "tests/support/pg_test_cluster.hpp"

namespace flare::store {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr sys_seconds t0{std::chrono::seconds{1795338000}};

class pg_replicas_test : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why_not;
    auto found = flare::testing::test_pg_server(&why_not);
    if (!found) GTEST_SKIP() << why_not;
    database = std::make_unique<flare::testing::pg_test_database>(*found);
  }
  std::unique_ptr<pg_store> replica(const std::string& name, std::chrono::seconds lease = 60s,
                                    std::chrono::seconds inbox_lease = 30s) {
    pg_options o;
    o.password = database->password();
    o.owner = name;
    o.outbox_lease = lease;
    o.inbox_lease = inbox_lease;
    return pg_store::open(database->url(), o);
  }
  std::unique_ptr<flare::testing::pg_test_database> database;
};

new_incident sample(const std::string& title) {
  new_incident f;
  f.title = title;
  f.reporter = "U0REPORTER";
  f.channel = "C0INCIDENTS";
  return f;
}

TEST(store_schema, both_backends_have_the_same_numbered_migrations) {
  const auto sqlite = sqlite_store::schema_migrations();
  const auto pg = pg_store::schema_migrations();
  ASSERT_EQ(sqlite.size(), pg.size());
  for (std::size_t i = 0; i < pg.size(); ++i) {
    EXPECT_EQ(sqlite[i].version, pg[i].version);
    EXPECT_EQ(sqlite[i].description, pg[i].description);
  }
}

TEST(store_url, a_password_in_the_url_is_refused_and_never_repeated) {
  try {
    pg_store::open("postgresql://flare:hunter2@127.0.0.1:1/flare");
    FAIL() << "accepted a password in the URL";
  } catch (const store_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("PGPASSWORD"));
    EXPECT_THAT(e.what(), Not(HasSubstr("hunter2")));
  }
  EXPECT_EQ(redact_url("postgresql://flare:hunter2@db:5432/flare"), "postgresql://flare:***@db:5432/flare");
  EXPECT_EQ(redact_url("postgresql://db/flare?user=f&password=hunter2&sslmode=require"),
            "postgresql://db/flare?user=f&password=***&sslmode=require");
  EXPECT_TRUE(is_postgresql_url("postgres://db/flare"));
  EXPECT_FALSE(is_postgresql_url("data/flare.db"));
}

TEST_F(pg_replicas_test, a_wrong_password_is_refused_without_repeating_it) {
  pg_options o;
  o.password = "not-the-password-1234";
  try {
    pg_store::open(database->url(), o);
    FAIL() << "logged in with a wrong password";
  } catch (const store_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("password authentication failed"));
    EXPECT_THAT(e.what(), Not(HasSubstr("not-the-password-1234")));
  }
}

TEST_F(pg_replicas_test, replicas_starting_together_migrate_once) {
  std::vector<std::thread> starts;
  starts.reserve(4);
  std::atomic<int> opened{0};
  for (int i = 0; i < 4; ++i) {
    starts.emplace_back([&, i] {
      if (replica("r" + std::to_string(i))->schema_version() == pg_store::latest_schema_version()) ++opened;
    });
  }
  for (auto& t : starts) t.join();
  EXPECT_EQ(opened, 4);
  std::string applied;
  ASSERT_EQ(database->exec("SELECT count(*) FROM schema_migrations", &applied), "");
  EXPECT_EQ(applied, std::to_string(pg_store::latest_schema_version()));
}

TEST_F(pg_replicas_test, an_envelope_redelivered_to_another_replica_is_recognised_there) {
  auto a = replica("a");
  auto b = replica("b");
  const new_delivery d{inbox_key_for_event("Ev1"), "env-1", "events_api", {{"event_id", "Ev1"}}};
  const new_delivery again{inbox_key_for_event("Ev1"), "env-2", "events_api", {{"event_id", "Ev1"}}};
  auto first = a->record_deliveries(std::span(&d, 1), t0);
  auto second = b->record_deliveries(std::span(&again, 1), t0 + 1s);
  ASSERT_TRUE(first.at(0));
  EXPECT_FALSE(second.at(0));
  EXPECT_TRUE(a->mark_event_processed("Ev1", t0));
  EXPECT_FALSE(b->mark_event_processed("Ev1", t0));
}

new_delivery inbox_event(const std::string& event_id) {
  return {inbox_key_for_event(event_id), "env-" + event_id, "events_api", {{"event_id", event_id}}};
}

TEST_F(pg_replicas_test,
       a_live_replicas_delivery_is_never_claimed_by_another_and_a_dead_ones_is_after_its_lease) {
  auto a = replica("a", 60s, 30s);
  auto b = replica("b", 60s, 30s);
  const auto id = *a->record_deliveries(std::vector{inbox_event("Ev1")}, t0).at(0);
  // a's handler runs: recorded means claimed by a until t0 + 30 s.
  EXPECT_TRUE(b->claim_unfinished(t0, 10).empty());
  EXPECT_TRUE(b->claim_unfinished(t0 + 29s, 10).empty());
  // a renews while its handler runs; b still keeps off after the first lease would have ended.
  EXPECT_EQ(a->renew_claims(std::vector{id}, t0 + 20s), 1u);
  EXPECT_TRUE(b->claim_unfinished(t0 + 45s, 10).empty());
  // a dies (no more renewals): b takes the delivery over when the lease is up, and nobody else.
  auto taken = b->claim_unfinished(t0 + 50s, 10);
  ASSERT_EQ(taken.size(), 1u);
  EXPECT_EQ(taken[0].id, id);
  EXPECT_EQ(taken[0].envelope_id, "env-Ev1");
  EXPECT_EQ(taken[0].payload, (json{{"event_id", "Ev1"}}));
  EXPECT_TRUE(a->claim_unfinished(t0 + 51s, 10).empty()) << "b holds it now";
  EXPECT_EQ(a->renew_claims(std::vector{id}, t0 + 52s), 0u) << "a, back from a stall, does not get it back";
  // Done (with its effects, by b) is never claimed again; neither is a parked delivery.
  b->mark_deliveries_done(std::vector{id}, t0 + 55s);
  const auto parked = *a->record_deliveries(std::vector{inbox_event("Ev2")}, t0 + 60s).at(0);
  a->park_delivery(parked, "not handled after 5 replays", t0 + 61s);
  EXPECT_TRUE(b->claim_unfinished(t0 + 1h, 10).empty());
  EXPECT_EQ(b->renew_claims(std::vector{id}, t0 + 1h), 0u);
}

TEST_F(pg_replicas_test, deliveries_recorded_before_claims_existed_are_claimed_by_the_first_replica_to_look) {
  auto a = replica("a");
  auto b = replica("b");
  const auto id = *a->record_deliveries(std::vector{inbox_event("Ev1")}, t0).at(0);
  // As a row written by a flare without claims (migration 7 adds the columns empty).
  ASSERT_EQ(database->exec("UPDATE inbox SET claimed_by = NULL, claim_expires_at = NULL"), "");
  ASSERT_EQ(b->claim_unfinished(t0, 10).size(), 1u);
  EXPECT_TRUE(a->claim_unfinished(t0 + 1s, 10).empty());
  EXPECT_EQ(b->renew_claims(std::vector{id}, t0 + 2s), 1u);
}

TEST_F(pg_replicas_test, replicas_claiming_at_once_each_get_different_deliveries) {
  constexpr int deliveries = 60, replicas = 3;
  {
    auto dead = replica("dead", 60s, 5s);
    std::vector<new_delivery> batch;
    batch.reserve(deliveries);
    for (int i = 0; i < deliveries; ++i) batch.push_back(inbox_event("Ev" + std::to_string(i)));
    dead->record_deliveries(batch, t0);  // claimed by "dead" until t0 + 5 s, never renewed
  }
  std::vector<std::vector<std::int64_t>> got(replicas);
  std::vector<std::thread> threads;
  threads.reserve(replicas);
  for (int r = 0; r < replicas; ++r) {
    threads.emplace_back([&, r] {
      auto s = replica("r" + std::to_string(r));
      for (int round = 0; round < 40; ++round)
        for (const auto& d : s->claim_unfinished(t0 + 10s, 7)) got[r].push_back(d.id);
    });
  }
  for (auto& t : threads) t.join();
  std::set<std::int64_t> all;
  std::size_t total = 0;
  for (const auto& v : got) {
    all.insert(v.begin(), v.end());
    total += v.size();
  }
  EXPECT_EQ(total, static_cast<std::size_t>(deliveries)) << "a delivery claimed twice";
  EXPECT_EQ(all.size(), static_cast<std::size_t>(deliveries));
}

TEST_F(pg_replicas_test, the_default_owner_names_one_process) {
  pg_options o;
  o.password = database->password();
  auto a = pg_store::open(database->url(), o);
  auto b = pg_store::open(database->url(), o);
  EXPECT_NE(a->owner(), b->owner()) << "same host and pid, still two claimants";
  EXPECT_THAT(a->owner(), HasSubstr(":" + std::to_string(::getpid()) + ":"));
}

TEST_F(pg_replicas_test, incidents_opened_at_once_on_several_replicas_never_share_a_number) {
  replica("setup");  // migrate once before the race
  constexpr int replicas = 4, each = 25;
  std::vector<std::vector<std::int64_t>> ids(replicas);
  std::vector<std::thread> threads;
  threads.reserve(replicas);
  for (int r = 0; r < replicas; ++r) {
    threads.emplace_back([&, r] {
      auto s = replica("r" + std::to_string(r));
      for (int i = 0; i < each; ++i) ids[r].push_back(s->create_incident(sample("x"), "U1", t0, {}).id);
    });
  }
  for (auto& t : threads) t.join();
  std::set<std::int64_t> all;
  for (const auto& v : ids) all.insert(v.begin(), v.end());
  EXPECT_EQ(all.size(), static_cast<std::size_t>(replicas * each));
  EXPECT_EQ(replica("check")->row_count("audit_log"), replicas * each);
}

TEST_F(pg_replicas_test, an_outbox_item_is_sent_by_one_replica_and_taken_over_when_its_lease_expires) {
  auto a = replica("a", 60s);
  auto b = replica("b", 60s);
  auto item = a->enqueue({"card:1", std::nullopt, "post", {{"text", "hello"}}}, t0);
  EXPECT_TRUE(a->begin_attempt(item.id, t0));
  EXPECT_FALSE(b->begin_attempt(item.id, t0 + 5s)) << "b must not send what a is sending";
  EXPECT_FALSE(b->begin_attempt(item.id, t0 + 59s));
  // a died mid-post: its claim expires and b takes over, seeing the attempt a started.
  EXPECT_TRUE(b->begin_attempt(item.id, t0 + 60s));
  auto taken = b->find_outbox_item(item.id);
  ASSERT_TRUE(taken);
  EXPECT_TRUE(taken->attempt_started_at);
  EXPECT_TRUE(b->mark_sent(item.id, {{"ts", "1.2"}}, t0 + 61s));
  EXPECT_FALSE(a->mark_sent(item.id, {{"ts", "1.3"}}, t0 + 62s)) << "sent once";
  EXPECT_FALSE(a->begin_attempt(item.id, t0 + 200s));
}

TEST_F(pg_replicas_test, an_incidents_posts_are_claimed_in_order_whoever_sends_them) {
  auto a = replica("a");
  auto b = replica("b");
  const auto inc = a->create_incident(sample("ordered"), "U1", t0, {});
  const auto other = a->create_incident(sample("other"), "U1", t0, {});
  auto card = a->enqueue({"card", inc.id, "post", {}}, t0);
  auto decision = a->enqueue({"decision", inc.id, "post", {}}, t0);
  auto elsewhere = a->enqueue({"other", other.id, "post", {}}, t0);
  EXPECT_FALSE(b->begin_attempt(decision.id, t0)) << "the card is not sent yet";
  EXPECT_TRUE(b->begin_attempt(elsewhere.id, t0)) << "another incident does not wait";
  EXPECT_TRUE(a->begin_attempt(card.id, t0));
  EXPECT_FALSE(b->begin_attempt(decision.id, t0 + 1s));
  EXPECT_TRUE(a->mark_sent(card.id, {}, t0 + 1s));
  EXPECT_TRUE(b->begin_attempt(decision.id, t0 + 2s));
  // A transient failure releases the claim at once: any replica may retry.
  EXPECT_TRUE(b->mark_failed(decision.id, "ratelimited", t0 + 3s, false));
  EXPECT_TRUE(a->begin_attempt(decision.id, t0 + 4s));
}

TEST_F(pg_replicas_test, a_due_reminder_fires_once_when_every_replica_fires_it) {
  replica("setup");
  std::vector<std::int64_t> reminder_ids;
  {
    auto s = replica("setup");
    for (int i = 0; i < 10; ++i) {
      auto inc = s->create_incident(sample("r" + std::to_string(i)), "U1", t0, {});
      auto made =
          s->replace_pending_reminders(inc.id, {{deadline_kind::initial, t0 + 1h, t0, "at the deadline"}});
      reminder_ids.push_back(made.at(0).id);
    }
  }
  constexpr int replicas = 3;
  std::atomic<int> fired{0};
  std::vector<std::thread> threads;
  threads.reserve(replicas);
  for (int r = 0; r < replicas; ++r) {
    threads.emplace_back([&, r] {
      auto s = replica("r" + std::to_string(r));
      // What reminder_scheduler does on every replica: the next due ones, each in one
      // transaction with its post.
      for (int guard = 0; guard < 100; ++guard) {
        auto due = s->due_reminders(t0 + 1s, 1);
        if (due.empty()) break;
        s->transaction([&] {
          if (!s->mark_reminder_sent(due.front().id, t0 + 1s, 1s)) return;
          s->enqueue({"reminder:" + std::to_string(due.front().id), due.front().incident_id, "post", {}},
                     t0 + 1s);
          ++fired;
        });
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(fired, 10);
  auto check = replica("check");
  EXPECT_EQ(check->row_count("outbox"), 10);
  EXPECT_FALSE(check->next_pending_reminder());
}

// Not an assertion, a measurement (docs/postgresql.md): how long the calls the event loop makes
// block it, on PostgreSQL over TCP on 127.0.0.1 and on SQLite (synchronous=FULL), printed for the
// record. The test cluster runs with fsync off; docs/postgresql.md also has figures with it on.
TEST_F(pg_replicas_test, measure_store_calls_against_sqlite) {
  constexpr int n = 200;
  auto measure = [&](store& db) {
    std::vector<double> out;
    auto time = [&](auto&& body) {
      const auto start = std::chrono::steady_clock::now();
      for (int i = 0; i < n; ++i) body(i);
      out.push_back(
          std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count() / n);
    };
    // The inbox's group commit of one envelope; one create-incident transaction (incident, audit,
    // outbox item); a point read; the next-due reminder query.
    time([&](int i) {
      const new_delivery d{inbox_key_for_event("Ev" + std::to_string(i)), "e", "events_api", {{"i", i}}};
      db.record_deliveries(std::span(&d, 1), t0);
    });
    time([&](int i) {
      db.transaction([&] {
        auto a = db.create_incident(sample("incident " + std::to_string(i)), "U1", t0, {{"i", i}});
        db.enqueue({"card:" + a.reference(), a.id, "post", {}}, t0);
      });
    });
    time([&](int i) { (void)db.find_incident(1 + i % 100); });
    time([&](int) { (void)db.next_pending_reminder(); });
    return out;
  };
  auto pg = replica("measure");
  const auto p = measure(*pg);
  const auto dir =
      std::filesystem::temp_directory_path() / ("flare-measure-" + std::to_string(::getpid()) + ".db");
  std::vector<double> s;
  {
    auto lite = sqlite_store::open(dir.string());
    s = measure(*lite);
  }
  std::error_code ignored;
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(dir.string() + suffix, ignored);
  std::printf(
      "[ measured ] us per call, PostgreSQL / SQLite FULL: inbox write %.0f / %.0f, create incident "
      "txn %.0f / %.0f, find incident %.0f / %.0f, next due reminder %.0f / %.0f\n",
      p[0], s[0], p[1], s[1], p[2], s[2], p[3], s[3]);
  SUCCEED();
}

}  // namespace
}  // namespace flare::store
