#include "bot/store/sqlite_connection.hpp"

namespace flare::store {
namespace {

std::string damaged_store_message(const std::string& path, const std::string& problems) {
  return "the store " + path + " is damaged (SQLite quick_check: " + problems.substr(0, 400) +
         "). Nothing was written to it. Stop every flare using it, then restore the latest backup: "
         "flare restore BACKUP_FILE (the damaged file is kept beside it; see docs/reliability.md)";
}

}  // namespace

// ---- sqlite_store -----------------------------------------------------------------------------

sqlite_store::sqlite_store(std::unique_ptr<impl> p) : impl_(std::move(p)) {}

sqlite_store::~sqlite_store() {
  // Statements must be finalized before the connection closes.
  if (impl_) impl_->cache.clear();
}

const std::string& sqlite_store::path() const { return impl_->path; }

std::unique_ptr<sqlite_store> sqlite_store::open(const std::string& path) {
  return open(path, sqlite_options{});
}

std::unique_ptr<sqlite_store> sqlite_store::open(const std::string& path, const sqlite_options& options) {
  return open(path, options, schema_migrations());
}

std::unique_ptr<sqlite_store> sqlite_store::open(const std::string& path, const sqlite_options& options,
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
        throw store_error("cannot create the directory " + parent.string() + " for the store " + path + ": " +
                          ec.message());
      }
    }
  }

  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_URI,
                           nullptr);
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
    if (options.check_integrity) {
      // Before the first write: a damaged file must not be migrated or written to.
      sqlite3_stmt* raw_check = nullptr;
      std::string problems;
      if (sqlite3_prepare_v2(p->db.get(), "PRAGMA quick_check(10)", -1, &raw_check, nullptr) != SQLITE_OK) {
        problems = error_text(p->db.get());
      } else {
        statement check(raw_check);
        int rc_check = SQLITE_OK;
        while ((rc_check = sqlite3_step(check.get())) == SQLITE_ROW) {
          const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(check.get(), 0));
          const std::string line = text ? text : "";
          if (line == "ok") break;
          problems += (problems.empty() ? "" : "; ") + line;
        }
        if (rc_check != SQLITE_ROW && rc_check != SQLITE_DONE) problems += error_text(p->db.get());
      }
      if (!problems.empty()) throw store_corrupt(damaged_store_message(path, problems));
    }
    p->migrate(migrations);
  } catch (const store_corrupt&) {
    p->cache.clear();
    throw;
  } catch (const store_error& e) {
    p->cache.clear();
    if (sqlite3_errcode(p->db.get()) == SQLITE_NOTADB) {
      throw store_error("the store " + path + " is not a SQLite database (" + e.what() + ")");
    }
    if ((sqlite3_extended_errcode(p->db.get()) & 0xff) == SQLITE_CORRUPT)
      throw store_corrupt(damaged_store_message(path, e.what()));
    throw;
  } catch (...) {
    p->cache.clear();
    throw;
  }
  return std::unique_ptr<sqlite_store>(new sqlite_store(std::move(p)));
}

void sqlite_store::transaction(const std::function<void()>& body) { impl_->transaction(body); }

// ---- incidents --------------------------------------------------------------------------------

incident sqlite_store::create_incident(const new_incident& f, std::string_view actor, sys_seconds at,
                                       const json& details) {
  std::int64_t id = 0;
  impl_->transaction([&] {
    impl_
        ->prepare(
            "INSERT INTO incidents (title, reporter, severity, classification, facts, created_at, "
            "updated_at, resolved_at, state, sensitive, summary, channel, thread_ts, card_ts, "
            "report_channel, report_ts, last_decision, version) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, NULL, 'open', ?, NULL, ?, ?, ?, ?, ?, ?, 1)")
        .bind(f.title, f.reporter, f.severity, f.classification, f.facts, at, at, f.sensitive, f.channel,
              f.thread_ts, f.card_ts, f.report_channel, f.report_ts, f.last_decision)
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

std::optional<incident> sqlite_store::find_incident_by_report(std::string_view channel, std::string_view ts) {
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

std::map<std::string, std::size_t> sqlite_store::count_open_incidents_by_severity() {
  // At most five rows, kept current by triggers (migration 4): a scrape never walks the incidents.
  auto q = impl_->prepare("SELECT severity, n FROM open_incident_counts WHERE n > 0");
  std::map<std::string, std::size_t> counts;
  while (q.step()) counts[q.text(0)] = static_cast<std::size_t>(q.int64(1));
  return counts;
}

std::optional<incident> sqlite_store::update_incident(const incident& c, const audit_entry& entry) {
  bool updated = false;
  impl_->transaction([&] {
    auto q = impl_->prepare(
        "UPDATE incidents SET title = ?, severity = ?, classification = ?, facts = ?, "
        "updated_at = ?, resolved_at = ?, state = ?, sensitive = ?, summary = ?, channel = ?, "
        "thread_ts = ?, card_ts = ?, report_channel = ?, report_ts = ?, last_decision = ?, "
        "version = version + 1 WHERE id = ? AND version = ?");
    q.bind(c.title, c.severity, c.classification, c.facts, entry.at, c.resolved_at, to_string(c.state),
           c.sensitive, c.summary, c.channel, c.thread_ts, c.card_ts, c.report_channel, c.report_ts,
           c.last_decision, c.id, c.version)
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
  impl_->prepare("INSERT INTO audit_log (incident_id, actor, action, at, details) VALUES (?, ?, ?, ?, ?)")
      .bind(e.incident_id, e.actor, e.action, e.at, details)
      .run();
  return audit_record{
      sqlite3_last_insert_rowid(impl_->db.get()), e.incident_id, e.actor, e.action, e.at, details};
}

std::vector<audit_record> sqlite_store::audit_for(std::int64_t incident_id) {
  auto q = impl_->prepare("SELECT " + std::string(audit_columns) +
                          " FROM audit_log WHERE incident_id = ? ORDER BY id");
  q.bind(incident_id);
  std::vector<audit_record> out;
  while (q.step()) out.push_back(read_audit(q));
  return out;
}

}  // namespace flare::store
