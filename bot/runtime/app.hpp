// The running bot: wires configuration, store, Slack (or the console), dispatcher, commands and
// outbox on one io_context, and shuts them down in order on SIGINT/SIGTERM.
#pragma once

#include "bot/ops/config.hpp"

#include <iosfwd>

namespace flare {

// Process exit codes (README, "Command line").
enum exit_code : int {
  exit_ok = 0,
  exit_failure = 1,        // an unexpected error; see the log
  exit_usage = 2,          // bad command line or bad input (e.g. flare decide with bad facts)
  exit_bad_config = 3,     // the configuration is invalid; the message names every bad key
  exit_slack_refused = 4,  // Slack refused us for good: invalid_auth, link_disabled, ...
};

enum class run_mode { automatic, console, slack };

// Runs until shutdown. `automatic` picks Slack when tokens are configured, else the console.
int run_bot(const config& cfg, run_mode mode);

// `flare check-config --online`: auth.test and the start-up checks (startup_checks.hpp) against
// the workspace, without starting the bot. Prints what is wrong to `err` (naming each setting)
// and returns exit_bad_config, exit_slack_refused (token rejected), exit_failure (Slack
// unreachable) or exit_ok.
int check_slack_online(const config& cfg, std::ostream& out, std::ostream& err);

}  // namespace flare
