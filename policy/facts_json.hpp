// Facts to and from JSON (storage, the CLI) and from "key=value" (the /incident facts command).
// Every error names the field, so the person who typed it can fix it.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "policy/facts.hpp"

namespace flare::policy {

struct facts_error {
  std::string field;    // the JSON key / command key at fault ("" for the document itself)
  std::string message;  // what is wrong and what is expected

  std::string text() const;  // "users_affected: expected one of confirmed|unknown|none, got \"yes\""
  friend bool operator==(const facts_error&, const facts_error&) = default;
};

struct facts_result {
  facts value;  // meaningful only without error
  std::optional<facts_error> error;

  explicit operator bool() const { return !error; }
};

// Missing keys take the defaults of `facts`; unknown keys are errors (a typo must not silently
// drop a fact).
facts_result facts_from_json(const nlohmann::json& j);
facts_result facts_from_json_text(std::string_view text);

// Every field, so a stored document reads back to the same facts.
nlohmann::json to_json(const facts& f);

// The same validation as facts_from_json, one key at a time. Lists are comma-separated
// ("customers=paid,free"); an empty value clears an optional or empties a list.
std::optional<facts_error> set_fact(facts& f, std::string_view key, std::string_view value);

}  // namespace flare::policy
