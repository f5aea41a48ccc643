#include "bot/store/sqlite_store.hpp"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <span>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <utility>

#include <spdlog/spdlog.h>

namespace flare::store {
namespace {

namespace fs = std::filesystem;

// ---- the schema -------------------------------------------------------------------------------

// Append-only: a released migration is never edited, a schema change is a new entry with the
// next number. Times are INTEGER unix seconds (UTC); JSON is TEXT that must be json_valid().
// AUTOINCREMENT so an id, once used, is never reused: "INC-7" names one incident forever.
constexpr std::array builtin_migrations{
    schema_migration{1, "incidents, audit log, processed events, outbox, reminders", R"sql(
CREATE TABLE incidents (
  id             INTEGER PRIMARY KEY AUTOINCREMENT,
  title          TEXT    NOT NULL,
  reporter       TEXT    NOT NULL,
  severity       TEXT    CHECK (severity IN ('critical', 'high', 'medium', 'low')),
  classification TEXT    CHECK (classification IN ('confirmed', 'potential')),
  facts          TEXT    NOT NULL CHECK (json_valid(facts)),
  created_at     INTEGER NOT NULL,
  updated_at     INTEGER NOT NULL,
  resolved_at    INTEGER,
  state          TEXT    NOT NULL CHECK (state IN ('open', 'resolved')),
  sensitive      INTEGER NOT NULL CHECK (sensitive IN (0, 1)),
  summary        TEXT,
  channel        TEXT    NOT NULL,
  thread_ts      TEXT,
  card_ts        TEXT,
  report_channel TEXT,
  report_ts      TEXT,
  last_decision  TEXT    CHECK (last_decision IS NULL OR json_valid(last_decision)),
  version        INTEGER NOT NULL
) STRICT;
-- One report message opens at most one incident, even if its event is delivered twice.
CREATE UNIQUE INDEX incidents_by_report ON incidents (report_channel, report_ts)
  WHERE report_ts IS NOT NULL;
CREATE INDEX incidents_by_thread ON incidents (channel, thread_ts) WHERE thread_ts IS NOT NULL;
CREATE INDEX incidents_by_state ON incidents (state, id);

CREATE TABLE audit_log (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  incident_id INTEGER REFERENCES incidents (id),
  actor       TEXT    NOT NULL,
  action      TEXT    NOT NULL,
  at          INTEGER NOT NULL,
  details     TEXT    NOT NULL CHECK (json_valid(details))
) STRICT;
CREATE INDEX audit_by_incident ON audit_log (incident_id, id);
-- The audit log is evidence of what was decided and when: rows are never changed or removed.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
  SELECT RAISE(ABORT, 'audit_log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
  SELECT RAISE(ABORT, 'audit_log is append-only');
END;

CREATE TABLE processed_events (
  event_id TEXT    PRIMARY KEY,
  at       INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX processed_events_by_time ON processed_events (at);

CREATE TABLE outbox (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  idempotency_key TEXT    NOT NULL UNIQUE,
  incident_id     INTEGER REFERENCES incidents (id),
  kind            TEXT    NOT NULL,
  payload         TEXT    NOT NULL CHECK (json_valid(payload)),
  created_at      INTEGER NOT NULL,
  state           TEXT    NOT NULL DEFAULT 'pending'
                          CHECK (state IN ('pending', 'sent', 'failed', 'abandoned')),
  attempts        INTEGER NOT NULL DEFAULT 0,
  attempt_started_at INTEGER,
  last_error      TEXT,
  last_attempt_at INTEGER,
  sent_at         INTEGER,
  closed_at       INTEGER,
  result          TEXT    CHECK (result IS NULL OR json_valid(result))
) STRICT;
CREATE INDEX outbox_by_state ON outbox (state, id);

CREATE TABLE reminders (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  incident_id     INTEGER NOT NULL REFERENCES incidents (id),
  deadline_kind   TEXT    NOT NULL CHECK (deadline_kind IN ('initial', 'update', 'resolution')),
  deadline        INTEGER NOT NULL,
  fire_at         INTEGER NOT NULL,
  step            TEXT    NOT NULL,
  state           TEXT    NOT NULL DEFAULT 'pending'
                          CHECK (state IN ('pending', 'sent', 'cancelled')),
  sent_at         INTEGER,
  late_by_seconds INTEGER
) STRICT;
CREATE INDEX reminders_by_state_fire_at ON reminders (state, fire_at);
CREATE INDEX reminders_by_incident ON reminders (incident_id, state);
)sql"},
    schema_migration{2, "obligation checklist: kind, close reason, completions, conflict calls; reminder obligation", R"sql(
CREATE TABLE incident_obligations (
  incident_id  INTEGER PRIMARY KEY REFERENCES incidents (id),
  kind         TEXT    NOT NULL DEFAULT 'security' CHECK (kind IN ('security', 'people_and_safety')),
  close_reason TEXT,
  duplicate_of INTEGER REFERENCES incidents (id),
  completions  TEXT    NOT NULL DEFAULT '[]',
  not_needed   TEXT    NOT NULL DEFAULT '[]',
  calls        TEXT    NOT NULL DEFAULT '[]'
) STRICT;
CREATE INDEX incident_obligations_by_duplicate ON incident_obligations (duplicate_of);
ALTER TABLE reminders ADD COLUMN obligation TEXT NOT NULL DEFAULT '';
)sql"},
};

constexpr std::string_view create_migrations_table = R"sql(
CREATE TABLE IF NOT EXISTS schema_migrations (
  version     INTEGER PRIMARY KEY,
  description TEXT    NOT NULL,
  applied_at  INTEGER NOT NULL
) STRICT)sql";

// ---- RAII for the C API -----------------------------------------------------------------------

struct connection_close {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using connection = std::unique_ptr<sqlite3, connection_close>;

struct statement_finalize {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using statement = std::unique_ptr<sqlite3_stmt, statement_finalize>;

std::int64_t to_unix(sys_seconds t) { return t.time_since_epoch().count(); }
sys_seconds from_unix(std::int64_t s) { return sys_seconds{std::chrono::seconds{s}}; }

// Slack text is UTF-8, but a malformed byte must not make a store write throw.
std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

std::string error_text(sqlite3* db) {
  return std::string(sqlite3_errmsg(db)) + " (SQLite code " +
         std::to_string(sqlite3_extended_errcode(db)) + ")";
}

// A cached prepared statement in use: binds by position, steps, reads columns, and resets and
// clears its bindings when it goes out of scope so the cache can hand it out again.
class query {
 public:
  query(sqlite3* db, sqlite3_stmt* s, const std::string* path) : db_(db), s_(s), path_(path) {}
  ~query() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }
  query(const query&) = delete;
  query& operator=(const query&) = delete;

  template <typename... Args>
  query& bind(const Args&... args) {
    int index = 1;
    (bind_one(index++, args), ...);
    return *this;
  }

  // True while there is a row to read.
  bool step() {
    int rc = sqlite3_step(s_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    fail("step");
  }

  void run() {
    while (step()) {
    }
  }

  int changes() const { return sqlite3_changes(db_); }

  bool is_null(int i) const { return sqlite3_column_type(s_, i) == SQLITE_NULL; }
  std::int64_t int64(int i) const { return sqlite3_column_int64(s_, i); }
  std::string text(int i) const {
    auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s_, i));
    return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(s_, i))) : std::string();
  }
  std::optional<std::string> opt_text(int i) const {
    if (is_null(i)) return std::nullopt;
    return text(i);
  }
  std::optional<std::int64_t> opt_int64(int i) const {
    if (is_null(i)) return std::nullopt;
    return int64(i);
  }
  sys_seconds time(int i) const { return from_unix(int64(i)); }
  std::optional<sys_seconds> opt_time(int i) const {
    if (is_null(i)) return std::nullopt;
    return time(i);
  }
  json json_value(int i) const { return json::parse(text(i)); }
  std::optional<json> opt_json(int i) const {
    if (is_null(i)) return std::nullopt;
    return json_value(i);
  }

