#include "policy/report_signals.hpp"

#include <gtest/gtest.h>

#include "bot/ops/config.hpp"

namespace flare::policy {
namespace {

report_matcher default_matcher() {
  const auto cfg = default_config();
  return report_matcher(cfg.signals, cfg.sensitive_categories);
}

using names = std::vector<std::string>;

struct signal_case {
  const char* text;
  names signals;
  names sensitive;
};

// Response policy, "Incident Detection": each listed activity is recognised, and nothing else.
TEST(report_signals, recognises_each_policy_signal_in_default_tables) {
  const auto m = default_matcher();
  const signal_case cases[] = {
      {"Got an ANTIVIRUS warning on my laptop", {"antivirus warning"}, {}},
      {"The build server rebooted unexpectedly twice", {"unexpected reboot"}, {}},
      {"the db is suddenly slow", {"sudden performance degradation"}, {}},
      {"I got a password reset e-mail I never asked for", {"unrequested password reset"}, {}},
      {"our landing page was defaced!", {"website modification or defacement"}, {}},
      {"nmap shows a new open port 8443 on bastion", {"new open network port"}, {}},
      {"lots of failed logins for root, then I was locked out", {"repeated login failures or lockouts"}, {}},
      {"looks like a DDoS on the API", {"denial of service"}, {}},
      {"Phishing mail pretending to be IT", {"phishing"}, {}},
      {"I lost my laptop on the train", {"lost or stolen device"}, {}},
      {"lunch is ready", {}, {}},
  };
  for (const auto& c : cases) {
    const auto got = m.match(c.text);
    EXPECT_EQ(got.signals, c.signals) << c.text;
    EXPECT_EQ(got.sensitive_categories, c.sensitive) << c.text;
  }
}

TEST(report_signals, matches_whole_words_only) {
  const auto m = default_matcher();
  EXPECT_TRUE(m.match("a sophisticated attack").signals.empty());
  EXPECT_TRUE(m.match("the reopen portal").signals.empty());  // "open port" across word parts
  EXPECT_EQ(m.match("phish!").signals, names{"phishing"});
  EXPECT_EQ(m.match("(anti virus) said so").signals, names{"antivirus warning"});
  EXPECT_EQ(m.match("anti-virus said so").signals, names{"antivirus warning"});
}

TEST(report_signals, case_insensitive_and_each_name_once_in_table_order) {
  const auto m = default_matcher();
  const auto got = m.match("PHISHING and phish and a DDOS, also phishing again");
  EXPECT_EQ(got.signals, (names{"denial of service", "phishing"}));
}

// Response policy, "Incident Detection", first paragraph: threats, harassment, abuse of user
// accounts, physical injury, theft, forgery and misrepresentation; plus the word "sensitive".
TEST(report_signals, recognises_sensitive_categories) {
  const auto m = default_matcher();
  const signal_case cases[] = {
      {"I received a threatening message", {}, {"threat"}},
      {"a colleague keeps harassing me", {}, {"harassment"}},
      {"someone is using my account to post", {}, {"account abuse"}},
      {"someone got injured in the server room", {}, {"physical injury"}},
      {"my phone was stolen", {"lost or stolen device"}, {"theft"}},
      {"this invoice is forged", {}, {"forgery or misrepresentation"}},
      {"this one is Sensitive, please call me", {}, {"sensitive"}},
      {"insensitive comment about tabs", {}, {}},
  };
  for (const auto& c : cases) {
    const auto got = m.match(c.text);
    EXPECT_EQ(got.signals, c.signals) << c.text;
    EXPECT_EQ(got.sensitive_categories, c.sensitive) << c.text;
    EXPECT_EQ(got.sensitive(), !c.sensitive.empty()) << c.text;
  }
}

TEST(report_signals, tables_are_configurable) {
  const report_matcher m({{"crypto miner", {"xmrig", "coin miner"}}}, {{"legal", {"lawsuit"}}});
  const auto got = m.match("found XMRig running; might end in a lawsuit");
  EXPECT_EQ(got.signals, names{"crypto miner"});
  EXPECT_EQ(got.sensitive_categories, names{"legal"});
  EXPECT_TRUE(m.match("phishing").signals.empty());
}

TEST(report_signals, words_split_on_punctuation_and_keep_utf8) {
  EXPECT_EQ(report_words("Hello, <@U1> wörld-2!"), (names{"hello", "u1", "wörld", "2"}));
}

}  // namespace
}  // namespace flare::policy
