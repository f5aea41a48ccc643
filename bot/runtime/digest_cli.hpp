// `flare digest --since DATE [--until DATE] --out DIR`: the weekly compliance digest
// (messages/weekly_digest.hpp) for [since, until) (default: 7 days) written to DIR as
// digest-<since>.md and digest-<since>.png, from the store. DATE is YYYY-MM-DD (midnight UTC) or
// an RFC 3339 time.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "bot/store/store.hpp"
#include "policy/business_calendar.hpp"
#include "policy/tables.hpp"

namespace flare {

// 0 written; 2 bad arguments; 1 the files could not be written. Messages on `err`.
int run_digest_cli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
                   store::store& store, const policy::tables& tables,
                   const policy::business_calendar& calendar);

}  // namespace flare