 private:
  [[noreturn]] void fail(std::string_view what) const {
    throw store_error(*path_ + ": " + std::string(what) + " of \"" + sqlite3_sql(s_) +
                      "\" failed: " + error_text(db_));
  }
  void check(int rc) const {
    if (rc != SQLITE_OK) fail("bind");
  }

  void bind_one(int i, std::nullopt_t) { check(sqlite3_bind_null(s_, i)); }
  void bind_one(int i, std::int64_t v) { check(sqlite3_bind_int64(s_, i, v)); }
  void bind_one(int i, int v) { check(sqlite3_bind_int64(s_, i, v)); }
  void bind_one(int i, std::size_t v) {
    check(sqlite3_bind_int64(s_, i, static_cast<std::int64_t>(v)));
  }
  void bind_one(int i, bool v) { check(sqlite3_bind_int64(s_, i, v ? 1 : 0)); }
  void bind_one(int i, sys_seconds v) { check(sqlite3_bind_int64(s_, i, to_unix(v))); }
  void bind_one(int i, std::string_view v) {
    check(sqlite3_bind_text64(s_, i, v.data(), v.size(), SQLITE_TRANSIENT, SQLITE_UTF8));
  }
  void bind_one(int i, const std::string& v) { bind_one(i, std::string_view(v)); }
  void bind_one(int i, const char* v) { bind_one(i, std::string_view(v)); }
  void bind_one(int i, const json& v) { bind_one(i, std::string_view(dump(v))); }
  template <typename T>
  void bind_one(int i, const std::optional<T>& v) {
    if (v) {
      bind_one(i, *v);
    } else {
      bind_one(i, std::nullopt);
    }
  }

