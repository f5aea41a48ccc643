// The embedded store: one SQLite file (default data/flare.db).
//
// Durability over speed: the deadlines in this data are legal ones, so the file runs in WAL mode
// with synchronous=FULL (every commit is fsynced before it returns). Times are INTEGER unix
// seconds (UTC); JSON is TEXT checked with json_valid(). The schema is a numbered list of
// migrations in sqlite_store.cpp, applied in order, each in its own transaction, and recorded in
// the schema_migrations table.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bot/store/store.hpp"
#include "bot/store/store_path.hpp"

namespace flare::store {

enum class synchronous_mode {
  normal,  // WAL commits survive a process crash but not always a power cut: benchmarks only
  full,    // every commit survives a power cut
};

struct sqlite_options {
  synchronous_mode synchronous = synchronous_mode::full;
  // How long a statement waits for another connection's lock (a backup, the sqlite3 shell).
  std::chrono::milliseconds busy_timeout{5000};
  // Run `PRAGMA quick_check` before anything is written (the bot's start-up): a damaged file is
  // refused with store_corrupt instead of being written to.
  bool check_integrity = false;
};

// The store file is damaged (quick_check or integrity_check failed). The message names the file
// and how to restore it from a backup.
class store_corrupt : public store_error {
 public:
  using store_error::store_error;
};

// One step of the schema. The list is append-only and numbered 1, 2, 3...: version 2 is a new
// entry at the end of the list in sqlite_store.cpp, never an edit of version 1.
struct schema_migration {
  int version;
  std::string_view description;
  std::string_view sql;  // may hold several statements
};

class sqlite_store final : public store {
 public:
  // Opens (creating the file and its directory if needed) and migrates to the latest schema.
  // Throws store_error naming the file if it is not a SQLite database, is some other program's
  // database, or has a newer schema than this build knows. ":memory:" gives a private in-memory
  // store (for tests).
  static std::unique_ptr<sqlite_store> open(const std::string& path);
  static std::unique_ptr<sqlite_store> open(const std::string& path, const sqlite_options& options);
  // With another list of migrations: for testing the migration machinery itself.
  static std::unique_ptr<sqlite_store> open(const std::string& path, const sqlite_options& options,
                                            std::span<const schema_migration> migrations);

  // The schema version this build migrates to, and the migrations that get there.
  static int latest_schema_version();
  static std::span<const schema_migration> schema_migrations();

  ~sqlite_store() override;
  sqlite_store(const sqlite_store&) = delete;
  sqlite_store& operator=(const sqlite_store&) = delete;

  const std::string& path() const;

  void transaction(const std::function<void()>& body) override;

  incident create_incident(const new_incident& fields, std::string_view actor, sys_seconds at,
                           const json& details) override;
  std::optional<incident> find_incident(std::int64_t id) override;
  std::optional<incident> find_incident_by_report(std::string_view channel, std::string_view ts) override;
  std::optional<incident> find_incident_by_thread(std::string_view channel,
                                                  std::string_view thread_ts) override;
  std::vector<incident> list_incidents(bool open_only, std::size_t limit) override;
  std::map<std::string, std::size_t> count_open_incidents_by_severity() override;
  [[nodiscard]] std::optional<incident> update_incident(const incident& changed,
                                                        const audit_entry& entry) override;
  audit_record append_audit(const audit_entry& entry) override;
  std::vector<audit_record> audit_for(std::int64_t incident_id) override;

  bool mark_event_processed(std::string_view event_id, sys_seconds at) override;
  std::size_t prune_processed_events(sys_seconds older_than) override;

