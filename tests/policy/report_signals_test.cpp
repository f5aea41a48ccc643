#include "policy/report_signals.hpp"

#include <gtest/gtest.h>

#include "bot/ops/config.hpp"

namespace flare::policy {
namespace {

report_matcher default_matcher() {
  const auto cfg = default_config();
  return report_matcher(cfg.signals, cfg.sensitive_categories, cfg.intake_threshold);
}

using names = std::vector<std::string>;

bool contains(const names& list, const std::string& name) {
  return std::find(list.begin(), list.end(), name) != list.end();
}

// Response policy, "Incident Detection": each suspicious activity employees watch for is
// recognised with the config's defaults (an empty table: the lexicon's own).
TEST(report_signals, recognises_each_policy_signal_with_config_defaults) {
  const auto m = default_matcher();
  const std::pair<const char*, const char*> cases[] = {
      {"Got an ANTIVIRUS warning on my laptop", "antivirus warning"},
      {"The build server rebooted unexpectedly twice", "unexpected reboot"},
      {"the db is suddenly slow", "sudden performance degradation"},
      {"I got a password reset e-mail I never asked for", "unrequested password reset"},
      {"our landing page was defaced!", "website modification or defacement"},
      {"nmap shows a new open port 8443 on bastion", "new open network port"},
      {"lots of failed logins for root, then I was locked out", "repeated login failures or lockouts"},
      {"looks like a DDoS on the API", "denial of service"},
      {"Phishing mail pretending to be IT", "phishing"},
      {"I lost my laptop on the train", "lost or stolen device"},
  };
  for (const auto& [text, signal] : cases) {
    const auto got = m.match(text);
    EXPECT_TRUE(got.is_report) << text;
    EXPECT_TRUE(contains(got.signals, signal)) << text;
    EXPECT_FALSE(got.sensitive()) << text;
  }
  EXPECT_FALSE(m.match("lunch is ready").is_report);
}

TEST(report_signals, signals_and_sensitive_categories_split_by_sensitivity) {
  const auto m = default_matcher();
  const auto got = m.match("We got a phishing mail and then a password reset notification");
  EXPECT_EQ(got.signals, (names{"phishing", "unrequested password reset"}));
  EXPECT_TRUE(got.sensitive_categories.empty());
  const auto harassment = m.match("a colleague keeps harassing me");
  EXPECT_TRUE(harassment.sensitive());
  EXPECT_TRUE(contains(harassment.sensitive_categories, "harassment"));
  EXPECT_EQ(harassment.kind, incident_kind::people_and_safety);
}

TEST(report_signals, words_inside_other_words_do_not_match) {
  const auto m = default_matcher();
  EXPECT_FALSE(m.match("a sophisticated caching layer").is_report);
  EXPECT_FALSE(m.match("the reopen portal").is_report);
  EXPECT_FALSE(m.match("insensitive comment about tabs").is_report);
}

// Config `intake.signals.<name>` / `intake.sensitive.<name>` add to the lexicon.
TEST(report_signals, config_tables_add_phrases_and_categories) {
  const report_matcher m({{"crypto miner", {"xmrig", "coin ... miner"}}, {"phishing", {"bad link"}}},
                         {{"legal", {"lawsuit"}}});
  const auto got = m.match("found XMRig running; might end in a lawsuit");
  EXPECT_TRUE(contains(got.signals, "crypto miner"));
  EXPECT_EQ(got.sensitive_categories, names{"legal"});
  EXPECT_TRUE(contains(m.match("coin bitcoin miner on the box").signals, "crypto miner"));
  // Added to the existing category, whose own patterns still work.
  EXPECT_TRUE(contains(m.match("a bad link").signals, "phishing"));
  EXPECT_TRUE(contains(m.match("phishing").signals, "phishing"));
}

TEST(report_signals, a_sensitive_table_makes_an_existing_category_sensitive) {
  const report_matcher m({}, {{"phishing", {}}});
  EXPECT_TRUE(m.match("phishing mail").sensitive());
}

TEST(report_signals, threshold_is_configurable) {
  const report_matcher strict({}, {}, 3.0);
  EXPECT_FALSE(strict.match("phishing").is_report);
  EXPECT_TRUE(report_matcher({}, {}, 1.0).match("phishing").is_report);
}

}  // namespace
}  // namespace flare::policy
