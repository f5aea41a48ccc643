#include "bot/ops/config.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "policy/legal_regimes.hpp"

namespace {

using flare::config_error;
using flare::load_config;
using testing::HasSubstr;

class config_file : public testing::Test {
 protected:
  std::string write(const std::string& text) {
    file_path = std::filesystem::temp_directory_path() /
                ("flare-config-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + ".toml");
    std::ofstream(file_path) << text;
    return file_path.string();
  }
  void TearDown() override { std::filesystem::remove(file_path); }

  // Loads and returns the problems as "key: reason" lines (empty when valid).
  std::vector<std::string> problems(const std::string& text,
                                    const std::map<std::string, std::string>& env = {}) {
    try {
      load_config(write(text), env);
      return {};
    } catch (const config_error& e) {
      std::vector<std::string> out;
      for (const auto& p : e.problems()) out.push_back(p.key + ": " + p.reason);
      return out;
    }
  }

  std::filesystem::path file_path;
  int counter = 0;
};

TEST(config, defaults_equal_the_notification_process_table) {
  const auto cfg = load_config("", {});
  EXPECT_EQ(cfg.policy_tables, flare::policy::tables{});
  EXPECT_EQ(cfg.policy_tables.calendar.zone, "UTC");
  EXPECT_EQ(cfg.reminder_hours_before, (std::vector<int>{24, 4, 1}));
  EXPECT_EQ(cfg.overdue_every_hours, 4);
  EXPECT_EQ(cfg.store_path, "data/flare.db");
  EXPECT_EQ(cfg.api_url, "https://slack.com/api/");
  EXPECT_FALSE(cfg.has_slack_tokens());
  // The recogniser's lexicon (policy/report_lexicon.cpp) holds the defaults; the config's
  // tables only add to it.
  EXPECT_TRUE(cfg.signals.empty());
  EXPECT_TRUE(cfg.sensitive_categories.empty());
  EXPECT_DOUBLE_EQ(cfg.intake_threshold, 1.0);
}

TEST_F(config_file, reads_every_section) {
  const auto cfg = load_config(write(R"(
[log]
level = "debug"
[slack]
incidents_channel = "C0INC"
security_channel = "G0SEC"
security_team_group = "S0SEC"
responders_group = "S0RESP"
head_of_finance_ops = "U0HFO"
posts_per_second = 2
[store]
path = "/tmp/x.db"
[policy]
timezone = "Europe/Berlin"
holidays = ["2026-12-25", "2026-12-26"]
[policy.severity.medium]
initial = "5bd"
update = "5 business days"
[policy.severity.low]
initial = "96h"
update = "96h"
[reminders]
before = ["48h", "2h"]
overdue_every = "2h"
[intake]
threshold = 1.5
[intake.signals]
"usb stick" = ["Unknown USB", "usb stick"]
)"),
                               {});
  EXPECT_EQ(cfg.log_level, "debug");
  EXPECT_EQ(cfg.incidents_channel, "C0INC");
  EXPECT_EQ(cfg.head_of_finance_ops, "U0HFO");
  EXPECT_DOUBLE_EQ(cfg.posts_per_second, 2.0);
  EXPECT_EQ(cfg.store_path, "/tmp/x.db");
  EXPECT_EQ(cfg.policy_tables.calendar.zone, "Europe/Berlin");
  EXPECT_EQ(cfg.policy_tables.calendar.holidays.size(), 2u);
  ASSERT_TRUE(cfg.policy_tables.medium.initial);
  EXPECT_EQ(cfg.policy_tables.medium.initial->count, 5);
  EXPECT_EQ(cfg.policy_tables.medium.initial->unit, flare::policy::interval_unit::business_days);
  ASSERT_TRUE(cfg.policy_tables.low.initial);
  EXPECT_EQ(cfg.policy_tables.low.initial->count, 96);
  EXPECT_EQ(cfg.policy_tables.critical, flare::policy::tables{}.critical);  // untouched rows keep defaults
  EXPECT_EQ(cfg.reminder_hours_before, (std::vector<int>{48, 2}));
  EXPECT_EQ(cfg.overdue_every_hours, 2);
  EXPECT_EQ(cfg.signals.at("usb stick"), (std::vector<std::string>{"unknown usb", "usb stick"}));
  EXPECT_DOUBLE_EQ(cfg.intake_threshold, 1.5);
}

TEST_F(config_file, names_every_bad_key_with_its_reason) {
  const auto found = problems(R"(
[log]
level = "loud"
[slack]
api_url = "http://slack.com/api/"
incidents_channel = "#incidents"
security_team_group = "U123"
request_timeout_seconds = "ten"
colour = "red"
[policy]
timezone = "Mars/Olympus"
holidays = ["2026-13-01"]
[policy.severity.urgent]
initial = "1h"
[reminders]
before = ["tomorrow"]
)");
  auto has = [&](const std::string& text) {
    return std::any_of(found.begin(), found.end(),
                       [&](const std::string& p) { return p.find(text) != std::string::npos; });
  };
  EXPECT_TRUE(has("log.level: must be one of"));
  EXPECT_TRUE(has("slack.api_url: must be an https:// URL"));
  EXPECT_TRUE(has("slack.incidents_channel: must be a Slack channel id"));
  EXPECT_TRUE(has("slack.security_team_group: must be a Slack user group id"));
  EXPECT_TRUE(has("slack.request_timeout_seconds: must be an integer"));
  EXPECT_TRUE(has("slack.colour: unknown key"));
  EXPECT_TRUE(has("policy.timezone: unknown IANA time zone 'Mars/Olympus'"));
  EXPECT_TRUE(has("policy.holidays: '2026-13-01' is not a date"));
  EXPECT_TRUE(has("policy.severity.urgent: unknown severity"));
  EXPECT_TRUE(has("reminders.before: each entry must be a whole number of hours"));
  EXPECT_EQ(found.size(), 10u) << testing::PrintToString(found);
}

TEST_F(config_file, refuses_tokens_in_the_file_without_echoing_them) {
  try {
    load_config(write("[slack]\nbot_token = \"xoxb-very-secret\"\n"), {});
    FAIL() << "a token in the file must be refused";
  } catch (const config_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("slack.bot_token: secrets are read only from the environment"));
    EXPECT_THAT(e.what(), testing::Not(HasSubstr("very-secret")));
  }
}

// Issue 13: check-config on a directory or /dev/zero said "configuration OK".
TEST(config, a_path_that_is_not_a_regular_file_is_refused_by_name) {
  auto refusal = [](const std::string& path) -> std::string {
    try {
      load_config(path, {});
      return "accepted";
    } catch (const config_error& e) {
      return e.what();
    }
  };
  const auto dir = std::filesystem::temp_directory_path();
  EXPECT_THAT(refusal(dir.string()), HasSubstr("is a directory"));
  EXPECT_THAT(refusal("/dev/zero"), HasSubstr("not a regular file"));
  EXPECT_THAT(refusal("/dev/zero"), HasSubstr("/dev/zero"));
  EXPECT_THAT(refusal((dir / "flare-no-such-config.toml").string()), HasSubstr("cannot be read"));
}

TEST_F(config_file, a_file_over_1_mib_is_refused) {
  const auto path = write("# " + std::string(1024 * 1024 + 10, 'x') + "\n");
  try {
    load_config(path, {});
    FAIL() << "accepted";
  } catch (const config_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("at most 1 MiB"));
  }
}

