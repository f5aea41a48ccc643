#include "commands/incident_commands.hpp"

#include <algorithm>
#include <utility>
#include <vector>

#include <spdlog/spdlog.h>

#include "commands/incident_checklist.hpp"
#include "messages/blocks.hpp"
#include "messages/checklist_view.hpp"
#include "messages/decision_post.hpp"
#include "messages/incident_view.hpp"
#include "messages/replies.hpp"
#include "messages/report_reply.hpp"
#include "messages/slack_message.hpp"
#include "messages/time_text.hpp"
#include "policy/checklist_diff.hpp"
#include "policy/classification.hpp"
#include "policy/decision_json.hpp"
#include "policy/facts_json.hpp"
#include "policy/rfc3339.hpp"

namespace flare::commands {
namespace {

namespace asio = boost::asio;
using json = nlohmann::json;

// Issue: "only members of the configured responders user group (and the Security Team group)".
constexpr std::string_view kResponders = "incident responders and the Security Team";

command_reply reply(const messages::slack_message& m) { return messages::as_command_reply(m); }

// A short confirmation: `mrkdwn` is already escaped, `fallback` is the notification text.
command_reply confirmation(const std::string& mrkdwn, std::string fallback) {
  messages::slack_message m;
  m.text = std::move(fallback);
  m.blocks.push_back(messages::blocks::section("confirmation", mrkdwn));
  return reply(messages::enforce_limits(std::move(m)));
}

std::optional<std::string> word(const std::optional<policy::severity>& s) {
  if (!s) return std::nullopt;
  return std::string{policy::to_string(*s)};
}

std::optional<std::string> word(const std::optional<policy::classification>& c) {
  if (!c) return std::nullopt;
  return std::string{policy::to_string(*c)};
}

// Outbox payloads as bot/outbox.hpp specifies them.
store::new_outbox_item card_post(const store::incident& i, const messages::slack_message& m,
                                 const std::optional<std::string>& thread_ts) {
  json payload = messages::as_post_body(m);
  payload["channel"] = i.channel;
  payload["record_as"] = "card";
  if (thread_ts) payload["thread_ts"] = *thread_ts;
  return {i.reference() + "/card", i.id, "post", std::move(payload)};
}

store::new_outbox_item card_update(const store::incident& i, const messages::slack_message& m,
                                   const std::string& key_prefix) {
  json payload = messages::as_post_body(m);
  payload["card_of_incident"] = i.id;
  return {key_prefix + "/card", i.id, "update", std::move(payload)};
}

store::new_outbox_item thread_post(const store::incident& i, const messages::slack_message& m,
                                   const std::string& key) {
  json payload = messages::as_post_body(m);
  payload["channel"] = i.channel;
  payload["thread_of_incident"] = i.id;
  return {key, i.id, "post", std::move(payload)};
}

command_reply unverified_membership(const std::string& why) {
  const std::string text = "Your membership of the incident responders could not be verified with Slack (" +
                           why + "), so nothing was changed. Please try again in a minute.";
  messages::slack_message m;
  m.text = messages::escape(text);
  m.blocks.push_back(messages::blocks::section("unverified", "⚠️ " + messages::escape(text)));
  return reply(messages::enforce_limits(std::move(m)));
}

std::string_view action_words(const parsed_command& c) {
  if (std::holds_alternative<classify_command>(c)) return "classify incidents";
  if (std::holds_alternative<facts_command>(c)) return "set incident facts";
  if (std::holds_alternative<notified_command>(c)) return "record customer notifications";
  if (std::holds_alternative<update_command>(c)) return "post incident updates";
  if (std::holds_alternative<resolve_command>(c)) return "resolve incidents";
  if (std::holds_alternative<decide_command>(c)) return "post disclosure decisions";
  if (std::holds_alternative<done_command>(c)) return "mark obligations done";
  if (std::holds_alternative<not_needed_command>(c)) return "mark obligations not needed";
  if (std::holds_alternative<kind_command>(c)) return "change an incident's kind";
  if (std::holds_alternative<call_command>(c)) return "record calls on policy conflicts";
  return {};
}

}  // namespace

messages::incident_view view_of(const store::incident& i, const policy::facts& f) {
  messages::incident_view v;
  v.reference = i.reference();
  v.title = i.title;
  v.reporter = i.reporter;
  v.severity = i.severity;
  v.classification = i.classification;
  v.state = std::string{store::to_string(i.state)};
  v.sensitive = i.sensitive;
  v.created_at = i.created_at;
  v.impact_confirmed_at = f.impact_confirmed_at;
  v.resolved_at = i.resolved_at;
  v.summary = i.summary;
  v.notifications_sent = f.notifications_sent;
  return v;
}

policy::facts facts_of(const store::incident& incident) {
  auto r = policy::facts_from_json(incident.facts);
  if (!r) {
    throw store::store_error(incident.reference() + ": stored facts are not valid: " + r.error->text());
  }
  return r.value;
}

// One state change: `apply` edits a fresh copy of the incident, its facts and its obligation
// ledger (or says why it cannot, and then nothing is written); `posts` are the outbox items the
// stored result causes. A `clock_edit` (classify, facts, kind) that would move or clear a
// running deadline is refused unless `confirmed`, and the outcome carries the moves so the
// person can be asked.
struct incident_commands::change_view {
  const store::incident& incident;
  const policy::facts& facts;
  const policy::decision& decision;
  const policy::checklist& before;
  const policy::checklist& after;
  const std::vector<policy::deadline_move>& moves;
  bool first_decision;
  const std::string& key_prefix;
  sys_seconds now;
};

struct incident_commands::change {  // NOLINT(bugprone-exception-escape): json's destructor may allocate
  std::string action;
  json inputs;
  std::function<std::optional<std::string>(store::incident&, policy::facts&, store::obligation_ledger&,
                                           const policy::checklist& before)>
      apply;
  std::function<std::vector<store::new_outbox_item>(const change_view&)> posts;
  bool clock_edit = false;
  bool confirmed = false;
};

struct incident_commands::change_outcome {
  std::optional<store::incident> incident;  // the stored result, when the change was made
  policy::facts before_facts;
  policy::facts facts;
  policy::decision decision;
  policy::checklist before;
  policy::checklist checklist;
  std::vector<policy::deadline_move> moves;  // made (when stored) or awaiting confirmation
  bool needs_confirmation = false;
  bool missing = false;                // no such incident
  std::optional<std::string> problem;  // why nothing was changed
};

incident_commands::incident_commands(command_context ctx)
    : ctx_(std::move(ctx)),
      help_reply_(reply(messages::help_message(ctx_.settings.command_name))),
      help_reply_json_(std::make_shared<const std::string>(
          help_reply_.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace))) {}

std::shared_ptr<const std::string> incident_commands::static_reply(const slash_command& cmd) const {
  auto parsed = parse_incident_command(cmd.text, ctx_.settings.command_name);
  auto* command = std::get_if<parsed_command>(&parsed);
  if (command && std::holds_alternative<help_command>(*command)) return help_reply_json_;
  return nullptr;
}

policy::decision incident_commands::decision_for(const store::incident& incident) const {
  return policy::decide(facts_of(incident), ctx_.tables, ctx_.calendar);
}

const date::time_zone* incident_commands::zone() const { return ctx_.calendar.zone(); }

policy::checklist incident_commands::checklist_for(const store::incident& incident, const policy::facts& f,
                                                   const policy::decision& d,
                                                   const store::obligation_ledger& ledger) const {
  return checklist_of(incident, f, d, ledger, ctx_.tables, ctx_.calendar, ctx_.clock.now());
}

namespace {

json moves_json(const std::vector<policy::deadline_move>& moves) {
  json out = json::array();
  for (const auto& m : moves) {
    out.push_back({{"obligation", m.id},
                   {"from", m.from ? json(policy::format_rfc3339(*m.from)) : json()},
                   {"to", m.to ? json(policy::format_rfc3339(*m.to)) : json()},
                   {"because", m.because}});
  }
  return out;
}

}  // namespace

