#include "messages/checklist_view.hpp"

#include <algorithm>
#include <charconv>

#include "messages/blocks.hpp"
#include "messages/decision_post.hpp"
#include "messages/mentions.hpp"
#include "messages/time_text.hpp"

namespace flare::messages {
namespace {

using policy::obligation;
using policy::obligation_state;
using std::chrono::sys_seconds;

nlohmann::json button(std::string_view action_id, std::string_view text, std::string_view value,
                      std::string_view style = {}) {
  nlohmann::json b{{"type", "button"},
                   {"action_id", std::string{action_id}},
                   {"text", {{"type", "plain_text"}, {"text", std::string{text}}}},
                   {"value", std::string{value}}};
  if (!style.empty()) b["style"] = std::string{style};
  return b;
}

std::optional<std::int64_t> parse_id(std::string_view s) {
  std::int64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size() || v <= 0) return std::nullopt;
  return v;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  while (true) {
    const auto pos = s.find(sep);
    out.push_back(s.substr(0, pos));
    if (pos == std::string_view::npos) break;
    s.remove_prefix(pos + 1);
  }
  return out;
}

std::string done_text(const policy::completion& c, const date::time_zone* zone, sys_seconds now) {
  std::string out = "done";
  if (!c.by.empty()) out += " by " + user_mention(c.by);
  out += ", " + local_time_text(c.at, zone, now);
  if (!c.evidence.empty()) out += " (" + escape(c.evidence) + ")";
  return out;
}

bool is_update(const obligation& o) { return o.id.starts_with(policy::obligation_ids::update_prefix); }

std::string move_line(const policy::deadline_move& m, const date::time_zone* zone, sys_seconds now) {
  std::string line = "*" + escape(m.title) + "* deadline ";
  const std::string from = m.from ? local_time_text(*m.from, zone, now) : std::string{"none"};
  if (m.to) {
    line += "moved from " + from + " to " + local_time_text(*m.to, zone, now);
  } else {
    line += "cleared (was " + from + ")";
  }
  line += " because " + escape(m.because) + ".";
  return line + "\n_" + escape(m.clause) + "_";
}

std::string change_line(const policy::checklist_change& c, const date::time_zone* zone, sys_seconds now) {
  const std::string title = "*" + escape(c.title) + "*";
  auto due = [&](const std::optional<sys_seconds>& t) {
    return t ? local_time_text(*t, zone, now) : std::string{"no fixed time"};
  };
  std::string line;
  switch (c.kind) {
    case policy::change_kind::added:
      line = ":new: " + title + " is now required" + (c.due_after ? ", due " + due(c.due_after) : "") + ".";
      break;
    case policy::change_kind::reinstated:
      line = ":new: " + title + " is required again" + (c.due_after ? ", due " + due(c.due_after) : "") + ".";
      break;
    case policy::change_kind::dropped: line = ":heavy_minus_sign: " + title + " is no longer needed."; break;
    case policy::change_kind::due_moved:
      line =
          ":clock3: " + title + " deadline moved from " + due(c.due_before) + " to " + due(c.due_after) + ".";
      break;
    case policy::change_kind::done: line = ":white_check_mark: " + title + " is done."; break;
    case policy::change_kind::conflict_new:
      line =
          ":warning: Policy conflict: " + escape(c.title) + " A responder should record a call on the card.";
      break;
    case policy::change_kind::conflict_gone:
      line = ":heavy_check_mark: Policy conflict no longer applies: " + escape(c.title);
      break;
    case policy::change_kind::conflict_call:
      line = ":scales: Call recorded on the policy conflict (" + escape(c.reason) + "): " + escape(c.title);
      break;
  }
  if (!c.reason.empty() && c.kind != policy::change_kind::conflict_call) line += "\n" + escape(c.reason);
  if (!c.clause.empty()) line += "\n_" + escape(c.clause) + "_";
  return line;
}

}  // namespace

std::string mark_done_value(std::int64_t incident_id, std::string_view obligation_id) {
  return std::to_string(incident_id) + "|" + std::string{obligation_id};
}

std::optional<mark_done_target> parse_mark_done_value(std::string_view value) {
  const auto parts = split(value, '|');
  if (parts.size() != 2 || parts[1].empty()) return std::nullopt;
  const auto id = parse_id(parts[0]);
  if (!id) return std::nullopt;
  return mark_done_target{*id, std::string{parts[1]}};
}

