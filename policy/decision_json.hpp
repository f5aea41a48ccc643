// A decision as JSON, for the CLI, the audit log and the incident card.
#pragma once

#include <nlohmann/json.hpp>

#include "policy/disclosure.hpp"

namespace flare::policy {

// Times are RFC 3339 UTC with a trailing Z, absent times are null.
nlohmann::json to_json(const decision& d);
nlohmann::json to_json(const reason& r);

}  // namespace flare::policy