incident_commands::change_outcome incident_commands::apply_change(std::int64_t incident_id,
                                                                  const std::string& actor, const change& c) {
  change_outcome out;
  const sys_seconds now = ctx_.clock.now();
  ctx_.store.transaction([&] {
    // Optimistic versioning: if someone changed the incident between our read and our write,
    // re-read and re-apply once, so the change is made against what is stored now.
    for (int attempt = 0; attempt < 2; ++attempt) {
      auto current = ctx_.store.find_incident(incident_id);
      if (!current) {
        out.missing = true;
        return;
      }
      store::incident changed = *current;
      policy::facts f = facts_of(changed);
      store::obligation_ledger ledger = ctx_.store.ledger_for(incident_id);
      out.before_facts = f;
      const policy::decision before_decision = policy::decide(f, ctx_.tables, ctx_.calendar);
      out.before = checklist_of(*current, f, before_decision, ledger, ctx_.tables, ctx_.calendar, now);
      if (auto problem = c.apply(changed, f, ledger, out.before)) {
        out.problem = std::move(problem);
        return;
      }
      const policy::decision d = policy::decide(f, ctx_.tables, ctx_.calendar);
      out.checklist = checklist_of(changed, f, d, ledger, ctx_.tables, ctx_.calendar, now);
      out.moves.clear();
      if (c.clock_edit) {
        out.moves =
            policy::deadline_moves_requiring_confirmation(out.before_facts, out.before, f, out.checklist);
        if (!out.moves.empty() && !c.confirmed) {
          // A typo must not move a legal or customer deadline: nothing is written until the
          // responder confirms the move (issue 9, "Clocks are edited on purpose only").
          out.needs_confirmation = true;
          out.facts = f;
          out.decision = d;
          return;
        }
      }
      const bool first_decision = !current->last_decision.has_value();
      changed.facts = policy::to_json(f);
      // The store's columns mirror the facts so lists and cards need not parse them.
      changed.severity = word(f.severity);
      changed.classification = word(f.classification);
      changed.last_decision = policy::to_json(d);
      store::audit_entry entry;
      entry.incident_id = incident_id;
      entry.actor = actor;
      entry.action = c.action;
      entry.at = now;
      entry.details = {
          {"inputs", c.inputs}, {"decision", *changed.last_decision}, {"policy_version", d.policy_version}};
      if (!out.moves.empty()) {
        entry.details["deadline_moves"] = moves_json(out.moves);
        entry.details["confirmed_by"] = actor;
      }
      auto stored = ctx_.store.update_incident(changed, entry);
      if (!stored) continue;
      ctx_.store.save_ledger(ledger);
      // The version is unique per change, so a post is made once per change even if the
      // transaction is retried after a crash, and a new change never collides with an old post.
      const std::string key_prefix =
          stored->reference() + "/" + c.action + "/v" + std::to_string(stored->version);
      const change_view view{*stored,        f,          d,  out.before, out.checklist, out.moves,
                             first_decision, key_prefix, now};
      for (const auto& item : c.posts(view)) ctx_.store.enqueue(item, now);
      out.incident = std::move(*stored);
      out.facts = f;
      out.decision = d;
      return;
    }
    out.problem = store::incident_reference(incident_id) +
                  " was changed by someone else at the same moment; nothing was changed, please try again";
  });
  if (out.incident) after_change(incident_id);
  return out;
}

void incident_commands::after_change(std::int64_t incident_id) {
  if (ctx_.wake_outbox) ctx_.wake_outbox();
  if (ctx_.incident_changed) ctx_.incident_changed(incident_id);
}

// ---- authorisation ----------------------------------------------------------------------------

asio::awaitable<std::optional<bool>> incident_commands::in_group(const std::string& group,
                                                                 const std::string& user) {
  if (group.empty()) co_return false;
  const sys_seconds now = ctx_.clock.now();
  if (auto it = membership_cache_.find(group); it != membership_cache_.end() &&
                                               now - it->second.fetched_at < membership_ttl &&
                                               now >= it->second.fetched_at) {
    co_return it->second.users.contains(user);
  }
  auto members = co_await ctx_.slack.usergroup_members(group);
  if (!members) {
    spdlog::warn("commands: could not look up the members of user group {}: {} ({})", group,
                 members.error().code, members.error().detail);
    co_return std::nullopt;
  }
  group_members& entry = membership_cache_[group];
  entry.users = std::set<std::string>(members.value().begin(), members.value().end());
  entry.fetched_at = now;
  co_return entry.users.contains(user);
}

asio::awaitable<incident_commands::authorisation> incident_commands::responder(const std::string& user) {
  const auto in_responders = co_await in_group(ctx_.settings.responders_group, user);
  if (in_responders.value_or(false)) co_return authorisation{true, std::nullopt};
  const auto in_security = co_await in_group(ctx_.settings.security_team_group, user);
  if (in_security.value_or(false)) co_return authorisation{true, std::nullopt};
  // Fail closed: a lookup that failed cannot grant anything, and cannot be taken as a "no".
  if (!in_responders || !in_security) co_return authorisation{false, "Slack did not answer the lookup"};
  co_return authorisation{false, std::nullopt};
}

asio::awaitable<bool> incident_commands::may_respond(std::string user) {
  co_return (co_await responder(user)).allowed;
}

asio::awaitable<bool> incident_commands::is_security_team(std::string user) {
  co_return co_await security_team_member(user);
}

asio::awaitable<bool> incident_commands::security_team_member(const std::string& user) {
  // Unverifiable counts as "not a member": the reply then shows less, never more.
  co_return (co_await in_group(ctx_.settings.security_team_group, user)).value_or(false);
}

// ---- the command ------------------------------------------------------------------------------

asio::awaitable<command_reply> incident_commands::handle(slash_command cmd) {
  auto parsed = parse_incident_command(cmd.text, ctx_.settings.command_name);
  if (auto* error = std::get_if<usage_error>(&parsed)) {
    co_return reply(messages::error_message(error->problem, error->usage));
  }
  // The text typed, for the Confirm button of a change that moves a deadline.
  current_text_ = cmd.text;
  co_return co_await run(std::get<parsed_command>(parsed), cmd);
}

asio::awaitable<command_reply> incident_commands::run(const parsed_command& command,
                                                      const slash_command& cmd) {
  const std::string& user = cmd.user_id;
  // The change and "this delivery is handled" commit in one transaction (store::delivery_in_hand),
  // so a command redelivered or replayed after a crash changes nothing twice. Only around the
  // synchronous part: another handler may write at every co_await.
  const std::string delivery =
      cmd.trigger_id.empty() ? std::string{} : store::inbox_key_for_trigger(cmd.trigger_id);
  if (auto* c = std::get_if<open_command>(&command)) {
    store::delivery_in_hand in_hand(ctx_.store, delivery, ctx_.clock.now());
    co_return open(*c, user);
  }
  if (auto* c = std::get_if<show_command>(&command)) co_return co_await show(*c, user);
  if (auto* c = std::get_if<list_command>(&command)) co_return co_await list(*c, user);
  if (std::holds_alternative<deadlines_command>(command)) co_return co_await deadlines(user);
  if (std::holds_alternative<help_command>(command)) {
    co_return help_reply_;
  }

  // Everything else changes an incident or speaks for it: responders and the Security Team only.
  // Checked before the incident is looked up, so others learn nothing about which ids exist.
  const authorisation auth = co_await responder(user);
  if (!auth.allowed) {
    if (auth.unverified) {
      spdlog::warn("commands: refused {} from {}: membership could not be verified",
                   ctx_.settings.command_name, user);
      co_return unverified_membership(*auth.unverified);
    }
    spdlog::info("commands: refused {} from {}: not a responder", ctx_.settings.command_name, user);
    co_return reply(messages::refusal_message(action_words(command), kResponders));
  }
  store::delivery_in_hand in_hand(ctx_.store, delivery, ctx_.clock.now());
  if (auto* c = std::get_if<classify_command>(&command)) co_return classify(*c, user);
  if (auto* c = std::get_if<facts_command>(&command)) co_return set_facts(*c, user);
  if (auto* c = std::get_if<notified_command>(&command)) co_return notified(*c, user);
  if (auto* c = std::get_if<update_command>(&command)) co_return update(*c, user);
  if (auto* c = std::get_if<resolve_command>(&command)) co_return resolve(*c, user);
  if (auto* c = std::get_if<decide_command>(&command)) co_return decide(*c, user);
  if (auto* c = std::get_if<done_command>(&command))
    co_return done(c->incident_id, c->obligation, c->options, user, "done");
  if (auto* c = std::get_if<not_needed_command>(&command)) co_return not_needed(*c, user);
  if (auto* c = std::get_if<kind_command>(&command)) co_return kind(*c, user);
  if (auto* c = std::get_if<call_command>(&command)) co_return call(*c, user);
  throw std::logic_error("incident_commands: a parsed subcommand has no handler");
}

