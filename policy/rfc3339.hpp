// RFC 3339 times on the wire: always written as UTC with a trailing Z, read strictly.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace flare::policy {

// Accepts "YYYY-MM-DDTHH:MM:SS[.frac](Z|+hh:mm|-hh:mm)" and converts to UTC; fractional seconds
// are truncated. Anything else (no offset, a space for T, leap second 60, out-of-range fields)
// gives nullopt, so the caller can name the field that held it.
std::optional<std::chrono::sys_seconds> parse_rfc3339(std::string_view text);

// "2026-11-20T10:00:00Z".
std::string format_rfc3339(std::chrono::sys_seconds t);

}  // namespace flare::policy
