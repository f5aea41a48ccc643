#include "bot/store/pg_store.hpp"
#include "bot/store/sqlite_store.hpp"
#include "tests/support/pg_test_cluster.hpp"

#include <sqlite3.h>
#include <stdlib.h>  // NOLINT(modernize-deprecated-headers): mkdtemp is POSIX, declared here

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace flare::store {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using ::testing::HasSubstr;

// 2026-11-22T09:00:00Z, a fixed "now": the store never reads a clock.
constexpr sys_seconds t0{std::chrono::seconds{1795338000}};

class temp_dir {
 public:
  temp_dir() {
    std::string pattern = (fs::temp_directory_path() / "flare-store-test-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~temp_dir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  fs::path path_;
};

// Runs SQL on the file with a separate raw connection, the way an operator with the sqlite3 shell
// would; returns SQLite's error message, or "" on success.
std::string sqlite_raw_exec(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr);
  char* message = nullptr;
  int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message);
  std::string error = rc == SQLITE_OK ? "" : (message ? message : sqlite3_errstr(rc));
  sqlite3_free(message);
  sqlite3_close(db);
  return error;
}

std::int64_t sqlite_raw_count(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
  sqlite3_stmt* s = nullptr;
  std::int64_t n = -1;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW) {
    n = sqlite3_column_int64(s, 0);
  }
  sqlite3_finalize(s);
  sqlite3_close(db);
  return n;
}

new_incident sample_incident(const std::string& title, const std::string& report_ts = "") {
  new_incident f;
  f.title = title;
  f.reporter = "U0REPORTER";
  f.severity = "high";
  f.classification = "potential";
  f.facts = {{"customer_data_exposed", false}, {"user_action_needed", true}};
  f.channel = "C0INCIDENTS";
  if (!report_ts.empty()) {
    f.report_channel = "C0INCIDENTS";
    f.report_ts = report_ts;
    f.thread_ts = report_ts;
  }
  return f;
}

// One behavioural suite, two backends (issue 10): every TEST_P runs on SQLite and on PostgreSQL.
// `backend` hides how each is opened and how a test reaches around the store (the way an
// operator with the sqlite3 shell or psql would).
class backend {
 public:
  virtual ~backend() = default;
  virtual std::unique_ptr<store> open() = 0;
  virtual std::string raw_exec(const std::string& sql) = 0;  // the error, or "" on success
  virtual std::int64_t raw_count(const std::string& sql) = 0;
  virtual int latest_schema_version() const = 0;
  virtual std::string name() const = 0;  // what errors call the store
};

class sqlite_backend final : public backend {
 public:
  std::unique_ptr<store> open() override { return sqlite_store::open(path); }
  std::string raw_exec(const std::string& sql) override { return sqlite_raw_exec(path, sql); }
  std::int64_t raw_count(const std::string& sql) override { return sqlite_raw_count(path, sql); }
  int latest_schema_version() const override { return sqlite_store::latest_schema_version(); }
  std::string name() const override { return path; }

  temp_dir dir;
  std::string path = dir.file("data/flare.db");
};

class postgresql_backend final : public backend {
 public:
  explicit postgresql_backend(const flare::testing::pg_server& server) : database(server) {}
  std::unique_ptr<store> open() override { return pg_store::open(database.url(), options()); }
  std::string raw_exec(const std::string& sql) override { return database.exec(sql); }
  std::int64_t raw_count(const std::string& sql) override {
    std::string value;
    if (!database.exec(sql, &value).empty() || value.empty()) return -1;
    return std::stoll(value);
  }
  int latest_schema_version() const override { return pg_store::latest_schema_version(); }
  std::string name() const override { return database.url(); }
  pg_options options() const {
    pg_options o;
    o.password = database.password();
    return o;
  }

  flare::testing::pg_test_database database;
};

class store_test : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "postgresql") {
      std::string why_not;
      auto server = flare::testing::test_pg_server(&why_not);
      if (!server) GTEST_SKIP() << why_not;
      be = std::make_unique<postgresql_backend>(*server);
    } else {
      be = std::make_unique<sqlite_backend>();
    }
    db = be->open();
  }
  void reopen() {
    db.reset();
    db = be->open();
  }
  std::size_t count_incidents() { return db->list_incidents(false, 1000).size(); }
  std::int64_t raw_count(const std::string& sql) { return be->raw_count(sql); }
  std::string raw_exec(const std::string& sql) { return be->raw_exec(sql); }

  std::unique_ptr<backend> be;
  std::unique_ptr<store> db;
};

INSTANTIATE_TEST_SUITE_P(backends, store_test, ::testing::Values("sqlite", "postgresql"),
                         [](const auto& info) { return info.param; });

// What only the SQLite file has: its path, its directory, backups.
class sqlite_store_test : public ::testing::Test {
 protected:
  void SetUp() override { db = sqlite_store::open(path); }
  void reopen() {
    db.reset();
    db = sqlite_store::open(path);
  }
  std::size_t count_incidents() { return db->list_incidents(false, 1000).size(); }

  temp_dir dir;
  std::string path = dir.file("data/flare.db");
  std::unique_ptr<sqlite_store> db;
};

// ---- incidents --------------------------------------------------------------------------------

TEST_F(sqlite_store_test, open_creates_the_missing_directory_and_the_file) {
  EXPECT_TRUE(fs::exists(path));
  EXPECT_TRUE(db->integrity_ok());
}

