#include "commands/grammar.hpp"

#include <algorithm>
#include <array>
#include <cctype>

#include "bot/store/store.hpp"
#include "input/utf8.hpp"
#include "policy/facts_json.hpp"
#include "policy/rfc3339.hpp"

namespace flare::commands {
namespace {

struct subcommand_usage {
  std::string_view name;
  std::string_view arguments;
};

constexpr std::array<subcommand_usage, 15> kUsages{{
    {"open", "<title> [sensitive]"},
    {"classify", "<ID> <critical|high|medium|low> <confirmed|potential> [confirmed-at=<time>] [--confirm]"},
    {"facts", "<ID> <key>=<value> [<key>=<value> ...] [--confirm]"},
    {"kind", "<ID> <security|people> [--confirm]"},
    {"done", "<ID> <obligation> [at=<time>] [link=<url>] [note=<text>]"},
    {"not-needed", "<ID> <obligation> reason=<text>"},
    {"notified", "<ID> [at=<time>] [link=<url>] [note=<text>]"},
    {"call", "<ID> <conflict> <option> [note=<text>]"},
    {"update", "<ID> <text>"},
    {"resolve", "<ID> [resolved|not-an-incident|false-positive|duplicate-of=<ID>] [summary]"},
    {"show", "<ID>"},
    {"list", "[open|all]"},
    {"deadlines", ""},
    {"decide", "<ID>"},
    {"help", ""},
}};

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// Takes the next whitespace-separated word off the front of `rest`.
std::string_view next_word(std::string_view& rest) {
  rest = trim(rest);
  std::size_t end = 0;
  while (end < rest.size() && !is_space(rest[end])) ++end;
  std::string_view word = rest.substr(0, end);
  rest = trim(rest.substr(end));
  return word;
}

std::string lower(std::string_view s) {
  std::string out{s};
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string shown(std::string_view s) { return "\"" + decode_slack_text(s) + "\""; }

// One Slack markup span without its angle brackets ("@U123|name", "#C1|", "https://x|label").
std::string decode_markup(std::string_view inner) {
  const auto bar = inner.find('|');
  const std::string_view target = inner.substr(0, bar);
  const std::string_view label = bar == std::string_view::npos ? std::string_view{} : inner.substr(bar + 1);
  if (target.starts_with("@")) {
    return label.empty() ? std::string{target} : "@" + std::string{label};
  }
  if (target.starts_with("#")) {
    return label.empty() ? std::string{target} : "#" + std::string{label};
  }
  if (target.starts_with("!subteam^")) {
    if (!label.empty()) return label.starts_with("@") ? std::string{label} : "@" + std::string{label};
    return "@" + std::string{target.substr(9)};
  }
  if (target.starts_with("!")) {
    // <!here>, <!channel>, <!everyone>; <!date^…|fallback> shows its fallback text.
    if (!label.empty()) return std::string{label};
    return "@" + std::string{target.substr(1, target.find('^') - 1)};
  }
  if (target.starts_with("mailto:")) return std::string{target.substr(7)};
  // A link keeps its address: the label alone would hide where it points.
  return std::string{target};
}

usage_error error_for(std::string_view subcommand, std::string problem, std::string_view command_name) {
  return usage_error{std::move(problem), usage_line(subcommand, command_name)};
}

// Reads <ID> or explains what is wrong with it.
std::variant<std::int64_t, std::string> read_incident_id(std::string_view& rest) {
  const std::string_view word = next_word(rest);
  if (word.empty()) return std::string{"missing the incident ID"};
  if (auto id = store::parse_incident_reference(word)) return *id;
  return shown(word) + " is not an incident ID (expected INC-7, inc-7 or 7)";
}

// key=value pairs; a value may be "double quoted" to hold spaces. Every pair is checked against
// the policy's own validation, so a typo is reported here with the key that holds it.
std::variant<std::vector<fact_assignment>, std::string> read_assignments(std::string_view rest) {
  std::vector<fact_assignment> out;
  policy::facts scratch;  // set_fact validates a value independently of the other facts
  rest = trim(rest);
  while (!rest.empty()) {
    std::size_t end = 0;
    while (end < rest.size() && !is_space(rest[end]) && rest[end] != '=') ++end;
    if (end == rest.size() || rest[end] != '=') {
      return "expected <key>=<value>, got " + shown(rest.substr(0, end));
    }
    const std::string key{rest.substr(0, end)};
    if (key.empty()) return std::string{"expected <key>=<value>, got a value without a key"};
    rest.remove_prefix(end + 1);
    std::string raw;
    if (!rest.empty() && rest.front() == '"') {
      const auto close = rest.find('"', 1);
      if (close == std::string_view::npos) return key + ": the quoted value has no closing \"";
      raw = std::string{rest.substr(1, close - 1)};
      rest.remove_prefix(close + 1);
      if (!rest.empty() && !is_space(rest.front())) {
        return key + ": expected a space after the closing \"";
      }
    } else {
      std::size_t stop = 0;
      while (stop < rest.size() && !is_space(rest[stop])) ++stop;
      raw = std::string{rest.substr(0, stop)};
      if (raw.find('"') != std::string::npos) {
        // NOLINTNEXTLINE(performance-inefficient-string-concatenation): once, the loop ends here
        return key + ": a value with a \" must be quoted as a whole, like " + key + "=\"...\"";
      }
      rest.remove_prefix(stop);
    }
    rest = trim(rest);
    fact_assignment a{key, decode_slack_text(raw)};
    if (auto error = policy::set_fact(scratch, a.key, a.value)) return error->text();
    out.push_back(std::move(a));
  }
  if (out.empty()) return std::string{"missing the facts to set"};
  return out;
}

// Removes a standalone `--confirm` word from `rest`; true if there was one.
bool take_confirm_flag(std::string_view& rest, std::string& storage) {
  std::string kept;
  bool found = false;
  // Quoted values may hold spaces; "--confirm" inside quotes is text, not the flag.
  bool in_quotes = false;
  std::size_t word_start = 0;
  const std::string text{rest};
  for (std::size_t i = 0; i <= text.size(); ++i) {
    const bool end = i == text.size();
    if (!end && text[i] == '"') in_quotes = !in_quotes;
    if (end || (!in_quotes && is_space(text[i]))) {
      const std::string word = text.substr(word_start, i - word_start);
      if (lower(word) == "--confirm") {
        found = true;
      } else if (!word.empty()) {
        kept += (kept.empty() ? "" : " ") + word;
      }
      word_start = i + 1;
    }
  }
  storage = std::move(kept);
  rest = storage;
  return found;
}

// key=value options (values may be "double quoted"), each key at most once and only from
// `allowed`. Returns the decoded values or the problem.
std::variant<std::vector<fact_assignment>, std::string> read_options(
    std::string_view rest, std::initializer_list<std::string_view> allowed) {
  std::vector<fact_assignment> out;
  rest = trim(rest);
  std::string allowed_text;
  for (auto a : allowed) allowed_text += (allowed_text.empty() ? "" : ", ") + std::string{a} + "=";
  while (!rest.empty()) {
    std::size_t end = 0;
    while (end < rest.size() && !is_space(rest[end]) && rest[end] != '=') ++end;
    if (end == rest.size() || rest[end] != '=')
      return "unexpected " + shown(rest.substr(0, end)) + " (expected " + allowed_text + ")";
    const std::string key = lower(rest.substr(0, end));
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end())
      return "unknown option " + shown(rest.substr(0, end)) + " (expected " + allowed_text + ")";
    if (std::any_of(out.begin(), out.end(), [&](const fact_assignment& a) { return a.key == key; }))
      return key + "= is given twice";
    rest.remove_prefix(end + 1);
    std::string raw;
    if (!rest.empty() && rest.front() == '"') {
      const auto close = rest.find('"', 1);
      if (close == std::string_view::npos) return key + ": the quoted value has no closing \"";
      raw = std::string{rest.substr(1, close - 1)};
      rest.remove_prefix(close + 1);
      if (!rest.empty() && !is_space(rest.front())) return key + ": expected a space after the closing \"";
    } else {
      std::size_t stop = 0;
      // Slack sends a pasted link as <https://…|label>, and the label may hold spaces.
      if (!rest.empty() && rest.front() == '<' && rest.find('>') != std::string_view::npos)
        stop = rest.find('>') + 1;
      while (stop < rest.size() && !is_space(rest[stop])) ++stop;
      raw = std::string{rest.substr(0, stop)};
      rest.remove_prefix(stop);
    }
    rest = trim(rest);
    out.push_back({key, decode_slack_text(raw)});
  }
  return out;
}

// at=, link=, note= for done and notified.
std::optional<std::string> read_completion(std::string_view rest, completion_options& into) {
  auto options = read_options(rest, {"at", "link", "note"});
  if (auto* problem = std::get_if<std::string>(&options)) return *problem;
  for (const auto& [key, value] : std::get<std::vector<fact_assignment>>(options)) {
    if (key == "at") {
      auto t = policy::parse_rfc3339(value);
      if (!t)
        return "at: expected an RFC 3339 time with Z or an offset, such as 2026-11-30T14:00:00Z, got " +
               shown(value);
      into.at = *t;
    } else if (key == "link") {
      if (!value.starts_with("https://") && !value.starts_with("http://"))
        return "link: expected an http(s):// address, got " + shown(value);
      into.link = value;
    } else {
      if (value.empty()) return "note: the note is empty";
      into.note = value;
    }
  }
  return std::nullopt;
}

// An obligation or conflict name as typed: lower case; letters, digits, _ - : only.
std::variant<std::string, std::string> read_name(std::string_view& rest, std::string_view what) {
  const std::string_view word = next_word(rest);
  if (word.empty())
    return std::variant<std::string, std::string>{std::in_place_index<1>, "missing the " + std::string{what}};
  std::string name = lower(word);
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != ':')
      return std::variant<std::string, std::string>{std::in_place_index<1>,
                                                    shown(word) + " is not a " + std::string{what} + " name"};
  }
  return std::variant<std::string, std::string>{std::in_place_index<0>, name};
}