TEST_F(config_file, a_symlink_to_a_regular_file_is_fine) {
  const auto target = write("[log]\nlevel = \"warn\"\n");
  const auto link = std::filesystem::path(target).string() + ".link";
  std::filesystem::create_symlink(target, link);
  EXPECT_EQ(load_config(link, {}).log_level, "warn");
  std::filesystem::remove(link);
}

TEST(config, text_loads_like_a_file) {
  EXPECT_EQ(flare::load_config_text("[log]\nlevel = \"error\"\n", "inline", {}).log_level, "error");
  EXPECT_THROW(flare::load_config_text("[log\n", "inline", {}), config_error);
}

TEST_F(config_file, syntax_error_names_line_and_column) {
  const auto found = problems("[slack\nincidents_channel = 1\n");
  ASSERT_EQ(found.size(), 1u);
  EXPECT_THAT(found[0], HasSubstr("line 1"));
}

TEST_F(config_file, severity_row_with_initial_but_no_update_is_refused) {
  const auto found = problems("[policy.severity.low]\ninitial = \"24h\"\n");
  ASSERT_EQ(found.size(), 1u);
  EXPECT_THAT(found[0], HasSubstr("policy.severity.low.update: must be set"));
}

TEST_F(config_file, environment_overrides_the_file) {
  const auto cfg =
      load_config(write("[slack]\napi_url = \"https://a.example/api/\"\nincidents_channel = \"C1\"\n"),
                  {{"SLACK_API_URL", "https://127.0.0.1:8443/api/"},
                   {"SLACK_CA_FILE", ""},
                   {"FLARE_SLACK_INCIDENTS_CHANNEL", "C2"},
                   {"FLARE_REMINDERS_BEFORE", "12h, 3h"},
                   {"FLARE_HEALTH_PORT", "8081"},
                   {"SLACK_BOT_TOKEN", " xoxb-1 "},
                   {"SLACK_APP_TOKEN", "xapp-1"}});
  EXPECT_EQ(cfg.api_url, "https://127.0.0.1:8443/api/");
  EXPECT_EQ(cfg.incidents_channel, "C2");
  EXPECT_EQ(cfg.reminder_hours_before, (std::vector<int>{12, 3}));
  EXPECT_EQ(cfg.health_port, 8081);
  EXPECT_EQ(cfg.bot_token, "xoxb-1");
  EXPECT_TRUE(cfg.has_slack_tokens());
}

