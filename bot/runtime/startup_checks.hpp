// Start-up checks against the Slack workspace (issue 8): before the bot takes any report, the
// settings it routes by must name things that exist and that the bot can use. A sensitive report
// routed to a public channel, to a channel the bot cannot post in, or to the same channel as
// #incidents is the failure these prevent; a wrong id shows up at start, not at the first
// harassment report.
//
// Checked with the bot token (conversations.info, usergroups.users.list, users.info):
// - slack.security_channel exists, is private and has the bot in it;
// - slack.incidents_channel exists and has the bot in it;
// - the two differ;
// - slack.security_team_group and slack.responders_group exist (when set);
// - slack.head_of_finance_ops is an active user (when set).
// `flare run` stops with exit 3 naming the setting; `flare check-config --online` runs the same
// checks without starting the bot.
#pragma once

#include "bot/ops/config.hpp"
#include "bot/slack/slack_api.hpp"

#include <boost/asio/awaitable.hpp>

#include <optional>
#include <string>
#include <vector>

namespace flare {

struct startup_check_result {
  std::vector<config_problem> problems;  // each names the setting and what is wrong
  // Set when Slack could not be asked at all (network, TLS, timeout): not a configuration
  // problem, and not something to blame a setting for.
  std::optional<std::string> unreachable;
  bool ok() const { return problems.empty() && !unreachable; }
};

boost::asio::awaitable<startup_check_result> check_slack_setup(slack::slack_api& slack, const config& cfg);

}  // namespace flare
