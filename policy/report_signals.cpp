#include "policy/report_signals.hpp"

#include <utility>

namespace flare::policy {

report_lexicon configured_lexicon(const phrase_table& signals, const phrase_table& sensitive_categories,
                                  double threshold) {
  report_lexicon lexicon = default_report_lexicon();
  lexicon.threshold = threshold;
  for (const auto& [name, phrases] : signals) add_phrases(lexicon, name, phrases, false);
  for (const auto& [name, phrases] : sensitive_categories) add_phrases(lexicon, name, phrases, true);
  return lexicon;
}

report_matcher::report_matcher(const phrase_table& signals, const phrase_table& sensitive_categories,
                               double threshold)
    : recogniser_(configured_lexicon(signals, sensitive_categories, threshold)) {}

report_matcher::report_matcher(report_lexicon lexicon) : recogniser_(std::move(lexicon)) {}

report_match report_matcher::match(std::string_view text) const {
  auto r = recogniser_.recognise(text);
  report_match m;
  m.is_report = r.is_report;
  m.kind = r.kind;
  for (const auto& c : r.categories) (c.sensitive ? m.sensitive_categories : m.signals).push_back(c.name);
  m.categories = std::move(r.categories);
  return m;
}

}  // namespace flare::policy