TEST(config, bad_environment_value_is_named_with_its_variable) {
  try {
    load_config("", {{"FLARE_HEALTH_PORT", "eighty"}});
    FAIL();
  } catch (const config_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("health.port (from FLARE_HEALTH_PORT)"));
  }
}

TEST(config, missing_ca_file_is_reported) {
  try {
    load_config("", {{"SLACK_CA_FILE", "/nonexistent/ca.pem"}});
    FAIL();
  } catch (const config_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("slack.ca_file: cannot read the file /nonexistent/ca.pem"));
  }
}

TEST(config, slack_mode_requires_channels_and_well_formed_tokens) {
  auto cfg = load_config("", {{"SLACK_BOT_TOKEN", "xapp-wrong-kind"}});
  std::vector<std::string> keys;
  for (const auto& p : flare::slack_mode_problems(cfg)) keys.push_back(p.key);
  EXPECT_THAT(keys, testing::ElementsAre("SLACK_APP_TOKEN", "SLACK_BOT_TOKEN", "slack.incidents_channel",
                                         "slack.security_channel", "slack.security_team_group"));
}

}  // namespace

namespace {

TEST(config, every_bad_holiday_is_named_not_only_the_first) {
  try {
    load_config("", {{"FLARE_POLICY_HOLIDAYS", "2026-13-01, 2026-12-25, 2026-02-30, tomorrow"}});
    FAIL();
  } catch (const config_error& e) {
    ASSERT_EQ(e.problems().size(), 1u);
    EXPECT_EQ(e.problems()[0].reason,
              "'2026-13-01', '2026-02-30', 'tomorrow' are not dates in the form YYYY-MM-DD");
  }
}

TEST(config, severity_rows_can_be_overridden_from_the_environment) {
  const auto cfg = load_config("", {{"FLARE_POLICY_SEVERITY_MEDIUM_INITIAL", "5bd"},
                                    {"FLARE_POLICY_SEVERITY_CRITICAL_UPDATE", "12h"}});
  ASSERT_TRUE(cfg.policy_tables.medium.initial);
  EXPECT_EQ(cfg.policy_tables.medium.initial->count, 5);
  EXPECT_EQ(cfg.policy_tables.medium.initial->unit, flare::policy::interval_unit::business_days);
  ASSERT_TRUE(cfg.policy_tables.critical.update);
  EXPECT_EQ(cfg.policy_tables.critical.update->count, 12);
  EXPECT_EQ(cfg.policy_tables.critical.initial, flare::policy::tables{}.critical.initial);
}

TEST(config, bad_severity_value_from_the_environment_is_named_with_its_variable) {
  try {
    load_config("", {{"FLARE_POLICY_SEVERITY_HIGH_INITIAL", "soon"}});
    FAIL();
  } catch (const config_error& e) {
    EXPECT_THAT(e.what(),
                HasSubstr("policy.severity.high.initial (from FLARE_POLICY_SEVERITY_HIGH_INITIAL)"));
  }
}

TEST(config, an_environment_row_must_stay_coherent) {
  try {
    load_config("", {{"FLARE_POLICY_SEVERITY_LOW_INITIAL", "96h"}});
    FAIL() << "low has no update interval by default, so an initial deadline alone is incomplete";
  } catch (const config_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("policy.severity.low.update: must be set"));
  }
}

