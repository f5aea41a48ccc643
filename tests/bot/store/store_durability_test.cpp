// The store's side of "nothing lost, nothing doubled": the inbox of deliveries, marking one done
// with a handler's effects, pruning, the readiness heartbeat, backup and restore that cannot hurt,
// the one-process lock, and the faults (damaged file, read-only file, full disk).
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "bot/store/sqlite_store.hpp"
#include "bot/store/store_lock.hpp"
#include "tests/support/temp_dir.hpp"

namespace flare::store {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using ::testing::HasSubstr;

constexpr sys_seconds t0{std::chrono::seconds{1795338000}};

// Overwrites the head of every b-tree page after the schema page: the file stays a SQLite file
// (its header is intact) but its tables are damaged.
void scribble_over_pages(const std::string& file) {
  const auto size = fs::file_size(file);
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  const std::string junk(64, '\x5a');
  for (std::uintmax_t at = std::uintmax_t{4096} * 2; at + junk.size() < size; at += 4096) {
    f.seekp(static_cast<std::streamoff>(at));
    f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
  }
}

class durability : public ::testing::Test {
 protected:
  static new_delivery event(const std::string& event_id) {
    return {inbox_key_for_event(event_id), "env-" + event_id, "events_api", {{"event_id", event_id}}};
  }
  flare::testing::temp_dir scratch{"flare-durability"};  // also restores its mode before removal
  const fs::path& dir = scratch.path();
  std::string path = scratch.file("flare.db");
};

// ---- inbox ------------------------------------------------------------------------------------

TEST_F(durability, a_redelivered_event_is_recognised_by_its_event_id_after_a_reopen) {
  {
    auto db = sqlite_store::open(path);
    const std::vector<new_delivery> first{event("Ev1"), event("Ev2")};
    auto ids = db->record_deliveries(first, t0);
    ASSERT_EQ(ids.size(), 2u);
    EXPECT_TRUE(ids[0] && ids[1]);
  }
  auto db = sqlite_store::open(path);
  // Slack redelivers Ev1 in a new envelope; Ev3 is new.
  new_delivery again = event("Ev1");
  again.envelope_id = "another-envelope";
  const std::vector<new_delivery> second{again, event("Ev3")};
  auto ids = db->record_deliveries(second, t0 + 1s);
  EXPECT_FALSE(ids[0].has_value());
  EXPECT_TRUE(ids[1].has_value());
}

TEST_F(durability, two_copies_in_one_group_commit_record_once) {
  auto db = sqlite_store::open(path);
  const std::vector<new_delivery> batch{event("Ev1"), event("Ev1")};
  auto ids = db->record_deliveries(batch, t0);
  EXPECT_TRUE(ids[0].has_value());
  EXPECT_FALSE(ids[1].has_value());
}

TEST_F(durability, a_slash_command_is_recognised_by_its_trigger_id_not_its_envelope) {
  auto db = sqlite_store::open(path);
  new_delivery cmd{inbox_key_for_trigger("13345224609.738474920.8088930838d88f008e0"),
                   "env-A",
                   "slash_commands",
                   {{"command", "/incident"}}};
  EXPECT_TRUE(db->record_deliveries(std::vector{cmd}, t0)[0].has_value());
  cmd.envelope_id = "env-B";  // redelivered after a crash: a new envelope, the same trigger
  EXPECT_FALSE(db->record_deliveries(std::vector{cmd}, t0)[0].has_value());
}

TEST_F(durability, unfinished_deliveries_are_those_not_marked_done_oldest_first) {
  auto db = sqlite_store::open(path);
  auto ids = db->record_deliveries(std::vector{event("Ev1"), event("Ev2"), event("Ev3")}, t0);
  db->mark_deliveries_done(std::vector{*ids[1]}, t0 + 1s);
  auto left = db->unfinished_deliveries(10);
  ASSERT_EQ(left.size(), 2u);
  EXPECT_EQ(left[0].key, "event:Ev1");
  EXPECT_EQ(left[1].key, "event:Ev3");
  EXPECT_EQ(left[0].payload["event_id"], "Ev1");
  EXPECT_EQ(left[0].type, "events_api");
}

TEST_F(durability, a_delivery_in_hand_is_marked_done_in_the_same_commit_as_the_effects) {
  auto db = sqlite_store::open(path);
  db->record_deliveries(std::vector{new_delivery{inbox_key_for_trigger("T1"), "e1", "slash_commands", {}}},
                        t0);
  {
    delivery_in_hand in_hand(*db, inbox_key_for_trigger("T1"), t0 + 1s);
    db->transaction([&] { db->create_incident({"Phishing", "U1"}, "U1", t0, {}); });
  }
  auto d = db->find_delivery(inbox_key_for_trigger("T1"));
  ASSERT_TRUE(d);
  ASSERT_TRUE(d->done_at);
  EXPECT_EQ(*d->done_at, t0 + 1s);
  EXPECT_TRUE(db->unfinished_deliveries(10).empty());
}

TEST_F(durability, effects_that_roll_back_leave_the_delivery_unfinished) {
  auto db = sqlite_store::open(path);
  db->record_deliveries(std::vector{new_delivery{inbox_key_for_trigger("T1"), "e1", "slash_commands", {}}},
                        t0);
  {
    delivery_in_hand in_hand(*db, inbox_key_for_trigger("T1"), t0 + 1s);
    EXPECT_THROW(db->transaction([&] {
      db->create_incident({"Phishing", "U1"}, "U1", t0, {});
      throw std::runtime_error("crash before commit");
    }),
                 std::runtime_error);
  }
  EXPECT_EQ(db->unfinished_deliveries(10).size(), 1u);
  EXPECT_TRUE(db->list_incidents(false, 10).empty());
  // After the scope, transactions no longer mark it.
  db->transaction([&] { db->create_incident({"Other", "U1"}, "U1", t0, {}); });
  EXPECT_EQ(db->unfinished_deliveries(10).size(), 1u);
}

TEST_F(durability, pruning_forgets_only_old_handled_rows_in_bounded_batches) {
  auto db = sqlite_store::open(path);
  std::vector<new_delivery> old_rows;
  old_rows.reserve(25);
  for (int i = 0; i < 25; ++i) old_rows.push_back(event("old" + std::to_string(i)));
  auto ids = db->record_deliveries(old_rows, t0);
  std::vector<std::int64_t> done;
  done.reserve(ids.size());
  for (auto& id : ids) done.push_back(*id);
  done.pop_back();  // one old row stays unfinished: it is never pruned
  db->mark_deliveries_done(done, t0);
  auto fresh = db->record_deliveries(std::vector{event("new")}, t0 + 48h);
  db->mark_deliveries_done(std::vector{*fresh[0]}, t0 + 48h);
  for (int i = 0; i < 5; ++i) db->mark_event_processed("report:" + std::to_string(i), t0);

  EXPECT_EQ(db->prune_handled(t0 + 24h, 10), 10u + 5u);
  EXPECT_EQ(db->prune_handled(t0 + 24h, 10), 10u);
  EXPECT_EQ(db->prune_handled(t0 + 24h, 10), 4u);
  EXPECT_EQ(db->prune_handled(t0 + 24h, 10), 0u);
  EXPECT_EQ(db->row_count("inbox"), 2);  // the unfinished old one and the new one
  EXPECT_EQ(db->unfinished_deliveries(10).size(), 1u);
  EXPECT_TRUE(db->mark_event_processed("report:0", t0 + 49h));  // forgotten
}

// ---- readiness heartbeat and faults -----------------------------------------------------------

// Replay counting and parking are in the shared suite (store_test.cpp), on both backends.

TEST_F(durability, the_heartbeat_is_a_real_write) {
  auto db = sqlite_store::open(path);
  db->heartbeat(t0);
  db->heartbeat(t0 + 5s);
  EXPECT_EQ(db->row_count("heartbeat"), 1);
}

TEST_F(durability, a_read_only_store_fails_the_heartbeat_and_the_inbox_write) {
  { sqlite_store::open(path)->heartbeat(t0); }
  if (::geteuid() == 0) {
    // root ignores file modes; SQLite's read-only open is the same fault as seen by flare.
    sqlite3* raw = nullptr;
    ASSERT_EQ(sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    EXPECT_NE(sqlite3_exec(
                  raw, "INSERT INTO heartbeat (id, at) VALUES (1, 2) ON CONFLICT (id) DO UPDATE SET at = 2",
                  nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(raw);
  }
  auto db = sqlite_store::open(path);
  fs::permissions(path, fs::perms::owner_read | fs::perms::group_read);
  fs::permissions(dir, fs::perms::owner_read | fs::perms::owner_exec);
  if (::geteuid() != 0) {
    EXPECT_THROW(db->heartbeat(t0 + 1s), store_error);
    EXPECT_THROW(db->record_deliveries(std::vector{event("Ev1")}, t0), store_error);
  }
}

// Disk full, simulated with SQLite's max_page_count: the store file cannot grow, exactly as on a
// full volume (SQLITE_FULL). (The real binary on a full tmpfs: bot_process_test, on_a_full_disk_....)
TEST_F(durability, a_full_disk_fails_the_inbox_write_and_keeps_what_was_committed) {
  auto db = sqlite_store::open(path);
  auto first = db->record_deliveries(std::vector{event("Ev1")}, t0);
  ASSERT_TRUE(first[0]);
  // Fill up: cap the file at its current size, then write a large payload.
  std::string big(200000, 'x');
  new_delivery huge = event("Ev2");
  huge.payload = {{"event_id", "Ev2"}, {"text", big}};
  db->limit_pages(db->page_count());
  EXPECT_THROW(db->record_deliveries(std::vector{huge}, t0), store_error);
  EXPECT_EQ(db->unfinished_deliveries(10).size(), 1u);
  EXPECT_FALSE(db->find_delivery("event:Ev2"));
}

TEST_F(durability, a_damaged_store_is_refused_at_start_before_anything_is_written) {
  {
    auto db = sqlite_store::open(path);
    for (int i = 0; i < 300; ++i)
      db->mark_event_processed("Ev" + std::to_string(i) + std::string(200, 'p'), t0);
  }
  scribble_over_pages(path);
  const auto size_before = fs::file_size(path);
  sqlite_options options;
  options.check_integrity = true;
  try {
    sqlite_store::open(path, options);
    FAIL() << "a damaged store was opened";
  } catch (const store_corrupt& e) {
    EXPECT_THAT(e.what(), HasSubstr(path));
    EXPECT_THAT(e.what(), HasSubstr("flare restore"));
  }
  EXPECT_EQ(fs::file_size(path), size_before);
}

// ---- the lock ---------------------------------------------------------------------------------

TEST_F(durability, a_second_bot_on_the_same_store_is_refused_naming_the_holder) {
  auto first = store_lock::acquire(path);
  try {
    store_lock::acquire(path);
    FAIL() << "two locks on one store";
  } catch (const store_locked& e) {
    EXPECT_EQ(e.holder_pid, ::getpid());
    EXPECT_THAT(e.what(), HasSubstr("pid " + std::to_string(::getpid())));
  }
  first.reset();
  EXPECT_NO_THROW(store_lock::acquire(path));  // released with its holder
}

// ---- backup -----------------------------------------------------------------------------------

TEST_F(durability, backup_refuses_the_store_and_each_of_its_companion_files) {
  auto db = sqlite_store::open(path);
  db->create_incident({"Phishing", "U1"}, "U1", t0, {});
  for (const std::string& target :
       {path, path + "-wal", path + "-shm", path + "-journal", (dir / "." / "flare.db-wal").string()}) {
    EXPECT_THROW(sqlite_store::backup_file(path, target, true), store_error) << target;
  }
  // A symlink to the WAL is the WAL.
  fs::create_symlink(path + "-wal", dir / "innocent.db");
  EXPECT_THROW(sqlite_store::backup_file(path, (dir / "innocent.db").string(), true), store_error);
  EXPECT_EQ(db->list_incidents(false, 10).size(), 1u);
  EXPECT_TRUE(db->integrity_ok());
}

TEST_F(durability, backup_refuses_an_existing_file_unless_forced) {
  { sqlite_store::open(path)->create_incident({"Phishing", "U1"}, "U1", t0, {}); }
  const std::string target = (dir / "backup.db").string();
  { std::ofstream(target) << "precious"; }
  EXPECT_THROW(sqlite_store::backup_file(path, target, false), store_error);
  EXPECT_NO_THROW(sqlite_store::backup_file(path, target, true));
  EXPECT_EQ(sqlite_store::open(target)->list_incidents(false, 10).size(), 1u);
}

TEST_F(durability, backup_from_a_missing_store_creates_nothing) {
  const std::string missing = (dir / "empty" / "flare.db").string();
  const std::string target = (dir / "out.db").string();
  EXPECT_THROW(sqlite_store::backup_file(missing, target, false), store_error);
  EXPECT_FALSE(fs::exists(missing));
  EXPECT_FALSE(fs::exists(target));
}

// ---- restore ----------------------------------------------------------------------------------

TEST_F(durability, restore_checks_the_backup_and_keeps_the_replaced_store) {
  const std::string backup = (dir / "backup.db").string();
  {
    auto db = sqlite_store::open(path);
    db->create_incident({"Before", "U1"}, "U1", t0, {});
    sqlite_store::backup_file(path, backup, false);
    db->create_incident({"After the backup", "U1"}, "U1", t0, {});
  }
  const auto aside = sqlite_store::restore_file(backup, path, t0);
  EXPECT_FALSE(aside.empty());
  EXPECT_EQ(sqlite_store::open(path)->list_incidents(false, 10).size(), 1u);
  EXPECT_EQ(sqlite_store::open(aside)->list_incidents(false, 10).size(), 2u);
}

TEST_F(durability, restore_refuses_a_damaged_backup_and_changes_nothing) {
  const std::string backup = (dir / "backup.db").string();
  {
    auto db = sqlite_store::open(path);
    for (int i = 0; i < 300; ++i)
      db->mark_event_processed("Ev" + std::to_string(i) + std::string(200, 'p'), t0);
    sqlite_store::backup_file(path, backup, false);
  }
  scribble_over_pages(backup);
  EXPECT_THROW(sqlite_store::restore_file(backup, path, t0), store_error);
  EXPECT_EQ(sqlite_store::open(path)->row_count("processed_events"), 300);
  EXPECT_THROW(sqlite_store::restore_file((dir / "missing.db").string(), path, t0), store_error);
}

}  // namespace
}  // namespace flare::store