TEST_P(store_test, created_incidents_are_numbered_inc_1_inc_2) {
  auto a = db->create_incident(sample_incident("Leaked key", "1700000000.000100"), "U0REPORTER", t0,
                               {{"source", "report"}});
  auto b = db->create_incident(sample_incident("Phishing"), "U0OTHER", t0 + 5min, {});
  EXPECT_EQ(a.reference(), "INC-1");
  EXPECT_EQ(b.reference(), "INC-2");
  EXPECT_EQ(a.state, incident_state::open);
  EXPECT_EQ(a.created_at, t0);
  EXPECT_EQ(a.updated_at, t0);
  EXPECT_EQ(a.version, 1);
  EXPECT_EQ(a.facts["user_action_needed"], true);
  EXPECT_EQ(a.severity, "high");
  EXPECT_FALSE(a.resolved_at);
  EXPECT_FALSE(a.summary);
}

// What /metrics reads: the counts table the triggers keep must always equal a count of the rows.
std::map<std::string, std::size_t> counted_by_listing(store& s) {
  std::map<std::string, std::size_t> counts;
  for (const auto& inc : s.list_incidents(true, SIZE_MAX)) ++counts[inc.severity.value_or("unclassified")];
  return counts;
}

TEST_P(store_test, open_incident_counts_follow_opening_classifying_resolving_and_rollbacks) {
  auto unclassified = sample_incident("Phishing");
  unclassified.severity.reset();
  auto a = db->create_incident(unclassified, "U0REPORTER", t0, {});
  auto b = db->create_incident(sample_incident("Leaked key"), "U0REPORTER", t0, {});
  db->create_incident(sample_incident("Other"), "U0REPORTER", t0, {});
  EXPECT_EQ(db->count_open_incidents_by_severity(),
            (std::map<std::string, std::size_t>{{"high", 2}, {"unclassified", 1}}));

  a.severity = "critical";  // classified
  auto a2 = db->update_incident(a, {std::nullopt, "U0LEAD", "classify", t0 + 1min, {}});
  ASSERT_TRUE(a2);
  b.state = incident_state::resolved;
  b.resolved_at = t0 + 2min;
  ASSERT_TRUE(db->update_incident(b, {std::nullopt, "U0LEAD", "resolve", t0 + 2min, {}}));
  EXPECT_EQ(db->count_open_incidents_by_severity(),
            (std::map<std::string, std::size_t>{{"critical", 1}, {"high", 1}}));
  EXPECT_EQ(db->count_open_incidents_by_severity(), counted_by_listing(*db));

  // A write that is rolled back leaves the counts as they were.
  EXPECT_THROW(db->transaction([&] {
    db->create_incident(sample_incident("Rolled back"), "U0REPORTER", t0, {});
    auto c = *a2;
    c.state = incident_state::resolved;
    ASSERT_TRUE(db->update_incident(c, {std::nullopt, "U0LEAD", "resolve", t0 + 3min, {}}));
    throw std::runtime_error("abort");
  }),
               std::runtime_error);
  EXPECT_EQ(db->count_open_incidents_by_severity(), counted_by_listing(*db));
  reopen();
  EXPECT_EQ(db->count_open_incidents_by_severity(), counted_by_listing(*db));
}

TEST(store_migrations, the_open_incident_counts_migration_counts_incidents_opened_before_it) {
  temp_dir dir;
  auto path = dir.file("flare.db");
  const sqlite_options options;
  std::vector<schema_migration> before(sqlite_store::schema_migrations().begin(),
                                       sqlite_store::schema_migrations().begin() + 3);
  {
    auto old = sqlite_store::open(path, options, before);
    auto low = sample_incident("Low");
    low.severity = "low";
    old->create_incident(low, "U0REPORTER", t0, {});
    old->create_incident(sample_incident("High"), "U0REPORTER", t0, {});
    old->create_incident(sample_incident("High too"), "U0REPORTER", t0, {});
  }
  auto db = sqlite_store::open(path);
  EXPECT_EQ(db->count_open_incidents_by_severity(),
            (std::map<std::string, std::size_t>{{"high", 2}, {"low", 1}}));
}

TEST_P(store_test, incidents_are_found_by_id_report_and_thread) {
  auto a = db->create_incident(sample_incident("Leaked key", "1700000000.000100"), "U0REPORTER", t0, {});
  db->create_incident(sample_incident("Other", "1700000000.000200"), "U0REPORTER", t0, {});

  auto by_id = db->find_incident(a.id);
  ASSERT_TRUE(by_id);
  EXPECT_EQ(by_id->title, "Leaked key");
  EXPECT_EQ(by_id->facts, a.facts);

  auto by_report = db->find_incident_by_report("C0INCIDENTS", "1700000000.000100");
  ASSERT_TRUE(by_report);
  EXPECT_EQ(by_report->id, a.id);
  auto by_thread = db->find_incident_by_thread("C0INCIDENTS", "1700000000.000100");
  ASSERT_TRUE(by_thread);
  EXPECT_EQ(by_thread->id, a.id);

  EXPECT_FALSE(db->find_incident(99));
  EXPECT_FALSE(db->find_incident_by_report("C0INCIDENTS", "1.2"));
  EXPECT_FALSE(db->find_incident_by_thread("C0ELSEWHERE", "1700000000.000100"));
}

TEST_P(store_test, one_report_cannot_open_two_incidents) {
  db->create_incident(sample_incident("Leaked key", "1700000000.000100"), "U0REPORTER", t0, {});
  EXPECT_THROW(db->create_incident(sample_incident("Again", "1700000000.000100"), "U0REPORTER", t0, {}),
               store_error);
  EXPECT_EQ(count_incidents(), 1u);
  EXPECT_EQ(raw_count("SELECT count(*) FROM audit_log"), 1);
}

