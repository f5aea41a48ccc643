// How the report recogniser reads text before matching: Unicode and case folding, words, and
// word forms. Pure and total: any byte string (including invalid UTF-8) gives a result, never an
// exception, so a Slack message can never stop intake.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace flare::policy {

// One word of a report: `surface` is the folded word as written ("phished", "don't" -> "dont"),
// `stem` its base form ("phish"), used for matching.
struct report_token {
  std::string surface;
  std::string stem;
  friend bool operator==(const report_token&, const report_token&) = default;
};

// Folds `text` to lowercase ASCII where a reader would see no difference: accented Latin letters
// to their base letter ("é" -> "e", "ß" -> "ss"), curly quotes and apostrophes to ' and ",
// dashes and minus signs to '-', full-width forms to ASCII, odd spaces to ' '. Invalid UTF-8
// bytes become ' '. Letters outside Latin stay as they are (lowercased where ASCII).
std::string fold_text(std::string_view text);

// Base form of one folded word: a small table of irregular forms (stole, stolen -> steal; fell
// -> fall) and suffix rules (phishing, phished, phishes -> phish; bullied -> bully; shared,
// share -> shar). Only ever compared with the stem of another word, never shown.
std::string stem_word(std::string_view word);

// Words of `text` after fold_text: runs of letters and digits (non-ASCII letters stay inside
// words); an apostrophe inside a word is dropped ("don't" -> "dont", "someone's" -> "someone");
// a few split spellings are joined ("e-mail" -> "email", "anti virus" -> "antivirus").
std::vector<report_token> report_tokens(std::string_view text);

// Damerau-Levenshtein distance, capped: returns `limit + 1` as soon as it is exceeded.
int edit_distance(std::string_view a, std::string_view b, int limit);

}  // namespace flare::policy
