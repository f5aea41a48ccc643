// Test shorthand: RFC 3339 text to sys_seconds, failing loudly on a typo in a test table.
#pragma once

#include <stdexcept>
#include <string>

#include "policy/rfc3339.hpp"

namespace flare::policy::testing {

inline std::chrono::sys_seconds at(const std::string& text) {
  auto t = parse_rfc3339(text);
  if (!t) throw std::invalid_argument("bad test time " + text);
  return *t;
}

}  // namespace flare::policy::testing
