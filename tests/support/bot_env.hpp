// The environment the end-to-end tests start the real `flare` binary with: what a user would
// set to run it against Slack, pointed at the fake Slack (SLACK_API_URL, SLACK_CA_FILE) and at a
// store in the test's own directory. A test adds or overrides keys with `extra`.
#pragma once

#include <map>
#include <string>

#include "tests/fake_slack/fake_slack.hpp"
#include "tests/support/temp_dir.hpp"

namespace flare::testing {

inline std::map<std::string, std::string> bot_env(const fake_slack& fake, const temp_dir& dir,
                                                  const std::map<std::string, std::string>& extra = {}) {
  std::map<std::string, std::string> env{{"SLACK_APP_TOKEN", fake.options().app_token},
                                         {"SLACK_BOT_TOKEN", fake.options().bot_token},
                                         {"SLACK_API_URL", fake.api_url()},
                                         {"SLACK_CA_FILE", fake.ca_file()},
                                         {"FLARE_SLACK_INCIDENTS_CHANNEL", "C0INC"},
                                         {"FLARE_SLACK_SECURITY_CHANNEL", "G0SEC"},
                                         {"FLARE_SLACK_SECURITY_TEAM_GROUP", "S0SEC"},
                                         {"FLARE_SLACK_RESPONDERS_GROUP", "S0RESP"},
                                         {"FLARE_STORE_PATH", dir.file("flare.db")},
                                         {"FLARE_HEALTH_PORT", "0"},
                                         {"FLARE_SHUTDOWN_DRAIN_SECONDS", "3"}};
  for (const auto& [key, value] : extra) env[key] = value;
  return env;
}

}  // namespace flare::testing