  std::vector<std::optional<std::int64_t>> record_deliveries(std::span<const new_delivery> deliveries,
                                                             sys_seconds at) override;
  void mark_deliveries_done(std::span<const std::int64_t> ids, sys_seconds at) override;
  std::vector<delivery> unfinished_deliveries(std::size_t limit) override;
  int count_replay(std::int64_t id) override;
  void park_delivery(std::int64_t id, std::string_view reason, sys_seconds at) override;
  std::vector<delivery> parked_deliveries(std::size_t limit) override;
  std::optional<delivery> find_delivery(std::string_view key) override;
  void set_delivery_in_hand(std::string key, sys_seconds at) override;
  std::size_t prune_handled(sys_seconds older_than, std::size_t batch) override;
  void heartbeat(sys_seconds at) override;

  outbox_item enqueue(const new_outbox_item& item, sys_seconds at) override;
  outbox_item enqueue_upload(const new_outbox_item& item, const std::vector<outbox_file>& files,
                             sys_seconds at) override;
  std::vector<outbox_file> outbox_files(std::int64_t outbox_id) override;
  std::optional<outbox_item> find_outbox_item(std::int64_t id) override;
  std::vector<outbox_item> pending_outbox(std::size_t limit) override;
  std::vector<outbox_item> pending_outbox_after(std::int64_t after_id, std::size_t limit) override;
  bool begin_attempt(std::int64_t id, sys_seconds at) override;
  bool mark_sent(std::int64_t id, const json& result, sys_seconds at) override;
  bool mark_failed(std::int64_t id, std::string_view error, sys_seconds at, bool final) override;
  bool abandon(std::int64_t id, std::string_view reason, sys_seconds at) override;

  std::vector<reminder> replace_pending_reminders(std::int64_t incident_id,
                                                  const std::vector<new_reminder>& fresh) override;
  std::optional<reminder> next_pending_reminder() override;
  std::vector<reminder> due_reminders(sys_seconds now, std::size_t limit) override;
  bool mark_reminder_sent(std::int64_t id, sys_seconds at, std::chrono::seconds late_by) override;
  std::size_t cancel_reminders(std::int64_t incident_id) override;
  std::vector<reminder> reminders_for(std::int64_t incident_id) override;

  obligation_ledger ledger_for(std::int64_t incident_id) override;
  void save_ledger(const obligation_ledger& ledger) override;
  std::vector<std::int64_t> duplicates_of(std::int64_t surviving) override;

  void backup(const std::string& path) override;
  bool integrity_ok() override;
  int schema_version() override;

  // `PRAGMA quick_check`, reporting at most `max_problems`: nullopt when the file is sound, else
  // what SQLite found.
  std::optional<std::string> quick_check(int max_problems = 10);

  // Which kind of bot last ran on this store ("slack" or "console"; nullopt: none yet), so the
  // console never sends a Slack store's pending posts to the terminal, nor Slack the console's.
  std::optional<std::string> used_by();
  void set_used_by(std::string_view mode);

  // Counts per table, for benchmarks and operators: inbox, processed_events, outbox, ...
  std::int64_t row_count(std::string_view table);

  // The file's size in pages, and a cap on it (PRAGMA max_page_count): how the fault tests make a
  // full disk without a small volume.
  std::int64_t page_count();
  void limit_pages(std::int64_t pages);

  // `flare backup`: an online, consistent copy of the store at `source` written to `target`,
  // without taking the bot's lock. The source must be an existing flare store; it is opened
  // read-only, so nothing is created or changed there. Refused: a target that is the store or one
  // of its companions (resolved paths, so links and "./" spellings count), and any existing file
  // unless `overwrite`. The copy is written beside the target, checked and renamed over it.
  static void backup_file(const std::string& source, const std::string& target, bool overwrite);

  // `flare restore`: replaces the store at `store_path` with `backup` after `PRAGMA
  // integrity_check` passes on it (and it is a flare store this build can read). The caller holds
  // the store lock (no bot runs). The replaced store and its companions are kept beside it, named
  // <store>.replaced-<unix time>; returns that name (empty if there was no store).
  static std::string restore_file(const std::string& backup, const std::string& store_path, sys_seconds now);

 private:
  struct impl;
  explicit sqlite_store(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

}  // namespace flare::store
