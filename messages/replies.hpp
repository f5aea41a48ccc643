// Replies to /incident commands and the posts they cause in an incident's thread.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "messages/incident_view.hpp"
#include "messages/slack_message.hpp"
#include "policy/disclosure.hpp"
#include "policy/facts.hpp"
#include "policy/obligations.hpp"

namespace date {
class time_zone;
}

namespace flare::messages {

struct subcommand_help {
  std::string name;   // "open"
  std::string usage;  // "open <title> [--sensitive]"
  std::string what;   // one sentence
  std::string who;    // who may use it, in words
};

// Every /incident subcommand: open, classify, facts, notified, update, resolve, show, list,
// decide, help — with its usage, what it does, and who may use it.
const std::vector<subcommand_help>& incident_subcommands();

// `command` is the slash command as invoked ("/incident"); every subcommand with usage and who.
slack_message help_message(std::string_view command);

// "<problem>" and "Usage: <usage>", both escaped (user mentions in `problem` stay mentions:
// mentions.hpp). For arguments a person can fix; seen only by the person who ran the command.
slack_message error_message(std::string_view problem, std::string_view usage);

// "You are not authorised to <action>: only <who_may> may. Nothing was changed." (escaped)
slack_message refusal_message(std::string_view action, std::string_view who_may);

// One line per incident: reference, severity, state, title, opened. Sensitive incidents show
// only "INC-n (sensitive)" unless reveal_sensitive. `filter` ("open"|"all") names the list.
slack_message incident_list(const std::vector<incident_view>& incidents, bool reveal_sensitive,
                            std::string_view filter);

// The obligation checklist as /incident show lists it: what was done, what is pending (with its
// due time in `zone` and a countdown from `now`), policy conflicts and legal precedence.
struct details_checklist {
  const policy::checklist* checklist = nullptr;
  const date::time_zone* zone = nullptr;
  std::chrono::sys_seconds now{};
};

// /incident show: the incident's fields, its recorded facts, and what responders owe. With a
// checklist, its state (so a done bulletin is shown done, not "required"); without one, the
// decision's required actions. A sensitive incident without reveal_sensitive shows only the
// placeholder.
slack_message incident_details(const incident_view& incident, const policy::facts& facts,
                               const policy::decision* decision, bool reveal_sensitive,
                               const details_checklist& obligations = {});

// A responder's update, posted in the incident's thread: "<@author> update: <text>".
slack_message update_post(const incident_view& incident, std::string_view author, std::string_view text);

// "<reference> resolved by <@author>", with the summary when there is one.
slack_message resolution_post(const incident_view& incident, std::string_view author);

// For a sensitive incident opened or reported in a public place: "INC-7 was opened as a
// sensitive incident; details are with the Security Team." — no title, reporter or details.
slack_message sensitive_placeholder(std::string_view reference);

}  // namespace flare::messages