namespace {

command_reply outcome_problem(bool missing, const std::optional<std::string>& problem, std::int64_t id,
                              std::string_view subcommand, std::string_view command_name) {
  const std::string text = missing ? store::incident_reference(id) + " does not exist" : problem.value_or("");
  return reply(messages::error_message(text, usage_line(subcommand, command_name)));
}

// The card as first posted: the checklist the decision at open implies (nothing classified yet, so
// Critical timings and the protective readings; a proposed kind is already in the ledger), with
// its Mark done buttons, so the card never shows a different shape before the first
// classification (issue 9, "The card always shows the checklist"). The decision is not stored:
// the first classify or facts still posts the full decision in the thread.
messages::slack_message opening_card(const command_context& ctx, const store::incident& created,
                                     const store::obligation_ledger& ledger, sys_seconds now) {
  const policy::facts f = facts_of(created);
  const policy::decision d = policy::decide(f, ctx.tables, ctx.calendar);
  const policy::checklist c = checklist_of(created, f, d, ledger, ctx.tables, ctx.calendar, now);
  return messages::incident_card(view_of(created, f), &d, c, created.id, ctx.calendar.zone(), now);
}

}  // namespace

command_reply incident_commands::open(const open_command& c, const std::string& user) {
  const std::string& channel = c.sensitive ? ctx_.settings.security_channel : ctx_.settings.incidents_channel;
  if (channel.empty()) {
    // Never fall back to another channel: a sensitive card must not land in a public one.
    spdlog::error("commands: cannot open an incident: no {} channel is configured",
                  c.sensitive ? "security" : "incidents");
    return reply(messages::error_message(
        std::string{"No "} + (c.sensitive ? "security" : "incidents") +
            " channel is configured, so the incident cannot be opened. Please tell the flare operators.",
        usage_line("open", ctx_.settings.command_name)));
  }
  const sys_seconds now = ctx_.clock.now();
  store::incident created;
  ctx_.store.transaction([&] {
    store::new_incident fields;
    fields.title = c.title;
    fields.reporter = user;
    fields.sensitive = c.sensitive;
    fields.channel = channel;
    fields.facts = policy::to_json(policy::facts{});
    created = ctx_.store.create_incident(
        fields, user, now,
        {{"inputs", {{"title", c.title}, {"sensitive", c.sensitive}, {"channel", channel}}}});
    ctx_.store.enqueue(
        card_post(created, opening_card(ctx_, created, ctx_.store.ledger_for(created.id), now), std::nullopt),
        now);
  });
  after_change(created.id);
  spdlog::info("commands: {} opened by {}{}", created.reference(), user, c.sensitive ? " (sensitive)" : "");

  const std::string ref = messages::escape(created.reference());
  if (c.sensitive) {
    return confirmation("🔒 Opened *" + ref + "* as a sensitive incident: its card is in <#" + channel +
                            ">, with the Security Team. Nothing was posted here.",
                        "Opened " + ref + " as a sensitive incident.");
  }
  return confirmation(
      "Opened *" + ref + "*: " + messages::escape(c.title) + ". Its card is in <#" + channel + ">.",
      "Opened " + ref + ": " + messages::escape(c.title));
}

asio::awaitable<command_reply> incident_commands::open_from_report(std::string user,
                                                                   std::string report_channel,
                                                                   std::string report_ts, std::string title,
                                                                   bool sensitive, std::string reporter,
                                                                   policy::incident_kind proposed_kind) {
  if (title.empty()) title = "Untitled report";
  // Issue 8: the report's author is the reporter, the person who clicked is the opener.
  if (reporter.empty()) reporter = user;
  const std::string channel = sensitive ? ctx_.settings.security_channel : report_channel;
  if (channel.empty()) {
    spdlog::error(
        "commands: cannot open a sensitive incident from a report: no security channel is configured");
    co_return reply(
        messages::error_message("No security channel is configured, so a sensitive incident cannot be "
                                "opened. Please tell the flare operators.",
                                usage_line("open", ctx_.settings.command_name)));
  }
  const sys_seconds now = ctx_.clock.now();
  std::optional<store::incident> existing;
  store::incident created;
  ctx_.store.transaction([&] {
    existing = ctx_.store.find_incident_by_report(report_channel, report_ts);
    if (existing) return;
    store::new_incident fields;
    fields.title = title;
    fields.reporter = reporter;
    fields.sensitive = sensitive;
    fields.channel = channel;
    fields.report_channel = report_channel;
    fields.report_ts = report_ts;
    if (!sensitive) fields.thread_ts = report_ts;  // the report's thread is the incident's thread
    fields.facts = policy::to_json(policy::facts{});
    created =
        ctx_.store.create_incident(fields, user, now,
                                   {{"inputs",
                                     {{"title", title},
                                      {"sensitive", sensitive},
                                      {"channel", channel},
                                      {"report_channel", report_channel},
                                      {"report_ts", report_ts},
                                      {"reporter", reporter},
                                      {"opener", user},
                                      {"proposed_kind", proposed_kind == policy::incident_kind::none
                                                            ? json()
                                                            : json(policy::to_string(proposed_kind))}}}});
    if (proposed_kind != policy::incident_kind::none) {
      // Applied at once (a harassment report must not get "security bulletin required"), and
      // recorded as a proposal: the card says so until a responder confirms it with `kind`.
      store::obligation_ledger ledger = ctx_.store.ledger_for(created.id);
      ledger.kind = std::string{policy::to_string(proposed_kind)};
      record_kind_proposal(ledger, ledger.kind, now);
      ctx_.store.save_ledger(ledger);
    }
    const auto card = opening_card(ctx_, created, ctx_.store.ledger_for(created.id), now);
    if (sensitive) {
      ctx_.store.enqueue(card_post(created, card, std::nullopt), now);
      // The report is already where it is; its thread learns only that it was taken on.
      json placeholder = messages::as_post_body(messages::sensitive_placeholder(created.reference()));
      placeholder["channel"] = report_channel;
      placeholder["thread_ts"] = report_ts;
      ctx_.store.enqueue(
          {created.reference() + "/report-placeholder", created.id, "post", std::move(placeholder)}, now);
    } else {
      ctx_.store.enqueue(card_post(created, card, report_ts), now);
    }
  });
  if (existing) {
    const std::string ref = messages::escape(existing->reference());
    // A report whose incident was closed as a duplicate belongs to the surviving incident now
    // (issue 9, section 4): say where it continues rather than send people to a closed one.
    if (const auto dup_of = ctx_.store.ledger_for(existing->id).duplicate_of) {
      const std::string there = messages::escape(store::incident_reference(*dup_of));
      co_return confirmation(
          "This report is *" + ref + "*, closed as a duplicate of *" + there + "*: it continues there.",
          "This report is " + ref + ", closed as a duplicate of " + there + ": it continues there.");
    }
    co_return confirmation("This report is already *" + ref + "*.", "This report is already " + ref + ".");
  }
  after_change(created.id);
  spdlog::info("commands: {} opened from a report by {} (reporter {}){}", created.reference(), user, reporter,
               sensitive ? " (sensitive)" : "");
  const std::string ref = messages::escape(created.reference());
  if (sensitive) {
    co_return confirmation("🔒 Opened *" + ref + "* as a sensitive incident: its card is in <#" + channel +
                               ">, with the Security Team.",
                           "Opened " + ref + " as a sensitive incident.");
  }
  co_return confirmation("Opened *" + ref + "*: its card is in the report's thread.", "Opened " + ref + ".");
}

