#include "messages/report_reply.hpp"

#include "input/json_fields.hpp"

#include <algorithm>
#include <optional>

#include "messages/blocks.hpp"
#include "messages/replies.hpp"

namespace flare::messages {

namespace {

nlohmann::json button(std::string_view action_id, std::string_view text, std::string_view value,
                      bool primary) {
  nlohmann::json b{{"type", "button"},
                   {"action_id", std::string{action_id}},
                   {"text", {{"type", "plain_text"}, {"text", std::string{text}}}},
                   {"value", std::string{value}}};
  if (primary) b["style"] = "primary";
  return b;
}

// One row of buttons under a message (Block Kit "actions").
nlohmann::json actions_row(std::string_view block_id, nlohmann::json buttons) {
  return {{"type", "actions"}, {"block_id", std::string{block_id}}, {"elements", std::move(buttons)}};
}

nlohmann::json open_incident_button(std::string_view channel, std::string_view ts, bool sensitive,
                                    std::string_view title, std::string_view author, std::string_view kind) {
  return actions_row("report_actions",
                     nlohmann::json::array(
                         {button(open_incident_action, "Open incident",
                                 open_incident_value(channel, ts, sensitive, title, author, kind), true)}));
}

// Slack caps a button value at 2000 characters (docs/slack.md §5.4); the report text rides in
// the This is sensitive value, so it is cut well below that, on a UTF-8 boundary.
std::string cut_bytes(std::string_view s, std::size_t max_bytes) {
  if (s.size() <= max_bytes) return std::string{s};
  std::size_t end = max_bytes;
  while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) --end;
  return std::string{s.substr(0, end)};
}

// A button value carrying `fields` plus the report text as "x", under Slack's 2000 characters.
// The fixed part is well under 200 bytes; JSON escaping can at most double the text (\uXXXX for
// control characters is rarer still), so 800 bytes of text nearly always fit; if not, the text is
// halved until the value fits.
std::string value_with_text(nlohmann::json fields, std::string_view text) {
  const auto dump = [&] { return fields.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); };
  fields["x"] = cut_bytes(text, 800);
  std::string out = dump();
  for (std::size_t keep = 700; out.size() > 1990 && keep > 0; keep /= 2) {
    fields["x"] = cut_bytes(text, keep);
    out = dump();
  }
  return out;
}

std::optional<nlohmann::json> json_object(std::string_view value) {
  if (value.empty() || value.front() != '{') return std::nullopt;
  auto j = nlohmann::json::parse(value, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  return j;
}

using input::string_at;

std::string quote(std::string_view raw_slack_text) {
  // The report text arrives with Slack markup (<!channel>, <@U…>) and entities; decoded and
  // escaped again, it shows literally and cannot ping anyone.
  std::string quoted = ">";
  for (char c : escape(decode_entities(raw_slack_text))) {
    quoted += c;
    if (c == '\n') quoted += '>';
  }
  return quoted;
}

std::string join(const std::vector<std::string>& items, std::string_view sep) {
  std::string out;
  for (const auto& i : items) {
    if (!out.empty()) out += sep;
    out += i;
  }
  return out;
}

// Cuts at `max` code points without splitting a UTF-8 sequence.
std::string cut(std::string_view s, std::size_t max) {
  std::size_t points = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) {
      if (points == max) return std::string{s.substr(0, i)} + "…";
      ++points;
    }
  }
  return std::string{s};
}

}  // namespace

std::string decode_entities(std::string_view text) {
  std::string raw;
  for (std::size_t i = 0; i < text.size();) {
    if (text.substr(i, 5) == "&amp;") {
      raw += '&';
      i += 5;
    } else if (text.substr(i, 4) == "&lt;") {
      raw += '<';
      i += 4;
    } else if (text.substr(i, 4) == "&gt;") {
      raw += '>';
      i += 4;
    } else raw += text[i++];
  }
  return raw;
}

