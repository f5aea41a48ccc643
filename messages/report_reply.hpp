// What the bot says about a report: the acknowledgement in the report's thread (signals it
// recognised, what happens next, an Open incident button), and for sensitive reports the
// neutral public echo, the private note to the reporter, the Security Team ping in the private
// security channel, and the DM acknowledgement. Response policy, "Incident Detection".
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "messages/incident_view.hpp"
#include "messages/slack_message.hpp"

namespace flare::messages {

// action_id of the Open incident button; its value is open_incident_value(...).
inline constexpr std::string_view open_incident_action = "open_incident";

// The report the button opens an incident for, whether it is sensitive, the title to use (the
// report's first line, at most 150 characters) and the report's author, who becomes the
// incident's reporter (the person who clicks is its opener). A JSON object; the older
// "<channel>|<ts>|<p|s>|<title>" form, still on buttons posted before, parses with no author.
// The value travels in the message, so a sensitive report's button only ever appears in the
// private security channel.
// `kind` is intake's proposed incident kind ("security", "people_and_safety"; empty: none): the
// incident opened from the button starts with it, as a proposal a responder confirms.
std::string open_incident_value(std::string_view channel, std::string_view ts, bool sensitive,
                                std::string_view title, std::string_view author = {},
                                std::string_view kind = {});
struct open_incident_request {
  std::string channel;
  std::string ts;
  bool sensitive = false;
  std::string title;
  std::string author;  // empty on buttons from before the author was carried
  std::string kind;    // intake's proposed kind; empty on older buttons or when none was read
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

// In the report's thread: thanks, what was recognised, what happens next, the responders group
// when `page_group` is set (config intake.page_responders), the Open incident button and the
// reporter's This is sensitive button (`report_text` rides in the latter's value, cut, so the
// Security Team gets the report even after its author deletes it).
slack_message report_acknowledgement(std::string_view reporter, const std::vector<std::string>& recognised,
                                     std::string_view channel, std::string_view ts, std::string_view title,
                                     std::string_view page_group = {}, std::string_view report_text = {},
                                     std::string_view proposed_kind = {});

// action_id of the reporter's "This is sensitive" button on a public report's reply.
inline constexpr std::string_view mark_sensitive_action = "report_sensitive";
// What the button needs: the report (channel, ts), its author (only they or the Security Team
// may press it) and the report's text (cut to fit Slack's 2000-character button value).
struct sensitive_request {
  std::string channel;
  std::string ts;
  std::string author;
  std::string text;
};
std::string sensitive_value(const sensitive_request& r);
std::optional<sensitive_request> parse_sensitive_value(std::string_view value);

// Ephemeral to someone else who pressed This is sensitive.
slack_message mark_sensitive_refused();
// Ephemeral to the one who pressed it.
slack_message mark_sensitive_done();
// DM to the reporter: the report went private; please delete the original message (the bot
// cannot delete another person's message), with a link to it.
slack_message delete_original_suggestion(std::string_view channel, std::string_view ts);

// Ephemeral to someone who mentioned the bot with a report outside #incidents: where to report
// instead. Repeats nothing of the message.
slack_message report_elsewhere_pointer(std::string_view incidents_channel);

// DMs that do not read as a report: the question, with the two buttons. The value of both is
// dm_choice_value(channel, ts, text).
inline constexpr std::string_view dm_report_action = "dm_report_privately";
inline constexpr std::string_view dm_question_action = "dm_just_a_question";
slack_message dm_report_or_question(std::string_view channel, std::string_view ts, std::string_view text);
struct dm_choice {
  std::string channel;
  std::string ts;
  std::string text;
};
std::string dm_choice_value(const dm_choice& c);
std::optional<dm_choice> parse_dm_choice_value(std::string_view value);
// The question, edited after the choice.
slack_message dm_choice_reported();
slack_message dm_choice_question(std::string_view incidents_channel, std::string_view command_name);

// A follow-up DM from a reporter whose incident is open: in the incident's private thread (no
// group mention: it pages nobody), and the reporter's confirmation.
slack_message dm_follow_up(std::string_view reporter, std::string_view text);
slack_message dm_follow_up_received(std::string_view reference);

// In an incident's thread when nobody has classified it after `waited`: first the responders
// (`escalation` false), then the Security Team (`escalation` true). `group` may be empty.
slack_message untriaged_nudge(std::string_view reference, std::chrono::seconds waited, std::string_view group,
                              bool escalation, std::string_view command_name);

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
  std::string text;                               // the report, raw; escaped here
  std::optional<std::string> incident_reference;  // when an incident was opened for it
  std::string kind;  // intake's proposed kind, carried by the Open incident button (may be empty)
};
slack_message security_channel_ping(const security_ping& ping);

// The Head of Finance & Operations' DM for a non-security sensitive report (response policy,
// "Incident Detection", paragraph 2): the same facts as the security ping, no buttons.
slack_message head_of_finance_ops_dm(const security_ping& ping);

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
