#include "messages/report_reply.hpp"

#include <algorithm>

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

nlohmann::json open_incident_button(std::string_view channel, std::string_view ts, bool sensitive,
                                    std::string_view title) {
  return {{"type", "actions"},
          {"block_id", "report_actions"},
          {"elements", nlohmann::json::array({button(open_incident_action, "Open incident",
                                                     open_incident_value(channel, ts, sensitive, title), true)})}};
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
    if (text.substr(i, 5) == "&amp;") { raw += '&'; i += 5; }
    else if (text.substr(i, 4) == "&lt;") { raw += '<'; i += 4; }
    else if (text.substr(i, 4) == "&gt;") { raw += '>'; i += 4; }
    else raw += text[i++];
  }
  return raw;
}

std::string open_incident_value(std::string_view channel, std::string_view ts, bool sensitive,
                                std::string_view title) {
  return std::string{channel} + "|" + std::string{ts} + "|" + (sensitive ? "s" : "p") + "|" + std::string{title};
}

std::optional<open_incident_request> parse_open_incident_value(std::string_view value) {
  open_incident_request r;
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
    while (!candidate.empty() && (candidate.front() == ' ' || candidate.front() == '\t')) candidate.remove_prefix(1);
    while (!candidate.empty() && (candidate.back() == ' ' || candidate.back() == '\t' || candidate.back() == '\r'))
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

slack_message report_acknowledgement(std::string_view reporter, const std::vector<std::string>& signals,
                                     std::string_view channel, std::string_view ts, std::string_view title) {
  slack_message m;
  std::string recognised = signals.empty()
                               ? std::string{"I did not recognise a specific warning sign; responders will read it."}
                               : "Recognised: *" + escape(join(signals, ", ")) + "*.";
  m.text = "Thanks " + user_mention(reporter) + ", your report is received. " +
           (signals.empty() ? std::string{} : "Recognised: " + escape(join(signals, ", ")) + ".");
  m.blocks.push_back(blocks::section("ack", "Thanks " + user_mention(reporter) + ", your report is received. " + recognised));
  // Response policy, "Incident Response": reports are reviewed and responded to promptly.
  m.blocks.push_back(blocks::context(
      "next", {"Next: a responder reviews it and, if it is an incident, opens one here; the incident card "
               "and its deadlines then live in this thread. Keep details in this thread."}));
  m.blocks.push_back(open_incident_button(channel, ts, false, title));
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
  m.text = "Your report looks sensitive, so it went to the Security Team privately. Next time you can send "
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
  const std::string where = p.via_dm ? std::string{"by direct message to me"}
                                     : "in <#" + p.channel + "> (<" + message_link(p.channel, p.ts) + "|report>)";
  std::string head = (who.empty() ? std::string{} : who + " ") + "Sensitive report from " + user_mention(p.reporter) +
                     " " + where + ".";
  if (p.incident_reference) head += " Opened as " + escape(*p.incident_reference) + ".";
  m.text = head;
  m.blocks.push_back(blocks::section("ping", head));
  std::vector<std::string> facts;
  if (!p.categories.empty()) facts.push_back("Categories: " + escape(join(p.categories, ", ")));
  if (!p.signals.empty()) facts.push_back("Signals: " + escape(join(p.signals, ", ")));
  if (!facts.empty()) m.blocks.push_back(blocks::context("categories", facts));
  // The report text arrives with Slack markup (<!channel>, <@U…>) and entities; decoded and
  // escaped again, it shows literally and cannot ping anyone from the private channel.
  std::string quoted = ">";
  for (char c : escape(decode_entities(p.text))) {
    quoted += c;
    if (c == '\n') quoted += '>';
  }
  m.blocks.push_back(blocks::section("report", quoted));
  if (!p.incident_reference) m.blocks.push_back(open_incident_button(p.channel, p.ts, true, report_title(p.text)));
  return enforce_limits(std::move(m));
}

slack_message dm_report_acknowledgement() {
  slack_message m;
  m.text = "Thanks, your report is received. Only the Security Team sees it; they will follow up with you here "
           "or in person.";
  m.blocks.push_back(blocks::section("ack", m.text));
  return enforce_limits(std::move(m));
}

slack_message thread_status(const incident_view* incident, bool reveal_sensitive) {
  if (!incident) {
    slack_message m;
    m.text = "No incident is linked to this report yet. A responder can open one with the Open incident button.";
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
