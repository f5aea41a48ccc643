// Internals shared by the files that implement sqlite_store (one file per area: the schema,
// incidents, outbox, reminders, inbox, maintenance). Not for use outside bot/store/.
#pragma once

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <concepts>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include <spdlog/spdlog.h>

#include "bot/store/sqlite_store.hpp"
#include "bot/store/store_rows.hpp"

namespace flare::store {
namespace sqlite_detail {

using namespace store_rows;

namespace fs = std::filesystem;

inline constexpr std::string_view create_migrations_table = R"sql(
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

inline std::int64_t to_unix(sys_seconds t) { return t.time_since_epoch().count(); }
inline sys_seconds from_unix(std::int64_t s) { return sys_seconds{std::chrono::seconds{s}}; }

// Slack text is UTF-8, but a malformed byte must not make a store write throw.
inline std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

inline std::string error_text(sqlite3* db) {
  return std::string(sqlite3_errmsg(db)) + " (SQLite code " + std::to_string(sqlite3_extended_errcode(db)) +
         ")";
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
  // Every integer (and bool, as 0/1) is an INTEGER column: SQLite stores 64 bits.
  template <std::integral T>
  void bind_one(int i, T v) {
    check(sqlite3_bind_int64(s_, i, static_cast<std::int64_t>(v)));
  }
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

inline bool is_special_path(const std::string& path) {
  return path.empty() || path == ":memory:" || path.starts_with("file:");
}

// After a rename, the directory entry itself must reach the disk for the new name to survive a
// power cut.
inline void sync_directory(const fs::path& dir) {
  int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

}  // namespace sqlite_detail

using namespace sqlite_detail;

// ---- the connection and its statement cache ---------------------------------------------------

struct sqlite_store::impl {
  std::string path;
  connection db;
  std::unordered_map<std::string, statement> cache;
  int depth = 0;  // open transaction() calls
  // The delivery whose handler is writing now (store::delivery_in_hand): marked done by the
  // outermost commit, with the handler's effects.
  std::string delivery_in_hand;
  sys_seconds delivery_done_at{};

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
                        std::to_string(sqlite3_extended_errcode(db.get())) + ") in: " + text.substr(0, 80));
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
      try {
        if (!delivery_in_hand.empty()) {
          prepare("UPDATE inbox SET done_at = ? WHERE key = ? AND done_at IS NULL")
              .bind(delivery_done_at, delivery_in_hand)
              .run();
        }
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
        auto q =
            prepare("SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'schema_migrations'");
        known = q.step() && q.int64(0) != 0;
      }
      if (!known) {
        std::int64_t others = 0;
        {
          auto q =
              prepare("SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'");
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

}  // namespace flare::store
