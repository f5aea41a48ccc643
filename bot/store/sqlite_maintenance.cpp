// sqlite_store: backup, restore and integrity checks. What each guards against is in
// docs/reliability.md ("Backup and restore").
#include <filesystem>

#include "bot/store/sqlite_connection.hpp"

namespace flare::store {
namespace {

// The first row of a check pragma ("ok" when sound), or the problems it lists, joined.
std::optional<std::string> run_check(sqlite3* db, const std::string& sql) {
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &raw, nullptr) != SQLITE_OK) return error_text(db);
  statement check(raw);
  std::string problems;
  int rc = SQLITE_OK;
  while ((rc = sqlite3_step(check.get())) == SQLITE_ROW) {
    const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(check.get(), 0));
    const std::string line = text ? text : "";
    if (line == "ok") return std::nullopt;
    if (!problems.empty()) problems += "; ";
    problems += line;
  }
  if (rc != SQLITE_DONE) return error_text(db);
  return problems.empty() ? std::optional<std::string>("no result") : problems;
}

// Opens an existing file read-only: a missing file is an error here, never a fresh empty store.
connection open_existing_read_only(const std::string& path, std::string_view role) {
  std::error_code ec;
  const auto status = fs::status(path, ec);
  if (ec || !fs::exists(status)) throw store_error(std::string(role) + " " + path + " does not exist");
  if (!fs::is_regular_file(status))
    throw store_error(std::string(role) + " " + path + " is not a regular file");
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr);
  connection db(raw);
  if (rc != SQLITE_OK) {
    throw store_error("cannot open " + std::string(role) + " " + path + ": " +
                      (raw ? error_text(raw) : std::string(sqlite3_errstr(rc))));
  }
  sqlite3_extended_result_codes(db.get(), 1);
  sqlite3_busy_timeout(db.get(), 5000);
  return db;
}

// The schema version of a flare store, or a store_error saying why it is not one.
int flare_schema_version(sqlite3* db, const std::string& path, std::string_view role) {
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db, "SELECT coalesce(max(version), 0) FROM schema_migrations", -1, &raw, nullptr) !=
      SQLITE_OK) {
    throw store_error(std::string(role) + " " + path + " is not a flare store (" + error_text(db) + ")");
  }
  statement q(raw);
  if (sqlite3_step(q.get()) != SQLITE_ROW) throw store_error("cannot read the schema version of " + path);
  return sqlite3_column_int(q.get(), 0);
}

// Copies the database behind `source` page by page into a new file `temporary`, checks the copy
// and leaves it as one self-contained file (journal_mode DELETE, no -wal).
void copy_database(sqlite3* source, const std::string& temporary,
                   const std::function<void(sqlite3*, std::string_view)>& fail) {
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(temporary.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  connection dest(raw);
  if (rc != SQLITE_OK) fail(raw, "opening the copy");

  sqlite3_backup* b = sqlite3_backup_init(dest.get(), "main", source, "main");
  if (!b) fail(dest.get(), "starting");
  // All pages in one step: one step means one consistent snapshot. Busy only while another
  // connection holds a write lock; retried for up to 5 s.
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
  if (auto problem = run_check(dest.get(), "PRAGMA integrity_check"))
    fail(nullptr, "the copy does not pass integrity_check: " + *problem);
  sqlite3_exec(dest.get(), "PRAGMA journal_mode = DELETE", nullptr, nullptr, nullptr);
}

// A path with "." and "..", symlinks of existing parts resolved: what two spellings of one file
// have in common.
fs::path resolved(const std::string& path) {
  std::error_code ec;
  auto p = fs::weakly_canonical(fs::absolute(path, ec), ec);
  return ec ? fs::absolute(path) : p;
}

// Whether writing `target` would touch the store at `store_path` or a file SQLite keeps beside it.
std::optional<std::string> clobbers_store(const std::string& target, const std::string& store_path) {
  std::vector<std::string> protected_files{store_path};
  for (auto& c : store_companions(store_path)) protected_files.push_back(c);
  const fs::path t = resolved(target);
  for (const auto& f : protected_files) {
    std::error_code ec;
    if (t == resolved(f) || fs::equivalent(target, f, ec)) return f;
  }
  return std::nullopt;
}

}  // namespace

void sqlite_store::backup(const std::string& path) {
  if (impl_->depth > 0) throw store_error("backup to " + path + " requested inside a transaction");
  if (auto hit = clobbers_store(path, impl_->path))
    throw store_error("backup of " + impl_->path + " to " + path + " refused: that is " + *hit);
  const fs::path target(path);
  std::error_code ec;
  if (!target.parent_path().empty()) fs::create_directories(target.parent_path(), ec);
  if (ec) throw store_error("backup to " + path + ": cannot create its directory: " + ec.message());
  // Written beside the target and renamed over it, so `path` is always either the previous
  // backup or a complete new one.
  const std::string temporary = path + ".tmp-" + std::to_string(::getpid());
  fs::remove(temporary, ec);
  auto fail = [&](sqlite3* dest, std::string_view what) {
    std::string message = "backup of " + impl_->path + " to " + path + " failed: " + std::string(what) +
                          (dest ? ": " + error_text(dest) : std::string());
    std::error_code ignored;
    fs::remove(temporary, ignored);
    throw store_error(message);
  };
  copy_database(impl_->db.get(), temporary, fail);
  fs::rename(temporary, target, ec);
  if (ec) fail(nullptr, "renaming " + temporary + ": " + ec.message());
  sync_directory(target.parent_path());
}