  sqlite3* db_;
  sqlite3_stmt* s_;
  const std::string* path_;
};

constexpr std::string_view incident_columns =
    "id, title, reporter, severity, classification, facts, created_at, updated_at, resolved_at, "
    "state, sensitive, summary, channel, thread_ts, card_ts, report_channel, report_ts, "
    "last_decision, version";

constexpr std::string_view audit_columns = "id, incident_id, actor, action, at, details";

constexpr std::string_view outbox_columns =
    "id, idempotency_key, incident_id, kind, payload, created_at, state, attempts, "
    "attempt_started_at, last_error, last_attempt_at, sent_at, closed_at, result";

constexpr std::string_view reminder_columns =
    "id, incident_id, deadline_kind, deadline, fire_at, step, state, sent_at, late_by_seconds, obligation";

template <typename Enum>
Enum parse_or_throw(std::optional<Enum> parsed, std::string_view column, const std::string& text) {
  if (!parsed) throw store_error("unexpected " + std::string(column) + " '" + text + "' in store");
  return *parsed;
}

incident read_incident(const query& q) {
  incident i;
  i.id = q.int64(0);
  i.title = q.text(1);
  i.reporter = q.text(2);
  i.severity = q.opt_text(3);
  i.classification = q.opt_text(4);
  i.facts = q.json_value(5);
  i.created_at = q.time(6);
  i.updated_at = q.time(7);
  i.resolved_at = q.opt_time(8);
  i.state = parse_or_throw(parse_incident_state(q.text(9)), "incident state", q.text(9));
  i.sensitive = q.int64(10) != 0;
  i.summary = q.opt_text(11);
  i.channel = q.text(12);
  i.thread_ts = q.opt_text(13);
  i.card_ts = q.opt_text(14);
  i.report_channel = q.opt_text(15);
  i.report_ts = q.opt_text(16);
  i.last_decision = q.opt_json(17);
  i.version = q.int64(18);
  return i;
}

audit_record read_audit(const query& q) {
  return audit_record{q.int64(0), q.opt_int64(1), q.text(2), q.text(3), q.time(4), q.json_value(5)};
}

outbox_item read_outbox(const query& q) {
  outbox_item o;
  o.id = q.int64(0);
  o.idempotency_key = q.text(1);
  o.incident_id = q.opt_int64(2);
  o.kind = q.text(3);
  o.payload = q.json_value(4);
  o.created_at = q.time(5);
  o.state = parse_or_throw(parse_outbox_state(q.text(6)), "outbox state", q.text(6));
  o.attempts = static_cast<int>(q.int64(7));
  o.attempt_started_at = q.opt_time(8);
  o.last_error = q.opt_text(9);
  o.last_attempt_at = q.opt_time(10);
  o.sent_at = q.opt_time(11);
  o.closed_at = q.opt_time(12);
  o.result = q.opt_json(13);
  return o;
}

reminder read_reminder(const query& q) {
  reminder r;
  r.id = q.int64(0);
  r.incident_id = q.int64(1);
  r.kind = parse_or_throw(parse_deadline_kind(q.text(2)), "deadline kind", q.text(2));
  r.deadline = q.time(3);
  r.fire_at = q.time(4);
  r.step = q.text(5);
  r.state = parse_or_throw(parse_reminder_state(q.text(6)), "reminder state", q.text(6));
  r.sent_at = q.opt_time(7);
  if (auto late = q.opt_int64(8)) r.late_by = std::chrono::seconds{*late};
  r.obligation = q.text(9);
  return r;
}

bool is_special_path(const std::string& path) {
  return path.empty() || path == ":memory:" || path.starts_with("file:");
}

// After a rename, the directory entry itself must reach the disk for the new name to survive a
// power cut.
void sync_directory(const fs::path& dir) {
  int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

}  // namespace

// ---- the connection and its statement cache ---------------------------------------------------

struct sqlite_store::impl {
  std::string path;
  connection db;
  std::unordered_map<std::string, statement> cache;
  int depth = 0;  // open transaction() calls

  [[noreturn]] void fail(std::string_view what) const {
    throw store_error(path + ": " + std::string(what) + ": " + error_text(db.get()));
  }

  // Runs SQL that returns no rows we need (pragmas, DDL, transaction control); not cached.
  void exec(std::string_view sql) {
    std::string text(sql);
    char* message = nullptr;
    int rc = sqlite3_exec(db.get(), text.c_str(), nullptr, nullptr, &message);
    if (rc != SQLITE_OK) {
      std::string detail = message ? message : sqlite3_errstr(rc);
      sqlite3_free(message);
      throw store_error(path + ": " + detail + " (SQLite code " +
                        std::to_string(sqlite3_extended_errcode(db.get())) + ") in: " +
                        text.substr(0, 80));
    }
  }

  void exec_quietly(std::string_view sql) noexcept {
    std::string text(sql);
    sqlite3_exec(db.get(), text.c_str(), nullptr, nullptr, nullptr);
  }

