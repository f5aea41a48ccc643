// The `/incident` grammar: text in, a typed command or a usage error out. Pure (no store, no
// Slack, no clock), so every bad input a person can type is a table row in the tests.
//
//   open <title> [sensitive]
//   classify <ID> <critical|high|medium|low> <confirmed|potential> [confirmed-at=<RFC 3339 time>] [--confirm]
//   facts <ID> <key>=<value> [<key>=<value> ...] [--confirm]   values with spaces in "double quotes"
//   kind <ID> <security|people> [--confirm]
//   done <ID> <obligation> [at=<time>] [link=<url>] [note=<text>]
//   not-needed <ID> <obligation> reason=<text>
//   notified <ID> [at=<time>] [link=<url>] [note=<text>]   (done for the next customer notice)
//   call <ID> <conflict> <option> [note=<text>]
//   update <ID> <text>
//   resolve <ID> [resolved|not-an-incident|false-positive|duplicate-of=<ID>] [summary]
//   show <ID>
//   list [open|all]
//   deadlines
//   decide <ID>
//   help
//
// `--confirm` lets a change move or clear a running deadline (without it the change is refused
// with what it would move, and a button to confirm). Whether a time lies in the future is not
// checked here (the grammar has no clock): incident_commands refuses it.
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
  bool confirm = false;                     // --confirm: a running deadline may move
};

struct fact_assignment {
  std::string key;
  std::string value;  // decoded, unquoted; validated against policy::set_fact already
  friend bool operator==(const fact_assignment&, const fact_assignment&) = default;
};

struct facts_command {
  std::int64_t incident_id = 0;
  std::vector<fact_assignment> assignments;  // in the order typed
  bool confirm = false;                      // --confirm: a running deadline may move
};

// Evidence and time of a completed obligation, shared by done and notified.
struct completion_options {
  std::optional<sys_seconds> at;  // at=...; none: now
  std::string link;               // link=https://...
  std::string note;               // note="..."
  friend bool operator==(const completion_options&, const completion_options&) = default;
};

struct notified_command {
  std::int64_t incident_id = 0;
  completion_options options;
};

struct done_command {
  std::int64_t incident_id = 0;
  std::string obligation;  // as typed (lower case): an id or a short name such as "update"
  completion_options options;
};

struct not_needed_command {
  std::int64_t incident_id = 0;
  std::string obligation;
  std::string reason;
};

struct kind_command {
  std::int64_t incident_id = 0;
  std::string kind;  // "security" | "people_and_safety"
  bool confirm = false;
};

struct call_command {
  std::int64_t incident_id = 0;
  std::string conflict;
  std::string option;
  std::string note;
};

struct deadlines_command {};

struct update_command {
  std::int64_t incident_id = 0;
  std::string text;
};

// Why an incident is closed. Only `resolved` is a real incident that customers may need a
// resolution message for; the others close it as something that needed no response.
enum class close_reason { resolved, not_an_incident, false_positive, duplicate };
std::string_view to_string(close_reason r);  // "resolved", "not an incident", ...
std::optional<close_reason> parse_close_reason(std::string_view stored);  // to_string's output

struct resolve_command {
  std::int64_t incident_id = 0;
  std::optional<std::string> summary;
  close_reason reason = close_reason::resolved;
  std::int64_t duplicate_of = 0;  // set when reason == duplicate
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
                 resolve_command, show_command, list_command, decide_command, help_command, done_command,
                 not_needed_command, kind_command, call_command, deadlines_command>;

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
