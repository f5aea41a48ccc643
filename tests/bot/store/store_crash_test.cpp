// Kills a process that is writing to the store at a random moment, again and again, and checks
// that what survives is always whole transactions: an incident never without its 'open' audit
// row, its outbox post or its reminder, and nothing a writer saw committed is ever lost.
#include "bot/store/sqlite_store.hpp"

#include <signal.h>  // NOLINT(modernize-deprecated-headers): kill() is POSIX, declared here
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "tests/support/sqlite_peek.hpp"
#include "tests/support/temp_dir.hpp"

namespace flare::store {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using flare::testing::raw_count;

constexpr sys_seconds t0{std::chrono::seconds{1795338000}};

// The child: opens the store (migrating it on the first round) and writes one
// incident + audit + outbox + reminder transaction after another for at most 5 s, reporting
// each committed incident id on `report_fd`. It never returns.
[[noreturn]] void write_until_killed(const std::string& path, int report_fd) {
  try {
    auto db = sqlite_store::open(path);
    const auto give_up = std::chrono::steady_clock::now() + 5s;
    while (std::chrono::steady_clock::now() < give_up) {
      std::int64_t id = 0;
      db->transaction([&] {
        new_incident f;
        f.title = "crash round incident";
        f.reporter = "U0REPORTER";
        f.channel = "C0INCIDENTS";
        f.facts = {{"padding", std::string(300, 'f')}};
        auto a = db->create_incident(f, "U0REPORTER", t0, {{"source", "crash test"}});
        db->enqueue({"card:" + a.reference(), a.id, "post", {{"text", std::string(300, 'p')}}}, t0);
        db->replace_pending_reminders(a.id, {{deadline_kind::initial, t0 + 72h, t0 + 48h, "24h-before", ""}});
        id = a.id;
      });
      if (::write(report_fd, &id, sizeof id) != sizeof id) ::_exit(3);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "crash test writer: %s\n", e.what());
    ::_exit(2);
  }
  ::_exit(0);
}

TEST(store_crash, a_killed_writer_leaves_only_whole_transactions) {
  const flare::testing::temp_dir dir{"flare-store-crash"};
  const std::string path = (dir.path() / "data" / "flare.db").string();

  const auto seed = std::random_device{}();
  std::printf("[ seed     ] %u\n", seed);
  std::mt19937 rng(seed);
  // Up to 250 ms: long enough for tens of fsynced commits, short enough for the writer to be
  // mid-transaction (or mid-migration, on the first round) when it dies.
  std::uniform_int_distribution<int> delay_ms(0, 250);

  std::int64_t survivors_before = 0;
  std::int64_t kills_with_writes = 0;
  for (int round = 0; round < 10; ++round) {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    // No store is open in this process across fork(): SQLite connections must not be shared.
    // Flushed so the child does not inherit (and repeat) buffered output.
    std::fflush(stdout);
    std::fflush(stderr);
    pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      ::close(fds[0]);
      write_until_killed(path, fds[1]);
    }
    ::close(fds[1]);

    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(rng)));
    ASSERT_EQ(::kill(child, SIGKILL), 0);
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
        << "the writer ended on its own (status " << status << ") in round " << round;

    std::int64_t last_committed = 0, id = 0;
    while (::read(fds[0], &id, sizeof id) == sizeof id) last_committed = id;
    ::close(fds[0]);

    auto db = sqlite_store::open(path);
    ASSERT_TRUE(db->integrity_ok()) << "round " << round;
    EXPECT_EQ(db->schema_version(), sqlite_store::latest_schema_version());
    auto incidents = db->list_incidents(false, 1'000'000);
    const auto survivors = static_cast<std::int64_t>(incidents.size());

    // Nothing committed is lost, and nothing from an earlier round disappears.
    EXPECT_GE(survivors, survivors_before) << "round " << round;
    if (last_committed > 0) {
      EXPECT_TRUE(db->find_incident(last_committed)) << "round " << round;
      ++kills_with_writes;
    }

    // All or nothing: every incident has exactly its own audit row, post and reminder.
    for (const auto& i : incidents) {
      auto audit = db->audit_for(i.id);
      ASSERT_EQ(audit.size(), 1u) << i.reference() << " round " << round;
      EXPECT_EQ(audit[0].action, "open");
      auto reminders = db->reminders_for(i.id);
      ASSERT_EQ(reminders.size(), 1u) << i.reference() << " round " << round;
    }
    db.reset();
    EXPECT_EQ(raw_count(path, "SELECT count(*) FROM audit_log"), survivors);
    EXPECT_EQ(raw_count(path, "SELECT count(*) FROM reminders"), survivors);
    EXPECT_EQ(raw_count(path, "SELECT count(*) FROM outbox"), survivors);
    EXPECT_EQ(raw_count(path,
                        "SELECT count(*) FROM incidents i JOIN outbox o "
                        "ON o.incident_id = i.id AND o.idempotency_key = 'card:INC-' || i.id"),
              survivors);

    std::printf("[ round %2d ] killed after %s, %lld incidents in the store\n", round,
                last_committed > 0 ? ("INC-" + std::to_string(last_committed)).c_str() : "no commit",
                static_cast<long long>(survivors));
    survivors_before = survivors;
  }
  EXPECT_GT(kills_with_writes, 0) << "no round got as far as a commit: the test proved nothing";
}

}  // namespace
}  // namespace flare::store
