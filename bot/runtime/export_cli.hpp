// `flare export INC-7 --out FILE [--format md|json]`: the incident record
// (messages/incident_record.hpp) from the store, written to a file (or "-" for stdout) on the
// bot's host. The same record `/incident export` uploads to Slack; for auditors and for a console
// installation without Slack.
#pragma once

#include <chrono>
#include <iosfwd>
#include <string>
#include <vector>

#include "bot/store/store.hpp"
#include "policy/business_calendar.hpp"
#include "policy/tables.hpp"

namespace flare {

// args: {"INC-7", "--out", FILE} plus optionally {"--format", "md"|"json"} in any order (default
// md; a FILE ending in .json means json). Returns 0 after writing; bad arguments: 2; no such
// incident: 1; each with a message on `err`. The file is written next to its final name and
// renamed, so an interrupted export leaves no half-written record.
int run_export_cli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
                   store::store& store, const policy::tables& tables,
                   const policy::business_calendar& calendar, std::chrono::sys_seconds now);

}  // namespace flare
