#include "bot/ops/config.hpp"

#include "bot/store/pg_url.hpp"
#include "bot/store/store_path.hpp"
#include "policy/legal_regimes.hpp"

#include <date/date.h>
#include <date/tz.h>
#include <toml++/toml.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <set>
#include <sstream>
#include <system_error>

extern char** environ;

namespace flare {

std::optional<std::chrono::seconds> parse_retention(std::string_view text) {
  if (text.size() < 2) return std::nullopt;
  const char unit = text.back();
  text.remove_suffix(1);
  long long n = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + (c - '0');
    if (n > 100000000) return std::nullopt;
  }
  if (n <= 0) return std::nullopt;
  switch (unit) {
    case 's': return std::chrono::seconds(n);
    case 'm': return std::chrono::minutes(n);
    case 'h': return std::chrono::hours(n);
    case 'd': return std::chrono::hours(24 * n);
    default: return std::nullopt;
  }
}
namespace {

std::string lowercase(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::string trim(const std::string& s) {
  const auto first = s.find_first_not_of(" \t");
  if (first == std::string::npos) return "";
  return s.substr(first, s.find_last_not_of(" \t") - first + 1);
}

// "FLARE_" + the key's path in upper case with dots as underscores: slack.api_url ->
// FLARE_SLACK_API_URL.
std::string env_name_for(const std::string& key) {
  std::string name = "FLARE_";
  for (char c : key) name.push_back(c == '.' ? '_' : static_cast<char>(std::toupper(c)));
  return name;
}

enum class kind { string, integer, number, boolean, string_list, hours, hours_list };

// "24h" -> 24; nullopt for anything that is not a whole, positive number of hours.
std::optional<int> parse_hours(const std::string& text) {
  auto interval = policy::parse_interval(lowercase(trim(text)));
  if (!interval || interval->unit != policy::interval_unit::hours) return std::nullopt;
  return interval->count;
}

// "48h", "7 business days", "7bd" or "none" (no scheduled notifications).
std::optional<std::optional<policy::notification_interval>> parse_table_interval(const std::string& raw) {
  std::string text = lowercase(trim(raw));
  if (text == "none") return std::optional<policy::notification_interval>{};
  if (text.size() > 2 && text.ends_with("bd") &&
      std::isdigit(static_cast<unsigned char>(text[text.size() - 3])))
    text = text.substr(0, text.size() - 2) + " business days";
  auto interval = policy::parse_interval(text);
  if (!interval) return std::nullopt;
  return std::optional<policy::notification_interval>{*interval};
}

bool valid_level(const std::string& level) {
  static const std::set<std::string> levels = {"trace", "debug", "info", "warn", "error", "critical", "off"};
  return levels.contains(level);
}

std::optional<std::string> check_channel_id(const std::string& id) {
  if (id.empty()) return std::nullopt;
  if (id.size() < 2 || (id[0] != 'C' && id[0] != 'G' && id[0] != 'D'))
    return "must be a Slack channel id such as C0123456789 (not a #name)";
  return std::nullopt;
}

std::optional<std::string> check_prefixed_id(const std::string& id, char prefix, const char* what) {
  if (id.empty()) return std::nullopt;
  if (id.size() < 2 || id[0] != prefix)
    return std::string("must be a Slack ") + what + " id starting with " + prefix;
  return std::nullopt;
}

// One scalar key: where it lives in the file, how to store it, how to check it.
struct key_spec {
  std::string key;
  kind type;
  std::function<void(config&, const std::string&)> set_string;
  std::function<void(config&, long long)> set_integer;
  std::function<void(config&, double)> set_number;
  std::function<void(config&, const std::vector<std::string>&)> set_list;
  std::function<std::optional<std::string>(const config&)> check;  // returns a reason when bad
};

using check_result = std::optional<std::string>;  // why a value is bad; nullopt when it is fine
using value_check = std::function<check_result(const std::string&)>;

// ---- The kinds of key most entries are: one field of `config`, checked on its own ----

key_spec string_key(std::string key, std::string config::*field, value_check check = {}) {
  key_spec spec{std::move(key), kind::string, {}, {}, {}, {}, {}};
  spec.set_string = [field](config& c, const std::string& v) { c.*field = v; };
  if (check) spec.check = [field, check = std::move(check)](const config& c) { return check(c.*field); };
  return spec;
}

// Out-of-range values are clamped to just outside [lo, hi] when stored, so the int field cannot
// overflow and check() still names them.
key_spec integer_key(std::string key, int config::*field, long long lo, long long hi) {
  key_spec spec{std::move(key), kind::integer, {}, {}, {}, {}, {}};
  spec.set_integer = [field, lo, hi](config& c, long long v) {
    c.*field = static_cast<int>(std::clamp(v, lo - 1, hi + 1));
  };
  spec.check = [field, lo, hi](const config& c) -> check_result {
    if (c.*field < lo || c.*field > hi)
      return "must be between " + std::to_string(lo) + " and " + std::to_string(hi);
    return std::nullopt;
  };
  return spec;
}

key_spec positive_number_key(std::string key, double config::*field, int max) {
  key_spec spec{std::move(key), kind::number, {}, {}, {}, {}, {}};
  spec.set_number = [field](config& c, double v) { c.*field = v; };
  spec.check = [field, max](const config& c) -> check_result {
    if (!(c.*field > 0.0 && c.*field <= max)) return "must be > 0 and <= " + std::to_string(max);
    return std::nullopt;
  };
  return spec;
}

// "4h": stored as a whole number of hours, -1 when unreadable so check() can name it.
key_spec hours_key(std::string key, int config::*field, const char* example) {
  key_spec spec{std::move(key), kind::hours, {}, {}, {}, {}, {}};
  spec.set_string = [field](config& c, const std::string& v) { c.*field = parse_hours(v).value_or(-1); };
  spec.check = [field, example](const config& c) -> check_result {
    if (c.*field < 1) return std::string("must be a whole number of hours such as \"") + example + "\"";
    return std::nullopt;
  };
  return spec;
}

// ---- [log] and [slack] ----

check_result check_log_level(const std::string& v) {
  if (!valid_level(v)) return "must be one of trace, debug, info, warn, error, critical, off";
  return std::nullopt;
}

check_result check_api_url(const std::string& v) {
  if (v.rfind("https://", 0) != 0) return "must be an https:// URL";
  if (v.back() != '/') return "must end with '/' (the method name is appended)";
  return std::nullopt;
}

check_result check_readable_file(const std::string& v) {
  if (v.empty()) return std::nullopt;
  if (std::FILE* f = std::fopen(v.c_str(), "r")) {
    std::fclose(f);
    return std::nullopt;
  }
  return "cannot read the file " + v;
}

check_result check_user_group_id(const std::string& v) { return check_prefixed_id(v, 'S', "user group"); }

check_result check_user_id(const std::string& v) {
  if (v.empty() || v[0] == 'U' || v[0] == 'W') return std::nullopt;
  return "must be a Slack user id starting with U or W";
}

check_result check_command(const std::string& v) {
  if (v.size() < 2 || v[0] != '/' || v.size() > 32) return "must start with '/' (at most 32 characters)";
  return std::nullopt;
}

// ---- [store] ----

check_result check_store_path(const std::string& v) { return store::plain_store_path_problem(v); }

check_result check_processed_retention(const std::string& v) {
  const auto retention = parse_retention(v);
  if (!retention) return "must be a whole number with a unit s, m, h or d, e.g. \"7d\"";
  // Slack retries an unacked envelope for minutes; less than an hour would forget deliveries it
  // may still send again.
  if (*retention < std::chrono::hours(1)) return "must be at least 1h";
  return std::nullopt;
}

check_result check_store_url(const std::string& v) {
  if (v.empty() || store::is_postgresql_url(v)) return std::nullopt;
  return "must be a postgresql:// URL (or unset for the SQLite file at store.path)";
}

check_result check_password_file(const std::string& v) {
  if (v.empty() || std::ifstream(v).good()) return std::nullopt;
  return "cannot read the file " + v;
}

check_result check_synchronous(const std::string& v) {
  if (v != "full" && v != "normal") return "must be \"full\" or \"normal\"";
  return std::nullopt;
}

// ---- [policy] ----

check_result check_time_zone(const std::string& zone) {
  try {
    (void)date::locate_zone(zone);
    return std::nullopt;
  } catch (const std::exception&) {
    return "unknown IANA time zone '" + zone + "'";
  }
}

key_spec policy_timezone_key() {
  key_spec spec{"policy.timezone", kind::string, {}, {}, {}, {}, {}};
  spec.set_string = [](config& c, const std::string& v) { c.policy_tables.calendar.zone = v; };
  spec.check = [](const config& c) { return check_time_zone(c.policy_tables.calendar.zone); };
  return spec;
}

key_spec policy_holidays_key() {
  key_spec spec{"policy.holidays", kind::string_list, {}, {}, {}, {}, {}};
  spec.set_list = [](config& c, const std::vector<std::string>& v) { c.policy_tables.calendar.holidays = v; };
  // Every bad entry is named at once: fixing one and learning of the next on the following
  // start-up is how a calendar ends up half-edited.
  spec.check = [](const config& c) -> check_result {
    std::vector<std::string> bad;
    for (const auto& day : c.policy_tables.calendar.holidays) {
      std::istringstream in(day);
      date::year_month_day ymd{};
      in >> date::parse("%F", ymd);
      if (in.fail() || !ymd.ok() || day.size() != 10) bad.push_back("'" + day + "'");
    }
    if (bad.empty()) return std::nullopt;
    std::string list;
    for (std::size_t i = 0; i < bad.size(); ++i) list.append(i == 0 ? "" : ", ").append(bad[i]);
    return list + (bad.size() == 1 ? " is not a date" : " are not dates") + " in the form YYYY-MM-DD";
  };
  return spec;
}

// ---- [reminders] ----

key_spec reminders_before_key() {
  key_spec spec{"reminders.before", kind::hours_list, {}, {}, {}, {}, {}};
  spec.set_list = [](config& c, const std::vector<std::string>& v) {
    c.reminder_hours_before.clear();
    for (const auto& text : v) c.reminder_hours_before.push_back(parse_hours(text).value_or(-1));
  };
  spec.check = [](const config& c) -> check_result {
    for (int hours : c.reminder_hours_before)
      if (hours < 1) return "each entry must be a whole number of hours such as \"24h\"";
    return std::nullopt;
  };
  return spec;
}

key_spec quiet_hours_key() {
  key_spec spec{"reminders.quiet_hours", kind::string, {}, {}, {}, {}, {}};
  // "" or "off": none. Anything unreadable is kept as an empty range so check() can name it.
  spec.set_string = [](config& c, const std::string& v) {
    const std::string text = lowercase(trim(v));
    if (text.empty() || text == "off") {
      c.quiet_hours.reset();
      return;
    }
    c.quiet_hours = policy::parse_quiet_hours(text).value_or(policy::quiet_hours{0, 0});
  };
  spec.check = [](const config& c) -> check_result {
    if (c.quiet_hours && c.quiet_hours->start_minute == c.quiet_hours->end_minute)
      return "must be a local time range such as \"22:00-07:00\", or \"off\"";
    return std::nullopt;
  };
  return spec;
}

// ---- [intake] ----

key_spec page_responders_key() {
  key_spec spec{"intake.page_responders", kind::boolean, {}, {}, {}, {}, {}};
  spec.set_integer = [](config& c, long long v) { c.page_responders = v != 0; };
  return spec;
}

key_spec finance_categories_key() {
  key_spec spec{"intake.head_of_finance_ops_categories", kind::string_list, {}, {}, {}, {}, {}};
  spec.set_list = [](config& c, const std::vector<std::string>& v) {
    c.head_of_finance_ops_categories.clear();
    for (const auto& name : v) c.head_of_finance_ops_categories.push_back(lowercase(trim(name)));
  };
  spec.check = [](const config& c) -> check_result {
    for (const auto& name : c.head_of_finance_ops_categories)
      if (name.empty()) return "category names must not be empty";
    return std::nullopt;
  };
  return spec;
}

// ---- [digest] ----

check_result check_digest_day(const std::string& v) {
  for (const char* d : {"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "off"})
    if (lowercase(trim(v)) == d) return std::nullopt;
  return "must be a day of the week (\"monday\" … \"sunday\") or \"off\"";
}

check_result check_digest_time(const std::string& v) {
  const bool shape = v.size() == 5 && std::isdigit(static_cast<unsigned char>(v[0])) &&
                     std::isdigit(static_cast<unsigned char>(v[1])) && v[2] == ':' &&
                     std::isdigit(static_cast<unsigned char>(v[3])) &&
                     std::isdigit(static_cast<unsigned char>(v[4]));
  if (!shape || std::stoi(v.substr(0, 2)) > 23 || std::stoi(v.substr(3, 2)) > 59)
    return "must be a local time of day such as \"09:00\"";
  return std::nullopt;
}

check_result check_digest_timezone(const std::string& v) {
  if (v.empty()) return std::nullopt;
  return check_time_zone(v);
}

// Every scalar key, in the order problems are reported and FLARE_ variables listed
// (docs/configuration.md has the same keys by section).
std::vector<key_spec> scalar_keys() {
  return {
      string_key("log.level", &config::log_level, check_log_level),
      string_key("slack.api_url", &config::api_url, check_api_url),
      string_key("slack.ca_file", &config::ca_file, check_readable_file),
      string_key("slack.incidents_channel", &config::incidents_channel, check_channel_id),
      string_key("slack.security_channel", &config::security_channel, check_channel_id),
      string_key("slack.security_team_group", &config::security_team_group, check_user_group_id),
      string_key("slack.responders_group", &config::responders_group, check_user_group_id),
      string_key("slack.head_of_finance_ops", &config::head_of_finance_ops, check_user_id),
      string_key("slack.command", &config::command, check_command),
      integer_key("slack.request_timeout_seconds", &config::request_timeout_seconds, 1, 120),
      positive_number_key("slack.posts_per_second", &config::posts_per_second, 20),
      integer_key("slack.post_burst", &config::post_burst, 1, 50),
      // docs/intake.md: the score a report category needs (the default lexicon is tuned for 1.0).
      positive_number_key("intake.threshold", &config::intake_threshold, 10),
      string_key("console.user", &config::console_user),
      string_key("console.channel", &config::console_channel),
      string_key("console.security_channel", &config::console_security_channel),
      string_key("store.path", &config::store_path, check_store_path),
      string_key("store.processed_retention", &config::store_processed_retention, check_processed_retention),
      string_key("store.url", &config::store_url, check_store_url),
      string_key("store.password_file", &config::store_password_file, check_password_file),
      integer_key("store.outbox_lease_seconds", &config::store_outbox_lease_seconds, 3, 3600),
      integer_key("store.inbox_lease_seconds", &config::store_inbox_lease_seconds, 3, 3600),
      string_key("store.synchronous", &config::store_synchronous, check_synchronous),
      policy_timezone_key(),
      policy_holidays_key(),
      reminders_before_key(),
      hours_key("reminders.overdue_every", &config::overdue_every_hours, "4h"),
      hours_key("reminders.overdue_then_every", &config::overdue_then_every_hours, "24h"),
      quiet_hours_key(),
      page_responders_key(),
      integer_key("intake.untriaged_after_seconds", &config::untriaged_after_seconds, 0, 7LL * 24 * 3600),
      string_key("digest.day", &config::digest_day, check_digest_day),
      string_key("digest.time", &config::digest_time, check_digest_time),
      string_key("digest.timezone", &config::digest_timezone, check_digest_timezone),
      finance_categories_key(),
      string_key("health.address", &config::health_address),
      integer_key("health.port", &config::health_port, 0, 65535),
      integer_key("shutdown.drain_seconds", &config::shutdown_drain_seconds, 0, 300),
  };
}

std::string toml_type_name(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a number";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::array: return "an array";
    case toml::node_type::table: return "a table";
    default: return "a date/time";
  }
}

class loader {
 public:
  loader(config& cfg, std::vector<config_problem>& problems) : cfg_(cfg), problems_(problems) {}

  void from_toml(const toml::table& root) {
    const auto keys = scalar_keys();
    std::set<std::string> known;
    for (const auto& spec : keys) known.insert(spec.key);
    walk(root, "", known, keys);
  }

  void from_env(const std::map<std::string, std::string>& env) {
    auto get = [&](const std::string& name) -> const std::string* {
      auto it = env.find(name);
      return it == env.end() ? nullptr : &it->second;
    };
    if (auto v = get("SLACK_APP_TOKEN")) cfg_.app_token = trim(*v);
    if (auto v = get("SLACK_BOT_TOKEN")) cfg_.bot_token = trim(*v);
    for (const auto& spec : scalar_keys()) {
      const std::string* value = get(env_name_for(spec.key));
      // The two names the Slack SDKs use win over the FLARE_ ones.
      if (spec.key == "slack.api_url" && get("SLACK_API_URL")) value = get("SLACK_API_URL");
      if (spec.key == "slack.ca_file" && get("SLACK_CA_FILE")) value = get("SLACK_CA_FILE");
      if (value) set_from_text(spec, *value, env_name_for(spec.key));
    }
    severity_from_env(env);
    phrases_from_env(env, "intake.signals");
    phrases_from_env(env, "intake.sensitive");
    legal_from_env(env);
  }

 private:
  void walk(const toml::table& table, const std::string& prefix, const std::set<std::string>& known,
            const std::vector<key_spec>& keys) {
    for (auto&& [k, node] : table) {
      const std::string key = prefix.empty() ? std::string(k.str()) : prefix + "." + std::string(k.str());
      if (key == "slack.app_token" || key == "slack.bot_token" || key == "slack.signing_secret") {
        problem(key,
                "secrets are read only from the environment (SLACK_APP_TOKEN, SLACK_BOT_TOKEN); remove it "
                "from the file");
        continue;
      }
      if (key == "policy.severity") {
        severity_tables(node);
        continue;
      }
      if (key == "policy.legal") {
        legal_regimes(node);
        continue;
      }
      if (key == "intake.signals" || key == "intake.sensitive") {
        phrase_tables(key, node);
        continue;
      }
      if (auto it = std::find_if(keys.begin(), keys.end(), [&](const key_spec& s) { return s.key == key; });
          it != keys.end()) {
        set_from_toml(*it, node);
        continue;
      }
      if (node.is_table() && is_section(key, known)) {
        walk(*node.as_table(), key, known, keys);
        continue;
      }
      problem(key, "unknown key (see docs/configuration.md)");
    }
  }

  static bool is_section(const std::string& key, const std::set<std::string>& known) {
    if (key == "intake") return true;
    const std::string dotted = key + ".";
    return std::any_of(known.begin(), known.end(),
                       [&](const std::string& k) { return k.rfind(dotted, 0) == 0; });
  }

  void set_from_toml(const key_spec& spec, const toml::node& node) {
    switch (spec.type) {
      case kind::string:
      case kind::hours:
        if (auto v = node.value_exact<std::string>()) return spec.set_string(cfg_, *v);
        return problem(spec.key, "must be a string, not " + toml_type_name(node));
      case kind::integer:
        if (auto v = node.value_exact<int64_t>()) return spec.set_integer(cfg_, *v);
        return problem(spec.key, "must be an integer, not " + toml_type_name(node));
      case kind::number:
        if (auto v = node.value<double>()) return spec.set_number(cfg_, *v);
        return problem(spec.key, "must be a number, not " + toml_type_name(node));
      case kind::boolean:
        if (auto v = node.value_exact<bool>()) return spec.set_integer(cfg_, *v ? 1 : 0);
        return problem(spec.key, "must be true or false, not " + toml_type_name(node));
      case kind::string_list:
      case kind::hours_list: {
        auto list = string_list(spec.key, node);
        if (list) spec.set_list(cfg_, *list);
        return;
      }
    }
  }

  void set_from_text(const key_spec& spec, const std::string& text, const std::string& env_name) {
    const std::string where = spec.key + " (from " + env_name + ")";
    try {
      switch (spec.type) {
        case kind::string:
        case kind::hours: return spec.set_string(cfg_, text);
        case kind::integer: {
          std::size_t used = 0;
          long long v = std::stoll(text, &used);
          if (used != text.size()) throw std::invalid_argument("trailing");
          return spec.set_integer(cfg_, v);
        }
        case kind::number: {
          std::size_t used = 0;
          double v = std::stod(text, &used);
          if (used != text.size()) throw std::invalid_argument("trailing");
          return spec.set_number(cfg_, v);
        }
        case kind::boolean: {
          const std::string v = lowercase(trim(text));
          if (v == "true" || v == "1" || v == "yes" || v == "on") return spec.set_integer(cfg_, 1);
          if (v == "false" || v == "0" || v == "no" || v == "off") return spec.set_integer(cfg_, 0);
          return problem(where, "'" + text + "' is not true or false");
        }
        case kind::string_list:
        case kind::hours_list: {
          std::vector<std::string> items;
          std::stringstream in(text);
          for (std::string item; std::getline(in, item, ',');)
            if (!trim(item).empty()) items.push_back(trim(item));
          return spec.set_list(cfg_, items);
        }
      }
    } catch (const std::exception&) {
      problem(where, "'" + text + "' is not a valid number");
    }
  }

  std::optional<std::vector<std::string>> string_list(const std::string& key, const toml::node& node) {
    const auto* array = node.as_array();
    if (!array) {
      problem(key, "must be an array of strings, not " + toml_type_name(node));
      return std::nullopt;
    }
    std::vector<std::string> out;
    for (const auto& item : *array) {
      auto v = item.value_exact<std::string>();
      if (!v) {
        problem(key, "every entry must be a string");
        return std::nullopt;
      }
      out.push_back(*v);
    }
    return out;
  }

  void severity_tables(const toml::node& node) {
    const auto* table = node.as_table();
    if (!table) return problem("policy.severity", "must be a table of severities");
    for (auto&& [name_key, entry] : *table) {
      const std::string name(name_key.str());
      const std::string key = "policy.severity." + name;
      const auto level = policy::parse_severity(name);
      if (!level) {
        problem(key, "unknown severity (expected critical, high, medium or low)");
        continue;
      }
      const auto* fields = entry.as_table();
      if (!fields) {
        problem(key, "must be a table with 'initial' and 'update'");
        continue;
      }
      policy::severity_timing& timing = cfg_.policy_tables.timing(*level);
      for (auto&& [field_key, value] : *fields) {
        const std::string field(field_key.str());
        std::string field_path = key;
        field_path.append(".").append(field);
        if (field != "initial" && field != "update") {
          problem(field_path, "unknown key (expected 'initial' or 'update')");
          continue;
        }
        auto text = value.value_exact<std::string>();
        auto parsed = text ? parse_table_interval(*text) : std::nullopt;
        if (!parsed) {
          problem(field_path, "must be like \"48h\", \"7 business days\" or \"none\"");
          continue;
        }
        (field == "initial" ? timing.initial : timing.update) = *parsed;
      }
      if (!timing.initial && timing.update)
        problem(key, "an update interval needs an initial notification deadline");
      if (timing.initial && !timing.update)
        problem(key + ".update", "must be set when 'initial' is (the process requires periodic updates)");
    }
  }

  // FLARE_POLICY_LEGAL_<KEY>_<TITLE|NOTIFY|WITHIN|CITATION>: one field of one regime, applied
  // over the file's table exactly as a [policy.legal.<key>] table with that field would be (a
  // shipped key field by field, a new key needs title, notify and within). Environment names
  // cannot hold '-' or '.', so <KEY> is matched against the known keys with both read as '_'
  // (FLARE_POLICY_LEGAL_NYDFS_500_17_WITHIN is nydfs-500.17); an unknown one is a new key with
  // '_' read as '-' (FLARE_POLICY_LEGAL_LGPD_ART48_TITLE is lgpd-art48).
  void legal_from_env(const std::map<std::string, std::string>& env) {
    const std::string prefix = env_name_for("policy.legal") + "_";
    toml::table regimes;
    std::map<std::string, std::string> origin;  // "<key>.<field>" and "<key>" -> variable name(s)
    for (auto it = env.lower_bound(prefix); it != env.end() && it->first.rfind(prefix, 0) == 0; ++it) {
      const std::string rest = it->first.substr(prefix.size());
      std::string field;
      for (const char* f : {"TITLE", "NOTIFY", "WITHIN", "CITATION"}) {
        const std::string suffix = std::string("_") + f;
        if (rest.size() > suffix.size() && rest.ends_with(suffix)) field = lowercase(f);
      }
      if (field.empty()) {
        std::string reason = "must be " + prefix;
        reason.append("<KEY>_<TITLE|NOTIFY|WITHIN|CITATION>, e.g. ")
            .append(prefix)
            .append("GDPR_ART33_WITHIN");
        problem("policy.legal (from " + it->first + ")", std::move(reason));
        continue;
      }
      const std::string key = legal_key_from_env(rest.substr(0, rest.size() - field.size() - 1));
      if (!regimes.contains(key)) regimes.insert(key, toml::table{});
      regimes[key].as_table()->insert_or_assign(field, it->second);
      std::string field_path = "policy.legal." + key;
      field_path.append(".").append(field);
      origin[field_path] = it->first;
      auto& names = origin["policy.legal." + key];
      names += (names.empty() ? "" : ", ") + it->first;
    }
    if (!regimes.empty()) legal_regimes(regimes, origin);
  }

  std::string legal_key_from_env(const std::string& upper) const {
    auto squash = [](std::string k) {
      for (char& c : k)
        if (c == '-' || c == '.') c = '_';
      return lowercase(k);
    };
    const std::string wanted = lowercase(upper);
    for (const auto& r : cfg_.policy_tables.legal_regimes)
      if (squash(r.key) == wanted) return lowercase(r.key);
    std::string key = wanted;
    std::replace(key.begin(), key.end(), '_', '-');
    return key;
  }

  // [policy.legal.<key>]: a legal regime that `legal=` facts name (issue 9, section 6). A key
  // flare ships with is overridden field by field; a new key needs title, notify and within.
  // From the file, or from FLARE_POLICY_LEGAL_* (legal_from_env); `origin` names the variable
  // that set a field, for the problems.
  void legal_regimes(const toml::node& node, const std::map<std::string, std::string>& origin = {}) {
    auto where = [&](const std::string& path) {
      auto it = origin.find(path);
      return it == origin.end() ? path : path + " (from " + it->second + ")";
    };
    auto where_missing = [&](const std::string& regime_key, const std::string& field) {
      auto it = origin.find(regime_key);
      return regime_key + "." + field + (it == origin.end() ? "" : " (" + it->second + " set the others)");
    };
    const auto* table = node.as_table();
    if (!table) return problem("policy.legal", "must be a table of regimes, e.g. [policy.legal.gdpr-art33]");
    auto& regimes = cfg_.policy_tables.legal_regimes;
    for (auto&& [name_key, entry] : *table) {
      const std::string name = lowercase(trim(std::string(name_key.str())));
      const std::string key = "policy.legal." + std::string(name_key.str());
      const auto* fields = entry.as_table();
      if (!fields) {
        problem(where(key), "must be a table with title, notify, within and citation");
        continue;
      }
      auto it = std::find_if(regimes.begin(), regimes.end(),
                             [&](const policy::legal_regime& r) { return lowercase(r.key) == name; });
      const bool known = it != regimes.end();
      policy::legal_regime regime = known ? *it : policy::legal_regime{name, {}, {}, {}, {}};
      bool has_within = known;
      bool ok = true;
      const std::string field_prefix = key + ".";
      for (auto&& [field_key, value] : *fields) {
        const std::string field(field_key.str());
        const std::string field_path = field_prefix + field;
        auto text = value.value_exact<std::string>();
        if (field != "title" && field != "notify" && field != "within" && field != "citation") {
          problem(where(field_path), "unknown key (expected title, notify, within or citation)");
          ok = false;
          continue;
        }
        if (!text || trim(*text).empty()) {
          problem(where(field_path), "must be a non-empty string");
          ok = false;
          continue;
        }
        if (field == "title") regime.title = trim(*text);
        else if (field == "notify") regime.notify = trim(*text);
        else if (field == "citation") regime.citation = trim(*text);
        else {
          auto parsed = parse_table_interval(*text);
          if (!parsed) {
            problem(
                where(field_path),
                "must be like \"72h\", \"4 business days\" or \"none\" (no fixed time: without undue delay)");
            ok = false;
            continue;
          }
          regime.within = *parsed;
          has_within = true;
        }
      }
      if (!known) {
        for (const auto& [field, value] : {std::pair<const char*, const std::string*>{"title", &regime.title},
                                           {"notify", &regime.notify}}) {
          if (value->empty()) {
            problem(where_missing(key, field), "must be set for a regime flare does not ship with");
            ok = false;
          }
        }
        if (!has_within) {
          problem(where_missing(key, "within"),
                  "must be set for a regime flare does not ship with (\"none\" for no fixed time)");
          ok = false;
        }
      }
      if (!ok) continue;
      try {
        policy::validate(policy::legal_regime_table{regime});
      } catch (const policy::tables_error& e) {
        problem(where(key), e.what());
        continue;
      }
      if (known) *it = std::move(regime);
      else regimes.push_back(std::move(regime));
    }
  }

  // FLARE_POLICY_SEVERITY_<LEVEL>_<INITIAL|UPDATE>, e.g. FLARE_POLICY_SEVERITY_MEDIUM_INITIAL="5bd".
  // Applied field by field over the file's row, then the row is checked as the file's would be.
  void severity_from_env(const std::map<std::string, std::string>& env) {
    for (policy::severity level : {policy::severity::critical, policy::severity::high,
                                   policy::severity::medium, policy::severity::low}) {
      const std::string key = "policy.severity." + std::string(policy::to_string(level));
      policy::severity_timing& timing = cfg_.policy_tables.timing(level);
      bool touched = false;
      for (const char* field : {"initial", "update"}) {
        const std::string field_path = key + "." + field;
        const std::string name = env_name_for(field_path);
        auto it = env.find(name);
        if (it == env.end()) continue;
        touched = true;
        auto parsed = parse_table_interval(it->second);
        if (!parsed) {
          problem(std::string(field_path).append(" (from ").append(name).append(")"),
                  "must be like \"48h\", \"7 business days\" or \"none\"");
          continue;
        }
        (std::string_view(field) == "initial" ? timing.initial : timing.update) = *parsed;
      }
      if (!touched) continue;
      if (!timing.initial && timing.update)
        problem(key, "an update interval needs an initial notification deadline");
      if (timing.initial && !timing.update)
        problem(key + ".update", "must be set when 'initial' is (the process requires periodic updates)");
    }
  }

  // FLARE_INTAKE_SIGNALS_<NAME>="phrase, phrase" (and FLARE_INTAKE_SENSITIVE_<NAME>): the name is
  // the variable's remainder in lower case with underscores read as spaces, so
  // FLARE_INTAKE_SIGNALS_USB_STICK sets the signal "usb stick". Names with other characters
  // (hyphens, accents) can only be set in the file.
  void phrases_from_env(const std::map<std::string, std::string>& env, const std::string& key) {
    const std::string prefix = env_name_for(key) + "_";
    auto& target = key == "intake.signals" ? cfg_.signals : cfg_.sensitive_categories;
    for (auto it = env.lower_bound(prefix); it != env.end() && it->first.rfind(prefix, 0) == 0; ++it) {
      std::string name = lowercase(it->first.substr(prefix.size()));
      std::replace(name.begin(), name.end(), '_', ' ');
      std::string where = key;
      where.append(".").append(name).append(" (from ").append(it->first).append(")");
      if (trim(name).empty()) {
        problem(where, "the variable must name the entry after " + prefix);
        continue;
      }
      std::vector<std::string> phrases;
      std::stringstream in(it->second);
      for (std::string phrase; std::getline(in, phrase, ',');)
        if (!trim(phrase).empty()) phrases.push_back(lowercase(trim(phrase)));
      if (phrases.empty()) {
        problem(where, "must list at least one phrase, separated by commas");
        continue;
      }
      target[name] = std::move(phrases);
    }
  }

  void phrase_tables(const std::string& key, const toml::node& node) {
    const auto* table = node.as_table();
    if (!table) return problem(key, "must be a table of name = [phrases]");
    auto& target = key == "intake.signals" ? cfg_.signals : cfg_.sensitive_categories;
    for (auto&& [name_key, value] : *table) {
      const std::string path = key + "." + std::string(name_key.str());
      auto list = string_list(path, value);
      if (!list) continue;
      for (auto& phrase : *list) phrase = lowercase(trim(phrase));
      if (std::any_of(list->begin(), list->end(), [](const std::string& p) { return p.empty(); })) {
        problem(path, "phrases must not be empty");
        continue;
      }
      target[std::string(name_key.str())] = *list;
    }
  }

  void problem(const std::string& key, std::string reason) { problems_.push_back({key, std::move(reason)}); }

  config& cfg_;
  std::vector<config_problem>& problems_;
};

std::string join_problems(const std::string& source, const std::vector<config_problem>& problems) {
  std::string text = "invalid configuration (" + source + "):";
  for (const auto& p : problems) text += "\n  " + p.key + ": " + p.reason;
  return text;
}

}  // namespace

std::vector<std::string> config::secrets() const {
  std::vector<std::string> out;
  if (!app_token.empty()) out.push_back(app_token);
  if (!bot_token.empty()) out.push_back(bot_token);
  // The store's password, wherever it comes from, is masked like the tokens.
  if (const char* pg = std::getenv("PGPASSWORD"); pg && *pg) out.emplace_back(pg);
  if (!store_password_file.empty()) {
    try {
      if (auto password = store::read_password_file(store_password_file); !password.empty())
        out.push_back(password);
    } catch (const std::exception&) {
      // Unreadable: the store's start-up reports it; nothing to mask.
    }
  }
  return out;
}

config_error::config_error(const std::string& source, std::vector<config_problem> problems)
    : std::runtime_error(join_problems(source, problems)), problems_(std::move(problems)) {}

config default_config() {
  config cfg;
  // The report recogniser's phrase tables, weights and threshold are policy data with their
  // defaults in policy/report_lexicon.cpp; `intake.signals` and `intake.sensitive` only add to
  // them, so both tables start empty here.
  return cfg;
}

namespace {

// A configuration file is a small regular file (or a symlink to one, as Kubernetes mounts a
// ConfigMap). A directory, a FIFO or /dev/zero would otherwise read as empty or never end, and
// check-config would call that "configuration OK".
constexpr std::uintmax_t max_config_bytes = std::uintmax_t{1024} * 1024;

std::optional<std::string> not_a_config_file(const std::string& path) {
  std::error_code ec;
  const auto st = std::filesystem::status(path, ec);
  if (ec || st.type() == std::filesystem::file_type::not_found)
    return "cannot be read: " + (ec ? ec.message() : std::string("no such file"));
  if (st.type() == std::filesystem::file_type::directory)
    return std::string("is a directory, not a configuration file");
  if (st.type() != std::filesystem::file_type::regular)
    return std::string("is not a regular file (a device, FIFO or socket); give the path of a TOML file");
  const auto size = std::filesystem::file_size(path, ec);
  if (!ec && size > max_config_bytes)
    return "is " + std::to_string(size) + " bytes; a configuration file is at most 1 MiB";
  return std::nullopt;
}

// `load` writes into `cfg`: both by reference.
void finish_loading(config& cfg, loader& load, std::vector<config_problem>& problems,
                    const std::map<std::string, std::string>& env) {
  load.from_env(env);
  for (const auto& spec : scalar_keys())
    if (spec.check)
      if (auto reason = spec.check(cfg)) problems.push_back({spec.key, *reason});
  if (!problems.empty()) throw config_error(cfg.source, problems);
}

void throw_parse_error(const config& cfg, std::vector<config_problem>& problems, const toml::parse_error& e) {
  const auto& where = e.source().begin;
  problems.push_back({"(file)", std::string(e.description()) + " at line " + std::to_string(where.line) +
                                    ", column " + std::to_string(where.column)});
  throw config_error(cfg.source, problems);
}

}  // namespace

config load_config(const std::string& path, const std::map<std::string, std::string>& env) {
  config cfg = default_config();
  std::vector<config_problem> problems;
  loader load(cfg, problems);
  if (!path.empty()) {
    cfg.source = path;
    if (auto why = not_a_config_file(path)) {
      problems.push_back({"(file)", *why});
      throw config_error(cfg.source, problems);
    }
    try {
      const toml::table root = toml::parse_file(path);
      load.from_toml(root);
    } catch (const toml::parse_error& e) {
      throw_parse_error(cfg, problems, e);
    }
  }
  finish_loading(cfg, load, problems, env);
  return cfg;
}

config load_config_text(std::string_view toml_text, const std::string& source,
                        const std::map<std::string, std::string>& env) {
  config cfg = default_config();
  std::vector<config_problem> problems;
  loader load(cfg, problems);
  cfg.source = source;
  try {
    const toml::table root = toml::parse(toml_text, source);
    load.from_toml(root);
  } catch (const toml::parse_error& e) {
    throw_parse_error(cfg, problems, e);
  }
  finish_loading(cfg, load, problems, env);
  return cfg;
}

std::map<std::string, std::string> read_environment() {
  std::map<std::string, std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string entry(*e);
    auto eq = entry.find('=');
    if (eq == std::string::npos) continue;
    std::string name = entry.substr(0, eq);
    if (name.rfind("SLACK_", 0) == 0 || name.rfind("FLARE_", 0) == 0) env[name] = entry.substr(eq + 1);
  }
  return env;
}

namespace {

// Levenshtein distance, for "did you mean" on a mistyped variable name.
std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

}  // namespace

std::vector<std::string> environment_variable_names() {
  std::vector<std::string> names = {"FLARE_CONFIG"};
  for (const auto& spec : scalar_keys()) names.push_back(env_name_for(spec.key));
  for (const char* level : {"critical", "high", "medium", "low"})
    for (const char* field : {"initial", "update"})
      names.push_back(env_name_for(std::string("policy.severity.") + level + "." + field));
  return names;
}

std::vector<config_problem> unknown_environment(const std::map<std::string, std::string>& env) {
  const auto known = environment_variable_names();
  std::vector<config_problem> problems;
  for (const auto& [name, value] : env) {
    if (name.rfind("FLARE_", 0) != 0) continue;
    if (std::find(known.begin(), known.end(), name) != known.end()) continue;
    // Table entries carry their own name after the prefix.
    if (name.rfind("FLARE_INTAKE_SIGNALS_", 0) == 0 || name.rfind("FLARE_INTAKE_SENSITIVE_", 0) == 0 ||
        name.rfind("FLARE_POLICY_LEGAL_", 0) == 0)
      continue;
    std::string reason = "is not a flare setting, so it changes nothing";
    const std::string* nearest = nullptr;
    std::size_t best = 4;  // only suggest a name a typo or two away
    for (const auto& candidate : known) {
      const std::size_t d = edit_distance(name, candidate);
      if (d < best) {
        best = d;
        nearest = &candidate;
      }
    }
    if (nearest) reason += " (did you mean " + *nearest + "?)";
    problems.push_back({name, std::move(reason)});
  }
  return problems;
}

std::vector<config_problem> slack_mode_problems(const config& cfg) {
  std::vector<config_problem> problems;
  if (cfg.app_token.empty())
    problems.push_back(
        {"SLACK_APP_TOKEN", "is not set (an app-level token xapp-... with connections:write)"});
  else if (cfg.app_token.rfind("xapp-", 0) != 0)
    problems.push_back({"SLACK_APP_TOKEN", "must be an app-level token starting with xapp-"});
  if (cfg.bot_token.empty()) problems.push_back({"SLACK_BOT_TOKEN", "is not set (a bot token xoxb-...)"});
  else if (cfg.bot_token.rfind("xoxb-", 0) != 0)
    problems.push_back({"SLACK_BOT_TOKEN", "must be a bot token starting with xoxb-"});
  if (cfg.incidents_channel.empty())
    problems.push_back(
        {"slack.incidents_channel", "must be set to the #incidents channel id when connecting to Slack"});
  if (cfg.security_channel.empty())
    problems.push_back({"slack.security_channel",
                        "must be set to the private security channel id when connecting to Slack"});
  if (cfg.security_team_group.empty())
    problems.push_back(
        {"slack.security_team_group", "must be set to the Security Team user group id (S...)"});
  return problems;
}

}  // namespace flare
