#include "commands/incident_export.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

#include "commands/incident_checklist.hpp"
#include "commands/incident_commands.hpp"
#include "messages/blocks.hpp"
#include "messages/replies.hpp"
#include "messages/slack_message.hpp"
#include "policy/obligations.hpp"
#include "policy/rfc3339.hpp"

namespace flare::commands {
namespace {

using json = nlohmann::json;
using std::chrono::sys_seconds;

std::optional<std::string> string_input(const json& inputs, const char* key) {
  if (!inputs.is_object()) return std::nullopt;
  auto it = inputs.find(key);
  if (it == inputs.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

// People and what they did, in order of first appearance.
class people_list {
 public:
  void add(const std::string& user, const std::string& role) {
    if (user.empty()) return;
    auto& roles = by_user_[user];
    if (roles.empty()) order_.push_back(user);
    ++roles[role];
  }
  std::vector<messages::record_person> people() const {
    std::vector<messages::record_person> out;
    for (const auto& user : order_) {
      messages::record_person p{user, {}};
      for (const auto& [role, count] : by_user_.at(user))
        p.roles.push_back(count > 1 ? role + " ×" + std::to_string(count) : role);
      out.push_back(std::move(p));
    }
    return out;
  }

 private:
  std::vector<std::string> order_;
  std::map<std::string, std::map<std::string, int>> by_user_;
};

}  // namespace

std::optional<messages::incident_record> build_incident_record(store::store& store, std::int64_t incident_id,
                                                               const policy::tables& tables,
                                                               const policy::business_calendar& calendar,
                                                               sys_seconds now) {
  if (!store.find_incident(incident_id)) return std::nullopt;
  const auto audit = store.audit_for(incident_id);
  if (audit.empty() || audit.front().action != "open") {
    throw store::store_error(store::incident_reference(incident_id) +
                             ": the audit log does not start with the incident being opened");
  }

  messages::incident_record r;
  r.reference = store::incident_reference(incident_id);
  r.generated_at = now;
  people_list people;

  const json* previous_decision = nullptr;
  for (const auto& e : audit) {
    messages::record_change c;
    c.audit_id = e.id;
    c.at = e.at;
    c.actor = e.actor;
    c.action = e.action;
    const json& d = e.details;
    if (d.is_object()) {
      if (auto it = d.find("inputs"); it != d.end() && it->is_object()) c.inputs = *it;
      if (auto it = d.find("policy_version"); it != d.end() && it->is_string()) c.policy_version = *it;
      if (auto it = d.find("deadline_moves"); it != d.end() && it->is_array()) c.deadline_moves = *it;
      if (auto it = d.find("decision"); it != d.end() && it->is_object()) {
        // A new decision version whenever the decision differs from the previous one.
        if (!previous_decision || *previous_decision != *it) {
          messages::record_decision v;
          v.number = static_cast<int>(r.decisions.size()) + 1;
          v.audit_id = e.id;
          v.at = e.at;
          v.actor = e.actor;
          v.action = e.action;
          v.policy_version = it->value("policy_version", c.policy_version.value_or(""));
          v.decision = *it;
          c.decision_number = v.number;
          r.decisions.push_back(std::move(v));
        }
        previous_decision = &*it;
      }
    }

    if (e.action == "open") {
      r.title = string_input(c.inputs, "title").value_or("");
      r.sensitive = c.inputs.value("sensitive", false);
      r.reporter = string_input(c.inputs, "reporter").value_or(e.actor);
      r.opened_at = e.at;
      people.add(r.reporter, "reporter");
      people.add(string_input(c.inputs, "opener").value_or(e.actor), "opened it");
    } else {
      people.add(e.actor, e.action);
    }
    if (auto s = string_input(c.inputs, "severity")) r.severity = s;
    if (auto s = string_input(c.inputs, "classification")) r.classification = s;
    if (e.action == "resolve") {
      r.state = "resolved";
      const auto typed = string_input(c.inputs, "resolved_at");
      const auto parsed = typed ? policy::parse_rfc3339(*typed) : std::nullopt;
      r.resolved_at = parsed.value_or(e.at);
      r.close_reason = string_input(c.inputs, "close_reason");
      r.summary = string_input(c.inputs, "summary");
      r.duplicate_of = string_input(c.inputs, "duplicate_of");
    }
    r.timeline.push_back(std::move(c));
  }
  if (!r.decisions.empty()) {
    const json& last = r.decisions.back().decision;
    r.policy_version = r.decisions.back().policy_version;
    if (auto it = last.find("legal_requirements"); it != last.end() && it->is_array())
      for (const auto& n : *it)
        if (n.is_string()) r.legal_notes.push_back(n.get<std::string>());
  }

  const store::obligation_ledger ledger = store.ledger_for(incident_id);
  r.kind = ledger.kind;
  for (const auto& c : ledger.calls) {
    if (!c.is_object()) continue;
    messages::record_call call;
    call.conflict = c.value("conflict", "");
    call.choice = c.value("choice", "");
    call.by = c.value("by", "");
    call.at = policy::parse_rfc3339(c.value("at", "")).value_or(sys_seconds{});
    call.note = c.value("note", "");
    r.calls.push_back(std::move(call));
  }

  if (const auto checklist = stored_checklist(store, incident_id, tables, calendar, now)) {
    for (const auto& o : checklist->items) {
      messages::record_obligation ob;
      ob.id = o.id;
      ob.title = o.title;
      ob.clause = o.clause;
      ob.state = std::string{policy::to_string(o.state)};
      ob.reason = o.reason;
      ob.due = o.due;
      ob.legal = o.legal;
      if (o.done) {
        ob.done_at = o.done->at;
        ob.done_by = o.done->by;
        ob.evidence = o.done->evidence;
        people.add(o.done->by, "did " + o.title);
      }
      r.obligations.push_back(std::move(ob));
    }
  }

  for (const auto& rm : store.reminders_for(incident_id)) {
    messages::record_reminder x;
    x.obligation = rm.obligation;
    x.step = rm.step;
    x.deadline = rm.deadline;
    x.fire_at = rm.fire_at;
    x.state = std::string{store::to_string(rm.state)};
    x.sent_at = rm.sent_at;
    x.late_by = rm.late_by;
    r.reminders.push_back(std::move(x));
  }
  r.people = people.people();
  return r;
}

// ---- /incident export ---------------------------------------------------------------------------

incident_export::incident_export(store::store& store, bool can_upload, const flare::clock& clock,
                                 const policy::tables& tables, const policy::business_calendar& calendar,
                                 incident_commands& authority, std::string security_channel,
                                 std::string command_name, std::function<void()> wake_outbox)
    : store_(store),
      can_upload_(can_upload),
      clock_(clock),
      tables_(tables),
      calendar_(calendar),
      authority_(authority),
      security_channel_(std::move(security_channel)),
      command_name_(std::move(command_name)),
      wake_outbox_(std::move(wake_outbox)) {}

bool incident_export::is_export(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  if (text.size() < 6) return false;
  std::string word;
  for (char ch : text.substr(0, 6)) word += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return word == "export" && (text.size() == 6 || text[6] == ' ' || text[6] == '\t');
}

boost::asio::awaitable<command_reply> incident_export::handle(slash_command cmd) {
  const std::string usage = command_name_ + " export <ID>";
  const auto problem = [&](const std::string& text) {
    return messages::as_command_reply(messages::error_message(text, usage));
  };
  std::string_view rest = cmd.text;
  while (!rest.empty() && (rest.front() == ' ' || rest.front() == '\t')) rest.remove_prefix(1);
  rest.remove_prefix(std::min<std::size_t>(6, rest.size()));
  while (!rest.empty() && (rest.front() == ' ' || rest.front() == '\t')) rest.remove_prefix(1);
  while (!rest.empty() && (rest.back() == ' ' || rest.back() == '\t')) rest.remove_suffix(1);
  const std::string& user = cmd.user_id;

  // Responders and the Security Team only, checked before the incident is looked up, so others
  // learn nothing about which ids exist.
  if (!co_await authority_.may_respond(user)) {
    spdlog::info("commands: refused export from {}: not a responder", user);
    co_return messages::as_command_reply(
        messages::refusal_message("export incident records", "incident responders and the Security Team"));
  }
  if (rest.empty()) co_return problem("missing the incident's ID");
  const auto id = store::parse_incident_reference(rest);
  if (!id || rest.find(' ') != std::string_view::npos)
    co_return problem("\"" + std::string(rest) + "\" is not an incident ID (e.g. INC-7)");
  const std::string ref = store::incident_reference(*id);
  const auto incident = store_.find_incident(*id);
  if (!incident) co_return problem(ref + " does not exist");
  if (incident->sensitive && !co_await authority_.is_security_team(user)) {
    spdlog::info("commands: refused export of sensitive {} to {}: not in the Security Team", ref, user);
    co_return messages::as_command_reply(
        messages::refusal_message("export the record of a sensitive incident", "the Security Team"));
  }
  // The record goes to the incident's own thread, never where the command was typed: a
  // sensitive incident's record stays in the security channel.
  if (incident->sensitive && incident->channel != security_channel_) {
    spdlog::error("commands: {} is sensitive but lives in {}, not the security channel; export refused", ref,
                  incident->channel);
    co_return problem(ref +
                      " is sensitive but is not in the security channel, so its record was not uploaded. "
                      "Please tell the flare operators.");
  }
  if (!can_upload_) {
    co_return problem("uploading files is not available here; run `flare export " + ref +
                      " --out FILE` on the bot's host instead");
  }
  const std::string thread = incident->thread_ts.value_or(incident->card_ts.value_or(""));
  if (thread.empty())
    co_return problem(ref +
                      " has no thread yet (its card is still being posted); please try again in a minute");

  const sys_seconds now = clock_.now();
  const auto record = build_incident_record(store_, *id, tables_, calendar_, now);
  if (!record) co_return problem(ref + " does not exist");
  const std::string md_name = messages::record_file_name(*record, "md");
  const std::string json_name = messages::record_file_name(*record, "json");
  std::vector<store::outbox_file> files(2);
  files[0].filename = md_name;
  files[0].title = ref + " incident record";
  files[0].content = messages::record_markdown(*record);
  files[1].filename = json_name;
  files[1].title = ref + " incident record (JSON)";
  files[1].content = messages::record_json(*record).dump(2) + "\n";

  // The upload is an outbox item (bot/runtime/outbox.hpp), keyed by the command's trigger_id:
  // a redelivered command finds it and enqueues nothing new, a transient failure is retried, a
  // final one is reported in the thread. (Statements, not braced initialisers: GCC 12 mishandles
  // braced literals in coroutines.)
  store::new_outbox_item upload;
  upload.idempotency_key =
      "export/" + (cmd.trigger_id.empty() ? user + "/" + policy::format_rfc3339(now) : cmd.trigger_id);
  upload.incident_id = *id;
  upload.kind = "upload";
  upload.payload = json::object();
  upload.payload["thread_of_incident"] = *id;
  upload.payload["comment"] = "Incident record of " + ref + ", exported by <@" + user + ">.";
  upload.payload["audit_action"] = "export-shared";
  upload.payload["failure_notice"] = "The incident record of " + ref + " exported by <@" + user +
                                     "> could not be uploaded. Please run `" + command_name_ + " export " +
                                     ref + "` again, or `flare export " + ref +
                                     " --out FILE` on the bot's host.";
  // Who took the evidence out, when, and where it is to go: itself part of the evidence. The
  // file ids follow in an "export-shared" entry once Slack has the files.
  store::audit_entry entry;
  entry.incident_id = *id;
  entry.actor = user;
  entry.action = "export";
  entry.at = now;
  json inputs = json::object();
  inputs["files"] = json::array({md_name, json_name});
  inputs["channel"] = incident->channel;
  entry.details = json::object();
  entry.details["inputs"] = std::move(inputs);
  bool fresh = false;
  {
    // The audit entry, the upload and "this delivery is handled" commit together.
    const std::string delivery =
        cmd.trigger_id.empty() ? std::string{} : store::inbox_key_for_trigger(cmd.trigger_id);
    store::delivery_in_hand in_hand(store_, delivery, now);
    store_.transaction([&] {
      const auto queued = store_.enqueue_upload(upload, files, now);
      fresh = queued.inserted;
      if (fresh) {
        entry.details["outbox_item"] = queued.id;
        store_.append_audit(entry);
      }
    });
  }
  if (fresh) {
    spdlog::info("commands: {} record export by {} enqueued", ref, user);
    if (wake_outbox_) wake_outbox_();
  } else {
    spdlog::info("commands: {} record export by {} was enqueued before (a redelivery); nothing new", ref,
                 user);
  }
  messages::slack_message m;
  m.text = "The incident record of " + messages::escape(ref) + " will be uploaded to its thread.";
  m.blocks.push_back(messages::blocks::section(
      "export", "The incident record of *" + messages::escape(ref) +
                    "* (Markdown and JSON) will be uploaded to its thread in <#" + incident->channel +
                    "> in a moment. If Slack refuses the files, the thread says so."));
  co_return messages::as_command_reply(messages::enforce_limits(std::move(m)));
}

}  // namespace flare::commands