std::string record_call_value(std::int64_t incident_id, std::string_view conflict_id,
                              std::string_view option_id) {
  return std::to_string(incident_id) + "|" + std::string{conflict_id} + "|" + std::string{option_id};
}

std::optional<record_call_target> parse_record_call_value(std::string_view value) {
  const auto parts = split(value, '|');
  if (parts.size() != 3 || parts[1].empty() || parts[2].empty()) return std::nullopt;
  const auto id = parse_id(parts[0]);
  if (!id) return std::nullopt;
  return record_call_target{*id, std::string{parts[1]}, std::string{parts[2]}};
}

std::string obligation_line(const obligation& o, const date::time_zone* zone, sys_seconds now) {
  const std::string title = "*" + escape(o.title) + "*";
  switch (o.state) {
    case obligation_state::done:
      return ":white_check_mark: " + title + " — " +
             (o.done ? done_text(*o.done, zone, now) : std::string{"done"});
    case obligation_state::not_needed:
      return ":heavy_minus_sign: " + title + " — not needed: " + escape(o.reason);
    case obligation_state::pending: break;
  }
  std::string line;
  if (o.due && now > *o.due) {
    line = ":red_circle: " + title + " — due " + due_text(*o.due, zone, now);
  } else if (o.due) {
    line = ":hourglass_flowing_sand: " + title + " — due " + due_text(*o.due, zone, now);
  } else {
    line = ":hourglass_flowing_sand: " + title + " — no fixed deadline";
  }
  if (!o.ready && !o.waiting_for.empty())
    line += "\n:double_vertical_bar: waiting for: " + escape(o.waiting_for);
  if (o.legal) line += "\n_Legal requirement: " + escape(o.clause) + "_";
  return line;
}

std::vector<nlohmann::json> checklist_blocks(const policy::checklist& c, std::int64_t incident_id,
                                             const date::time_zone* zone, sys_seconds now) {
  std::vector<nlohmann::json> out;
  std::string head = "*Obligations*";
  if (c.legal_precedence) {
    head +=
        "\n:scales: Legal requirements apply and take precedence over company policy "
        "(Incident disclosure policy, introduction, paragraph 3).";
  }
  for (const auto& n : c.notes) head += "\n_" + escape(n) + "_";
  if (c.items.empty()) head += "\n_Nothing owed for the facts recorded so far._";
  out.push_back(blocks::section("checklist", head));

  // Done updates collapse into one line so a long incident's card stays within Slack's block
  // limit: only the latest is shown individually.
  std::vector<const obligation*> done_updates;
  for (const auto& o : c.items) {
    if (is_update(o) && o.state == obligation_state::done) done_updates.push_back(&o);
  }
  bool updates_line = false;
  for (const auto& o : c.items) {
    if (is_update(o) && o.state == obligation_state::done && done_updates.size() > 1) {
      if (updates_line) continue;
      updates_line = true;
      const obligation& last = *done_updates.back();
      out.push_back(blocks::section(
          "ob_updates", ":white_check_mark: *Customer updates 1–" + std::to_string(done_updates.size()) +
                            "* — latest " +
                            (last.done ? done_text(*last.done, zone, now) : std::string{"done"})));
      continue;
    }
    nlohmann::json block = blocks::section("ob_" + o.id, obligation_line(o, zone, now));
    if (o.state == obligation_state::pending && incident_id > 0) {
      block["accessory"] = button(mark_done_action, "Mark done", mark_done_value(incident_id, o.id));
    }
    out.push_back(std::move(block));
  }
  for (const auto& k : c.conflicts) {
    std::string text = ":warning: *Policy conflict* — " + escape(k.summary) + "\n• " + escape(k.first.text) +
                       "\n  _" + escape(k.first.clause) + "_\n• " + escape(k.second.text) + "\n  _" +
                       escape(k.second.clause) + "_";
    if (k.call) {
      std::string label = k.call->choice;
      for (const auto& opt : k.options) {
        if (opt.id == k.call->choice) label = opt.label;
      }
      text += "\n:scales: Call recorded by " + user_mention(k.call->by) + ", " +
              local_time_text(k.call->at, zone, now) + ": " + escape(label);
      if (!k.call->note.empty()) text += " (" + escape(k.call->note) + ")";
      out.push_back(blocks::section("conflict_" + k.id, text));
      continue;
    }
    for (const auto& opt : k.options) {
      if (opt.id == k.default_option) text += "\nUntil a call is recorded: " + escape(opt.effect);
    }
    out.push_back(blocks::section("conflict_" + k.id, text));
    if (incident_id > 0) {
      nlohmann::json actions{
          {"type", "actions"}, {"block_id", "call_" + k.id}, {"elements", nlohmann::json::array()}};
      for (const auto& opt : k.options) {
        actions["elements"].push_back(
            button(record_call_action, opt.label, record_call_value(incident_id, k.id, opt.id)));
      }
      out.push_back(std::move(actions));
    }
  }
  return out;
}