TEST_P(store_test, list_returns_newest_first_and_can_skip_resolved) {
  for (int i = 1; i <= 3; ++i) {
    db->create_incident(sample_incident("incident " + std::to_string(i)), "U0REPORTER", t0, {});
  }
  auto second = *db->find_incident(2);
  second.state = incident_state::resolved;
  second.resolved_at = t0 + 1h;
  ASSERT_TRUE(db->update_incident(second, {std::nullopt, "U0LEAD", "resolve", t0 + 1h, {}}));

  auto all = db->list_incidents(false, 10);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].id, 3);
  EXPECT_EQ(all[2].id, 1);
  auto open = db->list_incidents(true, 10);
  ASSERT_EQ(open.size(), 2u);
  EXPECT_EQ(open[0].id, 3);
  EXPECT_EQ(open[1].id, 1);
  EXPECT_EQ(db->list_incidents(false, 1).size(), 1u);
}

TEST_P(store_test, update_writes_fields_bumps_version_and_audits) {
  auto a = db->create_incident(sample_incident("Leaked key"), "U0REPORTER", t0, {});
  auto changed = a;
  changed.title = "Leaked AWS key";
  changed.severity = "critical";
  changed.classification = "confirmed";
  changed.facts["customer_data_exposed"] = true;
  changed.thread_ts = "1700000000.000900";
  changed.card_ts = "1700000000.000900";
  changed.sensitive = true;
  changed.last_decision = nlohmann::json{{"notify", "direct"}};
  changed.state = incident_state::resolved;
  changed.resolved_at = t0 + 2h;
  changed.summary = "Key rotated";
  auto stored = db->update_incident(
      changed, {std::nullopt, "U0LEAD", "resolve", t0 + 2h, {{"summary", "Key rotated"}}});
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->version, 2);
  EXPECT_EQ(stored->updated_at, t0 + 2h);
  EXPECT_EQ(stored->created_at, t0);

  reopen();
  auto again = db->find_incident(a.id);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->title, "Leaked AWS key");
  EXPECT_EQ(again->severity, "critical");
  EXPECT_EQ(again->classification, "confirmed");
  EXPECT_EQ(again->facts["customer_data_exposed"], true);
  EXPECT_EQ(again->card_ts, "1700000000.000900");
  EXPECT_TRUE(again->sensitive);
  EXPECT_EQ(again->last_decision, (nlohmann::json{{"notify", "direct"}}));
  EXPECT_EQ(again->state, incident_state::resolved);
  EXPECT_EQ(again->resolved_at, t0 + 2h);
  EXPECT_EQ(again->summary, "Key rotated");

  auto audit = db->audit_for(a.id);
  ASSERT_EQ(audit.size(), 2u);
  EXPECT_EQ(audit[0].action, "open");
  EXPECT_EQ(audit[1].action, "resolve");
  EXPECT_EQ(audit[1].actor, "U0LEAD");
  EXPECT_EQ(audit[1].incident_id, a.id);
  EXPECT_EQ(audit[1].details["summary"], "Key rotated");
}

TEST_P(store_test, update_from_a_stale_copy_is_refused_without_writing) {
  auto a = db->create_incident(sample_incident("Leaked key"), "U0REPORTER", t0, {});
  auto first = a;
  first.severity = "critical";
  ASSERT_TRUE(db->update_incident(first, {std::nullopt, "U0A", "classify", t0 + 1min, {}}));

  auto stale = a;  // still version 1
  stale.severity = "low";
  EXPECT_FALSE(db->update_incident(stale, {std::nullopt, "U0B", "classify", t0 + 2min, {}}));
  EXPECT_EQ(db->find_incident(a.id)->severity, "critical");
  EXPECT_EQ(db->audit_for(a.id).size(), 2u);
}

TEST_P(store_test, update_of_an_unknown_incident_throws) {
  incident ghost;
  ghost.id = 42;
  ghost.version = 1;
  EXPECT_THROW((void)db->update_incident(ghost, {std::nullopt, "U0A", "update", t0, {}}), store_error);
}

TEST(incident_reference, parses_what_people_type) {
  EXPECT_EQ(incident_reference(7), "INC-7");
  EXPECT_EQ(parse_incident_reference("INC-7"), 7);
  EXPECT_EQ(parse_incident_reference("inc-12"), 12);
  EXPECT_EQ(parse_incident_reference("12"), 12);
  EXPECT_FALSE(parse_incident_reference("INC-"));
  EXPECT_FALSE(parse_incident_reference("INC-7x"));
  EXPECT_FALSE(parse_incident_reference("INC--7"));
  EXPECT_FALSE(parse_incident_reference("0"));
  EXPECT_FALSE(parse_incident_reference(""));
}

// ---- audit log --------------------------------------------------------------------------------

TEST_P(store_test, creating_an_incident_audits_open_with_its_details) {
  auto a = db->create_incident(sample_incident("Leaked key"), "U0REPORTER", t0,
                               {{"inputs", {{"text", "found a key"}}}, {"decision", "open"}});
  auto audit = db->audit_for(a.id);
  ASSERT_EQ(audit.size(), 1u);
  EXPECT_EQ(audit[0].action, "open");
  EXPECT_EQ(audit[0].actor, "U0REPORTER");
  EXPECT_EQ(audit[0].at, t0);
  EXPECT_EQ(audit[0].details["inputs"]["text"], "found a key");

  auto bare = db->append_audit({a.id, "flare", "noted", t0, {}});
  EXPECT_TRUE(bare.details.is_object());
  EXPECT_TRUE(db->audit_for(a.id).back().details.is_object());
}

TEST_P(store_test, audit_rows_cannot_be_updated_or_deleted) {
  auto a = db->create_incident(sample_incident("Leaked key"), "U0REPORTER", t0, {});
  db->append_audit({a.id, "flare", "notified", t0 + 1min, {{"audience", "customers"}}});
  db->append_audit({std::nullopt, "flare", "startup", t0, {}});

  EXPECT_THAT(raw_exec("UPDATE audit_log SET actor = 'someone else'"), HasSubstr("append-only"));
  EXPECT_THAT(raw_exec("DELETE FROM audit_log WHERE action = 'notified'"), HasSubstr("append-only"));
  EXPECT_THAT(raw_exec("DELETE FROM audit_log"), HasSubstr("append-only"));

  auto audit = db->audit_for(a.id);
  ASSERT_EQ(audit.size(), 2u);
  EXPECT_EQ(audit[1].action, "notified");
  EXPECT_EQ(audit[1].actor, "flare");
  EXPECT_EQ(raw_count("SELECT count(*) FROM audit_log"), 3);
}

