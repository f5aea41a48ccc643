// pg_store: the connection, transactions, migrations, incidents and the audit log.
#include "bot/store/pg_store.hpp"

#include <unistd.h>

#include <array>
#include <fstream>
#include <random>
#include <unordered_map>

#include <spdlog/spdlog.h>

#include "bot/store/pg_store_impl.hpp"

namespace flare::store {

using namespace pg_detail;
using namespace store_rows;

std::string redact_url(std::string_view url) {
  // postgresql://user:secret@host/db -> postgresql://user:***@host/db
  const auto scheme = url.find("://");
  if (scheme == std::string_view::npos) return std::string(url);
  const auto authority_start = scheme + 3;
  const auto authority_end = url.find_first_of("/?", authority_start);
  const auto authority = url.substr(
      authority_start, authority_end == std::string_view::npos ? url.npos : authority_end - authority_start);
  const auto at = authority.rfind('@');
  std::string out(url);
  if (at != std::string_view::npos) {
    const auto colon = authority.substr(0, at).find(':');
    if (colon != std::string_view::npos) {
      out = std::string(url.substr(0, authority_start + colon + 1)) + "***" +
            std::string(url.substr(authority_start + at));
    }
  }
  // A password in the query string (?password=...) is masked too.
  const auto q = out.find("password=");
  if (q != std::string::npos) {
    const auto end = out.find('&', q);
    out = out.substr(0, q) + "password=***" + (end == std::string::npos ? "" : out.substr(end));
  }
  return out;
}

// ---- the connection -----------------------------------------------------------------------------

void pg_store::impl::fail(std::string_view what, const PGresult* r) const {
  std::string detail = r ? PQresultErrorMessage(r) : PQerrorMessage(conn.get());
  while (!detail.empty() && (detail.back() == '\n' || detail.back() == ' ')) detail.pop_back();
  const char* state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
  throw store_error(url + ": " + std::string(what) + ": " + detail +
                    (state ? " (SQLSTATE " + std::string(state) + ")" : ""));
}

void pg_store::impl::ensure_connected() {
  if (PQstatus(conn.get()) == CONNECTION_OK) return;
  if (depth > 0) throw store_error(url + ": the connection to PostgreSQL was lost inside a transaction");
  // Outside a transaction nothing is lost by reconnecting; prepared statements went with the
  // old session.
  spdlog::warn("store {}: connection lost, reconnecting", url);
  PQreset(conn.get());
  prepared.clear();
  if (PQstatus(conn.get()) != CONNECTION_OK) fail("reconnecting", nullptr);
  session_setup();
}

void pg_store::impl::session_setup() {
  exec("SET statement_timeout = " + std::to_string(options.statement_timeout.count()));
  exec("SET TIME ZONE 'UTC'");
}

void pg_store::impl::exec(std::string_view sql) {
  ensure_connected();
  result_ptr r(PQexec(conn.get(), std::string(sql).c_str()));
  const auto status = PQresultStatus(r.get());
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    fail("\"" + std::string(sql.substr(0, 80)) + "\" failed", r.get());
  }
}

void pg_store::impl::exec_quietly(std::string_view sql) noexcept {
  if (PQstatus(conn.get()) != CONNECTION_OK) return;
  PQclear(PQexec(conn.get(), std::string(sql).c_str()));
}

result pg_store::impl::run(const std::string& sql, const params& p) {
  ensure_connected();
  auto it = prepared.find(sql);
  if (it == prepared.end()) {
    const std::string name = "flare_" + std::to_string(prepared.size() + 1);
    result_ptr r(PQprepare(conn.get(), name.c_str(), sql.c_str(), 0, nullptr));
    if (PQresultStatus(r.get()) != PGRES_COMMAND_OK) fail("prepare \"" + sql + "\"", r.get());
    it = prepared.emplace(sql, name).first;
  }
  const auto values = p.pointers();
  result_ptr r(PQexecPrepared(conn.get(), it->second.c_str(), p.size(), values.data(), nullptr, nullptr, 0));
  const auto status = PQresultStatus(r.get());
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) fail("\"" + sql + "\" failed", r.get());
  return result(std::move(r));
}

