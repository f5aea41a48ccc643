// The shared store: one PostgreSQL database that several flare replicas use at once (issue 10).
//
// Same interface, schema and behaviour as sqlite_store; what several replicas need on top:
// - the inbox key and processed-event marks are primary keys written with ON CONFLICT DO NOTHING,
//   so an envelope redelivered to another replica is recognised there;
// - incident (and every other) ids come from identity sequences, never reused or shared;
// - an outbox item is claimed by begin_attempt with a lease (claimed_by, claim_expires_at): one
//   replica sends it, an item whose incident has an earlier pending post waits for it, and a
//   dead replica's claim expires and another takes the item over;
// - a reminder fires in the transaction that moves it from pending to sent, so only one replica's
//   firing commits (the row lock makes the others see it sent);
// - an unfinished inbox delivery is claimed with a lease (delivery_claims.hpp): recorded deliveries
//   are claimed by their replica, and one whose replica died is replayed by another once the
//   lease expires; the replay cap (count_replay, park_delivery) applies as on SQLite.
//
// Calls are synchronous on the caller's thread, as with SQLite (docs/postgresql.md has the
// measurements behind this choice), each bounded by statement_timeout and connect_timeout.
// The password never comes from the URL: PGPASSWORD, or `password` read from a file by the caller.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bot/store/delivery_claims.hpp"
#include "bot/store/outbox_claims.hpp"
#include "bot/store/pg_url.hpp"
#include "bot/store/sqlite_store.hpp"
#include "bot/store/store.hpp"

namespace flare::store {

struct pg_options {
  // Empty: libpq's own sources (PGPASSWORD, ~/.pgpass).
  std::string password;
  // Names this replica in outbox and inbox claims (default: host name, pid and a random number,
  // so two processes never share a name, even with the same host name and pid in two
  // containers).
  std::string owner;
  // How long a claimed outbox item stays with its replica without a renewal: the outbox renews
  // the claims of the posts it is sending every third of this (renew_outbox_claims), so a live
  // replica keeps a post however long its call waits, and a dead one's post is taken over at most
  // one lease after the last renewal. Longer than the event loop ever stalls.
  std::chrono::seconds outbox_lease{10};
  // How long an unfinished inbox delivery stays with the replica that holds it without a renewal
  // (delivery_claims.hpp): what a delivery acked by a replica that then died waits, at most,
  // before another replica replays it.
  std::chrono::seconds inbox_lease{30};
  std::chrono::milliseconds statement_timeout{10000};
  std::chrono::seconds connect_timeout{5};
};

// The URL with any password replaced by "***", for log lines and errors.
std::string redact_url(std::string_view url);

class pg_store final : public store, public delivery_claims, public outbox_claims {
 public:
  // Connects and migrates to the latest schema. Throws store_error (with the URL redacted) when
  // the server cannot be reached, refuses the login, holds some other program's tables, or has a
  // newer schema than this build knows; and when the URL itself carries a password.
  static std::unique_ptr<pg_store> open(const std::string& url, const pg_options& options = {});
  static std::unique_ptr<pg_store> open(const std::string& url, const pg_options& options,
                                        std::span<const schema_migration> migrations);

  static int latest_schema_version();
  static std::span<const schema_migration> schema_migrations();

  ~pg_store() override;
  pg_store(const pg_store&) = delete;
  pg_store& operator=(const pg_store&) = delete;

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

  std::chrono::seconds claim_lease() const override;
  std::vector<delivery> claim_unfinished(sys_seconds now, std::size_t limit) override;
  std::size_t renew_claims(std::span<const std::int64_t> ids, sys_seconds now) override;
  // This replica's name in claims (pg_options::owner, or the default).
  const std::string& owner() const;

  outbox_item enqueue(const new_outbox_item& item, sys_seconds at) override;
  outbox_item enqueue_upload(const new_outbox_item& item, const std::vector<outbox_file>& files,
                             sys_seconds at) override;
  std::vector<outbox_file> outbox_files(std::int64_t outbox_id) override;
  std::optional<outbox_item> find_outbox_item(std::int64_t id) override;
  std::vector<outbox_item> pending_outbox(std::size_t limit) override;
  std::vector<outbox_item> pending_outbox_after(std::int64_t after_id, std::size_t limit) override;
  // Also claims the item for this replica for outbox_lease; false while another replica's claim
  // is live or an earlier item of the same incident is still pending.
  bool begin_attempt(std::int64_t id, sys_seconds at) override;
  // The outbox's heartbeat (outbox_claims.hpp): this replica's claims on `ids` run one
  // outbox_lease from `now`.
  std::size_t renew_outbox_claims(std::span<const std::int64_t> ids, sys_seconds now) override;
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

  // PostgreSQL is backed up with its own tools (pg_dump, or the operator's HA setup): refused.
  void backup(const std::string& path) override;
  bool integrity_ok() override;
  int schema_version() override;

  std::optional<std::string> used_by();
  void set_used_by(std::string_view mode);
  std::int64_t row_count(std::string_view table);
  // Runs SQL with no parameters and no result (tests, migrate-store); throws store_error.
  void execute(std::string_view sql);
  // The redacted URL, for log lines.
  const std::string& display_url() const;

  // `flare migrate-store`: copies every row of the SQLite store at `sqlite_path` (migrated to the
  // latest schema first) into this store, ids kept and sequences moved past them, in one
  // transaction, then compares the row counts table by table. Refused (nothing written) unless
  // this store is empty. Throws store_error on any difference: the transaction is rolled back.
  struct table_copy {
    std::string table;
    std::int64_t rows = 0;  // in the source, and (verified) in this store
  };
  std::vector<table_copy> import_sqlite(const std::string& sqlite_path);

 private:
  struct impl;
  explicit pg_store(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

}  // namespace flare::store