  query prepare(std::string_view sql) {
    // SQLite rolls a whole transaction back by itself after some errors (disk full, I/O error).
    // Carrying on would run the rest of the caller's "atomic" unit in autocommit mode.
    if (depth > 0 && sqlite3_get_autocommit(db.get()) != 0) {
      throw store_error(path + ": the transaction was rolled back by SQLite after an earlier error");
    }
    auto it = cache.find(std::string(sql));
    if (it != cache.end() && sqlite3_stmt_busy(it->second.get())) {
      // Handing it out again would reset the caller still reading it.
      throw store_error(path + ": statement re-entered while in use: " + std::string(sql));
    }
    if (it == cache.end()) {
      sqlite3_stmt* raw = nullptr;
      int rc = sqlite3_prepare_v3(db.get(), sql.data(), static_cast<int>(sql.size()),
                                  SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
      if (rc != SQLITE_OK) fail("prepare \"" + std::string(sql) + "\"");
      it = cache.emplace(std::string(sql), statement(raw)).first;
    }
    return query(db.get(), it->second.get(), &path);
  }

  template <typename Body>
  void transaction(Body&& body) {
    if (depth == 0) {
      // IMMEDIATE takes the write lock up front: a deferred transaction that reads and then
      // writes fails half-way with SQLITE_BUSY (which no busy timeout retries) if another
      // connection, such as the sqlite3 shell, wrote in between. Here the wait happens at BEGIN.
      exec("BEGIN IMMEDIATE");
      ++depth;
      try {
        body();
      } catch (...) {
        --depth;
        if (sqlite3_get_autocommit(db.get()) == 0) exec_quietly("ROLLBACK");
        throw;
      }
      --depth;
      try {
        exec("COMMIT");
      } catch (...) {
        if (sqlite3_get_autocommit(db.get()) == 0) exec_quietly("ROLLBACK");
        throw;
      }
      return;
    }
    const std::string name = "flare_" + std::to_string(depth);
    exec("SAVEPOINT " + name);
    ++depth;
    try {
      body();
    } catch (...) {
      --depth;
      if (sqlite3_get_autocommit(db.get()) == 0) {
        exec_quietly("ROLLBACK TO " + name);
        exec_quietly("RELEASE " + name);
      }
      throw;
    }
    --depth;
    exec("RELEASE " + name);
  }

  // ---- opening and migrating ------------------------------------------------------------------

  int current_version() {
    auto q = prepare("SELECT coalesce(max(version), 0) FROM schema_migrations");
    if (!q.step()) fail("reading the schema version");
    return static_cast<int>(q.int64(0));
  }

  void migrate(std::span<const schema_migration> migrations) {
    const int latest = migrations.empty() ? 0 : migrations.back().version;
    exec("BEGIN IMMEDIATE");
    try {
      bool known = false;
      {
        auto q = prepare(
            "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'schema_migrations'");
        known = q.step() && q.int64(0) != 0;
      }
      if (!known) {
        std::int64_t others = 0;
        {
          auto q = prepare(
              "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'");
          others = q.step() ? q.int64(0) : 0;
        }
        if (others != 0) {
          throw store_error(path +
                            " is a SQLite database but not a flare store (it has tables and no "
                            "schema_migrations); refusing to change it");
        }
        exec(create_migrations_table);
      }
      int version = current_version();
      if (version > latest) {
        throw store_error(path + " has schema version " + std::to_string(version) +
                          ", newer than this build of flare knows (" + std::to_string(latest) +
                          "); run a newer flare or restore a backup made by this version");
      }
      exec("COMMIT");
    } catch (...) {
      if (sqlite3_get_autocommit(db.get()) == 0) exec_quietly("ROLLBACK");
      throw;
    }

    for (const auto& m : migrations) {
      // Each migration commits on its own, so a crash between two leaves a valid schema at the
      // earlier version and the next open carries on from there.
      exec("BEGIN IMMEDIATE");
      try {
        // Read inside the transaction: another process may have migrated meanwhile.
        if (current_version() >= m.version) {
          exec("COMMIT");
          continue;
        }
        exec(m.sql);
        prepare(
            "INSERT INTO schema_migrations (version, description, applied_at) "
            "VALUES (?, ?, CAST(strftime('%s', 'now') AS INTEGER))")
            .bind(m.version, m.description)
            .run();
        exec("COMMIT");
        spdlog::info("store {}: applied schema migration {} ({})", path, m.version, m.description);
      } catch (...) {
        if (sqlite3_get_autocommit(db.get()) == 0) exec_quietly("ROLLBACK");
        throw;
      }
    }
  }
};

// ---- sqlite_store -----------------------------------------------------------------------------

sqlite_store::sqlite_store(std::unique_ptr<impl> p) : impl_(std::move(p)) {}

sqlite_store::~sqlite_store() {
  // Statements must be finalized before the connection closes.
  if (impl_) impl_->cache.clear();
}

const std::string& sqlite_store::path() const { return impl_->path; }

int sqlite_store::latest_schema_version() { return builtin_migrations.back().version; }

std::span<const schema_migration> sqlite_store::schema_migrations() { return builtin_migrations; }

std::unique_ptr<sqlite_store> sqlite_store::open(const std::string& path) {
  return open(path, sqlite_options{});
}

std::unique_ptr<sqlite_store> sqlite_store::open(const std::string& path,
                                                 const sqlite_options& options) {
  return open(path, options, builtin_migrations);
}

std::unique_ptr<sqlite_store> sqlite_store::open(const std::string& path,
                                                 const sqlite_options& options,
                                                 std::span<const schema_migration> migrations) {
  for (std::size_t i = 0; i < migrations.size(); ++i) {
    if (migrations[i].version != static_cast<int>(i) + 1) {
      throw store_error("schema migrations must be numbered 1, 2, 3... in order");
    }
  }
  if (!is_special_path(path)) {
    fs::path parent = fs::path(path).parent_path();
    if (!parent.empty()) {
      std::error_code ec;
      fs::create_directories(parent, ec);
      if (ec) {
        throw store_error("cannot create the directory " + parent.string() + " for the store " +
                          path + ": " + ec.message());
      }
    }
  }

  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_URI, nullptr);
  connection db(raw);
  if (rc != SQLITE_OK) {
    throw store_error("cannot open the store " + path + ": " +
                      (raw ? error_text(raw) : std::string(sqlite3_errstr(rc))));
  }
  sqlite3_extended_result_codes(db.get(), 1);

