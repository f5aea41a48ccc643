// The `/incident` command: parse (grammar.hpp), authorise, change the incident, and decide what
// to post. Every state change is one store transaction holding the incident update, its audit
// entry (actor, inputs, decision, policy version) and the outbox posts it causes; the outbox
// sender (bot/outbox.hpp) makes the posts. Replies to the person are ephemeral.
//
// Who may do what (issue: "anyone may open; only responders may classify, set facts, record
// notifications and resolve"):
// - anyone: open, show, list, help.
// - responders (members of settings.responders_group) and the Security Team
//   (settings.security_team_group): classify, facts, notified, resolve, and also update and
//   decide. The issue names neither update nor decide; both speak for the incident response in
//   its thread, so the protective reading gives them to responders only.
// - A membership lookup that fails refuses the command (fail closed) and is logged. An empty
//   group setting means nobody is a member through that group.
//
// Sensitive incidents (incident response policy, "Incident Detection": potentially sensitive
// incidents go to the Security Team): the card and thread live in settings.security_channel and
// nothing about them is posted in the incidents channel or wherever the command was run. In the
// ephemeral replies of show and list the title and details are revealed only to Security Team
// members and to the incident's reporter (who wrote them); everyone else sees "INC-n (sensitive)".
//
// Obligations (issue 9): `done`, `not-needed`, `notified` (done for the next customer notice),
// `call` and `kind` change the incident's obligation ledger in the same transaction as its audit
// entry. A time typed more than a few minutes ahead is refused. A classify/facts/kind change
// that moves or clears a running deadline is refused until confirmed (`--confirm` or the
// button), then posted in the thread as "… deadline moved from … to … because …". The thread
// gets the full decision once, then only what changed; the card always shows the checklist.
//
// Resolved incidents: classify, facts, notified and decide stay allowed, because facts can be
// corrected and a notification recorded after resolution (the resolution message itself is one).
// update is refused with "INC-n is resolved", and resolve again with "already resolved".
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include <boost/asio/awaitable.hpp>

#include "bot/runtime/clock.hpp"
#include "bot/runtime/dispatcher.hpp"
#include "bot/slack/slack_api.hpp"
#include "bot/store/store.hpp"
#include "commands/grammar.hpp"
#include "messages/incident_view.hpp"
#include "policy/business_calendar.hpp"
#include "policy/disclosure.hpp"
#include "policy/facts.hpp"
#include "policy/obligations.hpp"
#include "policy/tables.hpp"

namespace flare::commands {

struct command_settings {
  std::string incidents_channel;    // where ordinary incident cards are posted
  std::string security_channel;     // where sensitive incident cards are posted
  std::string responders_group;     // Slack user group id (S…); empty: no such group
  std::string security_team_group;  // Slack user group id (S…); empty: no such group
  std::string command_name = "/incident";
};

struct command_context {
  store::store& store;
  slack::slack_api& slack;
  const flare::clock& clock;
  const policy::tables& tables;
  const policy::business_calendar& calendar;
  command_settings settings;
  std::function<void()> wake_outbox;                               // called after enqueueing
  std::function<void(std::int64_t incident_id)> incident_changed;  // reminders reschedule (may be empty)
};

// The facts stored with an incident. Throws store::store_error if the stored document is not a
// valid facts document (only this code writes it, so that should never happen).
policy::facts facts_of(const store::incident& incident);

// What messages/ needs to know about an incident, from its stored row and its facts.
messages::incident_view view_of(const store::incident& incident, const policy::facts& facts);

class incident_commands {
 public:
  explicit incident_commands(command_context ctx);

  // The dispatcher's handler for /incident.
  boost::asio::awaitable<command_reply> handle(slash_command cmd);

  // The dispatcher's static_reply_lookup for /incident: the help reply, serialised once, when
  // `cmd` asks for help; null for every other command (issue 11).
  std::shared_ptr<const std::string> static_reply(const slash_command& cmd) const;

  // Opens an incident linked to a report message (the "Open incident" button): the card is
  // posted in the report's thread. A sensitive incident's card goes to the security channel
  // instead, and the report's thread only gets a placeholder without title or details. A report
  // that already has an incident gets that incident's reference back, not a second incident.
  // `user` is the opener (the audit's actor); `reporter` the report's author (empty: the opener),
  // who may then see the incident even when it is sensitive (show, list).
  // `proposed_kind` is intake's reading of the report (issue 9, section 4): the incident starts
  // with it in its obligation ledger, marked as a proposal until a responder runs `kind`.
  boost::asio::awaitable<command_reply> open_from_report(
      std::string user, std::string report_channel, std::string report_ts, std::string title, bool sensitive,
      std::string reporter = {}, policy::incident_kind proposed_kind = policy::incident_kind::none);

