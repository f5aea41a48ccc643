// flare's configuration: a TOML file (toml++) plus environment overrides. Secrets come only from
// the environment. Every key, its default and its environment variable are listed in
// docs/configuration.md; check-config names every bad key with the reason.
#pragma once

#include "policy/reminder_ladder.hpp"
#include "policy/report_lexicon.hpp"
#include "policy/tables.hpp"

#include <chrono>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace flare {

// "7d", "12h", "30m", "90s" (a positive whole number and a unit) as seconds; nullopt otherwise.
std::optional<std::chrono::seconds> parse_retention(std::string_view text);

struct config {
  std::string source = "(built-in defaults)";  // the file it came from

  std::string log_level = "info";

  // Slack
  std::string app_token;  // SLACK_APP_TOKEN (xapp-...), environment only
  std::string bot_token;  // SLACK_BOT_TOKEN (xoxb-...), environment only
  std::string api_url = "https://slack.com/api/";
  std::string ca_file;
  std::string incidents_channel;    // channel id of #incidents
  std::string security_channel;     // private channel id for sensitive incidents
  std::string security_team_group;  // user group id (S...) of the Security Team
  std::string responders_group;     // user group id (S...) of incident responders
  std::string head_of_finance_ops;  // user id (U...)
  std::string command = "/incident";
  int request_timeout_seconds = 15;
  double posts_per_second = 1.0;
  int post_burst = 3;

  // Console adapter
  std::string console_user = "U0CONSOLE";
  std::string console_channel = "C0INCIDENTS";
  std::string console_security_channel = "G0SECURITY";

  // Store
  std::string store_path = "data/flare.db";
  // "full": every commit survives a power cut (the default: deadlines carry legal weight).
  // "normal": commits survive a crash of flare but not always of the machine; ~10x cheaper.
  std::string store_synchronous = "full";
  // How long handled inbox rows and processed-event marks are kept to recognise Slack's
  // redeliveries (which come within minutes): a number with a unit, s, m, h or d.
  std::string store_processed_retention = "7d";
  // A shared PostgreSQL store for several replicas ("postgresql://user@host:5432/db"); empty: the
  // SQLite file at store_path. The password is never in the URL: PGPASSWORD, or the first line of
  // store_password_file.
  std::string store_url;
  std::string store_password_file;
  // How long a replica's claim on an outbox post lasts without renewal (the outbox renews the
  // claims of its sends every third of it) before another replica may take the post over.
  int store_outbox_lease_seconds = 10;
  // How long a replica's claim on an unfinished inbox delivery lasts without renewal: a delivery
  // acked by a replica that died is replayed by another after at most about this long.
  int store_inbox_lease_seconds = 30;

  // Policy tables: severity timings, time zone and holidays. Defaults are the documents' values
  // (policy/tables.hpp).
  policy::tables policy_tables;

  // Deadline reminders: hours before each deadline, then every `overdue_every_hours` while late.
  std::vector<int> reminder_hours_before = {24, 4, 1};
  int overdue_every_hours = 4;
  // Overdue reminders back off: the first gap is overdue_every, the second twice that, then every
  // overdue_then_every (issue 9: "4 h, 8 h, then daily").
  int overdue_then_every_hours = 24;
  // Quiet hours in policy.timezone ("22:00-07:00"); reminders falling inside wait for the end,
  // except for Critical (and untriaged) incidents. Off by default.
  std::optional<policy::quiet_hours> quiet_hours;

  // Report intake: phrases added to the recogniser's default lexicon (policy/report_lexicon.hpp):
  // signal name -> phrases; sensitive category -> phrases. Empty by default.
  std::map<std::string, std::vector<std::string>> signals;
  std::map<std::string, std::vector<std::string>> sensitive_categories;
  double intake_threshold = policy::report_lexicon{}.threshold;
  // Issue 8 routing and paging (docs/intake.md): mention the responders group in a new public
  // report's thread; nudge an incident nobody classified after this long (then the Security
  // Team after twice as long; 0: off); the sensitive categories that also go to the Head of
  // Finance & Operations by DM (response policy, "Incident Detection", paragraph 2).
  bool page_responders = true;
  int untriaged_after_seconds = 1800;
  std::vector<std::string> head_of_finance_ops_categories = {"physical injury", "harassment", "threat"};

  // Issue 12: the weekly compliance digest in the security channel (docs/evidence.md).
  std::string digest_day = "off";     // monday … sunday, or "off" (the default: opt in)
  std::string digest_time = "09:00";  // local time, HH:MM
  std::string digest_timezone;        // IANA zone; empty: policy.timezone

  // Health and metrics HTTP
  std::string health_address = "127.0.0.1";
  int health_port = 9464;  // 0: off

  int shutdown_drain_seconds = 10;

  bool has_slack_tokens() const { return !app_token.empty() || !bot_token.empty(); }
  std::vector<std::string> secrets() const;
};

// One problem with a key: "slack.api_url: must be an https:// URL".
struct config_problem {
  std::string key;
  std::string reason;
};

class config_error : public std::runtime_error {
 public:
  config_error(const std::string& source, std::vector<config_problem> problems);
  const std::vector<config_problem>& problems() const { return problems_; }

 private:
  std::vector<config_problem> problems_;
};

config default_config();

// Reads `path` (empty: built-in defaults only), then the environment (`env` maps names to values;
// pass read_environment() in production). Throws config_error listing every problem.
// A path that is not a regular file (a directory, /dev/zero, a FIFO) or is over 1 MiB is refused.
config load_config(const std::string& path, const std::map<std::string, std::string>& env);
// The same from TOML text already in memory (`source` names it in messages): tests, fuzzing.
config load_config_text(std::string_view toml_text, const std::string& source,
                        const std::map<std::string, std::string>& env);

std::map<std::string, std::string> read_environment();

// Every FLARE_* variable load_config reads (besides the FLARE_INTAKE_SIGNALS_<NAME> and
// FLARE_INTAKE_SENSITIVE_<NAME> families), for documentation and for spotting typos.
std::vector<std::string> environment_variable_names();

// FLARE_* variables in `env` that flare does not read, each with a "did you mean" when a known
// name is a typo away. A misspelt override is otherwise silently ignored: check-config reports
// these as problems and start-up warns about them.
std::vector<config_problem> unknown_environment(const std::map<std::string, std::string>& env);

// Problems that only matter when connecting to Slack (missing channel ids, token shapes).
std::vector<config_problem> slack_mode_problems(const config& cfg);

}  // namespace flare