// ---- processed events -------------------------------------------------------------------------

TEST_P(store_test, an_event_is_processed_the_first_time_only_even_across_restarts) {
  EXPECT_TRUE(db->mark_event_processed("Ev0001", t0));
  EXPECT_FALSE(db->mark_event_processed("Ev0001", t0 + 1s));
  EXPECT_TRUE(db->mark_event_processed("Ev0002", t0));
  reopen();
  EXPECT_FALSE(db->mark_event_processed("Ev0001", t0 + 1h));
  EXPECT_FALSE(db->mark_event_processed("Ev0002", t0 + 1h));
  EXPECT_TRUE(db->mark_event_processed("Ev0003", t0 + 1h));
}

TEST_P(store_test, pruning_forgets_only_old_events) {
  db->mark_event_processed("old", t0);
  db->mark_event_processed("new", t0 + 2h);
  EXPECT_EQ(db->prune_processed_events(t0 + 1h), 1u);
  EXPECT_TRUE(db->mark_event_processed("old", t0 + 3h));
  EXPECT_FALSE(db->mark_event_processed("new", t0 + 3h));
}

// ---- the inbox: replays and dead letters (issue 13, on both backends) ------------------------

new_delivery inbox_event(const std::string& event_id) {
  return {inbox_key_for_event(event_id), "env-" + event_id, "events_api", {{"event_id", event_id}}};
}

TEST_P(store_test, replays_are_counted_across_reopens_and_a_parked_delivery_is_never_replayed_or_pruned) {
  const auto id = *db->record_deliveries(std::vector{inbox_event("Ev1"), inbox_event("Ev2")}, t0)[0];
  EXPECT_EQ(db->count_replay(id), 1);
  reopen();
  EXPECT_EQ(db->count_replay(id), 2);  // durable: a crash in the handler still counted
  db->park_delivery(id, "not handled after 5 replays", t0 + 1h);
  const auto unfinished = db->unfinished_deliveries(10);
  ASSERT_EQ(unfinished.size(), 1u);
  EXPECT_EQ(unfinished[0].key, "event:Ev2");
  EXPECT_EQ(unfinished[0].replay_attempts, 0);
  const auto parked = db->parked_deliveries(10);
  ASSERT_EQ(parked.size(), 1u);
  EXPECT_EQ(parked[0].id, id);
  EXPECT_EQ(parked[0].envelope_id, "env-Ev1");
  EXPECT_EQ(parked[0].replay_attempts, 2);
  EXPECT_EQ(parked[0].parked_at, t0 + 1h);
  EXPECT_EQ(parked[0].parked_reason, "not handled after 5 replays");
  EXPECT_EQ(db->prune_handled(t0 + 24h * 365, 100), 0u);  // a dead letter is kept for an operator
  ASSERT_TRUE(db->find_delivery("event:Ev1"));
  EXPECT_EQ(db->find_delivery("event:Ev1")->parked_reason, "not handled after 5 replays");
  // Handled meanwhile (a done mark that raced the parking): a handled delivery is not parked.
  const auto other = unfinished[0].id;
  db->mark_deliveries_done(std::vector{other}, t0 + 2h);
  db->park_delivery(other, "late", t0 + 3h);
  EXPECT_EQ(db->parked_deliveries(10).size(), 1u);
  EXPECT_THROW(db->count_replay(999999), store_error);
}

// ---- outbox -----------------------------------------------------------------------------------

TEST_P(store_test, enqueueing_the_same_key_twice_returns_the_first_item) {
  auto a = db->create_incident(sample_incident("Leaked key"), "U0REPORTER", t0, {});
  auto first = db->enqueue({"card:INC-1", a.id, "post", {{"text", "first"}}}, t0);
  auto second = db->enqueue({"card:INC-1", a.id, "post", {{"text", "second"}}}, t0 + 1min);
  EXPECT_EQ(first.id, second.id);
  EXPECT_EQ(second.payload["text"], "first");
  EXPECT_EQ(second.created_at, t0);
  EXPECT_EQ(second.state, outbox_state::pending);
  EXPECT_EQ(db->pending_outbox(10).size(), 1u);
  EXPECT_TRUE(first.inserted);
  EXPECT_FALSE(second.inserted) << "the caller learns that the key was known";
}

