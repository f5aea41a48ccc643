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
#include <span>
#include <string>
#include <string_view>

#include "bot/store/store.hpp"

namespace flare::store {

enum class synchronous_mode {
  normal,  // WAL commits survive a process crash but not always a power cut: benchmarks only
  full,    // every commit survives a power cut
};

struct sqlite_options {
  synchronous_mode synchronous = synchronous_mode::full;
  // How long a statement waits for another connection's lock (a backup, the sqlite3 shell).
  std::chrono::milliseconds busy_timeout{5000};
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
  std::optional<incident> find_incident_by_report(std::string_view channel,
                                                  std::string_view ts) override;
  std::optional<incident> find_incident_by_thread(std::string_view channel,
                                                  std::string_view thread_ts) override;
  std::vector<incident> list_incidents(bool open_only, std::size_t limit) override;
  [[nodiscard]] std::optional<incident> update_incident(const incident& changed,
                                                        const audit_entry& entry) override;
  audit_record append_audit(const audit_entry& entry) override;
  std::vector<audit_record> audit_for(std::int64_t incident_id) override;

  bool mark_event_processed(std::string_view event_id, sys_seconds at) override;
  std::size_t prune_processed_events(sys_seconds older_than) override;

  outbox_item enqueue(const new_outbox_item& item, sys_seconds at) override;
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

 private:
  struct impl;
  explicit sqlite_store(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

}  // namespace flare::store
