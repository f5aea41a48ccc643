// Reading one field of a JSON object from outside flare (a Slack payload, a button's value, a
// stored outbox payload) without trusting its shape: a missing key, a value of another type or a
// parent that is not an object all read as "" rather than throwing, so the caller decides what an
// absent value means.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace flare::input {

// j[key] when j is an object and that value is a string; otherwise "".
inline std::string string_at(const nlohmann::json& j, const char* key) {
  if (!j.is_object()) return {};
  const auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string{};
}

// j[outer][inner], read the same way (e.g. an event's `event.type`).
inline std::string string_at(const nlohmann::json& j, const char* outer, const char* inner) {
  if (!j.is_object()) return {};
  const auto it = j.find(outer);
  return it == j.end() ? std::string{} : string_at(*it, inner);
}

}  // namespace flare::input