TEST_P(store_test, an_upload_keeps_its_files_byte_for_byte_and_a_known_key_adds_none) {
  auto a = db->create_incident(sample_incident("Leaked key"), "U0REPORTER", t0, {});
  std::string png("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16);
  for (int i = 0; i < 256; ++i) png += static_cast<char>(i);
  const std::vector<outbox_file> files{
      {"chart.png", "Chart", png}, {"INC-1-record.md", "Record", "# INC-1\n"}, {"empty.txt", "Empty", ""}};
  const auto first = db->enqueue_upload({"export/T1", a.id, "upload", {{"comment", "c"}}}, files, t0);
  EXPECT_TRUE(first.inserted);
  EXPECT_EQ(first.kind, "upload");
  const auto again = db->enqueue_upload({"export/T1", a.id, "upload", {{"comment", "c"}}},
                                        {{"other.md", "Other", "x"}}, t0 + 1min);
  EXPECT_FALSE(again.inserted);
  EXPECT_EQ(again.id, first.id);
  const auto stored = db->outbox_files(first.id);
  ASSERT_EQ(stored.size(), 3u);
  for (std::size_t i = 0; i < files.size(); ++i) {
    EXPECT_EQ(stored[i].filename, files[i].filename);
    EXPECT_EQ(stored[i].title, files[i].title);
    EXPECT_EQ(stored[i].content, files[i].content) << files[i].filename;
  }
  EXPECT_TRUE(db->outbox_files(first.id + 1).empty());
  // The pending scan carries the item, not its bytes.
  EXPECT_EQ(db->pending_outbox(10).at(0).payload.dump().find("PNG"), std::string::npos);
}

TEST_P(store_test, pending_items_come_in_enqueue_order_and_leave_when_sent) {
  db->enqueue({"k3", std::nullopt, "post", {{"n", 1}}}, t0);
  db->enqueue({"k1", std::nullopt, "update", {{"n", 2}}}, t0);
  db->enqueue({"k2", std::nullopt, "ephemeral", {{"n", 3}}}, t0);
  auto pending = db->pending_outbox(10);
  ASSERT_EQ(pending.size(), 3u);
  EXPECT_EQ(pending[0].idempotency_key, "k3");
  EXPECT_EQ(pending[1].idempotency_key, "k1");
  EXPECT_EQ(pending[2].idempotency_key, "k2");
  EXPECT_EQ(db->pending_outbox(2).size(), 2u);

  nlohmann::json result = {{"channel", "C0INCIDENTS"}, {"ts", "1700000000.000500"}};
  EXPECT_TRUE(db->mark_sent(pending[0].id, result, t0 + 1s));
  EXPECT_FALSE(db->mark_sent(pending[0].id, result, t0 + 2s));  // at most once

  auto sent = db->find_outbox_item(pending[0].id);
  ASSERT_TRUE(sent);
  EXPECT_EQ(sent->state, outbox_state::sent);
  EXPECT_EQ(sent->sent_at, t0 + 1s);
  EXPECT_EQ(sent->attempts, 1);
  EXPECT_EQ(sent->result, result);

  pending = db->pending_outbox(10);
  ASSERT_EQ(pending.size(), 2u);
  EXPECT_EQ(pending[0].idempotency_key, "k1");
}

TEST_P(store_test, an_attempt_cut_short_by_a_crash_is_visible_after_restart) {
  auto item = db->enqueue({"k", std::nullopt, "post", {}}, t0);
  EXPECT_TRUE(db->begin_attempt(item.id, t0 + 1s));
  reopen();  // the process died during the Web API call
  auto pending = db->pending_outbox(10);
  ASSERT_EQ(pending.size(), 1u);
  EXPECT_EQ(pending[0].attempt_started_at, t0 + 1s);
  EXPECT_EQ(pending[0].attempts, 0);

  EXPECT_TRUE(db->mark_sent(item.id, {{"ts", "1.2"}}, t0 + 2s));
  EXPECT_FALSE(db->find_outbox_item(item.id)->attempt_started_at);
  EXPECT_FALSE(db->begin_attempt(item.id, t0 + 3s));
}

TEST_P(store_test, a_transient_failure_keeps_the_item_pending_and_a_final_one_ends_it) {
  auto item = db->enqueue({"k", std::nullopt, "post", {}}, t0);
  EXPECT_TRUE(db->mark_failed(item.id, "ratelimited", t0 + 1s, false));
  auto retried = db->find_outbox_item(item.id);
  EXPECT_EQ(retried->state, outbox_state::pending);
  EXPECT_EQ(retried->attempts, 1);
  EXPECT_EQ(retried->last_error, "ratelimited");
  EXPECT_EQ(retried->last_attempt_at, t0 + 1s);
  EXPECT_EQ(db->pending_outbox(10).size(), 1u);

  EXPECT_TRUE(db->mark_failed(item.id, "channel_not_found", t0 + 2s, true));
  auto failed = db->find_outbox_item(item.id);
  EXPECT_EQ(failed->state, outbox_state::failed);
  EXPECT_EQ(failed->attempts, 2);
  EXPECT_EQ(failed->closed_at, t0 + 2s);
  EXPECT_FALSE(failed->sent_at);
  EXPECT_TRUE(db->pending_outbox(10).empty());
  EXPECT_FALSE(db->mark_sent(item.id, {}, t0 + 3s));

  auto dropped = db->enqueue({"k2", std::nullopt, "post", {}}, t0);
  EXPECT_TRUE(db->abandon(dropped.id, "superseded", t0 + 4s));
  EXPECT_EQ(db->find_outbox_item(dropped.id)->state, outbox_state::abandoned);
  EXPECT_FALSE(db->abandon(dropped.id, "again", t0 + 5s));
}

// ---- transactions -----------------------------------------------------------------------------

TEST_P(store_test, a_transaction_that_throws_leaves_nothing) {
  EXPECT_THROW(db->transaction([&] {
    auto a = db->create_incident(sample_incident("Leaked key"), "U0REPORTER", t0, {});
    db->enqueue({"card:" + a.reference(), a.id, "post", {}}, t0);
    db->replace_pending_reminders(a.id, {{deadline_kind::initial, t0 + 72h, t0 + 48h, "24h-before"}});
    db->mark_event_processed("Ev1", t0);
    throw std::runtime_error("Slack said no");
  }),
               std::runtime_error);
  EXPECT_EQ(count_incidents(), 0u);
  EXPECT_EQ(raw_count("SELECT count(*) FROM audit_log"), 0);
  EXPECT_TRUE(db->pending_outbox(10).empty());
  EXPECT_FALSE(db->next_pending_reminder());
  EXPECT_TRUE(db->mark_event_processed("Ev1", t0));
}

TEST_P(store_test, a_committed_transaction_keeps_everything) {
  db->transaction([&] {
    auto a = db->create_incident(sample_incident("Leaked key"), "U0REPORTER", t0, {});
    db->enqueue({"card:" + a.reference(), a.id, "post", {}}, t0);
  });
  reopen();
  EXPECT_EQ(count_incidents(), 1u);
  EXPECT_EQ(db->audit_for(1).size(), 1u);
  EXPECT_EQ(db->pending_outbox(10).size(), 1u);
}

TEST_P(store_test, an_inner_transaction_that_throws_undoes_only_its_own_writes) {
  db->transaction([&] {
    db->create_incident(sample_incident("kept"), "U0REPORTER", t0, {});
    try {
      db->transaction([&] {
        db->create_incident(sample_incident("undone"), "U0REPORTER", t0, {});
        db->enqueue({"undone", std::nullopt, "post", {}}, t0);
        throw std::runtime_error("inner");
      });
    } catch (const std::runtime_error&) {
    }
    db->transaction([&] { db->enqueue({"kept", std::nullopt, "post", {}}, t0); });
  });
  auto all = db->list_incidents(false, 10);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].title, "kept");
  auto pending = db->pending_outbox(10);
  ASSERT_EQ(pending.size(), 1u);
  EXPECT_EQ(pending[0].idempotency_key, "kept");
  EXPECT_EQ(raw_count("SELECT count(*) FROM audit_log"), 1);
}