TEST(config, intake_phrases_can_be_overridden_from_the_environment) {
  const auto cfg = load_config("", {{"FLARE_INTAKE_SIGNALS_USB_STICK", "Unknown USB, usb stick"},
                                    {"FLARE_INTAKE_SENSITIVE_HARASSMENT", "harassed"}});
  EXPECT_EQ(cfg.signals.at("usb stick"), (std::vector<std::string>{"unknown usb", "usb stick"}));
  EXPECT_EQ(cfg.sensitive_categories.at("harassment"), (std::vector<std::string>{"harassed"}));
}

TEST(config, empty_intake_phrases_from_the_environment_are_refused) {
  try {
    load_config("", {{"FLARE_INTAKE_SIGNALS_PHISHING", " , "}});
    FAIL();
  } catch (const config_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("intake.signals.phishing (from FLARE_INTAKE_SIGNALS_PHISHING)"));
  }
}

TEST(config, unknown_flare_variables_are_reported_with_a_suggestion) {
  const auto found = flare::unknown_environment({{"FLARE_SLACK_INCIDENT_CHANNEL", "C1"},
                                                 {"FLARE_STORE_PATH", "x"},
                                                 {"FLARE_CONFIG", "f.toml"},
                                                 {"FLARE_INTAKE_SIGNALS_USB", "usb"},
                                                 {"FLARE_WHATEVER", "1"},
                                                 {"SLACK_SOMETHING", "1"}});
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(found[0].key, "FLARE_SLACK_INCIDENT_CHANNEL");
  EXPECT_THAT(found[0].reason, HasSubstr("did you mean FLARE_SLACK_INCIDENTS_CHANNEL?"));
  EXPECT_EQ(found[1].key, "FLARE_WHATEVER");
  EXPECT_THAT(found[1].reason, testing::Not(HasSubstr("did you mean")));
}

TEST(config, every_file_key_has_an_environment_variable) {
  const auto names = flare::environment_variable_names();
  for (const char* expected : {"FLARE_LOG_LEVEL", "FLARE_POLICY_TIMEZONE", "FLARE_POLICY_HOLIDAYS",
                               "FLARE_POLICY_SEVERITY_CRITICAL_INITIAL", "FLARE_POLICY_SEVERITY_LOW_UPDATE",
                               "FLARE_REMINDERS_OVERDUE_EVERY", "FLARE_STORE_SYNCHRONOUS"})
    EXPECT_NE(std::find(names.begin(), names.end(), expected), names.end()) << expected;
}

// Issue 8 routing keys: a TOML boolean, and its environment form.
TEST_F(config_file, intake_routing_keys_are_read_and_checked) {
  const auto cfg = load_config(write(R"(
[intake]
page_responders = false
untriaged_after_seconds = 600
head_of_finance_ops_categories = ["Harassment", "physical injury"]
)"),
                               {});
  EXPECT_FALSE(cfg.page_responders);
  EXPECT_EQ(cfg.untriaged_after_seconds, 600);
  EXPECT_EQ(cfg.head_of_finance_ops_categories, (std::vector<std::string>{"harassment", "physical injury"}));
  EXPECT_THAT(problems("[intake]\npage_responders = \"no\"\n"),
              testing::ElementsAre(HasSubstr("intake.page_responders: must be true or false")));
  EXPECT_THAT(problems("[intake]\nuntriaged_after_seconds = -1\n"),
              testing::ElementsAre(HasSubstr("intake.untriaged_after_seconds")));
}

TEST(config, intake_routing_keys_from_the_environment) {
  const auto cfg = load_config(
      "", {{"FLARE_INTAKE_PAGE_RESPONDERS", "false"}, {"FLARE_INTAKE_UNTRIAGED_AFTER_SECONDS", "0"}});
  EXPECT_FALSE(cfg.page_responders);
  EXPECT_EQ(cfg.untriaged_after_seconds, 0);
  EXPECT_TRUE(load_config("", {}).page_responders);
  EXPECT_THROW(load_config("", {{"FLARE_INTAKE_PAGE_RESPONDERS", "maybe"}}), config_error);
}

}  // namespace

