// Reports: a new top-level message from a person in #incidents, or any message sent to the bot
// by direct message (incident response policy, "Incident Detection": "Suspicious activity can be
// reported to the Slack channel #incidents, or, for potentially sensitive incidents, to the
// Security Team or to the Head of Finance & Operations"). docs/intake.md is the user's view.
//
// - #incidents, chatter (greetings, thanks, process questions): no reply at all.
// - #incidents, a report: one threaded reply naming what was recognised, the responders group
//   mentioned (intake.page_responders), an Open incident button and the reporter's This is
//   sensitive button. That button (the reporter or the Security Team only) edits the reply to a
//   neutral "Received", pings the Security Team in the private channel with the report, DMs the
//   reporter to delete their original (the bot cannot), and DMs the Head of Finance & Operations
//   for the categories configured for them.
// - #incidents, a sensitive report: the thread gets only "Received", the reporter an ephemeral
//   hint, the private security channel the report with the Security Team mentioned, and the Head
//   of Finance & Operations a DM for their categories. Nothing is paged in public.
// - A mention of the bot elsewhere: an ephemeral pointer to #incidents and DMs; the message is
//   repeated nowhere. A thread reply mentioning the bot in #incidents or the security channel,
//   or in an incident's thread, gets that incident's status.
// - DMs are a conversation. A follow-up from a reporter whose sensitive incident is open goes
//   into that incident's private thread (no new incident, no page). Otherwise a DM that reads as
//   a report is forwarded to the Security Team at once and opened as a sensitive incident with
//   its author as reporter; anything else gets "Report this privately to the Security Team" /
//   "Just a question" buttons.
// - Ignored (docs/slack.md §3.2): our own posts, other bots, edits, deletions, joins and every
//   other subtype.
// Every reply goes through the outbox with an idempotency key derived from the message
// ("report-reply:<channel>:<ts>", ...), and the message is recorded as handled in the store in
// the same transaction, so Slack's redeliveries and the message/app_mention pair reply once.
//
// Buttons (block actions): open_incident (responders and the Security Team; the report's author
// is recorded as reporter, the clicker as opener), report_sensitive, dm_report_privately,
// dm_just_a_question, mark_notified (/incident notified), post_update (opens a modal at once: the
// trigger_id lives 3 s) and its view submission (/incident update). They reuse
// incident_commands, so authorisation, audit, outbox posts and reminders are the commands' own.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <nlohmann/json.hpp>

#include "bot/runtime/clock.hpp"
#include "bot/runtime/dispatcher.hpp"
#include "bot/slack/slack_api.hpp"
#include "bot/store/store.hpp"
#include "commands/incident_commands.hpp"
#include "messages/report_reply.hpp"
#include "policy/report_signals.hpp"

namespace flare::commands {

struct intake_settings {
  std::string incidents_channel;    // config: incidents_channel
  std::string security_channel;     // config: security_channel (private)
  std::string security_team_group;  // config: security_team_group (S…)
  std::string head_of_finance_ops;  // config: head_of_finance_ops (U…), may be empty
  std::string command_name = "/incident";
  policy::phrase_table signals;                                  // config: signals
  policy::phrase_table sensitive_categories;                     // config: sensitive_categories
  double report_threshold = policy::report_lexicon{}.threshold;  // config: intake.threshold
  std::string responders_group;  // config: responders_group (S…), may be empty
  bool page_responders = true;   // config: intake.page_responders
  // config: intake.head_of_finance_ops_categories: sensitive categories that also go to the Head
  // of Finance & Operations by DM (response policy, "Incident Detection", paragraph 2).
  std::vector<std::string> head_of_finance_ops_categories = {"physical injury", "harassment", "threat"};
};

// What intake needs to know about a message (from the recogniser in policy/).
struct report_reading {
  bool is_report = false;
  bool sensitive = false;
  std::vector<std::string> recognised;            // every category/signal recognised, for people
  std::vector<std::string> sensitive_categories;  // the sensitive ones among them
  // The kind the recogniser proposes (issue 9, section 4: "Intake proposes the kind"); an
  // incident opened from the report starts with it and a responder confirms or changes it.
  policy::incident_kind kind = policy::incident_kind::none;
};

class report_intake {
 public:
  report_intake(store::store& store, slack::slack_api& slack, const flare::clock& clock,
                incident_commands& commands, intake_settings settings, std::function<void()> wake_outbox);

  // From auth.test: messages from this user or bot id are our own and ignored, and "<@user>" in
  // a thread reply is a status request. Until set, only bot_id-carrying messages are recognised
  // as bots.
  void set_bot_identity(std::string bot_user_id, std::string bot_id);

  // dispatcher.on_message
  boost::asio::awaitable<void> on_message(message_event event);
  // dispatcher.on_action("open_incident" | "report_sensitive" | "dm_report_privately" |
  // "dm_just_a_question" | "mark_notified" | "post_update")
  boost::asio::awaitable<void> on_open_incident(block_action action);
  boost::asio::awaitable<void> on_mark_sensitive(block_action action);
  boost::asio::awaitable<void> on_dm_report(block_action action);
  boost::asio::awaitable<void> on_dm_question(block_action action);
  boost::asio::awaitable<void> on_mark_notified(block_action action);
  boost::asio::awaitable<void> on_post_update(block_action action);
  // dispatcher.on_view_submission("post_update")
  boost::asio::awaitable<std::optional<nlohmann::json>> on_post_update_submission(view_submission view);

 private:
  report_reading read(const std::string& text) const;
  void public_report(const message_event& e, const report_reading& reading);
  void sensitive_report(const message_event& e, const report_reading& reading);
  boost::asio::awaitable<void> direct_message(const message_event& e);
  // `handled_key` (may be empty) is marked handled together with the Security Team ping.
  boost::asio::awaitable<void> dm_report(const message_event& e, const report_reading& reading,
                                         bool acknowledge = true, const std::string& handled_key = {});
  void dm_follow_up(const message_event& e, const store::incident& incident);
  void status_reply(const message_event& e);
  void pointer_reply(const message_event& e);
  void dm_head_of_finance_ops(const std::string& key, const messages::security_ping& ping,
                              std::optional<std::int64_t> incident_id);
  void reply_ephemeral(const std::string& key, const std::string& channel, const std::string& user,
                       const nlohmann::json& reply);
  void edit_message(const std::string& key, const std::string& channel, const std::string& ts,
                    const messages::slack_message& m);
  bool mentions_bot(const std::string& text) const;
  std::optional<store::incident> open_private_incident_of(const std::string& reporter);
  messages::security_ping security_ping_for(const message_event& e, const report_reading& reading) const;

  store::store& store_;
  slack::slack_api& slack_;
  const flare::clock& clock_;
  incident_commands& commands_;
  intake_settings settings_;
  policy::report_matcher matcher_;
  std::function<void()> wake_outbox_;
  std::string bot_user_id_;
  std::string bot_id_;
};

}  // namespace flare::commands