TEST_P(store_test, an_inner_failure_that_escapes_rolls_back_the_outer_transaction_too) {
  EXPECT_THROW(db->transaction([&] {
    db->create_incident(sample_incident("outer"), "U0REPORTER", t0, {});
    db->transaction([&] {
      db->create_incident(sample_incident("inner"), "U0REPORTER", t0, {});
      throw std::runtime_error("inner");
    });
  }),
               std::runtime_error);
  EXPECT_EQ(count_incidents(), 0u);
  // And the store is usable afterwards.
  db->create_incident(sample_incident("after"), "U0REPORTER", t0, {});
  EXPECT_EQ(count_incidents(), 1u);
}

// ---- obligation ledgers ------------------------------------------------------------------------

TEST_P(store_test, ledger_defaults_to_security_and_round_trips_in_a_transaction) {
  auto a = db->create_incident(sample_incident("A"), "U0REPORTER", t0, {});
  auto b = db->create_incident(sample_incident("B"), "U0REPORTER", t0, {});
  auto fresh = db->ledger_for(a.id);
  EXPECT_EQ(fresh.kind, "security");
  EXPECT_TRUE(fresh.completions.empty());
  EXPECT_FALSE(fresh.close_reason);

  obligation_ledger l = fresh;
  l.kind = "people_and_safety";
  l.close_reason = "duplicate";
  l.duplicate_of = b.id;
  l.completions = json::array({{{"obligation", "bulletin"}, {"by", "U1"}, {"at", "2026-11-30T14:00:00Z"}}});
  l.calls = json::array({{{"conflict", "c"}, {"choice", "o"}, {"by", "U2"}}});
  EXPECT_THROW(db->transaction([&] {
    db->save_ledger(l);
    throw std::runtime_error("rolled back");
  }),
               std::runtime_error);
  EXPECT_EQ(db->ledger_for(a.id).kind, "security");  // nothing kept from the failed transaction

  db->save_ledger(l);
  auto stored = db->ledger_for(a.id);
  EXPECT_EQ(stored.kind, "people_and_safety");
  EXPECT_EQ(stored.close_reason, "duplicate");
  EXPECT_EQ(stored.duplicate_of, b.id);
  EXPECT_EQ(stored.completions, l.completions);
  EXPECT_EQ(stored.calls, l.calls);
  EXPECT_EQ(db->duplicates_of(b.id), std::vector<std::int64_t>{a.id});
  l.kind = "bogus";
  EXPECT_THROW(db->save_ledger(l), store_error);  // the kind is checked by the schema
}

TEST_P(store_test, reminders_keep_their_obligation) {
  auto a = db->create_incident(sample_incident("A"), "U0REPORTER", t0, {});
  new_reminder r{deadline_kind::initial, t0 + 72h, t0 + 48h, "24 hours before"};
  r.obligation = "legal:gdpr-art33";
  db->replace_pending_reminders(a.id, {r});
  ASSERT_EQ(db->reminders_for(a.id).size(), 1u);
  EXPECT_EQ(db->reminders_for(a.id)[0].obligation, "legal:gdpr-art33");
}

// ---- reminders --------------------------------------------------------------------------------