slack_message incident_card(const incident_view& incident, const policy::decision* decision,
                            const policy::checklist& c, std::int64_t incident_id, const date::time_zone* zone,
                            sys_seconds now) {
  slack_message m;
  m.text = one_line(incident);
  m.blocks.push_back(blocks::header("header", header_text(incident)));
  m.blocks.push_back(blocks::section("title", "*" + escape(incident.title) + "*"));
  m.blocks.push_back(blocks::fields("fields", incident_fields(incident)));
  for (auto& b : checklist_blocks(c, incident_id, zone, now)) m.blocks.push_back(std::move(b));
  if (incident.summary)
    m.blocks.push_back(blocks::section("summary", "*Summary*\n" + escape(*incident.summary)));
  const bool security = c.kind == policy::incident_kind::security;
  m.blocks.push_back(blocks::context(
      "policy",
      {security ? (decision ? "Policy version `" + escape(decision->policy_version) + "`"
                            : std::string{"Policy version: no decision yet"})
                : std::string{"People and safety: no disclosure decision"},
       "Times in " + std::string{zone ? zone->name() : "UTC"} + "; details and reasons in the thread"}));
  return enforce_limits(std::move(m));
}

namespace {

std::string obligations_summary(const policy::checklist& c, const date::time_zone* zone, sys_seconds now) {
  std::string text = "*Obligations*";
  for (const auto& n : c.notes) text += "\n_" + escape(n) + "_";
  for (const auto& o : c.items) text += "\n" + obligation_line(o, zone, now);
  if (c.items.empty()) text += "\n_Nothing owed for the facts recorded so far._";
  return text;
}

std::string conflict_text(const policy::policy_conflict& k) {
  std::string text = ":warning: *Policy conflict* — " + escape(k.summary) + "\n• " + escape(k.first.text) +
                     "\n  _" + escape(k.first.clause) + "_\n• " + escape(k.second.text) + "\n  _" +
                     escape(k.second.clause) + "_";
  for (const auto& opt : k.options) {
    if (opt.id == k.default_option)
      text += "\nUntil a responder records a call on the card: " + escape(opt.effect);
  }
  return text;
}

}  // namespace

slack_message first_decision_post(const incident_view& incident, const policy::decision& decision,
                                  const policy::checklist& c, const date::time_zone* zone, sys_seconds now) {
  if (c.kind == policy::incident_kind::people_and_safety) {
    slack_message m;
    m.text = escape(incident.reference) +
             ": people and safety incident, routed to the Head of Finance & Operations "
             "and the Security Team; no disclosure decision";
    m.blocks.push_back(blocks::header("header", incident.reference + " · people and safety"));
    m.blocks.push_back(blocks::section("summary", obligations_summary(c, zone, now)));
    return enforce_limits(std::move(m));
  }
  slack_message full = decision_post(incident, decision);
  // The checklist replaces the decision's "Required" summary (which knows nothing of what was
  // done) and its conflicts (the checklist's carry the call, if one was recorded).
  {
    nlohmann::json kept = nlohmann::json::array();
    for (auto& b : full.blocks) {
      std::string id = b.value("block_id", "");
      id = id.substr(0, id.find('.'));
      if (id == "required" || id.starts_with("dconflict_")) continue;
      kept.push_back(std::move(b));
    }
    full.blocks = std::move(kept);
  }
  // Insert after the header, the version and the legal line, so the obligations survive a cut.
  std::size_t at = 0;
  while (at < full.blocks.size() && at < 3) {
    // enforce_limits has made the ids unique ("policy.87930725"): compare the name part.
    std::string id = full.blocks[at].value("block_id", "");
    id = id.substr(0, id.find('.'));
    if (id != "header" && id != "policy" && id != "legal") break;
    ++at;
  }
  std::vector<nlohmann::json> inserted{blocks::section("obligations", obligations_summary(c, zone, now))};
  for (const auto& k : c.conflicts) inserted.push_back(blocks::section("conflict_" + k.id, conflict_text(k)));
  nlohmann::json merged = nlohmann::json::array();
  for (std::size_t i = 0; i < full.blocks.size(); ++i) {
    if (i == at) {
      for (auto& b : inserted) merged.push_back(std::move(b));
    }
    merged.push_back(std::move(full.blocks[i]));
  }
  full.blocks = std::move(merged);
  if (!c.conflicts.empty() && full.text.find("policy conflict") == std::string::npos)
    full.text += "; policy conflict: a responder should record a call";
  return enforce_limits(std::move(full));
}