  // Whether `user` is in the Security Team group (fail closed, like the commands).
  boost::asio::awaitable<bool> is_security_team(std::string user);

  // Whether `user` may act as a responder (responders group or Security Team), with the same
  // fail-closed membership lookup as the commands. For the report intake's buttons.
  boost::asio::awaitable<bool> may_respond(std::string user);

  // The decision for the incident's stored facts (pure: facts -> policy::decide). The policy's
  // due times do not depend on "now"; they are compared with the clock by the reminders.
  policy::decision decision_for(const store::incident& incident) const;

  // Card buttons and the Mark done modal (messages/checklist_view.hpp). Each runs the same rules
  // as the command it stands for (`done`, `call`, the `--confirm` repeat of a change), with the
  // same authorisation; the reply goes to the person as an ephemeral message.
  boost::asio::awaitable<void> on_mark_done(block_action a);
  boost::asio::awaitable<std::optional<nlohmann::json>> on_mark_done_submission(view_submission v);
  boost::asio::awaitable<void> on_record_call(block_action a);
  boost::asio::awaitable<void> on_confirm_move(block_action a);

  // How long a user group's member list is trusted before it is looked up again.
  static constexpr std::chrono::seconds membership_ttl{60};

 private:
  struct group_members {
    std::set<std::string> users;
    sys_seconds fetched_at{};
  };
  // Whether `user` may act as a responder: yes, no, or could not be verified (the error).
  struct authorisation {
    bool allowed = false;
    std::optional<std::string> unverified;  // why membership could not be checked
  };

  boost::asio::awaitable<std::optional<bool>> in_group(const std::string& group, const std::string& user);
  boost::asio::awaitable<authorisation> responder(const std::string& user);
  boost::asio::awaitable<bool> security_team_member(const std::string& user);

  boost::asio::awaitable<command_reply> run(const parsed_command& command, const slash_command& cmd);
  command_reply open(const open_command& c, const std::string& user);
  command_reply classify(const classify_command& c, const std::string& user);
  command_reply set_facts(const facts_command& c, const std::string& user);
  command_reply notified(const notified_command& c, const std::string& user);
  command_reply done(std::int64_t incident_id, const std::string& typed, const completion_options& options,
                     const std::string& user, std::string_view subcommand);
  command_reply not_needed(const not_needed_command& c, const std::string& user);
  command_reply kind(const kind_command& c, const std::string& user);
  command_reply call(const call_command& c, const std::string& user);
  boost::asio::awaitable<command_reply> deadlines(const std::string& user);
  command_reply update(const update_command& c, const std::string& user);
  command_reply resolve(const resolve_command& c, const std::string& user);
  command_reply decide(const decide_command& c, const std::string& user);
  boost::asio::awaitable<command_reply> show(const show_command& c, const std::string& user);
  boost::asio::awaitable<command_reply> list(const list_command& c, const std::string& user);

  struct change;
  struct change_view;
  struct change_outcome;
  change_outcome apply_change(std::int64_t incident_id, const std::string& actor, const change& c);
  void after_change(std::int64_t incident_id);
  std::size_t carry_completions(const store::incident& duplicate, const store::incident& surviving,
                                const std::string& user);
  std::vector<store::new_outbox_item> standard_posts(const change_view& v, const std::string& user) const;
  command_reply confirmation_needed(const change_outcome& out, std::int64_t incident_id);
  std::pair<std::string, std::string> next_due_summary(const policy::checklist& c) const;
  policy::checklist checklist_for(const store::incident& incident, const policy::facts& f,
                                  const policy::decision& d, const store::obligation_ledger& ledger) const;
  const date::time_zone* zone() const;
  void reply_ephemeral(const std::string& key, const std::string& channel, const std::string& user,
                       const command_reply& reply);

  command_context ctx_;
  std::map<std::string, group_members> membership_cache_;
  std::string current_text_;  // the command text being handled (for the Confirm button)
  // The help reply depends only on the command's name: built once, as a value and as JSON text.
  command_reply help_reply_;
  std::shared_ptr<const std::string> help_reply_json_;
};

}  // namespace flare::commands