// The card edited to the full current state; in the thread the first decision in full, later
// only what changed (issue 9, "Threads people can read"), and each confirmed deadline move.
std::vector<store::new_outbox_item> incident_commands::standard_posts(const change_view& v,
                                                                      const std::string& user) const {
  const auto view = view_of(v.incident, v.facts);
  std::vector<store::new_outbox_item> posts{card_update(
      v.incident, messages::incident_card(view, &v.decision, v.after, v.incident.id, zone(), v.now),
      v.key_prefix)};
  if (v.first_decision) {
    // The full decision with the checklist and any policy conflict; a people-and-safety
    // incident gets no disclosure decision at all.
    posts.push_back(thread_post(v.incident,
                                messages::first_decision_post(view, v.decision, v.after, zone(), v.now),
                                v.key_prefix + "/decision"));
  } else if (auto diff_post =
                 messages::decision_diff_post(view, policy::diff(v.before, v.after), zone(), v.now)) {
    posts.push_back(thread_post(v.incident, *diff_post, v.key_prefix + "/changes"));
  }
  if (!v.moves.empty()) {
    posts.push_back(thread_post(v.incident, messages::deadline_moved_post(view, v.moves, user, zone(), v.now),
                                v.key_prefix + "/moved"));
  }
  return posts;
}

command_reply incident_commands::confirmation_needed(const change_outcome& out, std::int64_t incident_id) {
  auto incident = ctx_.store.find_incident(incident_id);
  const auto view = incident ? view_of(*incident, out.facts) : messages::incident_view{};
  std::string token = current_text_;
  if (token.find("--confirm") == std::string::npos) token += " --confirm";
  return reply(messages::deadline_move_confirmation(view, out.moves, token, zone(), ctx_.clock.now()));
}

// "Next: Paid-customer initial notice, due Tue 1 Dec, 14:00 UTC, in 3 h." for replies.
std::pair<std::string, std::string> incident_commands::next_due_summary(const policy::checklist& c) const {
  const auto open = c.open_deadlines();
  if (open.empty())
    return {"No obligation with a due time is open.", "No obligation with a due time is open."};
  const auto* o = open.front();
  const std::string when = messages::due_text(*o->due, zone(), ctx_.clock.now());
  return {"Next: *" + messages::escape(o->title) + "*, due " + when + ".",
          "Next: " + messages::escape(o->title) + ", due " +
              messages::local_time_text(*o->due, zone(), ctx_.clock.now()) + "."};
}

command_reply incident_commands::classify(const classify_command& c, const std::string& user) {
  const sys_seconds now = ctx_.clock.now();
  if (c.confirmed_at) {
    if (auto problem = future_time_problem("confirmed-at", *c.confirmed_at, now, zone()))
      return reply(messages::error_message(*problem, usage_line("classify", ctx_.settings.command_name)));
  }
  json inputs = {{"severity", policy::to_string(c.severity)},
                 {"classification", policy::to_string(c.classification)}};
  if (c.confirmed_at) inputs["confirmed_at"] = policy::format_rfc3339(*c.confirmed_at);
  if (c.confirm) inputs["confirm"] = true;
  change ch{"classify",
            inputs,
            [&](store::incident&, policy::facts& f, store::obligation_ledger&,
                const policy::checklist&) -> std::optional<std::string> {
              f.severity = c.severity;
              // SaaS process, "Security Incident Classification": the pure step decides when the
              // impact clock starts (confirmed: now unless given; potential: only when given).
              f = policy::classify(std::move(f), c.classification, now, c.confirmed_at);
              return std::nullopt;
            },
            [&](const change_view& v) { return standard_posts(v, user); },
            true,
            c.confirm};
  auto out = apply_change(c.incident_id, user, ch);
  if (out.needs_confirmation) return confirmation_needed(out, c.incident_id);
  if (!out.incident)
    return outcome_problem(out.missing, out.problem, c.incident_id, "classify", ctx_.settings.command_name);
  spdlog::info("commands: {} classified {} {} by {}", out.incident->reference(),
               policy::to_string(c.severity), policy::to_string(c.classification), user);

  const std::string ref = messages::escape(out.incident->reference());
  std::string clock_md = "The impact clock has not started (potential compromise).";
  std::string clock_text = clock_md;
  if (out.facts.impact_confirmed_at) {
    const std::string local = messages::local_time_text(*out.facts.impact_confirmed_at, zone(), now);
    const bool assumed_now =
        !c.confirmed_at && !out.before_facts.impact_confirmed_at && *out.facts.impact_confirmed_at == now;
    if (assumed_now) {
      // Say which time was assumed, so an earlier confirmation is corrected, not silently lost.
      clock_md = "Impact confirmed now, " + local + "; use `confirmed-at=` if it was earlier.";
      clock_text = "Impact confirmed now, " + local + "; use confirmed-at= if it was earlier.";
    } else {
      clock_md = "Impact confirmed at " + local + ".";
      clock_text = clock_md;
    }
  }
  const auto [due_md, due_text] = next_due_summary(out.checklist);
  const std::string what =
      std::string{policy::to_string(c.severity)} + ", " + std::string{policy::to_string(c.classification)};
  return confirmation("Classified *" + ref + "* as " + what + ". " + clock_md + " " + due_md +
                          " The checklist is on the card; changes are posted in the thread.",
                      "Classified " + ref + " as " + what + ". " + clock_text + " " + due_text);
}

command_reply incident_commands::set_facts(const facts_command& c, const std::string& user) {
  const sys_seconds now = ctx_.clock.now();
  json inputs = json::object();
  for (const auto& a : c.assignments) inputs[a.key] = a.value;
  if (c.confirm) inputs["confirm"] = true;
  change ch{"facts",
            inputs,
            [&](store::incident& incident, policy::facts& f, store::obligation_ledger&,
                const policy::checklist&) -> std::optional<std::string> {
              bool classification_set = false;
              bool clock_set = false;
              for (const auto& a : c.assignments) {
                if (a.key == "resolved_at") {
                  // The resolution time follows the incident's state, so the policy and the
                  // store cannot disagree about whether it is resolved.
                  if (incident.state == store::incident_state::open) {
                    return "resolved_at: " + incident.reference() + " is open; use " +
                           ctx_.settings.command_name + " resolve to resolve it";
                  }
                  if (a.value.empty()) {
                    return "resolved_at: a resolved incident needs a resolution time (it can be corrected, "
                           "not cleared)";
                  }
                }
                if (auto error = policy::set_fact(f, a.key, a.value)) return error->text();
                classification_set = classification_set || a.key == "classification";
                clock_set = clock_set || a.key == "impact_confirmed_at";
                // A time in the future is a typo: it would move deadlines or silence reminders.
                if (a.key == "impact_confirmed_at" && f.impact_confirmed_at) {
                  if (auto p = future_time_problem(a.key, *f.impact_confirmed_at, now, zone())) return p;
                }
                if (a.key == "resolved_at" && f.resolved_at) {
                  if (auto p = future_time_problem(a.key, *f.resolved_at, now, zone())) return p;
                }
                if (a.key == "notifications_sent") {
                  for (auto t : f.notifications_sent)
                    if (auto p = future_time_problem(a.key, t, now, zone())) return p;
                }
              }
              // Setting classification=confirmed here is the same classification step as
              // /incident classify: it starts the impact clock unless the command sets it itself.
              if (classification_set && !clock_set && f.classification) {
                const policy::classification as = *f.classification;
                f = policy::classify(std::move(f), as, now);
              }
              if (incident.state == store::incident_state::resolved) incident.resolved_at = f.resolved_at;
              return std::nullopt;
            },
            [&](const change_view& v) { return standard_posts(v, user); },
            true,
            c.confirm};
  auto out = apply_change(c.incident_id, user, ch);
  if (out.needs_confirmation) return confirmation_needed(out, c.incident_id);
  if (!out.incident)
    return outcome_problem(out.missing, out.problem, c.incident_id, "facts", ctx_.settings.command_name);
  spdlog::info("commands: {} facts set by {} ({} facts)", out.incident->reference(), user,
               c.assignments.size());

  std::string keys;
  for (const auto& a : c.assignments) keys += (keys.empty() ? "" : ", ") + a.key;
  const std::string ref = messages::escape(out.incident->reference());
  const auto [due_md, due_text] = next_due_summary(out.checklist);
  return confirmation("Updated *" + ref + "*: `" + messages::escape(keys) + "`. " + due_md +
                          " Changes to the checklist are posted in the incident's thread.",
                      "Updated " + ref + ": " + messages::escape(keys) + ". " + due_text);
}