namespace {

std::string store_problem(const std::map<std::string, std::string>& env) {
  try {
    flare::load_config("", env);
  } catch (const flare::config_error& e) {
    return e.what();
  }
  return {};
}

}  // namespace

TEST(config, store_path_must_be_a_plain_file_path) {
  EXPECT_THAT(store_problem({{"FLARE_STORE_PATH", ":memory:"}}), HasSubstr("store.path"));
  EXPECT_THAT(store_problem({{"FLARE_STORE_PATH", "file:data/flare.db?mode=memory"}}),
              HasSubstr("SQLite URI"));
  EXPECT_THAT(store_problem({{"FLARE_STORE_PATH", "data/"}}), HasSubstr("store.path"));
  EXPECT_EQ(store_problem({{"FLARE_STORE_PATH", "/var/lib/flare/flare.db"}}), "");
}

TEST(config, processed_retention_takes_a_duration_of_at_least_an_hour) {
  EXPECT_EQ(flare::load_config("", {}).store_processed_retention, "7d");
  EXPECT_EQ(flare::parse_retention("7d"), std::chrono::seconds(7 * 24 * 3600));
  EXPECT_EQ(flare::parse_retention("90m"), std::chrono::seconds(90 * 60));
  EXPECT_FALSE(flare::parse_retention("7 days"));
  EXPECT_FALSE(flare::parse_retention("-1d"));
  EXPECT_THAT(store_problem({{"FLARE_STORE_PROCESSED_RETENTION", "10m"}}), HasSubstr("at least 1h"));
  EXPECT_THAT(store_problem({{"FLARE_STORE_PROCESSED_RETENTION", "soon"}}),
              HasSubstr("store.processed_retention"));
  EXPECT_EQ(store_problem({{"FLARE_STORE_PROCESSED_RETENTION", "48h"}}), "");
}