void sqlite_store::backup_file(const std::string& source, const std::string& target, bool overwrite) {
  if (auto hit = clobbers_store(target, source))
    throw store_error("backup to " + target + " refused: that is " + *hit +
                      ", part of the store being copied; choose a path outside it");
  std::error_code ec;
  if (fs::exists(fs::symlink_status(target, ec)) && !overwrite)
    throw store_error("backup to " + target + " refused: the file exists (use --force to replace it)");
  if (fs::exists(target, ec) && !fs::is_regular_file(target, ec))
    throw store_error("backup to " + target + " refused: it is not a regular file");
  auto db = open_existing_read_only(source, "the store");
  (void)flare_schema_version(db.get(), source, "the store");

  const fs::path t(target);
  if (!t.parent_path().empty()) fs::create_directories(t.parent_path(), ec);
  if (ec) throw store_error("backup to " + target + ": cannot create its directory: " + ec.message());
  const std::string temporary = target + ".tmp-" + std::to_string(::getpid());
  fs::remove(temporary, ec);
  auto fail = [&](sqlite3* dest, std::string_view what) {
    std::string message = "backup of " + source + " to " + target + " failed: " + std::string(what) +
                          (dest ? ": " + error_text(dest) : std::string());
    std::error_code ignored;
    fs::remove(temporary, ignored);
    throw store_error(message);
  };
  copy_database(db.get(), temporary, fail);
  fs::rename(temporary, t, ec);
  if (ec) fail(nullptr, "renaming " + temporary + ": " + ec.message());
  sync_directory(t.parent_path());
}

std::string sqlite_store::restore_file(const std::string& backup, const std::string& store_path,
                                       sys_seconds now) {
  if (auto hit = clobbers_store(backup, store_path))
    throw store_error("restore from " + backup + " refused: that is " + *hit + " itself, not a backup");
  {
    auto db = open_existing_read_only(backup, "the backup");
    if (auto problem = run_check(db.get(), "PRAGMA integrity_check"))
      throw store_corrupt("the backup " + backup + " fails integrity_check (" + *problem +
                          "); nothing was changed. Try an older backup.");
    const int version = flare_schema_version(db.get(), backup, "the backup");
    if (version > latest_schema_version())
      throw store_error("the backup " + backup + " has schema version " + std::to_string(version) +
                        ", newer than this flare (" + std::to_string(latest_schema_version()) +
                        "); restore it with a newer flare");
    // Copied, not renamed: the backup stays as it is, and the copy is checked again.
    const std::string temporary = store_path + ".restore-" + std::to_string(::getpid());
    std::error_code ec;
    fs::remove(temporary, ec);
    const fs::path parent = fs::path(store_path).parent_path();
    if (!parent.empty()) fs::create_directories(parent, ec);
    auto fail = [&](sqlite3* dest, std::string_view what) {
      std::string message = "restore of " + backup + " to " + store_path + " failed: " + std::string(what) +
                            (dest ? ": " + error_text(dest) : std::string()) + "; the store was not changed";
      std::error_code ignored;
      fs::remove(temporary, ignored);
      throw store_error(message);
    };
    copy_database(db.get(), temporary, fail);

    // The old store and its -wal/-shm move aside together (a -wal left beside the restored file
    // would be replayed into it), then the copy takes the store's name.
    std::string aside;
    std::error_code exists_ec;
    if (fs::exists(store_path, exists_ec)) {
      aside = store_path + ".replaced-" + std::to_string(now.time_since_epoch().count());
      fs::rename(store_path, aside, ec);
      if (ec) fail(nullptr, "moving the old store aside: " + ec.message());
    }
    for (const auto& companion : store_companions(store_path)) {
      if (!fs::exists(companion, exists_ec)) continue;
      const std::string suffix = companion.substr(store_path.size());
      if (aside.empty()) {
        fs::remove(companion, ec);
      } else {
        fs::rename(companion, aside + suffix, ec);
      }
      if (ec) fail(nullptr, "moving " + companion + " aside: " + ec.message());
    }
    fs::rename(temporary, store_path, ec);
    if (ec) fail(nullptr, "renaming the copy into place: " + ec.message());
    sync_directory(parent);
    return aside;
  }
}

bool sqlite_store::integrity_ok() {
  {
    auto q = impl_->prepare("PRAGMA integrity_check");
    if (!q.step() || q.text(0) != "ok") return false;
  }
  auto q = impl_->prepare("PRAGMA foreign_key_check");
  return !q.step();
}

std::optional<std::string> sqlite_store::quick_check(int max_problems) {
  return run_check(impl_->db.get(), "PRAGMA quick_check(" + std::to_string(std::max(1, max_problems)) + ")");
}

std::int64_t sqlite_store::page_count() {
  auto q = impl_->prepare("PRAGMA page_count");
  q.step();
  return q.int64(0);
}

void sqlite_store::limit_pages(std::int64_t pages) {
  impl_->exec("PRAGMA max_page_count = " + std::to_string(pages));
}

int sqlite_store::schema_version() { return impl_->current_version(); }

}  // namespace flare::store
