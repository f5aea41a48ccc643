#include "commands/report_intake.hpp"

#include <spdlog/spdlog.h>

#include "messages/incident_view.hpp"
#include "messages/reminder_post.hpp"
#include "messages/replies.hpp"
#include "messages/report_reply.hpp"

namespace flare::commands {

namespace asio = boost::asio;
using json = nlohmann::json;

namespace {

json post(const messages::slack_message& m, const std::string& channel, const std::string& thread_ts) {
  json p = messages::as_post_body(m);
  p["channel"] = channel;
  if (!thread_ts.empty()) p["thread_ts"] = thread_ts;
  return p;
}

std::optional<std::int64_t> incident_id_of(const std::string& value) {
  return store::parse_incident_reference(value);
}

}  // namespace

report_intake::report_intake(store::store& store, slack::slack_api& slack, const flare::clock& clock,
                             incident_commands& commands, intake_settings settings,
                             std::function<void()> wake_outbox)
    : store_(store),
      slack_(slack),
      clock_(clock),
      commands_(commands),
      settings_(std::move(settings)),
      matcher_(settings_.signals, settings_.sensitive_categories, settings_.report_threshold),
      wake_outbox_(std::move(wake_outbox)) {}

void report_intake::set_bot_identity(std::string bot_user_id, std::string bot_id) {
  bot_user_id_ = std::move(bot_user_id);
  bot_id_ = std::move(bot_id);
}

bool report_intake::mentions_bot(const std::string& text) const {
  if (bot_user_id_.empty()) return false;
  // "<@U0BOT>" or "<@U0BOT|flare>"
  const std::string tag = "<@" + bot_user_id_;
  for (auto at = text.find(tag); at != std::string::npos; at = text.find(tag, at + 1)) {
    const auto next = at + tag.size();
    if (next < text.size() && (text[next] == '>' || text[next] == '|')) return true;
  }
  return false;
}

asio::awaitable<void> report_intake::on_message(message_event e) {
  // docs/slack.md §3.2: subtypes are not new human messages (joins, edits, deletions, bot
  // messages...). file_share is a person's message with files and still a report.
  if (!e.subtype.empty() && e.subtype != "file_share") co_return;
  if (e.edited) co_return;
  // Self-loop guard (Bolt's ignoreSelf) and other bots: apps post with bot_id and no subtype.
  if (!e.bot_id.empty() || e.user.empty()) co_return;
  if (!bot_user_id_.empty() && e.user == bot_user_id_) co_return;

  const bool dm = e.channel_type == "im";
  if (e.is_thread_reply()) {
    if (!mentions_bot(e.text)) co_return;
    // The mark and the reply commit together: a crash between them must not lose the reply.
    store_.transaction([&] {
      if (store_.mark_event_processed("mention:" + e.channel + ":" + e.ts, clock_.now())) status_reply(e);
    });
    co_return;
  }
  if (!dm && e.channel != settings_.incidents_channel) co_return;
  // A mention of the bot in a report arrives as both `message` and `app_mention` with different
  // event ids (docs/slack.md §3.3): the report's channel+ts is what is handled once.
  const std::string handled_key = "report:" + e.channel + ":" + e.ts;
  const auto match = matcher_.match(e.text);
  if (dm) {
    // Several steps (it suspends to open the incident), so not one transaction; instead each
    // step is idempotent: the acknowledgement and the Security Team ping are keyed by the report
    // and a report opens at most one incident. The report is marked handled last, with the ping,
    // so a crash in between replays it from the inbox without losing or doubling anything.
    co_await dm_report(e, match, handled_key);
  } else {
    bool first = false;
    store_.transaction([&] {
      first = store_.mark_event_processed(handled_key, clock_.now());
      if (!first) return;
      if (match.sensitive())
        sensitive_report(e, match);
      else
        public_report(e, match);
    });
    if (!first) co_return;
  }
  if (wake_outbox_) wake_outbox_();
}

void report_intake::public_report(const message_event& e, const policy::report_match& match) {
  const auto m = messages::report_acknowledgement(e.user, match.signals, e.channel, e.ts,
                                                  messages::report_title(e.text));
  store_.enqueue({"report-reply:" + e.channel + ":" + e.ts, std::nullopt, "post", post(m, e.channel, e.ts)},
                 clock_.now());
  spdlog::info("intake: report {}:{} from {} ({} signal(s))", e.channel, e.ts, e.user, match.signals.size());
}

void report_intake::sensitive_report(const message_event& e, const policy::report_match& match) {
  const auto now = clock_.now();
  store_.transaction([&] {
    // Nothing from the report is echoed in public: only that the Security Team has it.
    store_.enqueue({"report-reply:" + e.channel + ":" + e.ts, std::nullopt, "post",
                    post(messages::sensitive_report_received(), e.channel, e.ts)},
                   now);
    json hint = messages::as_post_body(messages::sensitive_report_dm_suggestion());
    hint["channel"] = e.channel;
    hint["user"] = e.user;
    store_.enqueue({"report-hint:" + e.channel + ":" + e.ts, std::nullopt, "ephemeral", std::move(hint)}, now);
    if (settings_.security_channel.empty()) return;
    store_.enqueue({"report-security:" + e.channel + ":" + e.ts, std::nullopt, "post",
                    post(messages::security_channel_ping(security_ping_for(e, match)), settings_.security_channel, {})},
                   now);
  });
  if (settings_.security_channel.empty())
    spdlog::error("intake: sensitive report {}:{} could not be forwarded: no security channel is configured",
                  e.channel, e.ts);
  else
    spdlog::info("intake: sensitive report {}:{} forwarded to the Security Team", e.channel, e.ts);
}

// The Security Team's view of a sensitive report (and the Head of Finance & Operations for the
// non-security categories), for the private security channel.
messages::security_ping report_intake::security_ping_for(const message_event& e,
                                                         const policy::report_match& match) const {
  messages::security_ping ping;
  ping.security_team_group = settings_.security_team_group;
  if (messages::needs_head_of_finance_ops(match.sensitive_categories) && !settings_.head_of_finance_ops.empty())
    ping.head_of_finance_ops = settings_.head_of_finance_ops;
  ping.reporter = e.user;
  ping.channel = e.channel;
  ping.ts = e.ts;
  ping.categories = match.sensitive_categories;
  ping.signals = match.signals;
  ping.text = e.text;
  return ping;
}

asio::awaitable<void> report_intake::dm_report(const message_event& e, const policy::report_match& match,
                                               const std::string& handled_key) {
  store_.enqueue({"report-reply:" + e.channel + ":" + e.ts, std::nullopt, "post",
                  post(messages::dm_report_acknowledgement(), e.channel, e.ts)},
                 clock_.now());
  // The reporter opens it: anyone may open an incident, and they wrote the report. The card goes
  // to the security channel and the DM thread gets only the placeholder (open_from_report).
  std::string title = messages::report_title(e.text);
  co_await commands_.open_from_report(e.user, e.channel, e.ts, std::move(title), true);
  const auto incident = store_.find_incident_by_report(e.channel, e.ts);
  if (settings_.security_channel.empty()) {
    store_.mark_event_processed(handled_key, clock_.now());
    spdlog::error("intake: DM report {}:{} could not be forwarded: no security channel is configured", e.channel, e.ts);
    co_return;
  }
  messages::security_ping ping = security_ping_for(e, match);
  ping.via_dm = true;
  if (incident) ping.incident_reference = incident->reference();
  bool first = false;
  store_.transaction([&] {
    first = store_.mark_event_processed(handled_key, clock_.now());
    store_.enqueue({"report-security:" + e.channel + ":" + e.ts, incident ? std::optional{incident->id} : std::nullopt,
                    "post", post(messages::security_channel_ping(ping), settings_.security_channel, {})},
                   clock_.now());
  });
  if (!first) co_return;  // the same report again (a replay, or its app_mention twin): already forwarded
  spdlog::info("intake: DM report from {} forwarded to the Security Team{}", e.user,
               incident ? " as " + incident->reference() : std::string{});
}

void report_intake::status_reply(const message_event& e) {
  auto incident = store_.find_incident_by_thread(e.channel, e.thread_ts);
  if (!incident) incident = store_.find_incident_by_report(e.channel, e.thread_ts);
  // Details of a sensitive incident only in the private security channel.
  const bool reveal = !settings_.security_channel.empty() && e.channel == settings_.security_channel;
  std::optional<messages::incident_view> view;
  if (incident) view = view_of(*incident, facts_of(*incident));
  const auto m = messages::thread_status(view ? &*view : nullptr, reveal);
  store_.enqueue({"status-reply:" + e.channel + ":" + e.ts, incident ? std::optional{incident->id} : std::nullopt,
                  "post", post(m, e.channel, e.thread_ts)},
                 clock_.now());
  if (wake_outbox_) wake_outbox_();
}

void report_intake::reply_ephemeral(const std::string& key, const std::string& channel, const std::string& user,
                                    const json& reply) {
  if (channel.empty() || user.empty()) return;
  json p{{"channel", channel}, {"user", user}, {"text", reply.value("text", "")},
         {"blocks", reply.value("blocks", json::array())}};
  store_.enqueue({key, std::nullopt, "ephemeral", std::move(p)}, clock_.now());
  if (wake_outbox_) wake_outbox_();
}

asio::awaitable<void> report_intake::on_open_incident(block_action a) {
  const auto request = messages::parse_open_incident_value(a.value);
  if (!request) {
    spdlog::warn("intake: open_incident with an unreadable value from {}", a.user_id);
    co_return;
  }
  if (!co_await commands_.may_respond(a.user_id)) {
    reply_ephemeral("action-reply:" + a.trigger_id, a.channel_id, a.user_id,
                    messages::as_command_reply(messages::refusal_message(
                        "open an incident from a report", "incident responders and the Security Team")));
    co_return;
  }
  const auto reply =
      co_await commands_.open_from_report(a.user_id, request->channel, request->ts, request->title, request->sensitive);
  reply_ephemeral("action-reply:" + a.trigger_id, a.channel_id, a.user_id, reply);
}

asio::awaitable<void> report_intake::on_mark_notified(block_action a) {
  const auto id = incident_id_of(a.value);
  if (!id) co_return;
  // Exactly `/incident notified INC-n`: the same authorisation, audit and rescheduling.
  // A named command, not a braced temporary inside co_await: GCC 12 destroys such temporaries
  // twice when they are coroutine arguments.
  slash_command command{settings_.command_name, "notified " + store::incident_reference(*id), a.user_id,
                        a.channel_id, a.trigger_id, ""};
  const auto reply = co_await commands_.handle(std::move(command));
  reply_ephemeral("action-reply:" + a.trigger_id, a.channel_id, a.user_id, reply);
}

asio::awaitable<void> report_intake::on_post_update(block_action a) {
  const auto id = incident_id_of(a.value);
  if (!id) co_return;
  // docs/slack.md §4.3: the trigger_id expires 3 s after Slack sent it, so views.open comes
  // before anything else; who may post is checked when the form is submitted.
  const auto opened = co_await slack_.open_view(a.trigger_id, messages::post_update_modal(*id, store::incident_reference(*id)));
  if (opened) co_return;
  spdlog::warn("intake: Post update form for {} not opened: {}", store::incident_reference(*id), opened.error().code);
  messages::slack_message m;
  m.text = "The update form could not be opened (" + messages::escape(opened.error().code) + "). Use " +
           messages::escape(settings_.command_name) + " update " + store::incident_reference(*id) + " <text> instead.";
  m.text = messages::enforce_limits(m).text;
  reply_ephemeral("action-reply:" + a.trigger_id, a.channel_id, a.user_id, messages::as_command_reply(m));
}

asio::awaitable<std::optional<json>> report_intake::on_post_update_submission(view_submission v) {
  auto errors = [](const std::string& text) -> std::optional<json> {
    return json{{"response_action", "errors"}, {"errors", {{std::string{messages::post_update_block}, text}}}};
  };
  const auto id = incident_id_of(v.private_metadata);
  if (!id) co_return errors("This form no longer matches an incident. Close it and use the command instead.");
  const std::string text = messages::post_update_text(v.values);
  if (text.empty()) co_return errors("Write the update first.");
  const auto incident = store_.find_incident(*id);
  if (!incident) co_return errors("There is no " + store::incident_reference(*id) + ".");
  if (incident->state == store::incident_state::resolved)
    co_return errors(incident->reference() + " is resolved; updates are closed.");
  if (!co_await commands_.may_respond(v.user_id))
    co_return errors("Only incident responders and the Security Team may post updates.");
  // Exactly `/incident update INC-n <text>`: the update lands in the incident's thread.
  // The view's trigger_id ties the update to its inbox delivery (store::delivery_in_hand).
  slash_command command{settings_.command_name, "update " + incident->reference() + " " + text, v.user_id, "",
                        v.trigger_id, ""};
  co_await commands_.handle(std::move(command));
  co_return std::nullopt;
}

}  // namespace flare::commands
