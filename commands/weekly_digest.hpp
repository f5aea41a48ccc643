// The figures of the weekly compliance digest (messages/weekly_digest.hpp) from the store: every
// incident, its audit log (when it was classified), its checklist (commands/incident_checklist)
// and its facts (when impact was confirmed). Counting rules (docs/evidence.md):
// - opened / closed: created / resolved within [since, until), by severity (unclassified when
//   none) and kind;
// - on time / late: obligations whose due time falls within [since, until): done by the due
//   time, or done after it or still not done at `until`;
// - still open: pending obligations with a due time, whatever the period;
// - report → classification: from the incident's creation to its first `classify` entry, for
//   incidents classified within the period; impact confirmation → first customer notice: from
//   `impact_confirmed_at` to the paid-customer initial notice being done, for notices done
//   within the period;
// - weeks: twelve 7-day windows ending at `until`, with on time / late (as above) and the
//   median time to classify.
#pragma once

#include <chrono>

#include "bot/store/store.hpp"
#include "messages/weekly_digest.hpp"
#include "policy/business_calendar.hpp"
#include "policy/tables.hpp"

namespace flare::commands {

inline constexpr int digest_weeks = 12;

messages::digest_figures compute_digest(store::store& store, const policy::tables& tables,
                                        const policy::business_calendar& calendar,
                                        std::chrono::sys_seconds since, std::chrono::sys_seconds until);

}  // namespace flare::commands
