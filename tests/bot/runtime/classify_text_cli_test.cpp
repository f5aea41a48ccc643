#include "bot/runtime/classify_text_cli.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <sstream>

#include "policy/report_signals.hpp"

namespace flare {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

struct run_result {
  int code;
  std::string out;
  std::string err;
};

run_result run(const std::string& input, const std::vector<std::string>& args = {},
               const policy::report_lexicon& lexicon = policy::default_report_lexicon()) {
  std::istringstream in(input);
  std::ostringstream out, err;
  const int code = run_classify_text_cli(args, in, out, err, lexicon);
  return {code, out.str(), err.str()};
}

TEST(classify_text_cli, prints_category_sensitivity_kind_and_trigger_words_per_line) {
  const auto r =
      run("thanks!\nmy team lead keeps sending me unwanted flirty messages\n\nI got a phishy e-mail\n");
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.err, "");
  EXPECT_THAT(r.out, HasSubstr("1: not a report\n"));
  EXPECT_THAT(r.out, HasSubstr("2: report, sensitive (private), kind people and safety\n"));
  EXPECT_THAT(r.out, HasSubstr("    harassment "));
  EXPECT_THAT(r.out, HasSubstr("unwanted"));
  EXPECT_THAT(r.out, HasSubstr("4: report, not sensitive (public), kind security\n"));
  EXPECT_THAT(r.out, HasSubstr("    phishing 1.00: phishy"));
  EXPECT_THAT(r.out, Not(HasSubstr("3:")));  // empty lines are skipped, numbering follows the input
}

TEST(classify_text_cli, json_prints_one_object_per_line) {
  const auto r = run("my password was stolen\nok\n", {"--json"});
  EXPECT_EQ(r.code, 0);
  std::istringstream lines(r.out);
  std::string line;
  std::getline(lines, line);
  const auto first = nlohmann::json::parse(line);
  EXPECT_EQ(first["line"], 1);
  EXPECT_EQ(first["is_report"], true);
  EXPECT_EQ(first["sensitive"], false);
  EXPECT_EQ(first["kind"], "security");
  EXPECT_EQ(first["categories"][0]["name"], "exposed credentials");
  EXPECT_EQ(first["categories"][0]["triggers"], (nlohmann::json{"password", "stolen"}));
  std::getline(lines, line);
  EXPECT_EQ(nlohmann::json::parse(line)["is_report"], false);
}

TEST(classify_text_cli, invalid_utf8_keeps_the_json_valid) {
  const auto r = run("phishing \xff\xfe mail\n", {"--json"});
  EXPECT_EQ(r.code, 0);
  EXPECT_NO_THROW(nlohmann::json::parse(r.out));
}

TEST(classify_text_cli, uses_the_configured_lexicon) {
  const auto lexicon =
      policy::configured_lexicon({{"crypto miner", {"xmrig"}}}, {{"legal", {"lawsuit"}}}, 1.0);
  const auto r = run("they threaten a lawsuit\n", {}, lexicon);
  EXPECT_THAT(r.out, HasSubstr("    legal 1.00 sensitive: lawsuit"));
}

TEST(classify_text_cli, unknown_argument_is_a_usage_error) {
  const auto r = run("", {"--verbose"});
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("unknown argument '--verbose'"));
  EXPECT_THAT(r.err, HasSubstr("usage: flare classify-text"));
}

}  // namespace
}  // namespace flare
