// `flare decide`: read incident facts as JSON, print the policy decision as JSON. No Slack, no
// store, no clock: a responder's way to ask "what does the policy say about these facts?".
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "policy/business_calendar.hpp"
#include "policy/tables.hpp"

namespace flare {

// args: empty (facts on `in`) or {"--facts", FILE}. Prints the decision (2-space JSON) on `out`
// and returns 0; bad facts, an unreadable file or bad arguments: a message on `err`, returns 2.
int run_decide_cli(const std::vector<std::string>& args, std::istream& in, std::ostream& out,
                   std::ostream& err, const policy::tables& tables,
                   const policy::business_calendar& calendar);

}  // namespace flare