command_reply incident_commands::kind(const kind_command& c, const std::string& user) {
  json inputs = {{"kind", c.kind}};
  if (c.confirm) inputs["confirm"] = true;
  change ch{"kind",
            inputs,
            [&](store::incident&, policy::facts&, store::obligation_ledger& ledger,
                const policy::checklist&) -> std::optional<std::string> {
              ledger.kind = c.kind;
              clear_kind_proposal(ledger);  // a responder has now decided the kind
              return std::nullopt;
            },
            [&](const change_view& v) { return standard_posts(v, user); },
            true,
            c.confirm};
  auto out = apply_change(c.incident_id, user, ch);
  if (out.needs_confirmation) return confirmation_needed(out, c.incident_id);
  if (!out.incident)
    return outcome_problem(out.missing, out.problem, c.incident_id, "kind", ctx_.settings.command_name);
  spdlog::info("commands: {} kind set to {} by {}", out.incident->reference(), c.kind, user);
  const std::string ref = messages::escape(out.incident->reference());
  const std::string words = c.kind == "security" ? "a security incident" : "a people and safety incident";
  const auto [due_md, due_text] = next_due_summary(out.checklist);
  return confirmation("*" + ref + "* is now " + words + ". " + due_md,
                      ref + " is now " + words + ". " + due_text);
}

namespace {

std::string state_words(const policy::obligation& o) {
  if (o.state == policy::obligation_state::done && o.done) {
    return "already done" + (o.done->by.empty() ? std::string{} : " by <@" + o.done->by + ">") + " at " +
           policy::format_rfc3339(o.done->at);
  }
  return "not needed (" + o.reason + ")";
}

}  // namespace

command_reply incident_commands::done(std::int64_t incident_id, const std::string& typed,
                                      const completion_options& options, const std::string& user,
                                      std::string_view subcommand) {
  const sys_seconds now = ctx_.clock.now();
  const sys_seconds at = options.at.value_or(now);
  const std::string usage = usage_line(subcommand, ctx_.settings.command_name);
  // "at=" may be in the past (the e-mail went out an hour ago), never in the future.
  if (auto problem = future_time_problem("at", at, now, zone()))
    return reply(messages::error_message(*problem, usage));
  std::string marked_id;
  std::string marked_title;
  json inputs = {{"obligation", typed}, {"at", policy::format_rfc3339(at)}};
  if (!options.link.empty()) inputs["link"] = options.link;
  if (!options.note.empty()) inputs["note"] = options.note;
  change ch{std::string{subcommand}, inputs,
            [&](store::incident& incident, policy::facts&, store::obligation_ledger& ledger,
                const policy::checklist& before) -> std::optional<std::string> {
              const policy::obligation* o = nullptr;
              if (subcommand == "notified") {
                // `notified` is "done" for the next customer notice: the initial notice, else the
                // next update, else the resolution message.
                const auto next = policy::next_notification_id(before);
                if (!next) {
                  return "no customer notice is open on " + incident.reference() + "'s checklist; use " +
                         ctx_.settings.command_name + " done " + incident.reference() +
                         " <obligation> for other items";
                }
                o = before.find(*next);
              } else {
                o = policy::find_obligation(before, typed);
              }
              if (!o) {
                return "\"" + typed + "\" is not on " + incident.reference() +
                       "'s checklist (it has: " + policy::known_ids(before) + ")";
              }
              if (o->state != policy::obligation_state::pending) return o->title + " is " + state_words(*o);
              if (!o->ready) {
                // The documents' order (SaaS process, "Free-tier User Notification Process" and
                // "Public Announcement Process"; disclosure policy, "When We Notify Users": "when
                // a fix is available"), enforced with its reason.
                return o->title + " is not ready yet: it waits for " + o->waiting_for +
                       ". Free-tier users are e-mailed before public disclosure so paid customers get "
                       "their buffer, and disclosure needs a fix. Mark those done first (or not needed, with "
                       "a reason).";
              }
              marked_id = o->id;
              marked_title = o->title;
              ledger.completions.push_back({{"obligation", o->id},
                                            {"by", user},
                                            {"at", policy::format_rfc3339(at)},
                                            {"recorded_at", policy::format_rfc3339(now)},
                                            {"link", options.link},
                                            {"note", options.note}});
              return std::nullopt;
            },
            [&](const change_view& v) { return standard_posts(v, user); }};
  auto out = apply_change(incident_id, user, ch);
  if (!out.incident) {
    return outcome_problem(out.missing, out.problem, incident_id, std::string{subcommand},
                           ctx_.settings.command_name);
  }
  spdlog::info("commands: {} {} marked done by {}", out.incident->reference(), marked_id, user);
  const std::string ref = messages::escape(out.incident->reference());
  const std::string when = messages::local_time_text(at, zone(), now);
  const auto [due_md, due_text] = next_due_summary(out.checklist);
  return confirmation(
      "Marked *" + messages::escape(marked_title) + "* done for *" + ref + "* at " + when + ". " + due_md,
      "Marked " + messages::escape(marked_title) + " done for " + ref + " at " + when + ". " + due_text);
}

command_reply incident_commands::notified(const notified_command& c, const std::string& user) {
  return done(c.incident_id, "", c.options, user, "notified");
}

command_reply incident_commands::not_needed(const not_needed_command& c, const std::string& user) {
  const sys_seconds now = ctx_.clock.now();
  std::string title;
  change ch{
      "not-needed",
      {{"obligation", c.obligation}, {"reason", c.reason}},
      [&](store::incident& incident, policy::facts&, store::obligation_ledger& ledger,
          const policy::checklist& before) -> std::optional<std::string> {
        const policy::obligation* o = policy::find_obligation(before, c.obligation);
        if (!o) {
          return "\"" + c.obligation + "\" is not on " + incident.reference() +
                 "'s checklist (it has: " + policy::known_ids(before) + ")";
        }
        if (o->state != policy::obligation_state::pending) return o->title + " is " + state_words(*o);
        title = o->title;
        ledger.not_needed.push_back(
            {{"obligation", o->id}, {"by", user}, {"at", policy::format_rfc3339(now)}, {"reason", c.reason}});
        return std::nullopt;
      },
      [&](const change_view& v) { return standard_posts(v, user); }};
  auto out = apply_change(c.incident_id, user, ch);
  if (!out.incident)
    return outcome_problem(out.missing, out.problem, c.incident_id, "not-needed", ctx_.settings.command_name);
  spdlog::info("commands: {} obligation marked not needed by {}", out.incident->reference(), user);
  const std::string ref = messages::escape(out.incident->reference());
  return confirmation(
      "Marked *" + messages::escape(title) + "* not needed for *" + ref + "*: " + messages::escape(c.reason),
      "Marked " + messages::escape(title) + " not needed for " + ref + ".");
}