std::optional<slack_message> decision_diff_post(const incident_view& incident,
                                                const policy::checklist_diff& d, const date::time_zone* zone,
                                                sys_seconds now) {
  if (d.empty()) return std::nullopt;
  slack_message m;
  m.text = escape(incident.reference) + ": the decision changed (" + std::to_string(d.changes.size()) +
           (d.changes.size() == 1 ? " change)" : " changes)");
  m.blocks.push_back(blocks::section("head", "*What changed* in " + escape(incident.reference) +
                                                 "'s obligations (the card shows the full current state):"));
  int n = 0;
  for (const auto& c : d.changes) {
    m.blocks.push_back(blocks::section("change_" + std::to_string(n++), change_line(c, zone, now)));
  }
  return enforce_limits(std::move(m));
}

slack_message deadline_moved_post(const incident_view& incident,
                                  const std::vector<policy::deadline_move>& moves,
                                  std::string_view confirmed_by, const date::time_zone* zone,
                                  sys_seconds now) {
  slack_message m;
  m.text = escape(incident.reference) + ": " +
           (moves.size() == 1 ? std::string{"a deadline moved"}
                              : std::to_string(moves.size()) + " deadlines moved");
  if (!moves.empty()) {
    const auto& f = moves.front();
    // The fallback names the first move in UTC: notifications do not render mrkdwn styling.
    m.text =
        escape(incident.reference) + ": " + escape(f.title) + " deadline " +
        (f.to ? "moved from " + (f.from ? utc_text(*f.from) : std::string{"none"}) + " to " + utc_text(*f.to)
              : "cleared (was " + (f.from ? utc_text(*f.from) : std::string{"none"}) + ")") +
        " because " + escape(f.because);
  }
  int n = 0;
  for (const auto& mv : moves)
    m.blocks.push_back(blocks::section("move_" + std::to_string(n++), move_line(mv, zone, now)));
  m.blocks.push_back(blocks::context(
      "who",
      {"Confirmed by " + (confirmed_by.empty() ? std::string{"a responder"} : user_mention(confirmed_by)) +
       "; recorded in the audit log."}));
  return enforce_limits(std::move(m));
}

slack_message deadline_move_confirmation(const incident_view& incident,
                                         const std::vector<policy::deadline_move>& moves,
                                         std::string_view token, const date::time_zone* zone,
                                         sys_seconds now) {
  slack_message m;
  m.text = escape(incident.reference) +
           ": this change moves or clears a running deadline. Confirm it, or repeat the "
           "command with --confirm.";
  m.blocks.push_back(blocks::section("head", ":warning: *This change moves or clears a running deadline in " +
                                                 escape(incident.reference) + ".* Nothing was changed yet."));
  int n = 0;
  for (const auto& mv : moves)
    m.blocks.push_back(blocks::section("move_" + std::to_string(n++), move_line(mv, zone, now)));
  m.blocks.push_back(
      blocks::section("how", "Press *Confirm* to apply it, or repeat the command with `--confirm`."));
  nlohmann::json actions{{"type", "actions"}, {"block_id", "confirm"}, {"elements", nlohmann::json::array()}};
  actions["elements"].push_back(button(confirm_move_action, "Confirm", token, "danger"));
  m.blocks.push_back(std::move(actions));
  return enforce_limits(std::move(m));
}