parse_result parse_open(std::string_view rest, std::string_view name) {
  rest = trim(rest);
  bool sensitive = false;
  const auto last_space = rest.find_last_of(" \t\n\r");
  const std::string_view last_word =
      last_space == std::string_view::npos ? rest : rest.substr(last_space + 1);
  if (lower(last_word) == "sensitive") {
    sensitive = true;
    rest = trim(rest.substr(0, last_space == std::string_view::npos ? 0 : last_space));
  }
  if (rest.empty()) return error_for("open", "missing the title", name);
  return parsed_command{open_command{decode_slack_text(rest), sensitive}};
}

parse_result parse_classify(std::string_view rest, std::string_view name) {
  std::string storage;
  const bool confirm = take_confirm_flag(rest, storage);
  auto id = read_incident_id(rest);
  if (auto* problem = std::get_if<std::string>(&id)) return error_for("classify", *problem, name);
  classify_command c;
  c.incident_id = std::get<std::int64_t>(id);

  const std::string_view sev = next_word(rest);
  if (sev.empty()) return error_for("classify", "missing the severity", name);
  auto severity = policy::parse_severity(lower(sev));
  if (!severity) {
    return error_for("classify", shown(sev) + " is not a severity (expected critical, high, medium or low)",
                     name);
  }
  c.severity = *severity;

  const std::string_view cls = next_word(rest);
  if (cls.empty()) return error_for("classify", "missing the classification", name);
  auto classification = policy::parse_classification(lower(cls));
  if (!classification) {
    return error_for("classify", shown(cls) + " is not a classification (expected confirmed or potential)",
                     name);
  }
  c.classification = *classification;

  const std::string_view option = next_word(rest);
  if (!option.empty()) {
    constexpr std::string_view prefix = "confirmed-at=";
    if (!lower(option).starts_with(prefix)) {
      return error_for("classify",
                       "unexpected " + shown(option) + " (the options are confirmed-at=<time> and --confirm)",
                       name);
    }
    const std::string_view value = option.substr(prefix.size());
    auto at = policy::parse_rfc3339(value);
    if (!at) {
      return error_for("classify",
                       "confirmed-at: expected an RFC 3339 time with Z or an offset, such as "
                       "2026-11-20T10:00:00Z, got " +
                           shown(value),
                       name);
    }
    c.confirmed_at = *at;
  }
  if (!rest.empty()) return error_for("classify", "unexpected " + shown(next_word(rest)), name);
  c.confirm = confirm;
  return parsed_command{c};
}

