// The classification step (SaaS process, "Security Incident Classification").
#pragma once

#include <chrono>
#include <optional>

#include "policy/facts.hpp"

namespace flare::policy {

// Returns `f` classified as `c`.
// - confirmed: the impact clock starts at `impact_confirmed_at` if given, else at the clock
//   already recorded, else at `now`. An earlier recorded start is kept because it is the one
//   that gives customers their notices sooner.
// - potential: the clock starts only when a responder records impact confirmation, so only an
//   explicit `impact_confirmed_at` sets it. A clock that was already started is not stopped by
//   reclassifying: un-confirming impact is a deliberate edit of impact_confirmed_at.
facts classify(facts f, classification c, std::chrono::sys_seconds now,
               std::optional<std::chrono::sys_seconds> impact_confirmed_at = std::nullopt);

}  // namespace flare::policy
