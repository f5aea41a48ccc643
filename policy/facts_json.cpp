#include "policy/facts_json.hpp"

#include "input/bounded_json.hpp"

#include <algorithm>
#include <array>
#include <functional>

#include "policy/rfc3339.hpp"

namespace flare::policy {
namespace {

using json = nlohmann::json;
using field_error = std::optional<std::string>;  // the message; the caller adds the field

enum class kind { boolean, word, optional_word, optional_time, word_list, time_list };

struct field {
  std::string_view key;
  kind shape;
  std::function<field_error(facts&, const json&)> apply;
};

// Shown in error messages; a value typed in a terminal may not be UTF-8, and dump() would throw.
std::string quoted(const json& v) { return v.dump(-1, ' ', false, json::error_handler_t::replace); }

template <class E>
std::function<field_error(facts&, const json&)> word_field(std::optional<E> (*parse)(std::string_view),
                                                           std::string_view allowed,
                                                           std::function<void(facts&, E)> set) {
  return [=](facts& f, const json& v) -> field_error {
    if (!v.is_string()) return "expected one of " + std::string{allowed} + ", got " + quoted(v);
    auto e = parse(v.get_ref<const std::string&>());
    if (!e) return "expected one of " + std::string{allowed} + ", got " + quoted(v);
    set(f, *e);
    return std::nullopt;
  };
}

std::function<field_error(facts&, const json&)> bool_field(bool facts::*member) {
  return [=](facts& f, const json& v) -> field_error {
    if (!v.is_boolean()) return "expected true or false, got " + quoted(v);
    f.*member = v.get<bool>();
    return std::nullopt;
  };
}

std::function<field_error(facts&, const json&)> tristate_field(tristate facts::*member) {
  return word_field<tristate>(parse_tristate, "confirmed|unknown|none",
                              [=](facts& f, tristate t) { f.*member = t; });
}

field_error read_time(const json& v, sys_seconds& out) {
  if (!v.is_string()) return "expected an RFC 3339 time such as \"2026-11-20T10:00:00Z\", got " + quoted(v);
  auto t = parse_rfc3339(v.get_ref<const std::string&>());
  if (!t) {
    return "expected an RFC 3339 time with Z or a +hh:mm offset, such as \"2026-11-20T10:00:00Z\", got " +
           quoted(v);
  }
  out = *t;
  return std::nullopt;
}

std::function<field_error(facts&, const json&)> optional_time_field(
    std::optional<sys_seconds> facts::*member) {
  return [=](facts& f, const json& v) -> field_error {
    if (v.is_null()) {
      (f.*member).reset();
      return std::nullopt;
    }
    sys_seconds t;
    if (auto e = read_time(v, t)) return e;
    f.*member = t;
    return std::nullopt;
  };
}

const std::array<field, 16>& fields() {
  static const std::array<field, 16> all{{
      {"severity", kind::optional_word,
       [](facts& f, const json& v) -> field_error {
         if (v.is_null()) {
           f.severity.reset();
           return std::nullopt;
         }
         return word_field<severity>(parse_severity, "critical|high|medium|low",
                                     [](facts& g, severity s) { g.severity = s; })(f, v);
       }},
      {"classification", kind::optional_word,
       [](facts& f, const json& v) -> field_error {
         if (v.is_null()) {
           f.classification.reset();
           return std::nullopt;
         }
         return word_field<classification>(parse_classification, "confirmed|potential",
                                           [](facts& g, classification c) { g.classification = c; })(f, v);
       }},
      {"impact_confirmed_at", kind::optional_time, optional_time_field(&facts::impact_confirmed_at)},
      {"user_action_required", kind::boolean, bool_field(&facts::user_action_required)},
      {"fix_available", kind::boolean, bool_field(&facts::fix_available)},
      {"fix_applied", kind::boolean, bool_field(&facts::fix_applied)},
      {"routine_dependency_patch", kind::boolean, bool_field(&facts::routine_dependency_patch)},
      {"users_affected", kind::word, tristate_field(&facts::users_affected)},
      {"data_exposed", kind::word, tristate_field(&facts::data_exposed)},
      {"metadata_exposed", kind::word, tristate_field(&facts::metadata_exposed)},
      {"exploited", kind::word, tristate_field(&facts::exploited)},
      {"customers", kind::word_list,
       [](facts& f, const json& v) -> field_error {
         const std::string expected = "expected a non-empty list of paid|free, got ";
         if (!v.is_array() || v.empty()) return expected + quoted(v);
         std::vector<customer_tier> tiers;
         for (const auto& item : v) {
           auto tier =
               item.is_string() ? parse_customer_tier(item.get_ref<const std::string&>()) : std::nullopt;
           if (!tier) return "expected paid or free, got " + quoted(item);
           if (std::find(tiers.begin(), tiers.end(), *tier) == tiers.end()) tiers.push_back(*tier);
         }
         f.customers = std::move(tiers);
         return std::nullopt;
       }},
      {"free_tier_directly_impacted", kind::boolean, bool_field(&facts::free_tier_directly_impacted)},
      {"legal_requirements", kind::word_list,
       [](facts& f, const json& v) -> field_error {
         if (!v.is_array()) return "expected a list of strings, got " + quoted(v);
         std::vector<std::string> out;
         for (const auto& item : v) {
           if (!item.is_string() || item.get_ref<const std::string&>().empty()) {
             return "expected a non-empty string, got " + quoted(item);
           }
           out.push_back(item.get<std::string>());
         }
         f.legal_requirements = std::move(out);
         return std::nullopt;
       }},
      {"notifications_sent", kind::time_list,
       [](facts& f, const json& v) -> field_error {
         if (!v.is_array()) return "expected a list of RFC 3339 times, got " + quoted(v);
         std::vector<sys_seconds> out;
         for (const auto& item : v) {
           sys_seconds t;
           if (auto e = read_time(item, t)) return e;
           out.push_back(t);
         }
         f.notifications_sent = std::move(out);
         return std::nullopt;
       }},
      {"resolved_at", kind::optional_time, optional_time_field(&facts::resolved_at)},
  }};
  return all;
}

const field* find_field(std::string_view key) {
  for (const auto& f : fields()) {
    if (f.key == key) return &f;
  }
  return nullptr;
}

std::string known_keys() {
  std::string out;
  for (const auto& f : fields()) {
    out += (out.empty() ? "" : ", ") + std::string{f.key};
  }
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

json split_list(std::string_view value) {
  json out = json::array();
  value = trim(value);
  if (value.empty()) return out;
  while (true) {
    const auto comma = value.find(',');
    out.push_back(std::string{trim(value.substr(0, comma))});
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return out;
}

}  // namespace

std::string facts_error::text() const { return field.empty() ? message : field + ": " + message; }

facts_result facts_from_json(const json& j) {
  facts_result r;
  if (!j.is_object()) {
    r.error = facts_error{"", "expected a JSON object of facts, got " + std::string{j.type_name()}};
    return r;
  }
  for (const auto& [key, value] : j.items()) {
    const field* f = find_field(key);
    if (!f) {
      r.error = facts_error{key, "unknown fact (known: " + known_keys() + ")"};
      return r;
    }
    if (auto message = f->apply(r.value, value)) {
      r.error = facts_error{key, *message};
      return r;
    }
  }
  return r;
}

facts_result facts_from_json_text(std::string_view text) {
  // Facts are a flat object of a dozen keys: 64 KiB and 16 levels are far more than any real
  // input, and bound what a hostile one can cost.
  auto parsed = input::parse_untrusted_json(text, {.max_bytes = std::size_t{64} * 1024, .max_depth = 16});
  if (!parsed.ok()) {
    facts_result r;
    r.error = facts_error{"", "not valid JSON (" + parsed.error + ")"};
    return r;
  }
  return facts_from_json(parsed.value);
}

json to_json(const facts& f) {
  auto time_or_null = [](const std::optional<sys_seconds>& t) -> json {
    return t ? json(format_rfc3339(*t)) : json(nullptr);
  };
  json customers = json::array();
  for (auto c : f.customers) customers.push_back(std::string{to_string(c)});
  json sent = json::array();
  for (auto t : f.notifications_sent) sent.push_back(format_rfc3339(t));
  return {
      {"severity", f.severity ? json(std::string{to_string(*f.severity)}) : json(nullptr)},
      {"classification", f.classification ? json(std::string{to_string(*f.classification)}) : json(nullptr)},
      {"impact_confirmed_at", time_or_null(f.impact_confirmed_at)},
      {"user_action_required", f.user_action_required},
      {"fix_available", f.fix_available},
      {"fix_applied", f.fix_applied},
      {"routine_dependency_patch", f.routine_dependency_patch},
      {"users_affected", std::string{to_string(f.users_affected)}},
      {"data_exposed", std::string{to_string(f.data_exposed)}},
      {"metadata_exposed", std::string{to_string(f.metadata_exposed)}},
      {"exploited", std::string{to_string(f.exploited)}},
      {"customers", customers},
      {"free_tier_directly_impacted", f.free_tier_directly_impacted},
      {"legal_requirements", f.legal_requirements},
      {"notifications_sent", sent},
      {"resolved_at", time_or_null(f.resolved_at)},
  };
}

std::optional<facts_error> set_fact(facts& f, std::string_view key, std::string_view value) {
  const field* fd = find_field(key);
  if (!fd) {
    return facts_error{std::string{key}, "unknown fact (known: " + known_keys() + ")"};
  }
  json v;
  const std::string_view text = trim(value);
  switch (fd->shape) {
    case kind::boolean:
      if (text == "true") v = true;
      else if (text == "false") v = false;
      else v = std::string{text};  // rejected by the field with the usual message
      break;
    case kind::word: v = std::string{text}; break;
    case kind::optional_word:
    case kind::optional_time: v = text.empty() ? json(nullptr) : json(std::string{text}); break;
    case kind::word_list:
    case kind::time_list: v = split_list(text); break;
  }
  facts updated = f;
  if (auto message = fd->apply(updated, v)) return facts_error{std::string{key}, *message};
  f = std::move(updated);
  return std::nullopt;
}

}  // namespace flare::policy