TEST_P(store_test, reminders_replace_next_due_sent_once_and_cancel) {
  auto a = db->create_incident(sample_incident("A"), "U0REPORTER", t0, {});
  auto b = db->create_incident(sample_incident("B"), "U0REPORTER", t0, {});
  const auto deadline = t0 + 72h;
  auto inserted =
      db->replace_pending_reminders(a.id, {{deadline_kind::initial, deadline, deadline - 24h, "24h-before"},
                                           {deadline_kind::initial, deadline, deadline, "at-deadline"},
                                           {deadline_kind::initial, deadline, deadline + 4h, "overdue+4h"}});
  ASSERT_EQ(inserted.size(), 3u);
  EXPECT_EQ(inserted[0].state, reminder_state::pending);
  db->replace_pending_reminders(b.id, {{deadline_kind::update, t0 + 24h, t0 + 12h, "12h-before"}});

  auto next = db->next_pending_reminder();
  ASSERT_TRUE(next);
  EXPECT_EQ(next->incident_id, b.id);
  EXPECT_EQ(next->fire_at, t0 + 12h);
  EXPECT_EQ(next->kind, deadline_kind::update);

  EXPECT_TRUE(db->due_reminders(t0 + 12h - 1s, 10).empty());
  auto due = db->due_reminders(deadline - 24h, 10);
  ASSERT_EQ(due.size(), 2u);
  EXPECT_EQ(due[0].step, "12h-before");
  EXPECT_EQ(due[1].step, "24h-before");
  EXPECT_EQ(db->due_reminders(deadline - 24h, 1).size(), 1u);

  EXPECT_TRUE(db->mark_reminder_sent(due[1].id, deadline - 24h + 30s, 30s));
  EXPECT_FALSE(db->mark_reminder_sent(due[1].id, deadline - 24h + 31s, 31s));  // at most once

  // The deadline moved: pending ones are replaced, the one already sent stays sent.
  const auto moved = t0 + 48h;
  db->replace_pending_reminders(a.id, {{deadline_kind::initial, moved, moved, "at-deadline"}});
  auto for_a = db->reminders_for(a.id);
  ASSERT_EQ(for_a.size(), 4u);
  int pending = 0, sent = 0, cancelled = 0;
  for (const auto& r : for_a) {
    pending += r.state == reminder_state::pending;
    sent += r.state == reminder_state::sent;
    cancelled += r.state == reminder_state::cancelled;
    if (r.state == reminder_state::sent) {
      EXPECT_EQ(r.step, "24h-before");
      EXPECT_EQ(r.sent_at, deadline - 24h + 30s);
      EXPECT_EQ(r.late_by, 30s);
    }
  }
  EXPECT_EQ(pending, 1);
  EXPECT_EQ(sent, 1);
  EXPECT_EQ(cancelled, 2);

  EXPECT_EQ(db->cancel_reminders(a.id), 1u);
  EXPECT_EQ(db->cancel_reminders(a.id), 0u);
  next = db->next_pending_reminder();
  ASSERT_TRUE(next);
  EXPECT_EQ(next->incident_id, b.id);
  db->cancel_reminders(b.id);
  EXPECT_FALSE(db->next_pending_reminder());
}

TEST_P(store_test, a_cancelled_reminder_is_never_marked_sent) {
  auto a = db->create_incident(sample_incident("A"), "U0REPORTER", t0, {});
  auto r = db->replace_pending_reminders(a.id, {{deadline_kind::resolution, t0, t0, "at-deadline"}});
  db->cancel_reminders(a.id);
  EXPECT_FALSE(db->mark_reminder_sent(r.at(0).id, t0, 0s));
  EXPECT_TRUE(db->due_reminders(t0 + 1h, 10).empty());
}

// ---- migrations -------------------------------------------------------------------------------

TEST_P(store_test, a_fresh_store_reaches_the_latest_schema_and_reopening_does_not_migrate_again) {
  EXPECT_EQ(db->schema_version(), be->latest_schema_version());
  EXPECT_GE(be->latest_schema_version(), 1);
  auto applied = raw_count("SELECT count(*) FROM schema_migrations");
  EXPECT_EQ(applied, be->latest_schema_version());
  db->create_incident(sample_incident("A"), "U0REPORTER", t0, {});
  reopen();
  reopen();
  EXPECT_EQ(raw_count("SELECT count(*) FROM schema_migrations"), applied);
  EXPECT_EQ(db->schema_version(), be->latest_schema_version());
  EXPECT_EQ(count_incidents(), 1u);
}

TEST_P(store_test, a_store_from_a_newer_flare_is_refused_with_both_versions) {
  db.reset();
  ASSERT_EQ(raw_exec("INSERT INTO schema_migrations VALUES (99, 'from the future', 0)"), "");
  try {
    be->open();
    FAIL() << "opened a store with a newer schema";
  } catch (const store_error& e) {
    EXPECT_THAT(e.what(), HasSubstr(be->name()));
    EXPECT_THAT(e.what(), HasSubstr("schema version 99"));
    EXPECT_THAT(e.what(), HasSubstr("(" + std::to_string(be->latest_schema_version()) + ")"));
  }
}

TEST(store_migrations, a_new_migration_is_applied_once_and_a_failing_one_leaves_no_trace) {
  temp_dir dir;
  auto path = dir.file("flare.db");
  const sqlite_options options;
  std::vector<schema_migration> list(sqlite_store::schema_migrations().begin(),
                                     sqlite_store::schema_migrations().end());
  const int v1 = static_cast<int>(list.size());
  sqlite_store::open(path, options, list)
      ->create_incident(sample_incident("before the upgrade"), "U0REPORTER", t0, {});

  list.push_back({v1 + 1, "incident tags",
                  "CREATE TABLE incident_tags (incident_id INTEGER NOT NULL REFERENCES "
                  "incidents (id), tag TEXT NOT NULL) STRICT;"
                  "INSERT INTO incident_tags SELECT id, 'legacy' FROM incidents;"});
  {
    auto db = sqlite_store::open(path, options, list);
    EXPECT_EQ(db->schema_version(), v1 + 1);
    EXPECT_EQ(db->list_incidents(false, 10).size(), 1u);
  }
  EXPECT_EQ(sqlite_raw_count(path, "SELECT count(*) FROM incident_tags"), 1);
  // Opening again does not run it again (it would duplicate the tag rows).
  sqlite_store::open(path, options, list);
  EXPECT_EQ(sqlite_raw_count(path, "SELECT count(*) FROM incident_tags"), 1);

  // A migration that fails half-way is rolled back whole; the store stays at the last version.
  list.push_back({v1 + 2, "broken", "CREATE TABLE half_done (x INTEGER); SELECT no_such_function();"});
  try {
    sqlite_store::open(path, options, list);
    FAIL() << "a failing migration was accepted";
  } catch (const store_error& e) {
    EXPECT_THAT(e.what(), HasSubstr(path));
    EXPECT_THAT(e.what(), HasSubstr("no_such_function"));
  }
  EXPECT_EQ(sqlite_raw_count(path, "SELECT max(version) FROM schema_migrations"), v1 + 1);
  EXPECT_EQ(sqlite_raw_count(path, "SELECT count(*) FROM sqlite_schema WHERE name = 'half_done'"), 0);

  // Migrations out of order are a programming error, caught before touching the file.
  std::vector<schema_migration> gap{list[0], {v1 + 5, "gap", "SELECT 1;"}};
  EXPECT_THROW(sqlite_store::open(path, options, gap), store_error);
}

