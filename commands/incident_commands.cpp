#include "commands/incident_commands.hpp"

#include <algorithm>
#include <utility>
#include <vector>

#include <spdlog/spdlog.h>

#include "messages/blocks.hpp"
#include "messages/decision_post.hpp"
#include "messages/incident_card.hpp"
#include "messages/incident_view.hpp"
#include "messages/replies.hpp"
#include "messages/slack_message.hpp"
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
command_reply confirmation(std::string mrkdwn, std::string fallback) {
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

// "Next customer notification due …" for replies, in mrkdwn and in plain text.
std::pair<std::string, std::string> due_summary(const policy::decision& d) {
  const auto& s = d.customer_notifications.schedule;
  if (s.next_due) {
    return {"Next customer notification due " + messages::slack_date(*s.next_due) + ".",
            "Next customer notification due " + messages::utc_text(*s.next_due) + "."};
  }
  if (s.resolution_due) {
    return {"Resolution message to customers due " + messages::slack_date(*s.resolution_due) + ".",
            "Resolution message to customers due " + messages::utc_text(*s.resolution_due) + "."};
  }
  if (!s.scheduled) {
    return {"No customer notifications are scheduled yet.", "No customer notifications are scheduled yet."};
  }
  return {"No further customer notifications are due.", "No further customer notifications are due."};
}

command_reply unverified_membership(const std::string& why) {
  const std::string text =
      "Your membership of the incident responders could not be verified with Slack (" + why +
      "), so nothing was changed. Please try again in a minute.";
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

// One state change: `apply` edits a fresh copy of the incident and its facts (or says why it
// cannot, and then nothing is written); `posts` are the outbox items the stored result causes.
struct incident_commands::change {
  std::string action;
  json inputs;
  std::function<std::optional<std::string>(store::incident&, policy::facts&)> apply;
  std::function<std::vector<store::new_outbox_item>(const store::incident&, const policy::facts&,
                                                    const policy::decision&, const std::string& key_prefix)>
      posts;
};

struct incident_commands::change_outcome {
  std::optional<store::incident> incident;  // the stored result, when the change was made
  policy::facts facts;
  policy::decision decision;
  bool missing = false;                 // no such incident
  std::optional<std::string> problem;   // why nothing was changed
};

incident_commands::incident_commands(command_context ctx) : ctx_(std::move(ctx)) {}

policy::decision incident_commands::decision_for(const store::incident& incident) const {
  return policy::decide(facts_of(incident), ctx_.tables, ctx_.calendar);
}

incident_commands::change_outcome incident_commands::apply_change(std::int64_t incident_id,
                                                                  const std::string& actor,
                                                                  const change& c) {
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
      if (auto problem = c.apply(changed, f)) {
        out.problem = std::move(problem);
        return;
      }
      const policy::decision d = policy::decide(f, ctx_.tables, ctx_.calendar);
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
      entry.details = {{"inputs", c.inputs},
                       {"decision", *changed.last_decision},
                       {"policy_version", d.policy_version}};
      auto stored = ctx_.store.update_incident(changed, entry);
      if (!stored) continue;
      // The version is unique per change, so a post is made once per change even if the
      // transaction is retried after a crash, and a new change never collides with an old post.
      const std::string key_prefix =
          stored->reference() + "/" + c.action + "/v" + std::to_string(stored->version);
      for (const auto& item : c.posts(*stored, f, d, key_prefix)) ctx_.store.enqueue(item, now);
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
  if (auto it = membership_cache_.find(group);
      it != membership_cache_.end() && now - it->second.fetched_at < membership_ttl && now >= it->second.fetched_at) {
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
  co_return co_await run(std::get<parsed_command>(parsed), cmd);
}

asio::awaitable<command_reply> incident_commands::run(const parsed_command& command,
                                                      const slash_command& cmd) {
  const std::string& user = cmd.user_id;
  if (auto* c = std::get_if<open_command>(&command)) co_return open(*c, user);
  if (auto* c = std::get_if<show_command>(&command)) co_return co_await show(*c, user);
  if (auto* c = std::get_if<list_command>(&command)) co_return co_await list(*c, user);
  if (std::holds_alternative<help_command>(command)) {
    co_return reply(messages::help_message(ctx_.settings.command_name));
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
  if (auto* c = std::get_if<classify_command>(&command)) co_return classify(*c, user);
  if (auto* c = std::get_if<facts_command>(&command)) co_return set_facts(*c, user);
  if (auto* c = std::get_if<notified_command>(&command)) co_return notified(*c, user);
  if (auto* c = std::get_if<update_command>(&command)) co_return update(*c, user);
  if (auto* c = std::get_if<resolve_command>(&command)) co_return resolve(*c, user);
  if (auto* c = std::get_if<decide_command>(&command)) co_return decide(*c, user);
  throw std::logic_error("incident_commands: a parsed subcommand has no handler");
}

namespace {

command_reply outcome_problem(bool missing, const std::optional<std::string>& problem, std::int64_t id,
                              std::string_view subcommand, std::string_view command_name) {
  const std::string text = missing ? store::incident_reference(id) + " does not exist" : problem.value_or("");
  return reply(messages::error_message(text, usage_line(subcommand, command_name)));
}

// The card and the decision in the thread: what every change of the facts posts.
std::vector<store::new_outbox_item> card_and_decision(const store::incident& i, const policy::facts& f,
                                                      const policy::decision& d, const std::string& key_prefix) {
  const auto view = view_of(i, f);
  return {card_update(i, messages::incident_card(view, &d), key_prefix),
          thread_post(i, messages::decision_post(view, d), key_prefix + "/decision")};
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
    ctx_.store.enqueue(card_post(created, messages::incident_card(view_of(created, {}), nullptr), std::nullopt), now);
  });
  after_change(created.id);
  spdlog::info("commands: {} opened by {}{}", created.reference(), user, c.sensitive ? " (sensitive)" : "");

  const std::string ref = messages::escape(created.reference());
  if (c.sensitive) {
    return confirmation("🔒 Opened *" + ref + "* as a sensitive incident: its card is in <#" + channel +
                            ">, with the Security Team. Nothing was posted here.",
                        "Opened " + ref + " as a sensitive incident.");
  }
  return confirmation("Opened *" + ref + "*: " + messages::escape(c.title) + ". Its card is in <#" + channel + ">.",
                      "Opened " + ref + ": " + messages::escape(c.title));
}

asio::awaitable<command_reply> incident_commands::open_from_report(std::string user, std::string report_channel,
                                                                   std::string report_ts, std::string title,
                                                                   bool sensitive) {
  if (title.empty()) title = "Untitled report";
  const std::string channel = sensitive ? ctx_.settings.security_channel : report_channel;
  if (channel.empty()) {
    spdlog::error("commands: cannot open a sensitive incident from a report: no security channel is configured");
    co_return reply(messages::error_message(
        "No security channel is configured, so a sensitive incident cannot be opened. Please tell the flare operators.",
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
    fields.reporter = user;
    fields.sensitive = sensitive;
    fields.channel = channel;
    fields.report_channel = report_channel;
    fields.report_ts = report_ts;
    if (!sensitive) fields.thread_ts = report_ts;  // the report's thread is the incident's thread
    fields.facts = policy::to_json(policy::facts{});
    created = ctx_.store.create_incident(
        fields, user, now,
        {{"inputs",
          {{"title", title}, {"sensitive", sensitive}, {"channel", channel},
           {"report_channel", report_channel}, {"report_ts", report_ts}}}});
    const auto card = messages::incident_card(view_of(created, {}), nullptr);
    if (sensitive) {
      ctx_.store.enqueue(card_post(created, card, std::nullopt), now);
      // The report is already where it is; its thread learns only that it was taken on.
      json placeholder = messages::as_post_body(messages::sensitive_placeholder(created.reference()));
      placeholder["channel"] = report_channel;
      placeholder["thread_ts"] = report_ts;
      ctx_.store.enqueue({created.reference() + "/report-placeholder", created.id, "post", std::move(placeholder)}, now);
    } else {
      ctx_.store.enqueue(card_post(created, card, report_ts), now);
    }
  });
  if (existing) {
    co_return confirmation("This report is already *" + messages::escape(existing->reference()) + "*.",
                           "This report is already " + messages::escape(existing->reference()) + ".");
  }
  after_change(created.id);
  spdlog::info("commands: {} opened from a report by {}{}", created.reference(), user,
               sensitive ? " (sensitive)" : "");
  const std::string ref = messages::escape(created.reference());
  if (sensitive) {
    co_return confirmation("🔒 Opened *" + ref + "* as a sensitive incident: its card is in <#" + channel +
                               ">, with the Security Team.",
                           "Opened " + ref + " as a sensitive incident.");
  }
  co_return confirmation("Opened *" + ref + "*: its card is in the report's thread.",
                         "Opened " + ref + ".");
}

command_reply incident_commands::classify(const classify_command& c, const std::string& user) {
  const sys_seconds now = ctx_.clock.now();
  json inputs = {{"severity", policy::to_string(c.severity)},
                 {"classification", policy::to_string(c.classification)}};
  if (c.confirmed_at) inputs["confirmed_at"] = policy::format_rfc3339(*c.confirmed_at);
  change ch{"classify", inputs,
            [&](store::incident&, policy::facts& f) -> std::optional<std::string> {
              f.severity = c.severity;
              // SaaS process, "Security Incident Classification": the pure step decides when the
              // impact clock starts (confirmed: now unless given; potential: only when given).
              f = policy::classify(std::move(f), c.classification, now, c.confirmed_at);
              return std::nullopt;
            },
            card_and_decision};
  auto out = apply_change(c.incident_id, user, ch);
  if (!out.incident) return outcome_problem(out.missing, out.problem, c.incident_id, "classify", ctx_.settings.command_name);
  spdlog::info("commands: {} classified {} {} by {}", out.incident->reference(), policy::to_string(c.severity),
               policy::to_string(c.classification), user);

  const std::string ref = messages::escape(out.incident->reference());
  std::string clock_md = "The impact clock has not started (potential compromise).";
  std::string clock_text = clock_md;
  if (out.facts.impact_confirmed_at) {
    clock_md = "Impact confirmed at " + messages::slack_date(*out.facts.impact_confirmed_at) + ".";
    clock_text = "Impact confirmed at " + messages::utc_text(*out.facts.impact_confirmed_at) + ".";
  }
  const auto [due_md, due_text] = due_summary(out.decision);
  const std::string what = std::string{policy::to_string(c.severity)} + ", " +
                           std::string{policy::to_string(c.classification)};
  return confirmation("Classified *" + ref + "* as " + what + ". " + clock_md + " " + due_md +
                          " The decision is posted in the incident's thread.",
                      "Classified " + ref + " as " + what + ". " + clock_text + " " + due_text);
}

command_reply incident_commands::set_facts(const facts_command& c, const std::string& user) {
  const sys_seconds now = ctx_.clock.now();
  json inputs = json::object();
  for (const auto& a : c.assignments) inputs[a.key] = a.value;
  change ch{"facts", inputs,
            [&](store::incident& incident, policy::facts& f) -> std::optional<std::string> {
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
                    return "resolved_at: a resolved incident needs a resolution time (it can be corrected, not cleared)";
                  }
                }
                if (auto error = policy::set_fact(f, a.key, a.value)) return error->text();
                classification_set = classification_set || a.key == "classification";
                clock_set = clock_set || a.key == "impact_confirmed_at";
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
            card_and_decision};
  auto out = apply_change(c.incident_id, user, ch);
  if (!out.incident) return outcome_problem(out.missing, out.problem, c.incident_id, "facts", ctx_.settings.command_name);
  spdlog::info("commands: {} facts set by {} ({} facts)", out.incident->reference(), user, c.assignments.size());

  std::string keys;
  for (const auto& a : c.assignments) keys += (keys.empty() ? "" : ", ") + a.key;
  const std::string ref = messages::escape(out.incident->reference());
  const auto [due_md, due_text] = due_summary(out.decision);
  return confirmation("Updated *" + ref + "*: `" + messages::escape(keys) + "`. " + due_md +
                          " The decision is posted in the incident's thread.",
                      "Updated " + ref + ": " + messages::escape(keys) + ". " + due_text);
}

command_reply incident_commands::notified(const notified_command& c, const std::string& user) {
  const sys_seconds now = ctx_.clock.now();
  change ch{"notified", {{"at", policy::format_rfc3339(now)}},
            [&](store::incident&, policy::facts& f) -> std::optional<std::string> {
              f.notifications_sent.push_back(now);
              return std::nullopt;
            },
            [&](const store::incident& i, const policy::facts& f, const policy::decision& d,
                const std::string& key_prefix) {
              const auto view = view_of(i, f);
              return std::vector<store::new_outbox_item>{
                  card_update(i, messages::incident_card(view, &d), key_prefix),
                  thread_post(i, messages::notified_post(view, user, now, d), key_prefix + "/notified")};
            }};
  auto out = apply_change(c.incident_id, user, ch);
  if (!out.incident) return outcome_problem(out.missing, out.problem, c.incident_id, "notified", ctx_.settings.command_name);
  spdlog::info("commands: {} customer notification recorded by {}", out.incident->reference(), user);

  const std::string ref = messages::escape(out.incident->reference());
  const auto [due_md, due_text] = due_summary(out.decision);
  return confirmation("Recorded a customer notification for *" + ref + "* at " + messages::slack_date(now) +
                          ". " + due_md,
                      "Recorded a customer notification for " + ref + " at " + messages::utc_text(now) + ". " +
                          due_text);
}

command_reply incident_commands::update(const update_command& c, const std::string& user) {
  change ch{"update", {{"text", c.text}},
            [&](store::incident& incident, policy::facts&) -> std::optional<std::string> {
              if (incident.state == store::incident_state::resolved) {
                return incident.reference() + " is resolved, so updates are no longer posted (facts can still be corrected with " +
                       ctx_.settings.command_name + " facts)";
              }
              return std::nullopt;
            },
            [&](const store::incident& i, const policy::facts& f, const policy::decision&,
                const std::string& key_prefix) {
              return std::vector<store::new_outbox_item>{
                  thread_post(i, messages::update_post(view_of(i, f), user, c.text), key_prefix + "/post")};
            }};
  auto out = apply_change(c.incident_id, user, ch);
  if (!out.incident) return outcome_problem(out.missing, out.problem, c.incident_id, "update", ctx_.settings.command_name);
  spdlog::info("commands: {} update posted by {}", out.incident->reference(), user);
  const std::string ref = messages::escape(out.incident->reference());
  return confirmation("Posted your update in *" + ref + "*'s thread.", "Posted your update in " + ref + "'s thread.");
}

command_reply incident_commands::resolve(const resolve_command& c, const std::string& user) {
  const sys_seconds now = ctx_.clock.now();
  json inputs = {{"resolved_at", policy::format_rfc3339(now)}};
  if (c.summary) inputs["summary"] = *c.summary;
  change ch{"resolve", inputs,
            [&](store::incident& incident, policy::facts& f) -> std::optional<std::string> {
              if (incident.state == store::incident_state::resolved) {
                return incident.reference() + " is already resolved";
              }
              incident.state = store::incident_state::resolved;
              incident.resolved_at = now;
              if (c.summary) incident.summary = c.summary;
              f.resolved_at = now;
              return std::nullopt;
            },
            [&](const store::incident& i, const policy::facts& f, const policy::decision& d,
                const std::string& key_prefix) {
              const auto view = view_of(i, f);
              return std::vector<store::new_outbox_item>{
                  card_update(i, messages::incident_card(view, &d), key_prefix),
                  thread_post(i, messages::resolution_post(view, user), key_prefix + "/resolution")};
            }};
  auto out = apply_change(c.incident_id, user, ch);
  if (!out.incident) return outcome_problem(out.missing, out.problem, c.incident_id, "resolve", ctx_.settings.command_name);
  spdlog::info("commands: {} resolved by {}", out.incident->reference(), user);

  const std::string ref = messages::escape(out.incident->reference());
  const auto [due_md, due_text] = due_summary(out.decision);
  return confirmation("Resolved *" + ref + "*. " + due_md, "Resolved " + ref + ". " + due_text);
}

command_reply incident_commands::decide(const decide_command& c, const std::string& user) {
  change ch{"decide", json::object(),
            [](store::incident&, policy::facts&) -> std::optional<std::string> { return std::nullopt; },
            card_and_decision};
  auto out = apply_change(c.incident_id, user, ch);
  if (!out.incident) return outcome_problem(out.missing, out.problem, c.incident_id, "decide", ctx_.settings.command_name);
  const std::string ref = messages::escape(out.incident->reference());
  const auto [due_md, due_text] = due_summary(out.decision);
  return confirmation("Posted the decision for *" + ref + "* in its thread. " + due_md,
                      "Posted the decision for " + ref + " in its thread. " + due_text);
}

asio::awaitable<command_reply> incident_commands::show(const show_command& c, const std::string& user) {
  auto incident = ctx_.store.find_incident(c.incident_id);
  if (!incident) {
    co_return outcome_problem(true, std::nullopt, c.incident_id, "show", ctx_.settings.command_name);
  }
  bool reveal = !incident->sensitive || incident->reporter == user;
  if (!reveal) reveal = co_await security_team_member(user);
  const policy::facts f = facts_of(*incident);
  // Before the first classification or facts there is no decision, as on the card.
  std::optional<policy::decision> d;
  if (incident->last_decision) d = policy::decide(f, ctx_.tables, ctx_.calendar);
  co_return reply(messages::incident_details(view_of(*incident, f), f, d ? &*d : nullptr, reveal));
}

asio::awaitable<command_reply> incident_commands::list(const list_command& c, const std::string& user) {
  constexpr std::size_t kLimit = 100;
  auto incidents = ctx_.store.list_incidents(c.filter == list_filter::open, kLimit);
  const bool others_sensitive = std::any_of(incidents.begin(), incidents.end(), [&](const store::incident& i) {
    return i.sensitive && i.reporter != user;
  });
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
  co_return reply(messages::incident_list(views, security_team, c.filter == list_filter::all ? "all" : "open"));
}

}  // namespace flare::commands