  auto p = std::make_unique<impl>();
  p->path = path;
  p->db = std::move(db);
  try {
    sqlite3_busy_timeout(p->db.get(), static_cast<int>(options.busy_timeout.count()));
    {
      // The first read of the file: a file that is not SQLite fails here with "file is not a
      // database".
      auto q = p->prepare("PRAGMA journal_mode = WAL");
      if (q.step() && q.text(0) != "wal" && q.text(0) != "memory") {
        throw store_error(path + ": cannot switch to WAL mode (journal_mode is " + q.text(0) + ")");
      }
    }
    p->exec(options.synchronous == synchronous_mode::full ? "PRAGMA synchronous = FULL"
                                                          : "PRAGMA synchronous = NORMAL");
    p->exec("PRAGMA foreign_keys = ON");
    p->migrate(migrations);
  } catch (const store_error& e) {
    p->cache.clear();
    if (sqlite3_errcode(p->db.get()) == SQLITE_NOTADB) {
      throw store_error("the store " + path + " is not a SQLite database (" + e.what() + ")");
    }
    throw;
  } catch (...) {
    p->cache.clear();
    throw;
  }
  return std::unique_ptr<sqlite_store>(new sqlite_store(std::move(p)));
}

void sqlite_store::transaction(const std::function<void()>& body) { impl_->transaction(body); }

// ---- incidents --------------------------------------------------------------------------------

incident sqlite_store::create_incident(const new_incident& f, std::string_view actor,
                                       sys_seconds at, const json& details) {
  std::int64_t id = 0;
  impl_->transaction([&] {
    impl_
        ->prepare(
            "INSERT INTO incidents (title, reporter, severity, classification, facts, created_at, "
            "updated_at, resolved_at, state, sensitive, summary, channel, thread_ts, card_ts, "
            "report_channel, report_ts, last_decision, version) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, NULL, 'open', ?, NULL, ?, ?, ?, ?, ?, ?, 1)")
        .bind(f.title, f.reporter, f.severity, f.classification, f.facts, at, at, f.sensitive,
              f.channel, f.thread_ts, f.card_ts, f.report_channel, f.report_ts, f.last_decision)
        .run();
    id = sqlite3_last_insert_rowid(impl_->db.get());
    append_audit(audit_entry{id, std::string(actor), "open", at, details});
  });
  auto created = find_incident(id);
  if (!created) throw store_error(impl_->path + ": incident " + std::to_string(id) + " vanished");
  return *created;
}

std::optional<incident> sqlite_store::find_incident(std::int64_t id) {
  auto q = impl_->prepare("SELECT " + std::string(incident_columns) + " FROM incidents WHERE id = ?");
  q.bind(id);
  if (!q.step()) return std::nullopt;
  return read_incident(q);
}

std::optional<incident> sqlite_store::find_incident_by_report(std::string_view channel,
                                                              std::string_view ts) {
  auto q = impl_->prepare("SELECT " + std::string(incident_columns) +
                          " FROM incidents WHERE report_channel = ? AND report_ts = ?");
  q.bind(channel, ts);
  if (!q.step()) return std::nullopt;
  return read_incident(q);
}

std::optional<incident> sqlite_store::find_incident_by_thread(std::string_view channel,
                                                              std::string_view thread_ts) {
  auto q = impl_->prepare("SELECT " + std::string(incident_columns) +
                          " FROM incidents WHERE channel = ? AND thread_ts = ? ORDER BY id LIMIT 1");
  q.bind(channel, thread_ts);
  if (!q.step()) return std::nullopt;
  return read_incident(q);
}

std::vector<incident> sqlite_store::list_incidents(bool open_only, std::size_t limit) {
  auto q = impl_->prepare(open_only ? "SELECT " + std::string(incident_columns) +
                                          " FROM incidents WHERE state = 'open' ORDER BY id DESC LIMIT ?"
                                    : "SELECT " + std::string(incident_columns) +
                                          " FROM incidents ORDER BY id DESC LIMIT ?");
  q.bind(limit);
  std::vector<incident> out;
  while (q.step()) out.push_back(read_incident(q));
  return out;
}

std::optional<incident> sqlite_store::update_incident(const incident& c, const audit_entry& entry) {
  bool updated = false;
  impl_->transaction([&] {
    auto q = impl_->prepare(
        "UPDATE incidents SET title = ?, severity = ?, classification = ?, facts = ?, "
        "updated_at = ?, resolved_at = ?, state = ?, sensitive = ?, summary = ?, channel = ?, "
        "thread_ts = ?, card_ts = ?, report_channel = ?, report_ts = ?, last_decision = ?, "
        "version = version + 1 WHERE id = ? AND version = ?");
    q.bind(c.title, c.severity, c.classification, c.facts, entry.at, c.resolved_at,
           to_string(c.state), c.sensitive, c.summary, c.channel, c.thread_ts, c.card_ts,
           c.report_channel, c.report_ts, c.last_decision, c.id, c.version)
        .run();
    if (q.changes() == 0) {
      auto exists = impl_->prepare("SELECT count(*) FROM incidents WHERE id = ?");
      exists.bind(c.id).step();
      if (exists.int64(0) == 0) {
        throw store_error(impl_->path + ": update of unknown incident " + c.reference());
      }
      return;  // a newer version is stored: the caller re-reads
    }
    audit_entry e = entry;
    e.incident_id = c.id;
    append_audit(e);
    updated = true;
  });
  if (!updated) return std::nullopt;
  return find_incident(c.id);
}

audit_record sqlite_store::append_audit(const audit_entry& e) {
  // `{}` written as an argument is JSON null; readers should always find an object.
  const json details = e.details.is_null() ? json::object() : e.details;
  impl_
      ->prepare("INSERT INTO audit_log (incident_id, actor, action, at, details) VALUES (?, ?, ?, ?, ?)")
      .bind(e.incident_id, e.actor, e.action, e.at, details)
      .run();
  return audit_record{sqlite3_last_insert_rowid(impl_->db.get()), e.incident_id, e.actor, e.action,
                      e.at, details};
}

std::vector<audit_record> sqlite_store::audit_for(std::int64_t incident_id) {
  auto q = impl_->prepare("SELECT " + std::string(audit_columns) +
                          " FROM audit_log WHERE incident_id = ? ORDER BY id");
  q.bind(incident_id);
  std::vector<audit_record> out;
  while (q.step()) out.push_back(read_audit(q));
  return out;
}

// ---- processed events -------------------------------------------------------------------------

bool sqlite_store::mark_event_processed(std::string_view event_id, sys_seconds at) {
  auto q = impl_->prepare(
      "INSERT INTO processed_events (event_id, at) VALUES (?, ?) ON CONFLICT (event_id) DO NOTHING");
  q.bind(event_id, at).run();
  return q.changes() == 1;
}

std::size_t sqlite_store::prune_processed_events(sys_seconds older_than) {
  auto q = impl_->prepare("DELETE FROM processed_events WHERE at < ?");
  q.bind(older_than).run();
  return static_cast<std::size_t>(q.changes());
}

// ---- outbox -----------------------------------------------------------------------------------

outbox_item sqlite_store::enqueue(const new_outbox_item& item, sys_seconds at) {
  impl_
      ->prepare(
          "INSERT INTO outbox (idempotency_key, incident_id, kind, payload, created_at) "
          "VALUES (?, ?, ?, ?, ?) ON CONFLICT (idempotency_key) DO NOTHING")
      .bind(item.idempotency_key, item.incident_id, item.kind, item.payload, at)
      .run();
  auto q = impl_->prepare("SELECT " + std::string(outbox_columns) +
                          " FROM outbox WHERE idempotency_key = ?");
  q.bind(item.idempotency_key);
  if (!q.step()) impl_->fail("outbox item '" + item.idempotency_key + "' missing after insert");
  return read_outbox(q);
}

std::optional<outbox_item> sqlite_store::find_outbox_item(std::int64_t id) {
  auto q = impl_->prepare("SELECT " + std::string(outbox_columns) + " FROM outbox WHERE id = ?");
  q.bind(id);
  if (!q.step()) return std::nullopt;
  return read_outbox(q);
}

std::vector<outbox_item> sqlite_store::pending_outbox(std::size_t limit) {
  auto q = impl_->prepare("SELECT " + std::string(outbox_columns) +
                          " FROM outbox WHERE state = 'pending' ORDER BY id LIMIT ?");
  q.bind(limit);
  std::vector<outbox_item> out;
  while (q.step()) out.push_back(read_outbox(q));
  return out;
}

std::vector<outbox_item> sqlite_store::pending_outbox_after(std::int64_t after_id, std::size_t limit) {
  auto q = impl_->prepare("SELECT " + std::string(outbox_columns) +
                          " FROM outbox WHERE state = 'pending' AND id > ? ORDER BY id LIMIT ?");
  q.bind(after_id, limit);
  std::vector<outbox_item> out;
  while (q.step()) out.push_back(read_outbox(q));
  return out;
}

bool sqlite_store::begin_attempt(std::int64_t id, sys_seconds at) {
  auto q = impl_->prepare(
      "UPDATE outbox SET attempt_started_at = ? WHERE id = ? AND state = 'pending'");
  q.bind(at, id).run();
  return q.changes() == 1;
}

bool sqlite_store::mark_sent(std::int64_t id, const json& result, sys_seconds at) {
  auto q = impl_->prepare(
      "UPDATE outbox SET state = 'sent', attempts = attempts + 1, attempt_started_at = NULL, "
      "last_attempt_at = ?1, sent_at = ?1, closed_at = ?1, result = ?2 WHERE id = ?3 AND state = 'pending'");
  q.bind(at, result, id).run();
  return q.changes() == 1;
}

bool sqlite_store::mark_failed(std::int64_t id, std::string_view error, sys_seconds at,
                               bool final) {
  auto q = impl_->prepare(final
                              ? "UPDATE outbox SET state = 'failed', attempts = attempts + 1, "
                                "attempt_started_at = NULL, last_error = ?1, last_attempt_at = ?2, closed_at = ?2 "
                                "WHERE id = ?3 AND state = 'pending'"
                              : "UPDATE outbox SET attempts = attempts + 1, attempt_started_at = NULL, "
                                "last_error = ?1, "
                                "last_attempt_at = ?2 WHERE id = ?3 AND state = 'pending'");
  q.bind(error, at, id).run();
  return q.changes() == 1;
}

bool sqlite_store::abandon(std::int64_t id, std::string_view reason, sys_seconds at) {
  auto q = impl_->prepare(
      "UPDATE outbox SET state = 'abandoned', attempt_started_at = NULL, last_error = ?1, "
      "closed_at = ?2 "
      "WHERE id = ?3 AND state = 'pending'");
  q.bind(reason, at, id).run();
  return q.changes() == 1;
}

// ---- reminders --------------------------------------------------------------------------------

std::vector<reminder> sqlite_store::replace_pending_reminders(std::int64_t incident_id,
                                                              const std::vector<new_reminder>& fresh) {
  std::vector<std::int64_t> ids;
  impl_->transaction([&] {
    cancel_reminders(incident_id);
    for (const auto& r : fresh) {
      impl_
          ->prepare(
              "INSERT INTO reminders (incident_id, deadline_kind, deadline, fire_at, step, obligation) "
              "VALUES (?, ?, ?, ?, ?, ?)")
          .bind(incident_id, to_string(r.kind), r.deadline, r.fire_at, r.step, r.obligation)
          .run();
      ids.push_back(sqlite3_last_insert_rowid(impl_->db.get()));
    }
  });
  std::vector<reminder> out;
  for (auto id : ids) {
    auto q = impl_->prepare("SELECT " + std::string(reminder_columns) + " FROM reminders WHERE id = ?");
    q.bind(id);
    if (q.step()) out.push_back(read_reminder(q));
  }
  return out;
}

std::optional<reminder> sqlite_store::next_pending_reminder() {
  auto q = impl_->prepare("SELECT " + std::string(reminder_columns) +
                          " FROM reminders WHERE state = 'pending' ORDER BY fire_at, id LIMIT 1");
  if (!q.step()) return std::nullopt;
  return read_reminder(q);
}

std::vector<reminder> sqlite_store::due_reminders(sys_seconds now, std::size_t limit) {
  auto q = impl_->prepare("SELECT " + std::string(reminder_columns) +
                          " FROM reminders WHERE state = 'pending' AND fire_at <= ? "
                          "ORDER BY fire_at, id LIMIT ?");
  q.bind(now, limit);
  std::vector<reminder> out;
  while (q.step()) out.push_back(read_reminder(q));
  return out;
}

bool sqlite_store::mark_reminder_sent(std::int64_t id, sys_seconds at, std::chrono::seconds late_by) {
  auto q = impl_->prepare(
      "UPDATE reminders SET state = 'sent', sent_at = ?, late_by_seconds = ? "
      "WHERE id = ? AND state = 'pending'");
  q.bind(at, static_cast<std::int64_t>(late_by.count()), id).run();
  return q.changes() == 1;
}

std::size_t sqlite_store::cancel_reminders(std::int64_t incident_id) {
  auto q = impl_->prepare(
      "UPDATE reminders SET state = 'cancelled' WHERE incident_id = ? AND state = 'pending'");
  q.bind(incident_id).run();
  return static_cast<std::size_t>(q.changes());
}

std::vector<reminder> sqlite_store::reminders_for(std::int64_t incident_id) {
  auto q = impl_->prepare("SELECT " + std::string(reminder_columns) +
                          " FROM reminders WHERE incident_id = ? ORDER BY fire_at, id");
  q.bind(incident_id);
  std::vector<reminder> out;
  while (q.step()) out.push_back(read_reminder(q));
  return out;
}

// ---- obligation ledgers ------------------------------------------------------------------------

obligation_ledger sqlite_store::ledger_for(std::int64_t incident_id) {
  auto q = impl_->prepare(
      "SELECT kind, close_reason, duplicate_of, completions, not_needed, calls FROM incident_obligations "
      "WHERE incident_id = ?");
  q.bind(incident_id);
  obligation_ledger l;
  l.incident_id = incident_id;
  if (!q.step()) return l;
  l.kind = q.text(0);
  l.close_reason = q.opt_text(1);
  l.duplicate_of = q.opt_int64(2);
  l.completions = q.json_value(3);
  l.not_needed = q.json_value(4);
  l.calls = q.json_value(5);
  return l;
}

void sqlite_store::save_ledger(const obligation_ledger& l) {
  impl_
      ->prepare(
          "INSERT INTO incident_obligations (incident_id, kind, close_reason, duplicate_of, completions, "
          "not_needed, calls) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (incident_id) DO UPDATE SET "
          "kind = excluded.kind, close_reason = excluded.close_reason, duplicate_of = excluded.duplicate_of, "
          "completions = excluded.completions, not_needed = excluded.not_needed, calls = excluded.calls")
      .bind(l.incident_id, l.kind, l.close_reason, l.duplicate_of, l.completions, l.not_needed, l.calls)
      .run();
}

std::vector<std::int64_t> sqlite_store::duplicates_of(std::int64_t surviving) {
  auto q = impl_->prepare("SELECT incident_id FROM incident_obligations WHERE duplicate_of = ? ORDER BY incident_id");
  q.bind(surviving);
  std::vector<std::int64_t> out;
  while (q.step()) out.push_back(q.int64(0));
  return out;
}

// ---- maintenance ------------------------------------------------------------------------------

void sqlite_store::backup(const std::string& path) {
  if (impl_->depth > 0) throw store_error("backup to " + path + " requested inside a transaction");
  const fs::path target(path);
  std::error_code ec;
  if (fs::equivalent(target, impl_->path, ec)) {
    throw store_error("backup of " + impl_->path + " onto itself refused");
  }
  if (!target.parent_path().empty()) fs::create_directories(target.parent_path(), ec);
  if (ec) throw store_error("backup to " + path + ": cannot create its directory: " + ec.message());
  // Written beside the target and renamed over it, so `path` is always either the previous
  // backup or a complete new one.
  const std::string temporary = path + ".tmp-" + std::to_string(::getpid());
  fs::remove(temporary, ec);

  auto fail = [&](sqlite3* dest, std::string_view what) {
    std::string message = "backup of " + impl_->path + " to " + path + " failed: " +
                          std::string(what) + (dest ? ": " + error_text(dest) : std::string());
    std::error_code ignored;
    fs::remove(temporary, ignored);
    throw store_error(message);
  };

  {
    sqlite3* raw = nullptr;
    int rc = sqlite3_open_v2(temporary.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                             nullptr);
    connection dest(raw);
    if (rc != SQLITE_OK) fail(raw, "opening the copy");

    sqlite3_backup* b = sqlite3_backup_init(dest.get(), "main", impl_->db.get(), "main");
    if (!b) fail(dest.get(), "starting");
    // All pages in one step: the store is small, and one step means one consistent snapshot.
    // Busy only if another connection holds a write lock; the busy timeout covers the wait.
    for (int tries = 0;; ++tries) {
      rc = sqlite3_backup_step(b, -1);
      if (rc == SQLITE_DONE) break;
      if ((rc == SQLITE_BUSY || rc == SQLITE_LOCKED) && tries < 100) {
        sqlite3_sleep(50);
        continue;
      }
      sqlite3_backup_finish(b);
      fail(dest.get(), "copying pages");
    }
    if (sqlite3_backup_finish(b) != SQLITE_OK) fail(dest.get(), "finishing");

    sqlite3_stmt* check_raw = nullptr;
    if (sqlite3_prepare_v2(dest.get(), "PRAGMA integrity_check", -1, &check_raw, nullptr) !=
        SQLITE_OK) {
      fail(dest.get(), "checking the copy");
    }
    statement check(check_raw);
    bool ok = sqlite3_step(check.get()) == SQLITE_ROW &&
              std::string_view(reinterpret_cast<const char*>(sqlite3_column_text(check.get(), 0))) ==
                  "ok";
    check.reset();
    if (!ok) fail(nullptr, "the copy does not pass integrity_check");
    // Checkpoint and leave the copy as a single self-contained file.
    sqlite3_exec(dest.get(), "PRAGMA journal_mode = DELETE", nullptr, nullptr, nullptr);
  }

  fs::rename(temporary, target, ec);
  if (ec) fail(nullptr, "renaming " + temporary + ": " + ec.message());
  sync_directory(target.parent_path());
}

bool sqlite_store::integrity_ok() {
  {
    auto q = impl_->prepare("PRAGMA integrity_check");
    if (!q.step() || q.text(0) != "ok") return false;
  }
  auto q = impl_->prepare("PRAGMA foreign_key_check");
  return !q.step();
}

int sqlite_store::schema_version() { return impl_->current_version(); }

}  // namespace flare::store