namespace {

TEST(config, legal_regimes_ship_with_defaults_and_can_be_overridden_or_added) {
  const auto cfg = flare::load_config_text(
      "[policy.legal.gdpr-art33]\nwithin = \"24h\"\n"
      "[policy.legal.lgpd]\ntitle = \"LGPD Art. 48: notify the ANPD\"\nnotify = \"the ANPD\"\n"
      "within = \"3 business days\"\ncitation = \"Lei 13.709/2018, Art. 48\"\n"
      "[policy.legal.local-law]\ntitle = \"Local law\"\nnotify = \"the regulator\"\nwithin = \"none\"\n",
      "inline", {});
  const auto& regimes = cfg.policy_tables.legal_regimes;
  const auto* gdpr = flare::policy::find_regime(regimes, "gdpr-art33");
  ASSERT_NE(gdpr, nullptr);
  EXPECT_EQ(gdpr->within, (flare::policy::notification_interval{flare::policy::interval_unit::hours, 24}));
  EXPECT_EQ(gdpr->title, "GDPR Art. 33: notify the supervisory authority") << "other fields keep the default";
  const auto* lgpd = flare::policy::find_regime(regimes, "LGPD");
  ASSERT_NE(lgpd, nullptr);
  EXPECT_EQ(lgpd->within,
            (flare::policy::notification_interval{flare::policy::interval_unit::business_days, 3}));
  const auto* local = flare::policy::find_regime(regimes, "local-law");
  ASSERT_NE(local, nullptr);
  EXPECT_FALSE(local->within) << "\"none\": no fixed time";
  EXPECT_NE(flare::policy::find_regime(regimes, "nis2-early-warning"), nullptr) << "defaults stay";
  EXPECT_EQ(flare::load_config_text("", "inline", {}).policy_tables.legal_regimes,
            flare::policy::default_legal_regimes());
}

// Issue 9, section 7: every key from the environment, legal regimes included
// (FLARE_POLICY_LEGAL_<KEY>_<FIELD>), applied over the file field by field like the file's table.
TEST(config, legal_regimes_can_be_set_from_the_environment_over_the_file) {
  const auto cfg =
      flare::load_config_text("[policy.legal.gdpr-art33]\nwithin = \"24h\"\n", "inline",
                              {{"FLARE_POLICY_LEGAL_GDPR_ART33_WITHIN", "48h"},
                               {"FLARE_POLICY_LEGAL_NYDFS_500_17_WITHIN", "none"},
                               {"FLARE_POLICY_LEGAL_LGPD_ART48_TITLE", "LGPD Art. 48: notify the ANPD"},
                               {"FLARE_POLICY_LEGAL_LGPD_ART48_NOTIFY", "the ANPD"},
                               {"FLARE_POLICY_LEGAL_LGPD_ART48_WITHIN", "3 business days"}});
  const auto& regimes = cfg.policy_tables.legal_regimes;
  const auto* gdpr = flare::policy::find_regime(regimes, "gdpr-art33");
  ASSERT_NE(gdpr, nullptr);
  EXPECT_EQ(gdpr->within, (flare::policy::notification_interval{flare::policy::interval_unit::hours, 48}))
      << "the environment wins over the file";
  EXPECT_EQ(gdpr->title, "GDPR Art. 33: notify the supervisory authority");
  const auto* nydfs = flare::policy::find_regime(regimes, "nydfs-500.17");
  ASSERT_NE(nydfs, nullptr) << "a shipped key with '-' and '.' is found from its '_' spelling";
  EXPECT_FALSE(nydfs->within);
  EXPECT_EQ(flare::policy::find_regime(regimes, "nydfs-500-17"), nullptr) << "no second regime";
  const auto* lgpd = flare::policy::find_regime(regimes, "lgpd-art48");
  ASSERT_NE(lgpd, nullptr) << "a new key reads '_' as '-'";
  EXPECT_EQ(lgpd->notify, "the ANPD");
  EXPECT_EQ(lgpd->within,
            (flare::policy::notification_interval{flare::policy::interval_unit::business_days, 3}));
  EXPECT_TRUE(flare::unknown_environment({{"FLARE_POLICY_LEGAL_GDPR_ART33_WITHIN", "48h"}}).empty());
  EXPECT_NE(cfg.policy_tables.legal_regimes, flare::policy::default_legal_regimes())
      << "so the policy version changes with it";
}

TEST(config, a_bad_legal_regime_from_the_environment_names_its_variable) {
  try {
    flare::load_config_text("", "inline",
                            {{"FLARE_POLICY_LEGAL_GDPR_ART33_WITHIN", "soon"},
                             {"FLARE_POLICY_LEGAL_NEW_LAW_TITLE", "New law"},
                             {"FLARE_POLICY_LEGAL_GDPR_ART33", "72h"}});
    FAIL();
  } catch (const config_error& e) {
    std::string all;
    for (const auto& p : e.problems()) all += p.key + ": " + p.reason + "\n";
    EXPECT_THAT(all, HasSubstr("policy.legal.gdpr-art33.within (from FLARE_POLICY_LEGAL_GDPR_ART33_WITHIN): "
                               "must be like"));
    EXPECT_THAT(all, HasSubstr("policy.legal.new-law.notify (FLARE_POLICY_LEGAL_NEW_LAW_TITLE set the "
                               "others): must be set"));
    EXPECT_THAT(all, HasSubstr("policy.legal (from FLARE_POLICY_LEGAL_GDPR_ART33): must be "
                               "FLARE_POLICY_LEGAL_<KEY>_<TITLE|NOTIFY|WITHIN|CITATION>"));
  }
}

TEST(config, a_bad_legal_regime_is_named_field_by_field) {
  try {
    flare::load_config_text(
        "[policy.legal.new-law]\ntitle = \"New law\"\n"
        "[policy.legal.gdpr-art33]\nwithin = \"soon\"\ncolour = \"red\"\n",
        "inline", {});
    FAIL();
  } catch (const config_error& e) {
    std::string all;
    for (const auto& p : e.problems()) all += p.key + ": " + p.reason + "\n";
    EXPECT_THAT(all, HasSubstr("policy.legal.new-law.notify: must be set"));
    EXPECT_THAT(all, HasSubstr("policy.legal.new-law.within: must be set"));
    EXPECT_THAT(all, HasSubstr("policy.legal.gdpr-art33.within: must be like"));
    EXPECT_THAT(all, HasSubstr("policy.legal.gdpr-art33.colour: unknown key"));
  }
}

}  // namespace
