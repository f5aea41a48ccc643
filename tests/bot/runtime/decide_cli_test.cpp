#include "bot/runtime/decide_cli.hpp"

#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace flare {
namespace {

struct cli_run {
  int code;
  std::string out;
  std::string err;
};

cli_run run(const std::vector<std::string>& args, const std::string& input = "") {
  std::istringstream in(input);
  std::ostringstream out, err;
  const int code = run_decide_cli(args, in, out, err, policy::tables{}, policy::business_calendar{});
  return {code, out.str(), err.str()};
}

TEST(decide_cli, prints_the_decision_for_facts_on_stdin) {
  const cli_run r = run({}, R"({"severity":"critical","impact_confirmed_at":"2026-11-20T10:00:00Z",
                               "users_affected":"confirmed","user_action_required":true,
                               "fix_available":true})");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(r.err.empty());
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["public_disclosure"]["required"], true);
  EXPECT_EQ(j["public_disclosure"]["ready"], true);
  EXPECT_EQ(j["direct_notification"]["required"], true);
  EXPECT_EQ(j["customer_notifications"]["initial_due"], "2026-11-22T10:00:00Z");
  EXPECT_EQ(j["policy_version"], policy::policy_version(policy::tables{}));
  EXPECT_NE(r.out.find("\n  \"customer_notifications\""), std::string::npos) << "2-space indent";
}

TEST(decide_cli, reads_facts_from_a_file) {
  const std::string path = ::testing::TempDir() + "decide_cli_test_facts.json";
  {
    std::ofstream file(path);
    file << R"({"severity":"low","users_affected":"none","exploited":"none"})";
  }
  const cli_run r = run({"--facts", path});
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["public_disclosure"]["required"], false);
  EXPECT_EQ(j["customer_notifications"]["scheduled"], false);
}

TEST(decide_cli, bad_fact_names_the_field_and_exits_2) {
  const cli_run r = run({}, R"({"users_affected":"maybe"})");
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(r.out.empty());
  EXPECT_NE(r.err.find("users_affected"), std::string::npos) << r.err;
}

TEST(decide_cli, unreadable_file_exits_2) {
  const cli_run r = run({"--facts", ::testing::TempDir() + "no/such/facts.json"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("facts.json"), std::string::npos) << r.err;
}

TEST(decide_cli, bad_arguments_print_usage_and_exit_2) {
  const cli_run r = run({"--fact", "x.json"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("usage"), std::string::npos) << r.err;
}

TEST(decide_cli, invalid_json_exits_2) {
  const cli_run r = run({}, "{not json");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("JSON"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace flare
