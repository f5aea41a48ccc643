// Which of the response policy's signals, and which sensitive categories, a report mentions.
// Pure: built once from the config tables (name -> phrases), then matched against report text.
//
// Matching is case-insensitive and word-aware: text and phrases are both split into words (runs
// of letters and digits; any other ASCII character separates words, UTF-8 bytes stay inside
// words), and a phrase matches only as a run of whole words. So "phish" does not match inside
// "sophisticated", and does not match "phishing" either: list every form a table should catch
// (the defaults list "phish", "phishing", "phishy"). "anti-virus" and "anti virus" are the same
// two words.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace flare::policy {

// name -> phrases, as in config (`intake.signals`, `intake.sensitive`).
using phrase_table = std::map<std::string, std::vector<std::string>>;

struct report_match {
  std::vector<std::string> signals;               // names, in table order, each once
  std::vector<std::string> sensitive_categories;  // names, in table order, each once

  bool sensitive() const { return !sensitive_categories.empty(); }
  friend bool operator==(const report_match&, const report_match&) = default;
};

// Lowercased words of `text` as described above (exposed for tests).
std::vector<std::string> report_words(std::string_view text);

class report_matcher {
 public:
  report_matcher(const phrase_table& signals, const phrase_table& sensitive_categories);

  report_match match(std::string_view text) const;

 private:
  struct phrase {
    std::vector<std::string> words;
    std::size_t entry = 0;  // index into names_
  };
  // Response policy, "Incident Detection": the suspicious activities (signals) and the
  // categories reported privately (sensitive) share one scan of the text.
  std::vector<std::string> names_;
  std::vector<bool> is_sensitive_;
  std::vector<phrase> phrases_;
  // First word -> phrases starting with it: one hash lookup per word of the report.
  std::unordered_map<std::string, std::vector<std::size_t>> by_first_word_;
};

}  // namespace flare::policy