std::string open_incident_value(std::string_view channel, std::string_view ts, bool sensitive,
                                std::string_view title, std::string_view author, std::string_view kind) {
  nlohmann::json v{{"c", channel}, {"t", ts}, {"s", sensitive}, {"title", title}};
  if (!author.empty()) v["r"] = author;
  if (!kind.empty()) v["k"] = kind;
  return v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::optional<open_incident_request> parse_open_incident_value(std::string_view value) {
  open_incident_request r;
  if (const auto j = json_object(value)) {
    r.channel = string_at(*j, "c");
    r.ts = string_at(*j, "t");
    r.title = string_at(*j, "title");
    r.author = string_at(*j, "r");
    r.kind = string_at(*j, "k");
    const auto s = j->find("s");
    if (r.channel.empty() || r.ts.empty() || s == j->end() || !s->is_boolean()) return std::nullopt;
    r.sensitive = s->get<bool>();
    return r;
  }
  std::string_view parts[3];
  for (auto& p : parts) {
    const auto bar = value.find('|');
    if (bar == std::string_view::npos) return std::nullopt;
    p = value.substr(0, bar);
    value.remove_prefix(bar + 1);
  }
  if (parts[0].empty() || parts[1].empty() || (parts[2] != "s" && parts[2] != "p")) return std::nullopt;
  r.channel = parts[0];
  r.ts = parts[1];
  r.sensitive = parts[2] == "s";
  r.title = value;  // the rest: a title may contain '|'
  return r;
}

std::string report_title(std::string_view text, std::size_t max) {
  std::string line;
  while (!text.empty()) {
    const auto nl = text.find('\n');
    auto candidate = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    while (!candidate.empty() && (candidate.front() == ' ' || candidate.front() == '\t'))
      candidate.remove_prefix(1);
    while (!candidate.empty() &&
           (candidate.back() == ' ' || candidate.back() == '\t' || candidate.back() == '\r'))
      candidate.remove_suffix(1);
    if (!candidate.empty()) {
      line = candidate;
      break;
    }
  }
  // The title is stored raw and escaped again wherever it is shown.
  std::string raw = decode_entities(line);
  if (raw.empty()) raw = "Report";
  return cut(raw, max);
}

std::string message_link(std::string_view channel, std::string_view ts) {
  std::string compact;
  for (char c : ts)
    if (c != '.') compact += c;
  return "https://slack.com/archives/" + std::string{channel} + "/p" + compact;
}

slack_message report_acknowledgement(std::string_view reporter, const std::vector<std::string>& recognised,
                                     std::string_view channel, std::string_view ts, std::string_view title,
                                     std::string_view page_group, std::string_view report_text,
                                     std::string_view proposed_kind) {
  slack_message m;
  const std::string what =
      recognised.empty() ? std::string{"a possible incident"} : escape(join(recognised, ", "));
  const std::string head =
      "Thanks " + user_mention(reporter) + ", your report is received. It reads as *" + what + "*.";
  m.text = "Thanks " + user_mention(reporter) + ", your report is received. It reads as " + what + "." +
           (page_group.empty() ? std::string{} : " " + group_mention(page_group) + " please review.");
  m.blocks.push_back(blocks::section("ack", head));
  // Response policy, "Incident Response": reports are reviewed and responded to promptly.
  std::string next =
      "Next: a responder reviews it and, if it is an incident, opens one here; the incident card "
      "and its deadlines then live in this thread.";
  if (!page_group.empty()) next = group_mention(page_group) + " please review. " + next;
  m.blocks.push_back(blocks::section("next", next));
  m.blocks.push_back(blocks::context(
      "private", {"Should this not be public (someone's safety, harassment, a person's data)? "
                  "Press *This is sensitive*: it goes to the Security Team privately."}));
  nlohmann::json actions = open_incident_button(channel, ts, false, title, reporter, proposed_kind);
  actions["elements"].push_back(button(mark_sensitive_action, "This is sensitive",
                                       sensitive_value({std::string{channel}, std::string{ts},
                                                        std::string{reporter}, std::string{report_text}}),
                                       false));
  m.blocks.push_back(std::move(actions));
  return enforce_limits(std::move(m));
}

std::string sensitive_value(const sensitive_request& r) {
  return value_with_text({{"c", r.channel}, {"t", r.ts}, {"r", r.author}}, r.text);
}

std::optional<sensitive_request> parse_sensitive_value(std::string_view value) {
  const auto j = json_object(value);
  if (!j) return std::nullopt;
  sensitive_request r{string_at(*j, "c"), string_at(*j, "t"), string_at(*j, "r"), string_at(*j, "x")};
  if (r.channel.empty() || r.ts.empty() || r.author.empty()) return std::nullopt;
  return r;
}

slack_message mark_sensitive_refused() {
  slack_message m;
  m.text =
      "Only the person who reported this, or the Security Team, can mark it sensitive. If you think it "
      "should be private, tell the Security Team by direct message.";
  m.blocks.push_back(blocks::section("refused", m.text));
  return enforce_limits(std::move(m));
}

slack_message mark_sensitive_done() {
  slack_message m;
  m.text =
      "Done: the Security Team has the report privately, and the reply in the channel now only says "
      "\"Received\".";
  m.blocks.push_back(blocks::section("done", m.text));
  return enforce_limits(std::move(m));
}

slack_message delete_original_suggestion(std::string_view channel, std::string_view ts) {
  slack_message m;
  m.text =
      "Your report is now with the Security Team privately, and my reply in the channel only says "
      "\"Received\". I cannot delete your message for you: please delete it yourself (hover over it, "
      "More actions, Delete message). Anything more you want to add, send it to me here.";
  m.blocks.push_back(blocks::section("private", m.text));
  m.blocks.push_back(blocks::context("link", {"<" + message_link(channel, ts) + "|Your original message>"}));
  return enforce_limits(std::move(m));
}

slack_message report_elsewhere_pointer(std::string_view incidents_channel) {
  slack_message m;
  const std::string where =
      incidents_channel.empty() ? std::string{"#incidents"} : "<#" + std::string{incidents_channel} + ">";
  m.text = "If you want to report something, post it in " + where +
           ", or, if it is sensitive, send it to me by direct message: only the Security Team will see it. "
           "I have not repeated your message anywhere.";
  m.blocks.push_back(blocks::section("pointer", m.text));
  return enforce_limits(std::move(m));
}

slack_message dm_report_or_question(std::string_view channel, std::string_view ts, std::string_view text) {
  slack_message m;
  m.text =
      "Thanks for your message. Do you want to report this privately to the Security Team, or is it just "
      "a question?";
  m.blocks.push_back(blocks::section("ask", m.text));
  const std::string value = dm_choice_value({std::string{channel}, std::string{ts}, std::string{text}});
  m.blocks.push_back(actions_row(
      "dm_choice", nlohmann::json::array(
                       {button(dm_report_action, "Report this privately to the Security Team", value, true),
                        button(dm_question_action, "Just a question", value, false)})));
  return enforce_limits(std::move(m));
}

std::string dm_choice_value(const dm_choice& c) {
  return value_with_text({{"c", c.channel}, {"t", c.ts}}, c.text);
}

std::optional<dm_choice> parse_dm_choice_value(std::string_view value) {
  const auto j = json_object(value);
  if (!j) return std::nullopt;
  dm_choice c{string_at(*j, "c"), string_at(*j, "t"), string_at(*j, "x")};
  if (c.channel.empty() || c.ts.empty()) return std::nullopt;
  return c;
}

slack_message dm_choice_reported() {
  slack_message m;
  m.text =
      "Sent to the Security Team privately. They will follow up with you here or in person; anything you "
      "add here goes to them too.";
  m.blocks.push_back(blocks::section("reported", m.text));
  return enforce_limits(std::move(m));
}

slack_message dm_choice_question(std::string_view incidents_channel, std::string_view command_name) {
  slack_message m;
  m.text =
      "OK, nothing was forwarded. Questions about the incident process are welcome in " +
      (incidents_channel.empty() ? std::string{"#incidents"} : "<#" + std::string{incidents_channel} + ">") +
      "; `" + escape(command_name) +
      " help` lists what I can do. If it turns out to be a report, just send "
      "it to me again.";
  m.blocks.push_back(blocks::section("question", m.text));
  return enforce_limits(std::move(m));
}

slack_message dm_follow_up(std::string_view reporter, std::string_view text) {
  slack_message m;
  m.text = "Follow-up from " + user_mention(reporter) + " by direct message.";
  m.blocks.push_back(blocks::section("follow_up", m.text));
  m.blocks.push_back(blocks::section("text", quote(text)));
  return enforce_limits(std::move(m));
}

slack_message dm_follow_up_received(std::string_view reference) {
  slack_message m;
  m.text = "Added to your report " + escape(reference) + "; the Security Team sees it there.";
  m.blocks.push_back(blocks::section("added", m.text));
  return enforce_limits(std::move(m));
}

slack_message untriaged_nudge(std::string_view reference, std::chrono::seconds waited, std::string_view group,
                              bool escalation, std::string_view command_name) {
  slack_message m;
  const auto minutes = std::chrono::duration_cast<std::chrono::minutes>(waited).count();
  const std::string when =
      minutes >= 1 ? std::to_string(minutes) + " min" : std::to_string(waited.count()) + " s";
  const std::string who = group.empty() ? std::string{} : group_mention(group) + " ";
  const std::string ref = escape(reference);
  m.text = who + ref + " has not been classified " + when + " after it was opened" +
           (escalation ? ", and the responders were nudged. Please triage it." : ". Please triage it.");
  m.blocks.push_back(blocks::section("untriaged", m.text));
  // SaaS process, "Security Incident Classification": the severity sets the notification clock.
  m.blocks.push_back(blocks::context(
      "how",
      {"`" + escape(command_name) + " classify " + ref +
       " <critical|high|medium|low> <confirmed|potential>` sets its severity and starts its deadlines."}));
  return enforce_limits(std::move(m));
}

slack_message sensitive_report_received() {
  slack_message m;
  m.text = "Received. The Security Team has it.";
  m.blocks.push_back(blocks::section("received", "Received. The Security Team has it."));
  return enforce_limits(std::move(m));
}

slack_message sensitive_report_dm_suggestion() {
  slack_message m;
  m.text =
      "Your report looks sensitive, so it went to the Security Team privately. Next time you can send "
      "reports like this to me by direct message; only the Security Team will see them.";
  m.blocks.push_back(blocks::section("dm", m.text));
  return enforce_limits(std::move(m));
}

bool needs_head_of_finance_ops(const std::vector<std::string>& categories) {
  // Response policy, "Incident Detection", paragraph 2: potentially sensitive incidents go to
  // the Security Team or the Head of Finance & Operations; the non-security ones are these.
  static const std::vector<std::string> people_matters{"physical injury", "harassment", "threat"};
  return std::any_of(categories.begin(), categories.end(), [](const std::string& c) {
    return std::find(people_matters.begin(), people_matters.end(), c) != people_matters.end();
  });
}

slack_message security_channel_ping(const security_ping& p) {
  slack_message m;
  std::string who;
  if (!p.security_team_group.empty()) who = group_mention(p.security_team_group);
  if (p.head_of_finance_ops && !p.head_of_finance_ops->empty()) {
    if (!who.empty()) who += " ";
    who += user_mention(*p.head_of_finance_ops);
  }
  const std::string where = p.via_dm
                                ? std::string{"by direct message to me"}
                                : "in <#" + p.channel + "> (<" + message_link(p.channel, p.ts) + "|report>)";
  std::string head = (who.empty() ? std::string{} : who + " ") + "Sensitive report from " +
                     user_mention(p.reporter) + " " + where + ".";
  if (p.incident_reference) head += " Opened as " + escape(*p.incident_reference) + ".";
  m.text = head;
  m.blocks.push_back(blocks::section("ping", head));
  std::vector<std::string> facts;
  if (!p.categories.empty()) facts.push_back("Categories: " + escape(join(p.categories, ", ")));
  if (!p.signals.empty()) facts.push_back("Signals: " + escape(join(p.signals, ", ")));
  if (!facts.empty()) m.blocks.push_back(blocks::context("categories", facts));
  // The report text arrives with Slack markup (<!channel>, <@U…>) and entities; decoded and
  // escaped again, it shows literally and cannot ping anyone from the private channel.
  m.blocks.push_back(blocks::section("report", quote(p.text)));
  if (!p.incident_reference)
    m.blocks.push_back(open_incident_button(p.channel, p.ts, true, report_title(p.text), p.reporter, p.kind));
  return enforce_limits(std::move(m));
}

slack_message head_of_finance_ops_dm(const security_ping& p) {
  slack_message m;
  const std::string where = p.via_dm
                                ? std::string{"by direct message to me"}
                                : "in <#" + p.channel + "> (<" + message_link(p.channel, p.ts) + "|report>)";
  // Response policy, "Incident Detection", paragraph 2: sensitive reports go to the Security
  // Team or the Head of Finance & Operations; this one concerns a person, so it comes to you.
  std::string head = "Sensitive report for you from " + user_mention(p.reporter) + " " + where + ".";
  if (p.incident_reference) head += " Tracked as " + escape(*p.incident_reference) + ".";
  head += " The Security Team has it too; please keep it private.";
  m.text = head;
  m.blocks.push_back(blocks::section("ping", head));
  if (!p.categories.empty())
    m.blocks.push_back(blocks::context("categories", {"Categories: " + escape(join(p.categories, ", "))}));
  m.blocks.push_back(blocks::section("report", quote(p.text)));
  return enforce_limits(std::move(m));
}

slack_message dm_report_acknowledgement() {
  slack_message m;
  m.text =
      "Thanks, your report is received. Only the Security Team sees it; they will follow up with you here "
      "or in person.";
  m.blocks.push_back(blocks::section("ack", m.text));
  return enforce_limits(std::move(m));
}

slack_message thread_status(const incident_view* incident, bool reveal_sensitive) {
  if (!incident) {
    slack_message m;
    m.text =
        "No incident is linked to this report yet. A responder can open one with the Open incident button.";
    m.blocks.push_back(blocks::section("status", m.text));
    return enforce_limits(std::move(m));
  }
  if (incident->sensitive && !reveal_sensitive) return sensitive_placeholder(incident->reference);
  slack_message m;
  m.text = "Status: " + one_line(*incident);
  m.blocks.push_back(blocks::section("status", "*Status:* " + one_line(*incident)));
  m.blocks.push_back(blocks::fields("fields", incident_fields(*incident)));
  return enforce_limits(std::move(m));
}

}  // namespace flare::messages
