// `flare export` and `flare digest` (issue 12) against a real store in a temporary directory.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "bot/runtime/digest_cli.hpp"
#include "bot/runtime/export_cli.hpp"
#include "bot/store/sqlite_store.hpp"
#include "policy/facts_json.hpp"
#include "policy/rfc3339.hpp"
#include "tests/support/temp_dir.hpp"

namespace flare {
namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;

class evidence_cli_test : public ::testing::Test {
 protected:
  evidence_cli_test()
      : dir("flare-evidence-cli"),
        db(store::sqlite_store::open((dir.path() / "flare.db").string())),
        calendar(tables.calendar) {
    store::new_incident f;
    f.title = "Leaked API key";
    f.reporter = "U_REP";
    f.channel = "C_INCIDENTS";
    f.facts = policy::to_json(policy::facts{});
    db->create_incident(f, "U_REP", *policy::parse_rfc3339("2026-11-18T10:00:00Z"),
                        {{"inputs", {{"title", f.title}, {"sensitive", false}}}});
  }
  ~evidence_cli_test() override { db.reset(); }
  int export_cli(const std::vector<std::string>& args) {
    cli_out.str("");
    cli_err.str("");
    return run_export_cli(args, cli_out, cli_err, *db, tables, calendar,
                          *policy::parse_rfc3339("2026-11-20T10:00:00Z"));
  }
  static std::string read(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
  }

  flare::testing::temp_dir dir;  // removed last, after the store is closed
  std::unique_ptr<store::sqlite_store> db;
  policy::tables tables;
  policy::business_calendar calendar;
  std::ostringstream cli_out, cli_err;
};

TEST_F(evidence_cli_test, export_writes_the_markdown_record_and_the_json_one_by_extension) {
  const auto md = dir.path() / "INC-1.md";
  ASSERT_EQ(export_cli({"INC-1", "--out", md.string()}), 0) << cli_err.str();
  EXPECT_NE(read(md).find("# Incident record INC-1: Leaked API key"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(md.string() + ".partial"));
  const auto js = dir.path() / "INC-1.json";
  ASSERT_EQ(export_cli({"--out", js.string(), "1"}), 0) << cli_err.str();
  EXPECT_EQ(json::parse(read(js))["incident"]["reference"], "INC-1");
}

TEST_F(evidence_cli_test, export_names_what_is_wrong) {
  EXPECT_EQ(export_cli({"INC-1"}), 2);
  EXPECT_NE(cli_err.str().find("missing --out"), std::string::npos);
  EXPECT_EQ(export_cli({"banana", "--out", "-"}), 2);
  EXPECT_NE(cli_err.str().find("'banana' is not an incident ID"), std::string::npos);
  EXPECT_EQ(export_cli({"INC-1", "--out", "-", "--format", "pdf"}), 2);
  EXPECT_EQ(export_cli({"INC-9", "--out", "-"}), 1);
  EXPECT_NE(cli_err.str().find("INC-9 does not exist"), std::string::npos);
}

TEST_F(evidence_cli_test, digest_writes_markdown_and_a_png_for_the_week) {
  std::ostringstream out, err;
  const auto out_dir = dir.path() / "digests";
  ASSERT_EQ(
      run_digest_cli({"--since", "2026-11-16", "--out", out_dir.string()}, out, err, *db, tables, calendar),
      0)
      << err.str();
  const std::string md = read(out_dir / "digest-2026-11-16.md");
  EXPECT_NE(md.find("# Weekly compliance digest"), std::string::npos);
  EXPECT_NE(md.find("| total | 1 | 0 |"), std::string::npos) << md;
  EXPECT_EQ(read(out_dir / "digest-2026-11-16.png").substr(0, 4), "\x89PNG");
  EXPECT_EQ(
      run_digest_cli({"--since", "yesterday", "--out", out_dir.string()}, out, err, *db, tables, calendar),
      2);
  EXPECT_EQ(run_digest_cli({"--since", "2026-11-16"}, out, err, *db, tables, calendar), 2);
}

}  // namespace
}  // namespace flare
