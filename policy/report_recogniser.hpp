// Reads a message the way a person on the Security Team would: is it a report, of what, and
// must it stay private? Pure: the lexicon comes in (report_lexicon.hpp), the text comes in, a
// recognition comes out. Never throws on any input (invalid UTF-8 included).
//
// How it decides (docs/intake.md has the operator's view):
// 1. The text is folded (case, accents, quotes, dashes, full-width forms) and split into words,
//    each with its base form (report_text.hpp).
// 2. Every pattern of every category is matched; a match adds its weight to its category unless
//    a negation stands right before it ("not a phishing email"); next to a topic word
//    ("phishing training") it adds only a fraction. A question about the process without the
//    writer's own stake ("how do I report a lost laptop?") scales every weight down.
// 3. A category whose weights reach the threshold is recognised. A sensitive category already
//    counts at a fraction of it: when unsure, private (issue 8; response policy, "Incident
//    Detection", paragraph 2).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "policy/report_lexicon.hpp"
#include "policy/report_text.hpp"

namespace flare::policy {

struct category_score {
  std::string name;
  incident_kind kind = incident_kind::security;
  bool sensitive = false;
  double score = 0;
  std::vector<std::string> triggers;  // the words of the text that matched, folded, each once
};

struct recognition {
  bool is_report = false;
  bool sensitive = false;
  incident_kind kind = incident_kind::none;  // of the highest-scoring recognised category
  std::vector<category_score> categories;    // recognised ones, in lexicon order
};

class report_recogniser {
 public:
  explicit report_recogniser(report_lexicon lexicon);

  recognition recognise(std::string_view text) const;

  const report_lexicon& lexicon() const { return lexicon_; }

  // At most this many words of a message are read: enough for any real report, and it bounds
  // the work a 40 000-character message can cause.
  static constexpr std::size_t max_words = 4000;

 private:
  struct element {
    std::vector<std::string> stems;
    std::vector<std::string> prefixes;
    int gap_before = 0;  // other words allowed between the previous element and this one
  };
  struct compiled_pattern {
    std::size_t category = 0;
    double weight = 1;
    bool any_order = false;
    std::vector<element> elements;
  };
  struct token_view {
    const report_token* token;
    std::vector<const std::string*> corrections;  // vocabulary words one typo away
  };

  compiled_pattern compile(const std::string& pattern, std::size_t category, double weight) const;
  bool element_matches(const element& e, const token_view& t) const;
  bool match_ordered(const compiled_pattern& p, const std::vector<token_view>& words, std::size_t start,
                     std::vector<std::size_t>& at) const;
  bool match_any_order(const compiled_pattern& p, const std::vector<token_view>& words, std::size_t start,
                       std::vector<std::size_t>& at) const;
  bool negated(const std::vector<token_view>& words, std::size_t first,
               const std::vector<std::size_t>& matched) const;
  bool near_topic_word(const std::vector<token_view>& words, std::size_t first, std::size_t last) const;
  bool is_process_question(std::string_view text, const std::vector<token_view>& words) const;
  bool any_match(const std::vector<compiled_pattern>& list, const std::vector<token_view>& words,
                 bool statement_only = false) const;
  double message_factor(std::string_view text, const std::vector<token_view>& words) const;

  report_lexicon lexicon_;
  std::vector<compiled_pattern> patterns_;
  std::vector<compiled_pattern> question_patterns_;
  std::vector<compiled_pattern> personal_patterns_;
  std::vector<compiled_pattern> hypothetical_patterns_;
  std::vector<compiled_pattern> settled_patterns_;
  // Typo targets: pattern stems of 6+ letters and pattern prefixes of 5+.
  std::vector<std::string> vocabulary_;
  std::vector<std::string> prefix_vocabulary_;
  std::vector<std::string> negators_, fillers_, topic_stems_, announcement_stems_, never_corrected_;
};

}  // namespace flare::policy
