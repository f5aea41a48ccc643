#include "messages/replies.hpp"

#include "messages/blocks.hpp"
#include "messages/checklist_view.hpp"
#include "messages/mentions.hpp"
#include "messages/required_actions.hpp"
#include "policy/facts_json.hpp"

namespace flare::messages {
namespace {

constexpr std::string_view anyone = "anyone";
constexpr std::string_view responders = "incident responders and the Security Team";

// Packs lines into as few sections as the 3000-character section limit allows, so a long list
// costs blocks only when it has to.
void add_packed_sections(slack_message& m, std::string_view id, const std::vector<std::string>& lines) {
  constexpr std::size_t budget = 2900;
  std::string text;
  int n = 0;
  auto flush = [&] {
    if (text.empty()) return;
    m.blocks.push_back(blocks::section(std::string{id} + "_" + std::to_string(n++), text));
    text.clear();
  };
  for (const auto& line : lines) {
    if (!text.empty() && text.size() + 1 + line.size() > budget) flush();
    text += (text.empty() ? "" : "\n") + line;
  }
  flush();
}

// Long user text (an update) is split over several sections instead of being cut at 3000.
std::vector<std::string> chunks(const std::string& text) {
  constexpr std::size_t size = 2900;
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = std::min(text.size(), start + size);
    // Never split a UTF-8 sequence or an &amp;-style entity.
    while (end < text.size() && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
    const auto amp = text.rfind('&', end - 1);
    if (end < text.size() && amp != std::string::npos && amp >= start && end - amp < 6 &&
        text.find(';', amp) >= end)
      end = amp;
    out.push_back(text.substr(start, end - start));
    start = end;
  }
  return out;
}

std::string list_line(const incident_view& incident, bool reveal_sensitive) {
  if (incident.sensitive && !reveal_sensitive) return "*" + escape(incident.reference) + "* (sensitive)";
  return "*" + escape(incident.reference) + "* · " +
         (incident.severity ? escape(*incident.severity) : std::string{"untriaged"}) + " · " +
         escape(incident.state) + " · " + escape(incident.title) + " · opened " +
         slack_date(incident.created_at);
}

std::string fact_value(const nlohmann::json& v) {
  if (v.is_null()) return "—";
  if (v.is_boolean()) return v.get<bool>() ? "yes" : "no";
  if (v.is_string()) return escape(v.get<std::string>());
  if (v.is_array()) {
    if (v.empty()) return "—";
    std::string out;
    for (const auto& item : v) out += (out.empty() ? "" : ", ") + fact_value(item);
    return out;
  }
  return escape(v.dump());
}

// Named as the /incident facts command names them, so what is shown is what can be set.
std::vector<std::string> fact_lines(const policy::facts& facts) {
  std::vector<std::string> lines{"*Facts*"};
  const nlohmann::json json = policy::to_json(facts);
  for (const auto& [key, value] : json.items())
    lines.push_back("• `" + escape(key) + "`: " + fact_value(value));
  return lines;
}

}  // namespace

const std::vector<subcommand_help>& incident_subcommands() {
  // Usages as commands/grammar.cpp parses them.
  static const std::vector<subcommand_help> table{
      {"open", "<title> [sensitive]",
       "Open an incident; `sensitive` keeps its details with the Security Team.", std::string{anyone}},
      {"classify", "<ID> <critical|high|medium|low> <confirmed|potential> [confirmed-at=<time>] [--confirm]",
       "Set severity and classification; `confirmed-at` records when impact was confirmed (never in the "
       "future). A change that moves or clears a running deadline needs `--confirm`.",
       std::string{responders}},
      {"facts", "<ID> <key>=<value> [<key>=<value> ...] [--confirm]",
       "Record what is known (e.g. `users_affected=confirmed fix_available=true`); "
       "values with spaces in \"double quotes\". Moving a running deadline needs `--confirm`.",
       std::string{responders}},
      {"kind", "<ID> <security|people> [--confirm]",
       "Set what kind of incident this is: `security` (disclosure and notification policies apply) or "
       "`people` (injury, harassment, threats: no disclosure decision).",
       std::string{responders}},
      {"done", "<ID> <obligation> [at=<time>] [link=<url>] [note=<text>]",
       "Mark a checklist item done (e.g. `bulletin`, `update`, `resolution_message`); `at` may be in the "
       "past, "
       "never in the future.",
       std::string{responders}},
      {"not-needed", "<ID> <obligation> reason=<text>", "Mark a checklist item not needed, with the reason.",
       std::string{responders}},
      {"notified", "<ID> [at=<time>] [link=<url>] [note=<text>]",
       "Mark the next customer notice done (the initial notice, else the next update).",
       std::string{responders}},
      {"call", "<ID> <conflict> <option> [note=<text>]",
       "Record a call on a policy conflict shown in the decision; the checklist follows it.",
       std::string{responders}},
      {"update", "<ID> <text>", "Post an update in the incident's thread.", std::string{responders}},
      {"resolve", "<ID> [resolved|not-an-incident|false-positive|duplicate-of=<ID>] [summary]",
       "Close the incident with a reason (default `resolved`); a duplicate's thread points to the surviving "
       "incident.",
       std::string{responders}},
      {"show", "<ID>", "Show the incident, its facts and the required actions.",
       "anyone; sensitive incidents only the Security Team and their reporter"},
      {"list", "[open|all]", "List open (or all) incidents.",
       "anyone; titles of sensitive incidents only the Security Team and their reporter"},
      {"deadlines", "", "Every open obligation with a due time, across incidents, soonest first.",
       "anyone; titles of sensitive incidents only the Security Team and their reporter"},
      {"decide", "<ID>", "Post the disclosure decision, with every reason and its clause, in the thread.",
       std::string{responders}},
      {"export", "<ID>",
       "Upload the incident record (Markdown and JSON: facts, decisions, checklist, deadlines, people, and a "
       "post-incident review skeleton) to the incident's thread.",
       "responders; sensitive incidents only the Security Team"},
      {"help", "", "This help.", std::string{anyone}},
  };
  return table;
}

slack_message help_message(std::string_view command) {
  slack_message m;
  const std::string name = escape(command);
  std::string names;
  m.blocks.push_back(blocks::header("header", std::string{command} + " — security incidents"));
  for (const auto& sub : incident_subcommands()) {
    names += (names.empty() ? "" : ", ") + sub.name;
    const std::string usage = name + " " + sub.name + (sub.usage.empty() ? "" : " " + escape(sub.usage));
    m.blocks.push_back(blocks::section("sub_" + sub.name,
                                       "`" + usage + "`\n" + sub.what + " _Who: " + escape(sub.who) + "._"));
  }
  m.text = name + " commands: " + names;
  m.blocks.push_back(blocks::context(
      "ids", {"&lt;ID&gt; is INC-7, inc-7 or 7. Times are RFC 3339, e.g. 2026-11-20T10:00:00Z."}));
  return enforce_limits(std::move(m));
}

slack_message error_message(std::string_view problem, std::string_view usage) {
  slack_message m;
  const std::string shown = escape_keeping_user_mentions(problem);
  m.text = shown + " Usage: " + escape(usage);
  m.blocks.push_back(blocks::section("problem", "⚠️ " + shown));
  m.blocks.push_back(blocks::context("usage", {"Usage: `" + escape(usage) + "`"}));
  return enforce_limits(std::move(m));
}

slack_message refusal_message(std::string_view action, std::string_view who_may) {
  slack_message m;
  m.text = "You are not authorised to " + escape(action) + ": only " + escape(who_may) +
           " may. Nothing was changed.";
  m.blocks.push_back(blocks::section("refusal", "🚫 " + m.text));
  return enforce_limits(std::move(m));
}

slack_message incident_list(const std::vector<incident_view>& incidents, bool reveal_sensitive,
                            std::string_view filter) {
  slack_message m;
  const std::string title = (filter == "all" ? "All incidents" : "Open incidents");
  // References only: the fallback must not carry a sensitive title into a notification.
  m.text = title + ": " + std::to_string(incidents.size());
  for (std::size_t i = 0; i < incidents.size() && i < 20; ++i)
    m.text += (i == 0 ? " (" : ", ") + escape(incidents[i].reference);
  if (!incidents.empty()) m.text += incidents.size() > 20 ? ", …)" : ")";
  m.blocks.push_back(blocks::header("header", title + " (" + std::to_string(incidents.size()) + ")"));
  if (incidents.empty()) {
    m.blocks.push_back(blocks::section("empty", filter == "all" ? "No incidents." : "No open incidents."));
    return enforce_limits(std::move(m));
  }
  std::vector<std::string> lines;
  lines.reserve(incidents.size());
  for (const auto& incident : incidents) lines.push_back(list_line(incident, reveal_sensitive));
  add_packed_sections(m, "incidents", lines);
  return enforce_limits(std::move(m));
}

slack_message incident_details(const incident_view& incident, const policy::facts& facts,
                               const policy::decision* decision, bool reveal_sensitive,
                               const details_checklist& obligations) {
  if (incident.sensitive && !reveal_sensitive) {
    slack_message m;
    m.text =
        escape(incident.reference) + " is a sensitive incident: only the Security Team can see its details.";
    m.blocks.push_back(blocks::section("sensitive", "🔒 " + m.text));
    return enforce_limits(std::move(m));
  }
  slack_message m;
  m.text = one_line(incident);
  m.blocks.push_back(blocks::header("header", header_text(incident)));
  m.blocks.push_back(blocks::section("title", "*" + escape(incident.title) + "*"));
  m.blocks.push_back(blocks::fields("fields", incident_fields(incident)));
  std::vector<std::string> actions{"*Required actions*"};
  if (obligations.checklist) {
    // The checklist knows what was done; the decision alone would still say "publish".
    const policy::checklist& c = *obligations.checklist;
    actions = {"*Obligations*"};
    if (c.legal_precedence)
      actions.push_back(
          ":scales: Legal requirements apply and take precedence over company policy "
          "(Incident disclosure policy, introduction, paragraph 3).");
    for (const auto& n : c.notes) actions.push_back("_" + escape(n) + "_");
    for (const auto& o : c.items) actions.push_back(obligation_line(o, obligations.zone, obligations.now));
    if (c.items.empty()) actions.push_back("_Nothing owed for the facts recorded so far._");
    for (const auto& k : c.conflicts) {
      std::string line = ":warning: *Policy conflict* — " + escape(k.summary) + " (_" +
                         escape(k.first.clause) + "_ vs _" + escape(k.second.clause) + "_)";
      line += k.call ? "; call recorded: " + escape(k.call->choice) : std::string{"; no call recorded yet"};
      actions.push_back(std::move(line));
    }
  } else if (decision) {
    for (const auto& line : required_actions(*decision, incident.notifications_sent))
      actions.push_back("• " + line);
  } else {
    actions.push_back("_No decision yet._");
  }
  add_packed_sections(m, "actions", actions);
  add_packed_sections(m, "facts", fact_lines(facts));
  if (incident.summary)
    m.blocks.push_back(blocks::section("summary", "*Summary*\n" + escape(*incident.summary)));
  if (decision)
    m.blocks.push_back(
        blocks::context("policy", {"Policy version `" + escape(decision->policy_version) + "`"}));
  return enforce_limits(std::move(m));
}

slack_message update_post(const incident_view& incident, std::string_view author, std::string_view text) {
  slack_message m;
  const std::string body = escape(text);
  m.text = escape(incident.reference) + " update: " + body;
  m.blocks.push_back(blocks::section("author", "📝 *Update* from " + user_mention(author)));
  const auto parts = chunks(body.empty() ? std::string{" "} : body);
  for (std::size_t i = 0; i < parts.size(); ++i)
    m.blocks.push_back(blocks::section("text_" + std::to_string(i), parts[i]));
  return enforce_limits(std::move(m));
}

slack_message resolution_post(const incident_view& incident, std::string_view author) {
  slack_message m;
  m.text = escape(incident.reference) + " resolved";
  std::string line = "✅ *" + escape(incident.reference) + " resolved* by " + user_mention(author);
  if (incident.resolved_at) line += " at " + slack_date(*incident.resolved_at);
  m.blocks.push_back(blocks::section("resolved", line));
  if (incident.summary) {
    m.text += ": " + escape(*incident.summary);
    m.blocks.push_back(blocks::section("summary", "*Summary*\n" + escape(*incident.summary)));
  }
  return enforce_limits(std::move(m));
}

slack_message sensitive_placeholder(std::string_view reference) {
  slack_message m;
  m.text = escape(reference) + " was opened as a sensitive incident; details are with the Security Team.";
  m.blocks.push_back(blocks::section("sensitive", "🔒 " + m.text));
  return enforce_limits(std::move(m));
}

}  // namespace flare::messages
