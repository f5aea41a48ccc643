// The `/incident` grammar: text in, a typed command or a usage error out. Pure (no store, no
// Slack, no clock), so every bad input a person can type is a table row in the tests.
//
//   open <title> [sensitive]
//   classify <ID> <critical|high|medium|low> <confirmed|potential> [confirmed-at=<RFC 3339 time>]
//   facts <ID> <key>=<value> [<key>=<value> ...]      values with spaces in "double quotes"
//   notified <ID>
//   update <ID> <text>
//   resolve <ID> [summary]
//   show <ID>
//   list [open|all]
//   decide <ID>
//   help
//
// <ID> is INC-7, inc-7 or 7. Slack escapes &, < and > in command text (docs/slack.md §5.6) and
// sends mentions and links as <@U…|name>, <#C…|name>, <https://…|label>: titles, texts and fact
// values are decoded to the plain text the person typed (a mention becomes @name), because the
// message builders escape plain text again when they post it.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "policy/facts.hpp"

namespace flare::commands {

using sys_seconds = std::chrono::sys_seconds;

struct open_command {
  std::string title;
  bool sensitive = false;
};

struct classify_command {
  std::int64_t incident_id = 0;
  policy::severity severity = policy::severity::low;
  policy::classification classification = policy::classification::potential;
  std::optional<sys_seconds> confirmed_at;  // confirmed-at=...
};

struct fact_assignment {
  std::string key;
  std::string value;  // decoded, unquoted; validated against policy::set_fact already
  friend bool operator==(const fact_assignment&, const fact_assignment&) = default;
};

struct facts_command {
  std::int64_t incident_id = 0;
  std::vector<fact_assignment> assignments;  // in the order typed
};

struct notified_command {
  std::int64_t incident_id = 0;
};

struct update_command {
  std::int64_t incident_id = 0;
  std::string text;
};

struct resolve_command {
  std::int64_t incident_id = 0;
  std::optional<std::string> summary;
};

struct show_command {
  std::int64_t incident_id = 0;
};

enum class list_filter { open, all };

struct list_command {
  list_filter filter = list_filter::open;
};

struct decide_command {
  std::int64_t incident_id = 0;
};

struct help_command {};

using parsed_command =
    std::variant<open_command, classify_command, facts_command, notified_command, update_command,
                 resolve_command, show_command, list_command, decide_command, help_command>;

// What was wrong, and the usage line(s) that would have been right. `usage` is one line for a
// known subcommand, every line for an unknown or missing one.
struct usage_error {
  std::string problem;
  std::string usage;
};

using parse_result = std::variant<parsed_command, usage_error>;

parse_result parse_incident_command(std::string_view text, std::string_view command_name = "/incident");

// "/incident classify <ID> <critical|high|medium|low> <confirmed|potential> [confirmed-at=<time>]"
// for a subcommand name; empty for an unknown one.
std::string usage_line(std::string_view subcommand, std::string_view command_name = "/incident");
// Every usage line, one per line.
std::string full_usage(std::string_view command_name = "/incident");

// Undoes Slack's escaping of user text: &amp; &lt; &gt; and <@U…|name>-style markup.
std::string decode_slack_text(std::string_view text);

}  // namespace flare::commands