command_reply incident_commands::call(const call_command& c, const std::string& user) {
  const sys_seconds now = ctx_.clock.now();
  std::string summary;
  change ch{
      "call",
      {{"conflict", c.conflict}, {"choice", c.option}, {"note", c.note}},
      [&](store::incident& incident, policy::facts&, store::obligation_ledger& ledger,
          const policy::checklist& before) -> std::optional<std::string> {
        const auto it = std::find_if(before.conflicts.begin(), before.conflicts.end(),
                                     [&](const policy::policy_conflict& x) { return x.id == c.conflict; });
        if (it == before.conflicts.end()) {
          std::string ids;
          for (const auto& x : before.conflicts) ids += (ids.empty() ? "" : ", ") + x.id;
          return "there is no policy conflict \"" + c.conflict + "\" on " + incident.reference() +
                 (ids.empty() ? " (it has none)" : " (it has: " + ids + ")");
        }
        const auto option = std::find_if(it->options.begin(), it->options.end(),
                                         [&](const policy::conflict_option& o) { return o.id == c.option; });
        if (option == it->options.end()) {
          std::string ids;
          for (const auto& o : it->options) ids += (ids.empty() ? "" : ", ") + o.id;
          return "\"" + c.option + "\" is not a choice for " + c.conflict + " (expected " + ids + ")";
        }
        summary = option->label + ": " + option->effect;
        ledger.calls.push_back({{"conflict", c.conflict},
                                {"choice", c.option},
                                {"by", user},
                                {"at", policy::format_rfc3339(now)},
                                {"note", c.note}});
        return std::nullopt;
      },
      [&](const change_view& v) { return standard_posts(v, user); }};
  auto out = apply_change(c.incident_id, user, ch);
  if (!out.incident)
    return outcome_problem(out.missing, out.problem, c.incident_id, "call", ctx_.settings.command_name);
  spdlog::info("commands: {} call recorded on {} by {}", out.incident->reference(), c.conflict, user);
  const std::string ref = messages::escape(out.incident->reference());
  return confirmation(
      "Recorded your call on *" + ref + "*: " + messages::escape(summary) + " The checklist follows it.",
      "Recorded your call on " + ref + ".");
}

command_reply incident_commands::update(const update_command& c, const std::string& user) {
  change ch{"update",
            {{"text", c.text}},
            [&](store::incident& incident, policy::facts&, store::obligation_ledger&,
                const policy::checklist&) -> std::optional<std::string> {
              if (incident.state == store::incident_state::resolved) {
                return incident.reference() +
                       " is resolved, so updates are no longer posted (facts can still be corrected with " +
                       ctx_.settings.command_name + " facts)";
              }
              return std::nullopt;
            },
            [&](const change_view& v) {
              return std::vector<store::new_outbox_item>{
                  thread_post(v.incident, messages::update_post(view_of(v.incident, v.facts), user, c.text),
                              v.key_prefix + "/post")};
            }};
  auto out = apply_change(c.incident_id, user, ch);
  if (!out.incident)
    return outcome_problem(out.missing, out.problem, c.incident_id, "update", ctx_.settings.command_name);
  spdlog::info("commands: {} update posted by {}", out.incident->reference(), user);
  const std::string ref = messages::escape(out.incident->reference());
  return confirmation("Posted your update in *" + ref + "*'s thread.",
                      "Posted your update in " + ref + "'s thread.");
}

command_reply incident_commands::resolve(const resolve_command& c, const std::string& user) {
  const sys_seconds now = ctx_.clock.now();
  json inputs = {{"resolved_at", policy::format_rfc3339(now)}, {"close_reason", to_string(c.reason)}};
  if (c.summary) inputs["summary"] = *c.summary;
  std::optional<store::incident> surviving;
  if (c.reason == close_reason::duplicate) {
    inputs["duplicate_of"] = store::incident_reference(c.duplicate_of);
    surviving = ctx_.store.find_incident(c.duplicate_of);
    if (!surviving) {
      return reply(messages::error_message(store::incident_reference(c.duplicate_of) + " does not exist",
                                           usage_line("resolve", ctx_.settings.command_name)));
    }
    const auto its = ctx_.store.ledger_for(c.duplicate_of);
    if (its.duplicate_of) {
      return reply(messages::error_message(surviving->reference() + " is itself a duplicate of " +
                                               store::incident_reference(*its.duplicate_of) +
                                               "; name that one instead",
                                           usage_line("resolve", ctx_.settings.command_name)));
    }
  }
  change ch{
      "resolve", inputs,
      [&](store::incident& incident, policy::facts& f, store::obligation_ledger& ledger,
          const policy::checklist&) -> std::optional<std::string> {
        if (incident.state == store::incident_state::resolved) {
          return incident.reference() + " is already resolved";
        }
        incident.state = store::incident_state::resolved;
        incident.resolved_at = now;
        if (c.summary) incident.summary = c.summary;
        f.resolved_at = now;
        ledger.close_reason = std::string{to_string(c.reason)};
        if (c.reason == close_reason::duplicate) ledger.duplicate_of = c.duplicate_of;
        return std::nullopt;
      },
      [&](const change_view& v) {
        auto posts = standard_posts(v, user);
        const auto view = view_of(v.incident, v.facts);
        if (c.reason == close_reason::duplicate && surviving) {
          // References only: either incident may be sensitive, and its title must not
          // travel to the other's thread.
          messages::slack_message here;
          here.text = "Closed as a duplicate of " + surviving->reference() + " by <@" + user +
                      ">. Its reports, obligations and reminders continue in " + surviving->reference() +
                      "'s thread.";
          here.blocks.push_back(messages::blocks::section("duplicate", "🔁 " + here.text));
          posts.push_back(
              thread_post(v.incident, messages::enforce_limits(here), v.key_prefix + "/resolution"));
          messages::slack_message there;
          there.text = v.incident.reference() + " was closed as a duplicate of this incident by <@" + user +
                       ">; its report belongs here now.";
          // A link to the duplicate's report, unless that would carry a sensitive report's
          // location into a less private thread. Slack shows the link only to people who
          // can see the report's channel anyway.
          if (v.incident.report_channel && v.incident.report_ts &&
              (!v.incident.sensitive || surviving->sensitive)) {
            there.text +=
                " The report: " + messages::message_link(*v.incident.report_channel, *v.incident.report_ts);
          }
          there.blocks.push_back(messages::blocks::section("duplicate", "🔁 " + there.text));
          posts.push_back(
              thread_post(*surviving, messages::enforce_limits(there), v.key_prefix + "/merged-into"));
          if (v.incident.sensitive && v.incident.report_channel && v.incident.report_ts) {
            // A sensitive incident's thread is in the security channel; its report (a DM or
            // a public message) only had a placeholder. References only, no titles.
            messages::slack_message report;
            report.text = v.incident.reference() + " was closed as a duplicate of " + surviving->reference() +
                          "; this report is followed up there.";
            report.blocks.push_back(messages::blocks::section("duplicate", "🔁 " + report.text));
            json body = messages::as_post_body(messages::enforce_limits(report));
            body["channel"] = *v.incident.report_channel;
            body["thread_ts"] = *v.incident.report_ts;
            posts.push_back({v.key_prefix + "/report-redirect", v.incident.id, "post", std::move(body)});
          }
        } else {
          posts.push_back(
              thread_post(v.incident, messages::resolution_post(view, user), v.key_prefix + "/resolution"));
        }
        return posts;
      }};
  change_outcome out;
  std::size_t carried = 0;
  // The close and the carry of its completed obligations to the survivor commit together.
  ctx_.store.transaction([&] {
    out = apply_change(c.incident_id, user, ch);
    if (out.incident && surviving) carried = carry_completions(*out.incident, *surviving, user);
  });
  if (!out.incident)
    return outcome_problem(out.missing, out.problem, c.incident_id, "resolve", ctx_.settings.command_name);
  if (surviving) after_change(surviving->id);
  spdlog::info("commands: {} closed ({}) by {}", out.incident->reference(), to_string(c.reason), user);

  const std::string ref = messages::escape(out.incident->reference());
  std::string how =
      c.reason == close_reason::resolved ? "Resolved" : "Closed as " + std::string{to_string(c.reason)};
  if (c.reason == close_reason::duplicate)
    how = "Closed as a duplicate of " + store::incident_reference(c.duplicate_of);
  const auto [due_md, due_text] = next_due_summary(out.checklist);
  std::string carried_words;
  if (carried > 0) {
    carried_words = " " + std::to_string(carried) + " completed obligation" + (carried == 1 ? "" : "s") +
                    " carried to " + store::incident_reference(c.duplicate_of) + ".";
  }
  return confirmation(how + " *" + ref + "*." + carried_words + " " + due_md,
                      how + " " + ref + "." + carried_words + " " + due_text);
}