template <class Command>
parse_result parse_id_only(std::string_view sub, std::string_view rest, std::string_view name) {
  auto id = read_incident_id(rest);
  if (auto* problem = std::get_if<std::string>(&id)) return error_for(sub, *problem, name);
  if (!rest.empty()) return error_for(sub, "unexpected " + shown(next_word(rest)), name);
  Command c;
  c.incident_id = std::get<std::int64_t>(id);
  return parsed_command{c};
}

}  // namespace

std::string_view to_string(close_reason r) {
  switch (r) {
    case close_reason::resolved: return "resolved";
    case close_reason::not_an_incident: return "not an incident";
    case close_reason::false_positive: return "false positive";
    case close_reason::duplicate: return "duplicate";
  }
  return "resolved";
}

std::optional<close_reason> parse_close_reason(std::string_view stored) {
  for (auto r : {close_reason::resolved, close_reason::not_an_incident, close_reason::false_positive,
                 close_reason::duplicate})
    if (to_string(r) == stored) return r;
  return std::nullopt;
}

std::string decode_slack_text(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '<') {
      // A raw '<' is always Slack markup: a '<' the person typed arrives as &lt;.
      const auto close = text.find('>', i + 1);
      if (close != std::string_view::npos) {
        out += decode_markup(text.substr(i + 1, close - i - 1));
        i = close;
        continue;
      }
    } else if (c == '&') {
      const std::string_view at = text.substr(i);
      if (at.starts_with("&amp;")) {
        out += '&';
        i += 4;
        continue;
      }
      if (at.starts_with("&lt;")) {
        out += '<';
        i += 3;
        continue;
      }
      if (at.starts_with("&gt;")) {
        out += '>';
        i += 3;
        continue;
      }
    }
    out += c;
  }
  return out;
}