void pg_store::impl::transaction(const std::function<void()>& body) {
  if (depth == 0) {
    exec("BEGIN");
    ++depth;
    try {
      body();
      if (!delivery_in_hand.empty()) {
        run("UPDATE inbox SET done_at = $1 WHERE key = $2 AND done_at IS NULL",
            params(delivery_done_at, delivery_in_hand));
      }
    } catch (...) {
      --depth;
      exec_quietly("ROLLBACK");
      throw;
    }
    --depth;
    try {
      exec("COMMIT");
    } catch (...) {
      exec_quietly("ROLLBACK");
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
    // A failed statement aborts the transaction up to the savepoint; undo to it and carry on.
    exec_quietly("ROLLBACK TO SAVEPOINT " + name);
    exec_quietly("RELEASE SAVEPOINT " + name);
    throw;
  }
  --depth;
  exec("RELEASE SAVEPOINT " + name);
}

// One key for every flare's migration lock, so replicas starting together migrate one at a time.
constexpr std::int64_t migration_lock_key = 0x666c617265;  // "flare"

int pg_store::impl::current_version() {
  auto r = run("SELECT coalesce(max(version), 0) FROM schema_migrations", params());
  return static_cast<int>(r.at(0).int64(0));
}

void pg_store::impl::migrate(std::span<const schema_migration> migrations) {
  const int latest = migrations.empty() ? 0 : migrations.back().version;
  for (std::size_t i = 0; i <= migrations.size(); ++i) {
    // Step 0 checks the database is a flare store (or empty); step i applies migration i.
    exec("BEGIN");
    try {
      run("SELECT pg_advisory_xact_lock($1)", params(migration_lock_key));
      auto known = run("SELECT to_regclass('schema_migrations') IS NOT NULL", params());
      if (known.at(0).text(0) != "t") {
        auto others =
            run("SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname = current_schema()", params());
        if (others.at(0).int64(0) != 0) {
          throw store_error(url +
                            " is a PostgreSQL database but not a flare store (its schema has tables and no "
                            "schema_migrations); refusing to change it");
        }
        exec(
            "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, description TEXT NOT NULL, "
            "applied_at BIGINT NOT NULL)");
      }
      const int version = current_version();
      if (i == 0) {
        if (version > latest) {
          throw store_error(url + " has schema version " + std::to_string(version) +
                            ", newer than this build of flare knows (" + std::to_string(latest) +
                            "); run a newer flare");
        }
      } else if (version < migrations[i - 1].version) {
        const auto& m = migrations[i - 1];
        exec(m.sql);
        run("INSERT INTO schema_migrations (version, description, applied_at) "
            "VALUES ($1, $2, extract(epoch FROM now())::bigint)",
            params(m.version, m.description));
        spdlog::info("store {}: applied schema migration {} ({})", url, m.version, m.description);
      }
      exec("COMMIT");
    } catch (...) {
      exec_quietly("ROLLBACK");
      throw;
    }
  }
}

// ---- pg_store -----------------------------------------------------------------------------------

pg_store::pg_store(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
pg_store::~pg_store() = default;

std::unique_ptr<pg_store> pg_store::open(const std::string& url, const pg_options& options) {
  return open(url, options, schema_migrations());
}

std::unique_ptr<pg_store> pg_store::open(const std::string& url, const pg_options& options,
                                         std::span<const schema_migration> migrations) {
  for (std::size_t i = 0; i < migrations.size(); ++i) {
    if (migrations[i].version != static_cast<int>(i) + 1) {
      throw store_error("schema migrations must be numbered 1, 2, 3... in order");
    }
  }
  const std::string shown = redact_url(url);
  if (!is_postgresql_url(url)) throw store_error("not a postgresql:// URL: " + shown);
  {
    char* error = nullptr;
    PQconninfoOption* parsed = PQconninfoParse(url.c_str(), &error);
    if (!parsed) {
      std::string why = error ? error : "unreadable";
      PQfreemem(error);
      throw store_error("store.url " + shown + " is not a valid PostgreSQL URL: " + why);
    }
    bool has_password = false;
    for (auto* o = parsed; o->keyword; ++o) {
      if (std::string_view(o->keyword) == "password" && o->val && *o->val) has_password = true;
    }
    PQconninfoFree(parsed);
    if (has_password) {
      throw store_error("store.url " + shown +
                        " carries a password; put it in the PGPASSWORD environment variable or in the "
                        "file named by store.password_file instead");
    }
  }

  auto p = std::make_unique<impl>();
  p->url = shown;
  p->options = options;
  if (p->options.owner.empty()) {
    std::array<char, 256> host{};
    ::gethostname(host.data(), host.size() - 1);
    // The random part keeps two processes apart that share a host name and a pid (pid 1 in two
    // containers with the host's network and name): a claim names exactly one process.
    std::random_device random;
    p->options.owner = std::string(host.data()) + ":" + std::to_string(::getpid()) + ":" +
                       std::to_string(std::uniform_int_distribution<std::uint32_t>()(random));
  }
  const std::string timeout = std::to_string(std::max<long long>(1, options.connect_timeout.count()));
  std::vector<const char*> keys{"dbname", "connect_timeout", "application_name", "keepalives",
                                "keepalives_idle"};
  std::vector<const char*> values{url.c_str(), timeout.c_str(), "flare", "1", "30"};
  if (!options.password.empty()) {
    keys.push_back("password");
    values.push_back(options.password.c_str());
  }
  keys.push_back(nullptr);
  values.push_back(nullptr);
  p->conn.reset(PQconnectdbParams(keys.data(), values.data(), /*expand_dbname=*/1));
  if (!p->conn) throw store_error("cannot connect to " + shown + ": out of memory");
  if (PQstatus(p->conn.get()) != CONNECTION_OK) {
    std::string why = PQerrorMessage(p->conn.get());
    while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
    throw store_error("cannot connect to the store " + shown + ": " + why);
  }
  p->session_setup();
  p->migrate(migrations);
  return std::unique_ptr<pg_store>(new pg_store(std::move(p)));
}

const std::string& pg_store::display_url() const { return impl_->url; }
const std::string& pg_store::owner() const { return impl_->options.owner; }

void pg_store::transaction(const std::function<void()>& body) { impl_->transaction(body); }

void pg_store::execute(std::string_view sql) { impl_->exec(sql); }

// ---- incidents ----------------------------------------------------------------------------------

incident pg_store::create_incident(const new_incident& f, std::string_view actor, sys_seconds at,
                                   const json& details) {
  std::int64_t id = 0;
  impl_->transaction([&] {
    auto r = impl_->run(
        "INSERT INTO incidents (title, reporter, severity, classification, facts, created_at, "
        "updated_at, resolved_at, state, sensitive, summary, channel, thread_ts, card_ts, "
        "report_channel, report_ts, last_decision, version) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, 'open', $8, NULL, $9, $10, $11, $12, $13, $14, 1) "
        "RETURNING id",
        params(f.title, f.reporter, f.severity, f.classification, f.facts, at, at, f.sensitive, f.channel,
               f.thread_ts, f.card_ts, f.report_channel, f.report_ts, f.last_decision));
    id = r.at(0).int64(0);
    append_audit(audit_entry{id, std::string(actor), "open", at, details});
  });
  auto created = find_incident(id);
  if (!created) throw store_error(impl_->url + ": incident " + std::to_string(id) + " vanished");
  return *created;
}

namespace {
std::optional<incident> first_incident(const result& r) {
  if (r.rows() == 0) return std::nullopt;
  return read_incident(r.at(0));
}
std::vector<incident> all_incidents(const result& r) {
  std::vector<incident> out;
  out.reserve(static_cast<std::size_t>(r.rows()));
  for (int i = 0; i < r.rows(); ++i) out.push_back(read_incident(r.at(i)));
  return out;
}
}  // namespace

std::optional<incident> pg_store::find_incident(std::int64_t id) {
  return first_incident(
      impl_->run("SELECT " + std::string(incident_columns) + " FROM incidents WHERE id = $1", params(id)));
}

std::optional<incident> pg_store::find_incident_by_report(std::string_view channel, std::string_view ts) {
  return first_incident(impl_->run("SELECT " + std::string(incident_columns) +
                                       " FROM incidents WHERE report_channel = $1 AND report_ts = $2",
                                   params(channel, ts)));
}

std::optional<incident> pg_store::find_incident_by_thread(std::string_view channel,
                                                          std::string_view thread_ts) {
  return first_incident(
      impl_->run("SELECT " + std::string(incident_columns) +
                     " FROM incidents WHERE channel = $1 AND thread_ts = $2 ORDER BY id LIMIT 1",
                 params(channel, thread_ts)));
}

std::vector<incident> pg_store::list_incidents(bool open_only, std::size_t limit) {
  return all_incidents(impl_->run(
      open_only ? "SELECT " + std::string(incident_columns) +
                      " FROM incidents WHERE state = 'open' ORDER BY id DESC LIMIT $1"
                : "SELECT " + std::string(incident_columns) + " FROM incidents ORDER BY id DESC LIMIT $1",
      params(limit)));
}

std::map<std::string, std::size_t> pg_store::count_open_incidents_by_severity() {
  // At most five rows, kept current by triggers (migration 4): a scrape never walks the incidents.
  auto r = impl_->run("SELECT severity, n FROM open_incident_counts WHERE n > 0", params());
  std::map<std::string, std::size_t> counts;
  for (int i = 0; i < r.rows(); ++i) counts[r.at(i).text(0)] = static_cast<std::size_t>(r.at(i).int64(1));
  return counts;
}

std::optional<incident> pg_store::update_incident(const incident& c, const audit_entry& entry) {
  bool updated = false;
  impl_->transaction([&] {
    auto r = impl_->run(
        "UPDATE incidents SET title = $1, severity = $2, classification = $3, facts = $4, "
        "updated_at = $5, resolved_at = $6, state = $7, sensitive = $8, summary = $9, channel = $10, "
        "thread_ts = $11, card_ts = $12, report_channel = $13, report_ts = $14, last_decision = $15, "
        "version = version + 1 WHERE id = $16 AND version = $17",
        params(c.title, c.severity, c.classification, c.facts, entry.at, c.resolved_at, to_string(c.state),
               c.sensitive, c.summary, c.channel, c.thread_ts, c.card_ts, c.report_channel, c.report_ts,
               c.last_decision, c.id, c.version));
    if (r.changes() == 0) {
      auto exists = impl_->run("SELECT count(*) FROM incidents WHERE id = $1", params(c.id));
      if (exists.at(0).int64(0) == 0) {
        throw store_error(impl_->url + ": update of unknown incident " + c.reference());
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

audit_record pg_store::append_audit(const audit_entry& e) {
  const json details = e.details.is_null() ? json::object() : e.details;
  auto r = impl_->run(
      "INSERT INTO audit_log (incident_id, actor, action, at, details) VALUES ($1, $2, $3, $4, $5) RETURNING "
      "id",
      params(e.incident_id, e.actor, e.action, e.at, details));
  return audit_record{r.at(0).int64(0), e.incident_id, e.actor, e.action, e.at, details};
}

std::vector<audit_record> pg_store::audit_for(std::int64_t incident_id) {
  auto r = impl_->run(
      "SELECT " + std::string(audit_columns) + " FROM audit_log WHERE incident_id = $1 ORDER BY id",
      params(incident_id));
  std::vector<audit_record> out;
  out.reserve(static_cast<std::size_t>(r.rows()));
  for (int i = 0; i < r.rows(); ++i) out.push_back(read_audit(r.at(i)));
  return out;
}

// ---- maintenance --------------------------------------------------------------------------------

void pg_store::backup(const std::string&) {
  throw store_error(impl_->url +
                    ": flare backup copies SQLite stores only; back a PostgreSQL store up with pg_dump or "
                    "the database's own backups (docs/postgresql.md)");
}

bool pg_store::integrity_ok() {
  auto r = impl_->run("SELECT 1", params());
  return r.rows() == 1;
}

int pg_store::schema_version() { return impl_->current_version(); }

std::optional<std::string> pg_store::used_by() {
  auto r = impl_->run("SELECT value FROM store_meta WHERE key = 'used_by'", params());
  if (r.rows() == 0) return std::nullopt;
  return r.at(0).text(0);
}

void pg_store::set_used_by(std::string_view mode) {
  impl_->run(
      "INSERT INTO store_meta (key, value) VALUES ('used_by', $1) "
      "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
      params(mode));
}

std::int64_t pg_store::row_count(std::string_view table) {
  static constexpr std::string_view known[] = {
      "inbox",     "processed_events",     "outbox",      "incidents", "audit_log", "reminders",
      "heartbeat", "incident_obligations", "outbox_files"};
  bool ok = false;
  for (auto t : known) ok = ok || t == table;
  if (!ok) throw store_error("row_count: unknown table " + std::string(table));
  return impl_->run("SELECT count(*) FROM " + std::string(table), params()).at(0).int64(0);
}

}  // namespace flare::store
