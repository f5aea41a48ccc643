// `flare migrate-store`: a SQLite store copied into PostgreSQL, everything and verified.
#include <stdlib.h>  // NOLINT(modernize-deprecated-headers): mkdtemp is POSIX, declared here

#include <filesystem>
#include <map>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "bot/store/pg_store.hpp"
#include "bot/store/sqlite_store.hpp"
#include "tests/support/pg_test_cluster.hpp"

namespace flare::store {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using ::testing::HasSubstr;

constexpr sys_seconds t0{std::chrono::seconds{1795338000}};

class pg_import_test : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why_not;
    auto found = flare::testing::test_pg_server(&why_not);
    if (!found) GTEST_SKIP() << why_not;
    database = std::make_unique<flare::testing::pg_test_database>(*found);
    std::string pattern = (fs::temp_directory_path() / "flare-import-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir = pattern;
    sqlite_path = (dir / "flare.db").string();
  }
  void TearDown() override {
    std::error_code ignored;
    if (!dir.empty()) fs::remove_all(dir, ignored);
  }
  std::unique_ptr<pg_store> target() {
    pg_options o;
    o.password = database->password();
    return pg_store::open(database->url(), o);
  }

  std::unique_ptr<flare::testing::pg_test_database> database;
  fs::path dir;
  std::string sqlite_path;
};

TEST_F(pg_import_test, every_table_is_copied_with_its_ids_and_numbering_carries_on) {
  {
    auto lite = sqlite_store::open(sqlite_path);
    for (int i = 0; i < 5; ++i) {
      new_incident f;
      f.title = "incident " + std::to_string(i);
      f.reporter = "U1";
      f.channel = "C1";
      f.sensitive = i == 2;
      f.facts = {{"customer_data_exposed", i % 2 == 0}, {"note", "naïve — ünïcode"}};
      auto inc = lite->create_incident(f, "U1", t0 + std::chrono::seconds(i), {{"i", i}});
      lite->enqueue({"card:" + inc.reference(), inc.id, "post", {{"text", "card"}}}, t0);
      lite->replace_pending_reminders(
          inc.id, {{deadline_kind::initial, t0 + 48h, t0 + 24h, "24 hours before", "bulletin"}});
      obligation_ledger l;
      l.incident_id = inc.id;
      l.completions = json::array({{{"obligation", "bulletin"}, {"by", "U1"}}});
      lite->save_ledger(l);
    }
    // An upload's files (schema 8), bytes that are not text included.
    lite->enqueue_upload({"export/T1", 1, "upload", {{"comment", "c"}}},
                         {{"chart.png", "Chart", std::string("\x89PNG\0\xff", 6)}}, t0);
    auto first = lite->pending_outbox(1).at(0);
    ASSERT_TRUE(lite->mark_sent(first.id, {{"ts", "1.2"}}, t0 + 1s));
    const new_delivery d{inbox_key_for_event("Ev1"), "env", "events_api", {{"event_id", "Ev1"}}};
    lite->record_deliveries(std::span(&d, 1), t0);
    lite->mark_event_processed("Ev1", t0);
  }

  auto pg = target();
  const auto copies = pg->import_sqlite(sqlite_path);
  std::map<std::string, std::int64_t> rows;
  for (const auto& c : copies) rows[c.table] = c.rows;
  EXPECT_EQ(rows["incidents"], 5);
  EXPECT_EQ(rows["audit_log"], 5);
  EXPECT_EQ(rows["outbox"], 6);
  EXPECT_EQ(rows["outbox_files"], 1);
  EXPECT_EQ(rows["reminders"], 5);
  EXPECT_EQ(rows["incident_obligations"], 5);
  EXPECT_EQ(rows["inbox"], 1);
  EXPECT_EQ(rows["processed_events"], 1);

  auto third = pg->find_incident(3);
  ASSERT_TRUE(third);
  EXPECT_EQ(third->title, "incident 2");
  EXPECT_TRUE(third->sensitive);
  EXPECT_EQ(third->facts["note"], "naïve — ünïcode");
  EXPECT_EQ(pg->pending_outbox(10).size(), 5u) << "what was sent stays sent";
  const auto files = pg->outbox_files(6);
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0].content, std::string("\x89PNG\0\xff", 6));
  EXPECT_EQ(pg->ledger_for(3).completions.at(0)["obligation"], "bulletin");
  EXPECT_FALSE(pg->mark_event_processed("Ev1", t0)) << "redeliveries are still recognised";
  EXPECT_EQ(pg->create_incident({"after the move", "U1"}, "U1", t0, {}).reference(), "INC-6");
  EXPECT_EQ(pg->reminders_for(1).at(0).obligation, "bulletin");
}

TEST_F(pg_import_test, a_store_that_is_not_empty_is_refused_and_left_alone) {
  sqlite_store::open(sqlite_path)->create_incident({"old", "U1"}, "U1", t0, {});
  auto pg = target();
  pg->create_incident({"already here", "U1"}, "U1", t0, {});
  try {
    pg->import_sqlite(sqlite_path);
    FAIL() << "copied into a store that has incidents";
  } catch (const store_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("empty store only"));
  }
  EXPECT_EQ(pg->row_count("incidents"), 1);
  EXPECT_EQ(pg->find_incident(1)->title, "already here");
}

TEST_F(pg_import_test, a_missing_source_is_named) {
  auto pg = target();
  EXPECT_THROW(pg->import_sqlite((dir / "nope.db").string()), store_error);
  EXPECT_FALSE(fs::exists(dir / "nope.db")) << "no empty store is created in its place";
}

}  // namespace
}  // namespace flare::store