// A duplicate's completed obligations belong to the surviving incident too (issue 9, section 4:
// "reminders move with it"): what was already done there (the paid-customer notice went out
// under the duplicate's reference, the regulator was told) is marked done on the survivor, with
// who, when and the evidence, when the survivor owes the same obligation and has not done it yet.
// Recorded as the survivor's own change ("carry" in its audit log) and said in its thread. The
// evidence (free text, links) of a sensitive duplicate does not move into a survivor that is not
// sensitive: only who and when, and where the evidence is. Returns how many were carried.
std::size_t incident_commands::carry_completions(const store::incident& duplicate,
                                                 const store::incident& surviving, const std::string& user) {
  const std::string from = duplicate.reference();
  const bool keep_evidence = !duplicate.sensitive || surviving.sensitive;
  const store::obligation_ledger dup_ledger = ctx_.store.ledger_for(duplicate.id);
  const sys_seconds now = ctx_.clock.now();
  struct carried_item {
    std::string id;
    std::string title;
    json completion;
  };
  std::vector<carried_item> items;
  std::size_t not_on_survivor = 0;
  json inputs = {{"from", from}, {"obligations", json::array()}};
  change ch;
  ch.action = "carry";
  ch.inputs = json::object();
  ch.apply = [&](store::incident&, policy::facts&, store::obligation_ledger& ledger,
                 const policy::checklist& before) -> std::optional<std::string> {
    items.clear();
    not_on_survivor = 0;
    inputs["obligations"] = json::array();
    for (const auto& done : dup_ledger.completions) {
      if (!done.is_object()) continue;
      const policy::obligation* o = before.find(done.value("obligation", ""));
      if (!o) {
        ++not_on_survivor;
        continue;
      }
      // Already done or not needed there: the survivor's own record stands.
      if (o->state != policy::obligation_state::pending) continue;
      std::string note = done.value("note", "");
      std::string link = done.value("link", "");
      if (!keep_evidence) {
        link.clear();
        note = "evidence recorded on " + from + " (sensitive)";
      }
      note.append(note.empty() ? "" : "; ").append("carried from ").append(from);
      json carried = {{"obligation", o->id},
                      {"by", done.value("by", "")},
                      {"at", done.value("at", "")},
                      {"recorded_at", policy::format_rfc3339(now)},
                      {"link", link},
                      {"note", note},
                      {"carried_from", from},
                      {"carried_by", user}};
      ledger.completions.push_back(carried);
      inputs["obligations"].push_back(carried);
      items.push_back({o->id, o->title, std::move(carried)});
    }
    if (items.empty()) return "nothing to carry";
    // The audit entry's inputs are the completions as carried (without a sensitive
    // duplicate's evidence): the survivor's record is exported to the survivor's thread.
    ch.inputs = inputs;
    return std::nullopt;
  };
  ch.posts = [&](const change_view& v) {
    const auto view = view_of(v.incident, v.facts);
    messages::slack_message m;
    m.text = std::to_string(items.size()) + " completed obligation" + (items.size() == 1 ? "" : "s") +
             " carried over from " + from + ", closed as a duplicate of this incident by <@" + user + ">";
    std::string body = "🔁 *Carried over from " + messages::escape(from) +
                       "* (closed as a duplicate of this incident by <@" + user + ">):";
    for (const auto& it : items) {
      const policy::obligation* o = v.after.find(it.id);
      body += "\n" +
              (o ? messages::obligation_line(*o, zone(), v.now) : "✅ *" + messages::escape(it.title) + "*");
    }
    if (not_on_survivor > 0) {
      body += "\n_" + std::to_string(not_on_survivor) + " other completed item" +
              (not_on_survivor == 1 ? " is" : "s are") + " not on this checklist; they stay recorded on " +
              messages::escape(from) + "._";
    }
    m.blocks.push_back(messages::blocks::section("carried", body));
    return std::vector<store::new_outbox_item>{
        card_update(v.incident,
                    messages::incident_card(view, &v.decision, v.after, v.incident.id, zone(), v.now),
                    v.key_prefix),
        thread_post(v.incident, messages::enforce_limits(std::move(m)), v.key_prefix + "/carried")};
  };
  auto out = apply_change(surviving.id, user, ch);
  if (!out.incident) return 0;
  spdlog::info("commands: {} completed obligations of {} carried to {}", items.size(), from,
               surviving.reference());
  return items.size();
}

command_reply incident_commands::decide(const decide_command& c, const std::string& user) {
  change ch{
      "decide", json::object(),
      [](store::incident&, policy::facts&, store::obligation_ledger&,
         const policy::checklist&) -> std::optional<std::string> { return std::nullopt; },
      [&](const change_view& v) {
        // Asked for explicitly: the full decision, whatever was posted before, with the
        // checklist's state (a bulletin marked done is shown done, not "required").
        const auto view = view_of(v.incident, v.facts);
        return std::vector<store::new_outbox_item>{
            card_update(v.incident,
                        messages::incident_card(view, &v.decision, v.after, v.incident.id, zone(), v.now),
                        v.key_prefix),
            thread_post(v.incident, messages::first_decision_post(view, v.decision, v.after, zone(), v.now),
                        v.key_prefix + "/decision")};
      }};
  auto out = apply_change(c.incident_id, user, ch);
  if (!out.incident)
    return outcome_problem(out.missing, out.problem, c.incident_id, "decide", ctx_.settings.command_name);
  const std::string ref = messages::escape(out.incident->reference());
  const auto [due_md, due_text] = next_due_summary(out.checklist);
  return confirmation("Posted the decision for *" + ref + "* in its thread. " + due_md,
                      "Posted the decision for " + ref + " in its thread. " + due_text);
}

asio::awaitable<command_reply> incident_commands::deadlines(const std::string& user) {
  const sys_seconds now = ctx_.clock.now();
  auto incidents = ctx_.store.list_incidents(true, SIZE_MAX);
  const bool others_sensitive =
      std::any_of(incidents.begin(), incidents.end(),
                  [&](const store::incident& i) { return i.sensitive && i.reporter != user; });
  bool security_team = false;
  if (others_sensitive) security_team = co_await security_team_member(user);
  std::vector<messages::deadline_row> rows;
  for (const auto& i : incidents) {
    const auto f = facts_of(i);
    const auto d = policy::decide(f, ctx_.tables, ctx_.calendar);
    const auto c = checklist_of(i, f, d, ctx_.store.ledger_for(i.id), ctx_.tables, ctx_.calendar, now);
    for (const auto* o : c.open_deadlines()) {
      rows.push_back({i.reference(), i.title, i.sensitive, security_team || i.reporter == user, o->id,
                      o->title, *o->due});
    }
  }
  // Resolved incidents can still owe a resolution message.
  for (const auto& i : ctx_.store.list_incidents(false, 200)) {
    if (i.state != store::incident_state::resolved) continue;
    const auto f = facts_of(i);
    const auto d = policy::decide(f, ctx_.tables, ctx_.calendar);
    const auto c = checklist_of(i, f, d, ctx_.store.ledger_for(i.id), ctx_.tables, ctx_.calendar, now);
    for (const auto* o : c.open_deadlines()) {
      if (i.sensitive && i.reporter != user && !security_team)
        security_team = co_await security_team_member(user);
      rows.push_back({i.reference(), i.title, i.sensitive, security_team || i.reporter == user, o->id,
                      o->title, *o->due});
    }
  }
  co_return reply(messages::deadlines_reply(std::move(rows), zone(), now));
}

asio::awaitable<command_reply> incident_commands::show(const show_command& c, const std::string& user) {
  auto incident = ctx_.store.find_incident(c.incident_id);
  if (!incident) {
    co_return outcome_problem(true, std::nullopt, c.incident_id, "show", ctx_.settings.command_name);
  }
  bool reveal = !incident->sensitive || incident->reporter == user;
  if (!reveal) reveal = co_await security_team_member(user);
  const policy::facts f = facts_of(*incident);
  // What responders owe now, from the ledger (done items show as done), from the moment the
  // incident is opened, as on the card.
  const policy::decision d = policy::decide(f, ctx_.tables, ctx_.calendar);
  const policy::checklist checklist = checklist_for(*incident, f, d, ctx_.store.ledger_for(incident->id));
  co_return reply(messages::incident_details(view_of(*incident, f), f, &d, reveal,
                                             {&checklist, zone(), ctx_.clock.now()}));
}

