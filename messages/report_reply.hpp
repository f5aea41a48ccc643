// What the bot says about a report: the acknowledgement in the report's thread (signals it
// recognised, what happens next, an Open incident button), and for sensitive reports the
// neutral public echo, the private note to the reporter, the Security Team ping in the private
// security channel, and the DM acknowledgement. Response policy, "Incident Detection".
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "messages/incident_view.hpp"
#include "messages/slack_message.hpp"

namespace flare::messages {

// action_id of the Open incident button; its value is open_incident_value(...).
inline constexpr std::string_view open_incident_action = "open_incident";

// "<channel>|<ts>|<p|s>|<title>": the report the button opens an incident for, whether it is
// sensitive, and the title to use (the report's first line, at most 150 characters). The value
// travels in the message, so a sensitive report's button only ever appears in the private
// security channel.
std::string open_incident_value(std::string_view channel, std::string_view ts, bool sensitive,
                                std::string_view title);
struct open_incident_request {
  std::string channel;
  std::string ts;
  bool sensitive = false;
  std::string title;
};
std::optional<open_incident_request> parse_open_incident_value(std::string_view value);

// The report's first non-empty line, without Slack markup noise, at most `max` characters
// (code points), for an incident title.
std::string report_title(std::string_view report_text, std::size_t max = 150);

// Slack sends message text with &amp; &lt; &gt; (docs/slack.md §5.6): the raw text.
std::string decode_entities(std::string_view text);

// https://slack.com/archives/<channel>/p<ts without the dot>: opens the message for anyone who
// can see the channel.
std::string message_link(std::string_view channel, std::string_view ts);

// In the report's thread: thanks, the signals recognised (or none), what happens next, and the
// Open incident button.
slack_message report_acknowledgement(std::string_view reporter, const std::vector<std::string>& signals,
                                     std::string_view channel, std::string_view ts,
                                     std::string_view title);

// In a public report's thread when the report is sensitive: names nothing from the report.
slack_message sensitive_report_received();

// Ephemeral to the reporter of a sensitive report made in public: next time, DM the bot.
slack_message sensitive_report_dm_suggestion();

// In the private security channel: the Security Team group (and the Head of Finance &
// Operations when a non-security category applies), who reported, where, the categories and
// the report text, with an Open incident button (sensitive).
struct security_ping {
  std::string security_team_group;                 // S… (may be empty: no group mention)
  std::optional<std::string> head_of_finance_ops;  // U…, set when injury/harassment/threat
  std::string reporter;
  std::string channel;
  std::string ts;
  bool via_dm = false;
  std::vector<std::string> categories;
  std::vector<std::string> signals;
  std::string text;               // the report, raw; escaped here
  std::optional<std::string> incident_reference;  // when an incident was opened for it
};
slack_message security_channel_ping(const security_ping& ping);

// The categories that also go to the Head of Finance & Operations: the response policy lists
// them beside security incidents ("physical injury, ... threats, harassment").
bool needs_head_of_finance_ops(const std::vector<std::string>& categories);

// Private reply to a report sent by DM.
slack_message dm_report_acknowledgement();

// Reply to a mention in a report's or incident's thread asking for its status. `incident` is
// empty when none is linked yet. A sensitive incident shows only its placeholder unless
// `reveal_sensitive`.
slack_message thread_status(const incident_view* incident, bool reveal_sensitive);

}  // namespace flare::messages
