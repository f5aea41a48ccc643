// What intake needs from the report recogniser (report_recogniser.hpp): the categories a message
// names, split into signals (shown in the public reply) and sensitive categories (the report is
// routed privately), plus whether it is a report at all.
//
// Built from the default lexicon (report_lexicon.hpp) and the config's `intake.signals.<name>`
// and `intake.sensitive.<name>` phrase tables, which add to it (docs/intake.md).
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "policy/report_lexicon.hpp"
#include "policy/report_recogniser.hpp"

namespace flare::policy {

// name -> phrases, as in config (`intake.signals`, `intake.sensitive`).
using phrase_table = std::map<std::string, std::vector<std::string>>;

struct report_match {
  std::vector<std::string> signals;               // recognised non-sensitive categories, lexicon order
  std::vector<std::string> sensitive_categories;  // recognised sensitive categories, lexicon order
  bool is_report = false;  // false for chatter ("thanks!", "ok", questions about the process)
  incident_kind kind = incident_kind::none;
  std::vector<category_score> categories;  // scores and trigger words of every recognised category

  bool sensitive() const { return !sensitive_categories.empty(); }
};

// The default lexicon with the config's phrase tables added and its threshold set.
report_lexicon configured_lexicon(const phrase_table& signals, const phrase_table& sensitive_categories,
                                  double threshold = report_lexicon{}.threshold);

class report_matcher {
 public:
  report_matcher(const phrase_table& signals, const phrase_table& sensitive_categories,
                 double threshold = report_lexicon{}.threshold);
  explicit report_matcher(report_lexicon lexicon);

  report_match match(std::string_view text) const;

 private:
  report_recogniser recogniser_;
};

}  // namespace flare::policy
