#include "policy/classification.hpp"

namespace flare::policy {

facts classify(facts f, classification c, std::chrono::sys_seconds now,
               std::optional<std::chrono::sys_seconds> impact_confirmed_at) {
  f.classification = c;
  if (impact_confirmed_at) {
    f.impact_confirmed_at = impact_confirmed_at;
  } else if (c == classification::confirmed && !f.impact_confirmed_at) {
    // SaaS process, "Security Incident Classification", item 1: a Confirmed Compromise is a
    // confirmed breach, so impact is confirmed at the moment of classification.
    f.impact_confirmed_at = now;
  }
  return f;
}

}  // namespace flare::policy
