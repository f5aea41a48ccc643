// Reports: a new top-level message from a person in #incidents, or any message sent to the bot
// by direct message (incident response policy, "Incident Detection": "Suspicious activity can be
// reported to the Slack channel #incidents, or, for potentially sensitive incidents, to the
// Security Team or to the Head of Finance & Operations").
//
// - Public report: reply in its thread with the signals recognised, what happens next and an
//   Open incident button.
// - Sensitive report in #incidents (a sensitive category matched): the thread gets only a
//   neutral "Received", the reporter an ephemeral hint to use DMs, and the private security
//   channel the report with the Security Team (and the Head of Finance & Operations for injury,
//   harassment and threats) mentioned.
// - DM report: acknowledged privately, forwarded to the security channel, opened as a sensitive
//   incident.
// - Ignored (docs/slack.md §3.2): our own posts, other bots, edits, deletions, joins and every
//   other subtype, and thread replies — except that a thread reply mentioning the bot gets the
//   linked incident's status.
// Every reply goes through the outbox with an idempotency key derived from the report
// ("report-reply:<channel>:<ts>"), and the report itself is recorded as handled in the store,
// so Slack's redeliveries and the message/app_mention pair for one message reply once.
//
// Buttons (block actions): open_incident (responders and the Security Team), mark_notified
// (/incident notified), post_update (opens a modal at once: the trigger_id lives 3 s) and its
// view submission (/incident update). They reuse incident_commands, so authorisation, audit,
// outbox posts and reminder rescheduling are the commands' own.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <nlohmann/json.hpp>

#include "bot/runtime/clock.hpp"
#include "bot/runtime/dispatcher.hpp"
#include "bot/slack/slack_api.hpp"
#include "messages/report_reply.hpp"
#include "bot/store/store.hpp"
#include "commands/incident_commands.hpp"
#include "policy/report_signals.hpp"

namespace flare::commands {

struct intake_settings {
  std::string incidents_channel;     // config: incidents_channel
  std::string security_channel;      // config: security_channel (private)
  std::string security_team_group;   // config: security_team_group (S…)
  std::string head_of_finance_ops;   // config: head_of_finance_ops (U…), may be empty
  std::string command_name = "/incident";
  policy::phrase_table signals;               // config: signals
  policy::phrase_table sensitive_categories;  // config: sensitive_categories
  double report_threshold = policy::report_lexicon{}.threshold;  // config: intake.threshold
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
  // dispatcher.on_action("open_incident" | "mark_notified" | "post_update")
  boost::asio::awaitable<void> on_open_incident(block_action action);
  boost::asio::awaitable<void> on_mark_notified(block_action action);
  boost::asio::awaitable<void> on_post_update(block_action action);
  // dispatcher.on_view_submission("post_update")
  boost::asio::awaitable<std::optional<nlohmann::json>> on_post_update_submission(view_submission view);

 private:
  void public_report(const message_event& e, const policy::report_match& match);
  void sensitive_report(const message_event& e, const policy::report_match& match);
  boost::asio::awaitable<void> dm_report(const message_event& e, const policy::report_match& match,
                                         const std::string& handled_key);
  void status_reply(const message_event& e);
  void reply_ephemeral(const std::string& key, const std::string& channel, const std::string& user,
                       const nlohmann::json& reply);
  bool mentions_bot(const std::string& text) const;
  messages::security_ping security_ping_for(const message_event& e, const policy::report_match& match) const;

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
