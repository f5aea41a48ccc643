#include "commands/report_intake.hpp"

#include <algorithm>
#include <cstdint>

#include <spdlog/spdlog.h>

#include "messages/incident_view.hpp"
#include "messages/reminder_post.hpp"
#include "messages/replies.hpp"
#include "messages/report_reply.hpp"
#include "policy/obligations.hpp"

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

// The recogniser's proposed kind as the Open incident button carries it ("" when none).
std::string proposed_kind(const report_reading& reading) {
  return reading.kind == policy::incident_kind::none ? std::string{}
                                                     : std::string{policy::to_string(reading.kind)};
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

// The one place intake asks policy/ how a message reads.
report_reading report_intake::read(const std::string& text) const {
  const auto match = matcher_.match(text);
  report_reading r;
  r.sensitive = match.sensitive();
  // The recogniser says chatter from report; a sensitive reading is a report whatever else.
  r.is_report = r.sensitive || match.is_report;
  r.recognised = match.signals;
  r.recognised.insert(r.recognised.end(), match.sensitive_categories.begin(),
                      match.sensitive_categories.end());
  r.sensitive_categories = match.sensitive_categories;
  r.kind = match.kind;
  return r;
}

asio::awaitable<void> report_intake::on_message(message_event e) {
  // docs/slack.md §3.2: subtypes are not new human messages (joins, edits, deletions, bot
  // messages...). file_share is a person's message with files and still a report.
  if (!e.subtype.empty() && e.subtype != "file_share") co_return;
  if (e.edited) co_return;
  // Self-loop guard (Bolt's ignoreSelf) and other bots: apps post with bot_id and no subtype.
  if (!e.bot_id.empty() || e.user.empty()) co_return;
  if (!bot_user_id_.empty() && e.user == bot_user_id_) co_return;

  if (e.channel_type == "im") {
    co_await direct_message(e);
    if (wake_outbox_) wake_outbox_();
    co_return;
  }
  const bool incidents = e.channel == settings_.incidents_channel;
  const bool security = !settings_.security_channel.empty() && e.channel == settings_.security_channel;
  // A mention arrives as both `message` and `app_mention` with different event ids
  // (docs/slack.md §3.3): the message's channel+ts is what is handled once.
  const bool mention = e.type == "app_mention" || mentions_bot(e.text);
  if (e.is_thread_reply() || !incidents) {
    if (!mention) co_return;
    // The mark and the reply commit together: a crash between them must not lose the reply.
    store_.transaction([&] {
      if (!store_.mark_event_processed("mention:" + e.channel + ":" + e.ts, clock_.now())) return;
      const bool incident_thread =
          e.is_thread_reply() && (store_.find_incident_by_thread(e.channel, e.thread_ts) ||
                                  store_.find_incident_by_report(e.channel, e.thread_ts));
      if (e.is_thread_reply() && (incidents || security || incident_thread)) status_reply(e);
      else if (!security) pointer_reply(e);  // elsewhere: point to #incidents and DMs, repeat nothing
    });
    co_return;
  }
  const auto reading = read(e.text);
  // Chatter ("thanks!", "ok", questions about the process) gets no "report received".
  if (!reading.is_report) co_return;
  bool first = false;
  store_.transaction([&] {
    first = store_.mark_event_processed("report:" + e.channel + ":" + e.ts, clock_.now());
    if (!first) return;
    if (reading.sensitive) sensitive_report(e, reading);
    else public_report(e, reading);
  });
  if (first && wake_outbox_) wake_outbox_();
}

void report_intake::public_report(const message_event& e, const report_reading& reading) {
  const std::string page = settings_.page_responders && !settings_.responders_group.empty()
                               ? settings_.responders_group
                               : std::string{};
  const auto m =
      messages::report_acknowledgement(e.user, reading.recognised, e.channel, e.ts,
                                       messages::report_title(e.text), page, e.text, proposed_kind(reading));
  store_.enqueue({"report-reply:" + e.channel + ":" + e.ts, std::nullopt, "post", post(m, e.channel, e.ts)},
                 clock_.now());
  spdlog::info("intake: report {}:{} from {} ({} recognised{})", e.channel, e.ts, e.user,
               reading.recognised.size(), page.empty() ? "" : ", responders pinged");
}

void report_intake::sensitive_report(const message_event& e, const report_reading& reading) {
  const auto now = clock_.now();
  store_.transaction([&] {
    // Nothing from the report is echoed in public, and nobody is paged there.
    store_.enqueue({"report-reply:" + e.channel + ":" + e.ts, std::nullopt, "post",
                    post(messages::sensitive_report_received(), e.channel, e.ts)},
                   now);
    json hint = messages::as_post_body(messages::sensitive_report_dm_suggestion());
    hint["channel"] = e.channel;
    hint["user"] = e.user;
    store_.enqueue({"report-hint:" + e.channel + ":" + e.ts, std::nullopt, "ephemeral", std::move(hint)},
                   now);
    const auto ping = security_ping_for(e, reading);
    dm_head_of_finance_ops("report-hofo:" + e.channel + ":" + e.ts, ping, std::nullopt);
    if (settings_.security_channel.empty()) return;
    store_.enqueue({"report-security:" + e.channel + ":" + e.ts, std::nullopt, "post",
                    post(messages::security_channel_ping(ping), settings_.security_channel, {})},
                   now);
  });
  if (settings_.security_channel.empty())
    spdlog::error("intake: sensitive report {}:{} could not be forwarded: no security channel is configured",
                  e.channel, e.ts);
  else spdlog::info("intake: sensitive report {}:{} forwarded to the Security Team", e.channel, e.ts);
}

// The Security Team's view of a sensitive report, for the private security channel (and the
// Head of Finance & Operations' DM).
messages::security_ping report_intake::security_ping_for(const message_event& e,
                                                         const report_reading& reading) const {
  messages::security_ping ping;
  ping.security_team_group = settings_.security_team_group;
  const bool people_matter = std::any_of(
      reading.sensitive_categories.begin(), reading.sensitive_categories.end(), [&](const std::string& c) {
        return std::find(settings_.head_of_finance_ops_categories.begin(),
                         settings_.head_of_finance_ops_categories.end(),
                         c) != settings_.head_of_finance_ops_categories.end();
      });
  if (people_matter && !settings_.head_of_finance_ops.empty())
    ping.head_of_finance_ops = settings_.head_of_finance_ops;
  ping.reporter = e.user;
  ping.channel = e.channel;
  ping.ts = e.ts;
  ping.categories = reading.sensitive_categories;
  ping.signals = reading.recognised;
  ping.text = e.text;
  ping.kind = proposed_kind(reading);
  return ping;
}

// A mention inside a private channel the Head of Finance & Operations is not in reaches nobody:
// they get their own DM (conversations.open + chat.postMessage, done by the outbox).
void report_intake::dm_head_of_finance_ops(const std::string& key, const messages::security_ping& ping,
                                           std::optional<std::int64_t> incident_id) {
  if (!ping.head_of_finance_ops) return;
  json body = messages::as_post_body(messages::head_of_finance_ops_dm(ping));
  body["dm_user"] = *ping.head_of_finance_ops;
  store_.enqueue({key, incident_id, "post", std::move(body)}, clock_.now());
  spdlog::info("intake: report {}:{} sent to the Head of Finance & Operations by DM", ping.channel, ping.ts);
}

// The reporter's open sensitive incident, newest first: a follow-up DM belongs there.
std::optional<store::incident> report_intake::open_private_incident_of(const std::string& reporter) {
  for (auto& i : store_.list_incidents(true, SIZE_MAX))
    if (i.sensitive && i.reporter == reporter) return std::move(i);
  // The reporter's incident was closed as a duplicate: follow-ups go to the surviving incident
  // (issue 9, section 4), but only when it is private too; a DM must not land in a public thread.
  for (const auto& i : store_.list_incidents(false, 200)) {
    if (!i.sensitive || i.reporter != reporter || i.state != store::incident_state::resolved) continue;
    const auto dup_of = store_.ledger_for(i.id).duplicate_of;
    if (!dup_of) continue;
    auto survivor = store_.find_incident(*dup_of);
    if (survivor && survivor->sensitive && survivor->state == store::incident_state::open) return survivor;
  }
  return std::nullopt;
}

asio::awaitable<void> report_intake::direct_message(const message_event& e) {
  const std::string handled_key = "report:" + e.channel + ":" + e.ts;
  const auto reading = read(e.text);
  // A DM that opened its own incident already is a replay of a report interrupted by a crash: it
  // finishes as a report (every step is idempotent), not as a follow-up of itself.
  const bool reported_before = store_.find_incident_by_report(e.channel, e.ts).has_value();
  std::optional<store::incident> open;
  bool first = false;
  bool report = false;
  store_.transaction([&] {
    if (!reported_before) open = open_private_incident_of(e.user);
    report = !open && (reading.is_report || reported_before);
    if (report) return;  // marked handled by dm_report, together with its Security Team ping
    first = store_.mark_event_processed(handled_key, clock_.now());
    if (!first) return;
    if (open) {
      dm_follow_up(e, *open);
      return;
    }
    // Not obviously a report: ask, privately, rather than page the Security Team for "thanks!".
    store_.enqueue({"dm-ask:" + e.channel + ":" + e.ts, std::nullopt, "post",
                    post(messages::dm_report_or_question(e.channel, e.ts, e.text), e.channel, {})},
                   clock_.now());
  });
  if (report) {
    // Several steps (it suspends to open the incident), so not one transaction: each step is
    // idempotent (keyed outbox posts, at most one incident per report) and the report is marked
    // handled last, with its ping, so a crash in between replays it from the inbox.
    co_await dm_report(e, reading, true, handled_key);
    co_return;
  }
  if (!first || open) co_return;
  spdlog::info("intake: DM from {} asked whether it is a report", e.user);
}

// Into the incident's private thread, with no group mention: the Security Team already has the
// report; a follow-up must not page them again.
void report_intake::dm_follow_up(const message_event& e, const store::incident& incident) {
  const auto now = clock_.now();
  json body = messages::as_post_body(messages::dm_follow_up(e.user, e.text));
  body["channel"] = incident.channel;
  body["thread_of_incident"] = incident.id;
  store_.enqueue({"dm-follow-up:" + e.channel + ":" + e.ts, incident.id, "post", std::move(body)}, now);
  store_.enqueue({"report-reply:" + e.channel + ":" + e.ts, std::nullopt, "post",
                  post(messages::dm_follow_up_received(incident.reference()), e.channel, {})},
                 now);
  spdlog::info("intake: DM follow-up from {} added to {}", e.user, incident.reference());
}

asio::awaitable<void> report_intake::dm_report(const message_event& e, const report_reading& reading,
                                               bool acknowledge, const std::string& handled_key) {
  if (acknowledge)
    store_.enqueue({"report-reply:" + e.channel + ":" + e.ts, std::nullopt, "post",
                    post(messages::dm_report_acknowledgement(), e.channel, {})},
                   clock_.now());
  // The reporter opens it: anyone may open an incident, and they wrote the report. The card goes
  // to the security channel and the DM only gets the placeholder (open_from_report).
  std::string title = messages::report_title(e.text);
  co_await commands_.open_from_report(e.user, e.channel, e.ts, std::move(title), true, e.user, reading.kind);
  const auto incident = store_.find_incident_by_report(e.channel, e.ts);
  messages::security_ping ping = security_ping_for(e, reading);
  ping.via_dm = true;
  if (incident) ping.incident_reference = incident->reference();
  const std::optional<std::int64_t> incident_id = incident ? std::optional{incident->id} : std::nullopt;
  store_.transaction([&] {
    if (!handled_key.empty()) store_.mark_event_processed(handled_key, clock_.now());
    dm_head_of_finance_ops("report-hofo:" + e.channel + ":" + e.ts, ping, incident_id);
    if (settings_.security_channel.empty()) return;
    store_.enqueue({"report-security:" + e.channel + ":" + e.ts, incident_id, "post",
                    post(messages::security_channel_ping(ping), settings_.security_channel, {})},
                   clock_.now());
  });
  if (settings_.security_channel.empty()) {
    store_.mark_event_processed(handled_key, clock_.now());
    spdlog::error("intake: DM report {}:{} could not be forwarded: no security channel is configured",
                  e.channel, e.ts);
    co_return;
  }
  spdlog::info("intake: DM report from {} forwarded to the Security Team{}", e.user,
               incident ? " as " + incident->reference() : std::string{});
}

void report_intake::pointer_reply(const message_event& e) {
  json body = messages::as_post_body(messages::report_elsewhere_pointer(settings_.incidents_channel));
  body["channel"] = e.channel;
  body["user"] = e.user;
  store_.enqueue({"mention-pointer:" + e.channel + ":" + e.ts, std::nullopt, "ephemeral", std::move(body)},
                 clock_.now());
  if (wake_outbox_) wake_outbox_();
}

void report_intake::edit_message(const std::string& key, const std::string& channel, const std::string& ts,
                                 const messages::slack_message& m) {
  if (channel.empty() || ts.empty()) return;
  json body = messages::as_post_body(m);
  body["channel"] = channel;
  body["ts"] = ts;
  store_.enqueue({key, std::nullopt, "update", std::move(body)}, clock_.now());
}

void report_intake::status_reply(const message_event& e) {
  auto incident = store_.find_incident_by_thread(e.channel, e.thread_ts);
  if (!incident) incident = store_.find_incident_by_report(e.channel, e.thread_ts);
  // Details of a sensitive incident only in the private security channel.
  const bool reveal = !settings_.security_channel.empty() && e.channel == settings_.security_channel;
  // A duplicate's thread answers with the surviving incident, where its report continues, as
  // long as that does not show a sensitive incident's details here.
  if (incident) {
    if (const auto dup_of = store_.ledger_for(incident->id).duplicate_of) {
      auto survivor = store_.find_incident(*dup_of);
      if (survivor && (!survivor->sensitive || reveal)) incident = std::move(survivor);
    }
  }
  std::optional<messages::incident_view> view;
  if (incident) view = view_of(*incident, facts_of(*incident));
  const auto m = messages::thread_status(view ? &*view : nullptr, reveal);
  store_.enqueue(
      {"status-reply:" + e.channel + ":" + e.ts, incident ? std::optional{incident->id} : std::nullopt,
       "post", post(m, e.channel, e.thread_ts)},
      clock_.now());
  if (wake_outbox_) wake_outbox_();
}

void report_intake::reply_ephemeral(const std::string& key, const std::string& channel,
                                    const std::string& user, const json& reply) {
  if (channel.empty() || user.empty()) return;
  json p{{"channel", channel},
         {"user", user},
         {"text", reply.value("text", "")},
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
  // Buttons posted before the author was carried name nobody: the clicker is then the reporter.
  const auto reply = co_await commands_.open_from_report(
      a.user_id, request->channel, request->ts, request->title, request->sensitive, request->author,
      policy::parse_incident_kind(request->kind).value_or(policy::incident_kind::none));
  reply_ephemeral("action-reply:" + a.trigger_id, a.channel_id, a.user_id, reply);
}

asio::awaitable<void> report_intake::on_mark_sensitive(block_action a) {
  const auto request = messages::parse_sensitive_value(a.value);
  if (!request) {
    spdlog::warn("intake: report_sensitive with an unreadable value from {}", a.user_id);
    co_return;
  }
  // The reporter decides about their own report; the Security Team may too.
  if (a.user_id != request->author && !co_await commands_.is_security_team(a.user_id)) {
    reply_ephemeral("action-reply:" + a.trigger_id, a.channel_id, a.user_id,
                    messages::as_command_reply(messages::mark_sensitive_refused()));
    co_return;
  }
  message_event e;
  e.channel = request->channel;
  e.ts = request->ts;
  e.user = request->author;
  e.text = request->text;
  auto reading = read(e.text);
  const auto incident = store_.find_incident_by_report(e.channel, e.ts);
  const auto now = clock_.now();
  const std::string key = e.channel + ":" + e.ts;
  bool first = false;
  store_.transaction([&] {
    first = store_.mark_event_processed("sensitive:" + key, now);
    if (!first) return;
    // The reply (with the recognised categories and both buttons) becomes a neutral "Received".
    edit_message("report-private-edit:" + key, a.channel_id, a.message_ts,
                 messages::sensitive_report_received());
    auto ping = security_ping_for(e, reading);
    if (incident) ping.incident_reference = incident->reference();
    if (reading.sensitive_categories.empty())
      ping.categories = {"marked sensitive by " + (a.user_id == e.user ? std::string{"the reporter"}
                                                                       : std::string{"the Security Team"})};
    if (!settings_.security_channel.empty())
      store_.enqueue({"report-security:" + key, incident ? std::optional{incident->id} : std::nullopt, "post",
                      post(messages::security_channel_ping(ping), settings_.security_channel, {})},
                     now);
    dm_head_of_finance_ops("report-hofo:" + key, ping, std::nullopt);
    json dm = messages::as_post_body(messages::delete_original_suggestion(e.channel, e.ts));
    dm["dm_user"] = e.user;
    store_.enqueue({"report-delete-hint:" + key, std::nullopt, "post", std::move(dm)}, now);
  });
  if (first) {
    spdlog::info("intake: report {} moved to the private route by {}", key, a.user_id);
    if (settings_.security_channel.empty())
      spdlog::error("intake: report {} could not be forwarded: no security channel is configured", key);
  }
  reply_ephemeral("action-reply:" + a.trigger_id, a.channel_id, a.user_id,
                  messages::as_command_reply(messages::mark_sensitive_done()));
}

asio::awaitable<void> report_intake::on_dm_report(block_action a) {
  const auto choice = messages::parse_dm_choice_value(a.value);
  // Only in the DM it was asked in: the value names that DM.
  if (!choice || choice->channel != a.channel_id) {
    spdlog::warn("intake: dm_report_privately with an unreadable value from {}", a.user_id);
    co_return;
  }
  if (!store_.mark_event_processed("dm-choice:" + choice->channel + ":" + choice->ts, clock_.now()))
    co_return;
  edit_message("dm-choice-edit:" + choice->channel + ":" + choice->ts, a.channel_id, a.message_ts,
               messages::dm_choice_reported());
  message_event e;
  e.channel = choice->channel;
  e.channel_type = "im";
  e.ts = choice->ts;
  e.user = a.user_id;
  e.text = choice->text;
  co_await dm_report(e, read(e.text), false);  // the edited question is the acknowledgement
  if (wake_outbox_) wake_outbox_();
}

asio::awaitable<void> report_intake::on_dm_question(block_action a) {
  const auto choice = messages::parse_dm_choice_value(a.value);
  if (!choice || choice->channel != a.channel_id) co_return;
  if (!store_.mark_event_processed("dm-choice:" + choice->channel + ":" + choice->ts, clock_.now()))
    co_return;
  edit_message("dm-choice-edit:" + choice->channel + ":" + choice->ts, a.channel_id, a.message_ts,
               messages::dm_choice_question(settings_.incidents_channel, settings_.command_name));
  if (wake_outbox_) wake_outbox_();
  co_return;
}

asio::awaitable<void> report_intake::on_mark_notified(block_action a) {
  const auto id = incident_id_of(a.value);
  if (!id) co_return;
  // Exactly `/incident notified INC-n`: the same authorisation, audit and rescheduling.
  // A named command, not a braced temporary inside co_await: GCC 12 destroys such temporaries
  // twice when they are coroutine arguments.
  slash_command command{settings_.command_name,
                        "notified " + store::incident_reference(*id),
                        a.user_id,
                        a.channel_id,
                        a.trigger_id,
                        ""};
  const auto reply = co_await commands_.handle(std::move(command));
  reply_ephemeral("action-reply:" + a.trigger_id, a.channel_id, a.user_id, reply);
}

asio::awaitable<void> report_intake::on_post_update(block_action a) {
  const auto id = incident_id_of(a.value);
  if (!id) co_return;
  // docs/slack.md §4.3: the trigger_id expires 3 s after Slack sent it, so views.open comes
  // before anything else; who may post is checked when the form is submitted.
  const auto opened = co_await slack_.open_view(
      a.trigger_id, messages::post_update_modal(*id, store::incident_reference(*id)));
  if (opened) co_return;
  spdlog::warn("intake: Post update form for {} not opened: {}", store::incident_reference(*id),
               opened.error().code);
  messages::slack_message m;
  m.text = "The update form could not be opened (" + messages::escape(opened.error().code) + "). Use " +
           messages::escape(settings_.command_name) + " update " + store::incident_reference(*id) +
           " <text> instead.";
  m.text = messages::enforce_limits(m).text;
  reply_ephemeral("action-reply:" + a.trigger_id, a.channel_id, a.user_id, messages::as_command_reply(m));
}

asio::awaitable<std::optional<json>> report_intake::on_post_update_submission(view_submission v) {
  auto errors = [](const std::string& text) -> std::optional<json> {
    return json{{"response_action", "errors"},
                {"errors", {{std::string{messages::post_update_block}, text}}}};
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
  slash_command command{settings_.command_name,
                        "update " + incident->reference() + " " + text,
                        v.user_id,
                        "",
                        v.trigger_id,
                        ""};
  co_await commands_.handle(std::move(command));
  co_return std::nullopt;
}

}  // namespace flare::commands