std::string usage_line(std::string_view subcommand, std::string_view command_name) {
  for (const auto& u : kUsages) {
    if (u.name == subcommand) {
      std::string line = std::string{command_name} + " " + std::string{u.name};
      if (!u.arguments.empty()) line += " " + std::string{u.arguments};
      return line;
    }
  }
  return {};
}

std::string full_usage(std::string_view command_name) {
  std::string out;
  for (const auto& u : kUsages) {
    if (!out.empty()) out += '\n';
    out += usage_line(u.name, command_name);
  }
  return out;
}

parse_result parse_incident_command(std::string_view raw_text, std::string_view name) {
  // Command text from a terminal (the console) can hold bytes that are not UTF-8; Slack's has been
  // repaired already. Repaired here too, so no error message or stored fact can carry them (a
  // JSON dump of one would throw).
  const std::string repaired =
      input::is_valid_utf8(raw_text) ? std::string{} : input::sanitize_utf8(raw_text);
  const std::string_view text = repaired.empty() ? raw_text : std::string_view{repaired};
  std::string_view rest = text;
  const std::string_view typed = next_word(rest);
  const std::string sub = lower(typed);
  if (sub.empty()) return usage_error{"missing a subcommand", full_usage(name)};

  if (sub == "open") return parse_open(rest, name);
  if (sub == "classify") return parse_classify(rest, name);
  if (sub == "facts") {
    std::string storage;
    const bool confirm = take_confirm_flag(rest, storage);
    auto id = read_incident_id(rest);
    if (auto* problem = std::get_if<std::string>(&id)) return error_for(sub, *problem, name);
    auto pairs = read_assignments(rest);
    if (auto* problem = std::get_if<std::string>(&pairs)) return error_for(sub, *problem, name);
    return parsed_command{facts_command{std::get<std::int64_t>(id),
                                        std::move(std::get<std::vector<fact_assignment>>(pairs)), confirm}};
  }
  if (sub == "notified") {
    auto id = read_incident_id(rest);
    if (auto* problem = std::get_if<std::string>(&id)) return error_for(sub, *problem, name);
    notified_command n{std::get<std::int64_t>(id), {}};
    if (auto problem = read_completion(rest, n.options)) return error_for(sub, *problem, name);
    return parsed_command{n};
  }
  if (sub == "done") {
    auto id = read_incident_id(rest);
    if (auto* problem = std::get_if<std::string>(&id)) return error_for(sub, *problem, name);
    auto item = read_name(rest, "obligation");
    if (item.index() == 1) return error_for(sub, std::get<1>(item), name);
    done_command d{std::get<std::int64_t>(id), std::get<0>(item), {}};
    if (auto problem = read_completion(rest, d.options)) return error_for(sub, *problem, name);
    return parsed_command{d};
  }
  if (sub == "not-needed" || sub == "not_needed" || sub == "notneeded") {
    const std::string_view canonical = "not-needed";
    auto id = read_incident_id(rest);
    if (auto* problem = std::get_if<std::string>(&id)) return error_for(canonical, *problem, name);
    auto item = read_name(rest, "obligation");
    if (item.index() == 1) return error_for(canonical, std::get<1>(item), name);
    auto options = read_options(rest, {"reason"});
    if (auto* problem = std::get_if<std::string>(&options)) return error_for(canonical, *problem, name);
    const auto& list = std::get<std::vector<fact_assignment>>(options);
    if (list.empty() || trim(list[0].value).empty())
      return error_for(canonical, "missing the reason (reason=\"why it is not needed\")", name);
    return parsed_command{not_needed_command{std::get<std::int64_t>(id), std::get<0>(item), list[0].value}};
  }
  if (sub == "kind") {
    std::string storage;
    const bool confirm = take_confirm_flag(rest, storage);
    auto id = read_incident_id(rest);
    if (auto* problem = std::get_if<std::string>(&id)) return error_for(sub, *problem, name);
    const std::string_view typed_kind = next_word(rest);
    const std::string k = lower(typed_kind);
    if (k.empty()) return error_for(sub, "missing the kind", name);
    kind_command c{std::get<std::int64_t>(id), "", confirm};
    if (k == "security") {
      c.kind = "security";
    } else if (k == "people" || k == "safety" || k == "people-and-safety" || k == "people_and_safety") {
      c.kind = "people_and_safety";
    } else {
      return error_for(sub, shown(typed_kind) + " is not a kind (expected security or people)", name);
    }
    if (!rest.empty()) return error_for(sub, "unexpected " + shown(next_word(rest)), name);
    return parsed_command{c};
  }
  if (sub == "call") {
    auto id = read_incident_id(rest);
    if (auto* problem = std::get_if<std::string>(&id)) return error_for(sub, *problem, name);
    auto conflict = read_name(rest, "conflict");
    if (conflict.index() == 1) return error_for(sub, std::get<1>(conflict), name);
    auto option = read_name(rest, "option");
    if (option.index() == 1) return error_for(sub, std::get<1>(option), name);
    auto options = read_options(rest, {"note"});
    if (auto* problem = std::get_if<std::string>(&options)) return error_for(sub, *problem, name);
    call_command c{std::get<std::int64_t>(id), std::get<0>(conflict), std::get<0>(option), ""};
    for (const auto& o : std::get<std::vector<fact_assignment>>(options)) c.note = o.value;
    return parsed_command{c};
  }
  if (sub == "deadlines") {
    if (!rest.empty()) return error_for(sub, "unexpected " + shown(next_word(rest)), name);
    return parsed_command{deadlines_command{}};
  }
  if (sub == "update") {
    auto id = read_incident_id(rest);
    if (auto* problem = std::get_if<std::string>(&id)) return error_for(sub, *problem, name);
    if (rest.empty()) return error_for(sub, "missing the update text", name);
    return parsed_command{update_command{std::get<std::int64_t>(id), decode_slack_text(rest)}};
  }
  if (sub == "resolve") {
    auto id = read_incident_id(rest);
    if (auto* problem = std::get_if<std::string>(&id)) return error_for(sub, *problem, name);
    resolve_command r{std::get<std::int64_t>(id), std::nullopt};
    // An optional close reason first; anything else is the start of the summary, as before.
    std::string_view after = rest;
    const std::string_view first = next_word(after);
    const std::string reason = lower(first);
    constexpr std::string_view duplicate_prefix = "duplicate-of=";
    if (reason == "resolved") {
      rest = after;
    } else if (reason == "not-an-incident" || reason == "not-incident") {
      r.reason = close_reason::not_an_incident;
      rest = after;
    } else if (reason == "false-positive") {
      r.reason = close_reason::false_positive;
      rest = after;
    } else if (reason.starts_with(duplicate_prefix) || reason == "duplicate" || reason == "duplicate-of") {
      r.reason = close_reason::duplicate;
      std::string_view target = first.substr(std::min(first.size(), duplicate_prefix.size()));
      if (!reason.starts_with(duplicate_prefix)) {
        // "duplicate INC-3" and "duplicate-of INC-3" read the same.
        target = next_word(after);
      }
      auto of = store::parse_incident_reference(target);
      if (!of) {
        return error_for(sub,
                         target.empty() ? "duplicate-of: missing the surviving incident's ID"
                                        : "duplicate-of: " + shown(target) + " is not an incident ID",
                         name);
      }
      if (*of == r.incident_id) return error_for(sub, "an incident cannot be a duplicate of itself", name);
      r.duplicate_of = *of;
      rest = after;
    }
    if (!rest.empty()) r.summary = decode_slack_text(rest);
    return parsed_command{r};
  }
  if (sub == "show") return parse_id_only<show_command>(sub, rest, name);
  if (sub == "decide") return parse_id_only<decide_command>(sub, rest, name);
  if (sub == "list") {
    const std::string_view typed_filter = next_word(rest);
    const std::string filter = lower(typed_filter);
    list_command l;
    if (filter == "all") {
      l.filter = list_filter::all;
    } else if (!filter.empty() && filter != "open") {
      return error_for(sub, shown(typed_filter) + " is not a list filter (expected open or all)", name);
    }
    if (!rest.empty()) return error_for(sub, "unexpected " + shown(next_word(rest)), name);
    return parsed_command{l};
  }
  if (sub == "help") return parsed_command{help_command{}};
  return usage_error{"unknown subcommand " + shown(typed), full_usage(name)};
}

}  // namespace flare::commands
