// `flare classify-text`: reads messages, one per line, on stdin and prints for each what intake
// would make of it: report or not, the categories with their scores, sensitivity (private
// routing), the proposed incident kind and the words that triggered each category. An
// operator's way to try their own wording before tuning `intake.*` (docs/intake.md).
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "policy/report_lexicon.hpp"

namespace flare {

// args: empty or {"--json"} (one JSON object per input line). Returns 0, or 2 with a message on
// `err` for unknown arguments. Empty input lines are skipped.
int run_classify_text_cli(const std::vector<std::string>& args, std::istream& in, std::ostream& out,
                          std::ostream& err, const policy::report_lexicon& lexicon);

}  // namespace flare