asio::awaitable<command_reply> incident_commands::list(const list_command& c, const std::string& user) {
  constexpr std::size_t kLimit = 100;
  auto incidents = ctx_.store.list_incidents(c.filter == list_filter::open, kLimit);
  const bool others_sensitive =
      std::any_of(incidents.begin(), incidents.end(),
                  [&](const store::incident& i) { return i.sensitive && i.reporter != user; });
  bool security_team = false;
  if (others_sensitive) security_team = co_await security_team_member(user);
  std::vector<messages::incident_view> views;
  views.reserve(incidents.size());
  for (const auto& i : incidents) {
    auto view = view_of(i, facts_of(i));
    // The reporter wrote the title: showing it back to them reveals nothing.
    if (i.reporter == user) view.sensitive = false;
    views.push_back(std::move(view));
  }
  co_return reply(
      messages::incident_list(views, security_team, c.filter == list_filter::all ? "all" : "open"));
}

// ---- card buttons and the Mark done modal -----------------------------------------------------

void incident_commands::reply_ephemeral(const std::string& key, const std::string& channel,
                                        const std::string& user, const command_reply& r) {
  if (channel.empty() || user.empty()) return;
  json p{{"channel", channel},
         {"user", user},
         {"text", r.value("text", "")},
         {"blocks", r.value("blocks", json::array())}};
  ctx_.store.enqueue({key, std::nullopt, "ephemeral", std::move(p)}, ctx_.clock.now());
  if (ctx_.wake_outbox) ctx_.wake_outbox();
}

asio::awaitable<void> incident_commands::on_mark_done(block_action a) {
  const auto target = messages::parse_mark_done_value(a.value);
  if (!target) {
    spdlog::warn("commands: mark_done with an unreadable value from {}", a.user_id);
    co_return;
  }
  const auto incident = ctx_.store.find_incident(target->incident_id);
  const auto checklist =
      stored_checklist(ctx_.store, target->incident_id, ctx_.tables, ctx_.calendar, ctx_.clock.now());
  const policy::obligation* o = checklist ? checklist->find(target->obligation_id) : nullptr;
  // The button may be older than the item's state: the card or the App Home tab was drawn before
  // someone else marked it done, or (App Home) before the incident closed. Say so rather than
  // open a form that can only be refused, or record it twice. The refusal is text as typed (with
  // *bold* and `code`): error_message and the modal escape it once.
  std::optional<std::string> refusal;
  const std::string ref = store::incident_reference(target->incident_id);
  if (!incident || !o) {
    refusal = "That checklist item of " + ref + " no longer exists.";
  } else if (o->state != policy::obligation_state::pending) {
    refusal = "*" + o->title + "* on " + ref + " is " + state_words(*o) + ": nothing to do.";
  } else if (a.channel_id.empty() && incident->state != store::incident_state::open) {
    // From the App Home tab (no channel), which lists open incidents only; the card in the
    // incident's thread still takes items owed after the close (e.g. the resolution notice).
    refusal =
        ref + " was closed" +
        (incident->resolved_at ? " at " + policy::format_rfc3339(*incident->resolved_at) : std::string{}) +
        " after your Home tab was drawn. If *" + o->title +
        "* is still owed, use the card in its thread or `" + ctx_.settings.command_name + " done " + ref +
        " " + o->id + "`.";
  }
  if (refusal) {
    spdlog::info("commands: Mark done of {} {} by {} refused: not pending", ref, target->obligation_id,
                 a.user_id);
    if (!a.channel_id.empty()) {
      reply_ephemeral(
          "action-reply:" + a.trigger_id, a.channel_id, a.user_id,
          reply(messages::error_message(*refusal, usage_line("done", ctx_.settings.command_name))));
      co_return;
    }
    // The App Home tab: no channel for an ephemeral reply, so a small modal where they clicked,
    // and the tab drawn again without the stale item.
    const json notice = messages::mark_done_refused_modal(*refusal);
    const auto shown = co_await ctx_.slack.open_view(a.trigger_id, notice);
    if (!shown)
      spdlog::warn("commands: the Mark done refusal for {} could not be shown to {}: {}", ref, a.user_id,
                   shown.error().code);
    if (ctx_.incident_changed) ctx_.incident_changed(target->incident_id);
    co_return;
  }
  // slack-protocol §4.3: the trigger_id expires 3 s after Slack sent it, so views.open comes
  // first; who may mark it done is checked when the form is submitted.
  const auto opened =
      co_await ctx_.slack.open_view(a.trigger_id, messages::mark_done_modal(target->incident_id, *o));
  if (opened) co_return;
  spdlog::warn("commands: Mark done form for {} not opened: {}", incident->reference(), opened.error().code);
  reply_ephemeral("action-reply:" + a.trigger_id, a.channel_id, a.user_id,
                  reply(messages::error_message(
                      "The form could not be opened (" + opened.error().code + "). Use the command instead.",
                      ctx_.settings.command_name + " done " + incident->reference() + " " + o->id +
                          " [at=<time>] [link=<url>] [note=<text>]")));
}

asio::awaitable<std::optional<json>> incident_commands::on_mark_done_submission(view_submission v) {
  auto errors = [](std::string_view block, const std::string& text) -> std::optional<json> {
    return json{{"response_action", "errors"}, {"errors", {{std::string{block}, text}}}};
  };
  const auto target = messages::parse_mark_done_value(v.private_metadata);
  if (!target)
    co_return errors(messages::mark_done_evidence_block, "This form no longer matches an incident.");
  const auto form = messages::parse_mark_done_submission(v.values);
  completion_options options;
  if (!form.at_text.empty()) {
    auto at = policy::parse_rfc3339(form.at_text);
    if (!at)
      co_return errors(messages::mark_done_at_block,
                       "Expected a time such as 2026-11-30T14:00:00Z, or leave it empty for now.");
    if (auto p = future_time_problem("This time", *at, ctx_.clock.now(), zone()))
      co_return errors(messages::mark_done_at_block, *p);
    options.at = *at;
  }
  if (form.evidence.starts_with("https://") || form.evidence.starts_with("http://")) {
    options.link = form.evidence;
  } else {
    options.note = form.evidence;
  }
  const auto auth = co_await responder(v.user_id);
  if (!auth.allowed)
    co_return errors(messages::mark_done_evidence_block,
                     "Only incident responders and the Security Team may mark items done.");
  const auto result = done(target->incident_id, target->obligation_id, options, v.user_id, "done");
  // A refusal (not ready, already done by someone else meanwhile) is shown in the form, where the
  // person is looking. It is the reply's "problem" block; enforce_limits() has suffixed its id
  // ("problem.<hash>"), so match the prefix (matching "problem" exactly never did).
  if (auto b = result.find("blocks"); b != result.end() && b->is_array()) {
    for (const auto& block : *b) {
      if (!block.is_object() || !block.value("block_id", "").starts_with("problem")) continue;
      std::string text = result.value("text", "");
      if (auto t = block.find("text"); t != block.end() && t->is_object()) text = t->value("text", text);
      co_return errors(messages::mark_done_evidence_block, text);
    }
  }
  co_return std::nullopt;
}

asio::awaitable<void> incident_commands::on_record_call(block_action a) {
  const auto target = messages::parse_record_call_value(a.value);
  if (!target) co_return;
  // Exactly `/incident call INC-n <conflict> <option>`: the same authorisation and audit.
  slash_command command{ctx_.settings.command_name,
                        "call " + store::incident_reference(target->incident_id) + " " + target->conflict_id +
                            " " + target->option_id,
                        a.user_id,
                        a.channel_id,
                        a.trigger_id,
                        ""};
  const auto r = co_await handle(std::move(command));
  reply_ephemeral("action-reply:" + a.trigger_id, a.channel_id, a.user_id, r);
}

asio::awaitable<void> incident_commands::on_confirm_move(block_action a) {
  // The value is the command text with --confirm, as the person would type it again.
  if (a.value.empty() || a.value.find("--confirm") == std::string::npos) co_return;
  slash_command command{ctx_.settings.command_name, a.value, a.user_id, a.channel_id, a.trigger_id, ""};
  const auto r = co_await handle(std::move(command));
  reply_ephemeral("action-reply:" + a.trigger_id, a.channel_id, a.user_id, r);
}

}  // namespace flare::commands