TEST(store_open, a_file_that_is_not_a_database_is_refused_by_name) {
  temp_dir dir;
  auto path = dir.file("notes.db");
  {
    std::ofstream out(path);
    for (int i = 0; i < 100; ++i) out << "these are not the pages you are looking for\n";
  }
  try {
    sqlite_store::open(path);
    FAIL() << "opened a text file";
  } catch (const store_error& e) {
    EXPECT_THAT(e.what(), HasSubstr(path));
    EXPECT_THAT(e.what(), HasSubstr("not a SQLite database"));
  }
}

TEST(store_open, another_programs_database_is_left_alone) {
  temp_dir dir;
  auto path = dir.file("other.db");
  sqlite3* raw = nullptr;
  sqlite3_open(path.c_str(), &raw);
  sqlite3_exec(raw, "CREATE TABLE recipes (name TEXT)", nullptr, nullptr, nullptr);
  sqlite3_close(raw);
  try {
    sqlite_store::open(path);
    FAIL() << "opened a foreign database";
  } catch (const store_error& e) {
    EXPECT_THAT(e.what(), HasSubstr(path));
    EXPECT_THAT(e.what(), HasSubstr("not a flare store"));
  }
  EXPECT_EQ(sqlite_raw_count(path, "SELECT count(*) FROM sqlite_schema WHERE name = 'incidents'"), 0);
}

TEST(store_open, an_in_memory_store_works_for_tests) {
  auto db = sqlite_store::open(":memory:");
  auto a = db->create_incident(sample_incident("A"), "U0REPORTER", t0, {});
  EXPECT_EQ(a.reference(), "INC-1");
  EXPECT_TRUE(db->integrity_ok());
}

// ---- backup -----------------------------------------------------------------------------------

TEST_F(sqlite_store_test, a_backup_taken_while_open_is_a_valid_copy) {
  for (int i = 0; i < 20; ++i) {
    db->transaction([&] {
      auto a = db->create_incident(sample_incident("incident " + std::to_string(i)), "U0REPORTER", t0, {});
      db->enqueue({"card:" + a.reference(), a.id, "post", {{"blocks", std::string(500, 'x')}}}, t0);
    });
  }
  auto copy_path = dir.file("backups/flare-2026-11-22.db");
  db->backup(copy_path);
  // The store keeps working, and a later backup replaces the earlier one.
  db->create_incident(sample_incident("after the backup"), "U0REPORTER", t0, {});
  EXPECT_TRUE(fs::exists(copy_path));

  auto copy = sqlite_store::open(copy_path);
  EXPECT_TRUE(copy->integrity_ok());
  EXPECT_EQ(copy->schema_version(), sqlite_store::latest_schema_version());
  EXPECT_EQ(copy->list_incidents(false, 100).size(), 20u);
  EXPECT_EQ(copy->pending_outbox(100).size(), 20u);
  copy.reset();

  db->backup(copy_path);
  EXPECT_EQ(sqlite_store::open(copy_path)->list_incidents(false, 100).size(), 21u);
  for (const auto& entry : fs::directory_iterator(dir.file("backups"))) {
    EXPECT_THAT(entry.path().filename().string(), ::testing::Not(HasSubstr(".tmp-")));
  }
}

TEST_F(sqlite_store_test, a_backup_inside_a_transaction_or_onto_the_store_itself_is_refused) {
  db->create_incident(sample_incident("A"), "U0REPORTER", t0, {});
  EXPECT_THROW(db->transaction([&] { db->backup(dir.file("b.db")); }), store_error);
  EXPECT_THROW(db->backup(path), store_error);
  EXPECT_THROW(db->backup(dir.file("data/../data/flare.db")), store_error);
  EXPECT_TRUE(db->integrity_ok());
  reopen();
  EXPECT_EQ(count_incidents(), 1u);
}

// ---- durability cost --------------------------------------------------------------------------

// Not an assertion, a measurement: what synchronous=FULL costs per create-incident transaction
// (incident + audit + outbox item) on this machine, printed for the record.
TEST(store_durability, measure_full_against_normal_synchronous) {
  temp_dir dir;
  constexpr int n = 200;
  auto measure = [&](synchronous_mode mode, const std::string& name) {
    auto db = sqlite_store::open(dir.file(name), {mode, std::chrono::milliseconds{5000}});
    auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < n; ++i) {
      db->transaction([&] {
        auto a = db->create_incident(sample_incident("incident " + std::to_string(i)), "U0REPORTER", t0,
                                     {{"i", i}});
        db->enqueue({"card:" + a.reference(), a.id, "post", {}}, t0);
      });
    }
    auto elapsed = std::chrono::steady_clock::now() - start;
    return std::chrono::duration<double, std::micro>(elapsed).count() / n;
  };
  double full = measure(synchronous_mode::full, "full.db");
  double normal = measure(synchronous_mode::normal, "normal.db");
  std::printf(
      "[ measured ] create incident + audit + outbox transaction, %d each: "
      "synchronous=FULL %.0f us, synchronous=NORMAL %.0f us\n",
      n, full, normal);
  RecordProperty("full_us", std::to_string(full));
  RecordProperty("normal_us", std::to_string(normal));
  SUCCEED();
}

}  // namespace
}  // namespace flare::store