nlohmann::json mark_done_modal(std::int64_t incident_id, const obligation& o) {
  auto plain = [](std::string_view t) {
    return nlohmann::json{{"type", "plain_text"}, {"text", std::string{t}}};
  };
  // Slack limits: modal title 24 chars, so the obligation's title goes in the body.
  nlohmann::json view{{"type", "modal"},
                      {"callback_id", std::string{mark_done_callback}},
                      {"private_metadata", mark_done_value(incident_id, o.id)},
                      {"title", plain("Mark done")},
                      {"submit", plain("Mark done")},
                      {"close", plain("Cancel")}};
  std::string title = o.title.size() > 2900 ? o.title.substr(0, 2900) : o.title;
  view["blocks"] = nlohmann::json::array(
      {blocks::section("what", "*" + escape(title) + "*"),
       {{"type", "input"},
        {"block_id", std::string{mark_done_at_block}},
        {"optional", true},
        {"label", plain("When (empty for now)")},
        {"hint", plain("RFC 3339, e.g. 2026-11-30T14:00:00Z. Past times only.")},
        {"element",
         {{"type", "plain_text_input"}, {"action_id", std::string{mark_done_at_input}}, {"max_length", 40}}}},
       {{"type", "input"},
        {"block_id", std::string{mark_done_evidence_block}},
        {"optional", true},
        {"label", plain("Evidence: a link or a short note")},
        {"element",
         {{"type", "plain_text_input"},
          {"action_id", std::string{mark_done_evidence_input}},
          {"max_length", 500}}}}});
  return view;
}

nlohmann::json mark_done_refused_modal(std::string_view text) {
  auto plain = [](std::string_view t) {
    return nlohmann::json{{"type", "plain_text"}, {"text", std::string{t}}};
  };
  nlohmann::json view{{"type", "modal"}, {"title", plain("Mark done")}, {"close", plain("Close")}};
  // enforce_limits cuts a long text without splitting a character or an entity.
  slack_message m;
  m.text = "Mark done";
  m.blocks.push_back(blocks::section("refused", escape_keeping_user_mentions(text)));
  view["blocks"] = enforce_limits(std::move(m)).blocks;
  return view;
}

mark_done_submission parse_mark_done_submission(const nlohmann::json& state_values) {
  mark_done_submission out;
  auto read = [&](std::string_view block, std::string_view input) -> std::string {
    if (!state_values.is_object()) return {};
    const auto b = state_values.find(std::string{block});
    if (b == state_values.end() || !b->is_object()) return {};
    const auto i = b->find(std::string{input});
    if (i == b->end() || !i->is_object()) return {};
    const auto v = i->find("value");
    return v != i->end() && v->is_string() ? v->get<std::string>() : std::string{};
  };
  out.at_text = read(mark_done_at_block, mark_done_at_input);
  out.evidence = read(mark_done_evidence_block, mark_done_evidence_input);
  return out;
}

slack_message deadlines_reply(std::vector<deadline_row> rows, const date::time_zone* zone, sys_seconds now) {
  std::stable_sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.due < b.due; });
  slack_message m;
  if (rows.empty()) {
    m.text = "No open deadlines.";
    m.blocks.push_back(blocks::section("none", "No open deadlines across the incidents you can see."));
    return enforce_limits(std::move(m));
  }
  m.text = std::to_string(rows.size()) + (rows.size() == 1 ? " open deadline" : " open deadlines");
  m.blocks.push_back(blocks::section("head", "*Open deadlines*, soonest first:"));
  int n = 0;
  for (const auto& r : rows) {
    std::string who = "*" + escape(r.reference) + "*";
    who += r.sensitive && !r.reveal ? " (sensitive)" : ": " + escape(r.title);
    const std::string mark = now > r.due ? ":red_circle: " : ":hourglass_flowing_sand: ";
    m.blocks.push_back(blocks::section(
        "row_" + std::to_string(n++),
        mark + who + "\n" + escape(r.obligation_title) + " — due " + due_text(r.due, zone, now)));
  }
  return enforce_limits(std::move(m));
}

}  // namespace flare::messages
