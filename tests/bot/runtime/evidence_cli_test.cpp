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

namespace flare {
namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;

class evidence_cli_test : public ::testing::Test {
 protected:
  evidence_cli_test()
      : dir_(make_dir()),
        store_(store::sqlite_store::open((dir_ / "flare.db").string())),
        calendar_(tables_.calendar) {
    store::new_incident f;
    f.title = "Leaked API key";
    f.reporter = "U_REP";
    f.channel = "C_INCIDENTS";
    f.facts = policy::to_json(policy::facts{});
    store_->create_incident(f, "U_REP", *policy::parse_rfc3339("2026-11-18T10:00:00Z"),
                            {{"inputs", {{"title", f.title}, {"sensitive", false}}}});
  }
  ~evidence_cli_test() override {
    store_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  static std::filesystem::path make_dir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "flare-evidence-cli-XXXXXX").string();
    if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    return pattern;
  }
  int export_cli(const std::vector<std::string>& args) {
    out_.str("");
    err_.str("");
    return run_export_cli(args, out_, err_, *store_, tables_, calendar_,
                          *policy::parse_rfc3339("2026-11-20T10:00:00Z"));
  }
  static std::string read(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
  }

  std::filesystem::path dir_;
  std::unique_ptr<store::sqlite_store> store_;
  policy::tables tables_;
  policy::business_calendar calendar_;
  std::ostringstream out_, err_;
};

TEST_F(evidence_cli_test, export_writes_the_markdown_record_and_the_json_one_by_extension) {
  const auto md = dir_ / "INC-1.md";
  ASSERT_EQ(export_cli({"INC-1", "--out", md.string()}), 0) << err_.str();
  EXPECT_NE(read(md).find("# Incident record INC-1: Leaked API key"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(md.string() + ".partial"));
  const auto js = dir_ / "INC-1.json";
  ASSERT_EQ(export_cli({"--out", js.string(), "1"}), 0) << err_.str();
  EXPECT_EQ(json::parse(read(js))["incident"]["reference"], "INC-1");
}

TEST_F(evidence_cli_test, export_names_what_is_wrong) {
  EXPECT_EQ(export_cli({"INC-1"}), 2);
  EXPECT_NE(err_.str().find("missing --out"), std::string::npos);
  EXPECT_EQ(export_cli({"banana", "--out", "-"}), 2);
  EXPECT_NE(err_.str().find("'banana' is not an incident ID"), std::string::npos);
  EXPECT_EQ(export_cli({"INC-1", "--out", "-", "--format", "pdf"}), 2);
  EXPECT_EQ(export_cli({"INC-9", "--out", "-"}), 1);
  EXPECT_NE(err_.str().find("INC-9 does not exist"), std::string::npos);
}

TEST_F(evidence_cli_test, digest_writes_markdown_and_a_png_for_the_week) {
  std::ostringstream out, err;
  const auto dir = dir_ / "digests";
  ASSERT_EQ(
      run_digest_cli({"--since", "2026-11-16", "--out", dir.string()}, out, err, *store_, tables_, calendar_),
      0)
      << err.str();
  const std::string md = read(dir / "digest-2026-11-16.md");
  EXPECT_NE(md.find("# Weekly compliance digest"), std::string::npos);
  EXPECT_NE(md.find("| total | 1 | 0 |"), std::string::npos) << md;
  EXPECT_EQ(read(dir / "digest-2026-11-16.png").substr(0, 4), "\x89PNG");
  EXPECT_EQ(
      run_digest_cli({"--since", "yesterday", "--out", dir.string()}, out, err, *store_, tables_, calendar_),
      2);
  EXPECT_EQ(run_digest_cli({"--since", "2026-11-16"}, out, err, *store_, tables_, calendar_), 2);
}

}  // namespace
}  // namespace flare
