#include "policy/report_signals.hpp"

namespace flare::policy {

namespace {

bool word_byte(unsigned char c) {
  // Bytes >= 0x80 belong to UTF-8 sequences: keep them inside words so that non-ASCII letters
  // never split a word into pieces that could match an ASCII phrase.
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80;
}

char lower(unsigned char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : static_cast<char>(c); }

}  // namespace

std::vector<std::string> report_words(std::string_view text) {
  std::vector<std::string> words;
  std::string current;
  for (unsigned char c : text) {
    if (word_byte(c)) {
      current.push_back(lower(c));
    } else if (!current.empty()) {
      words.push_back(std::move(current));
      current.clear();
    }
  }
  if (!current.empty()) words.push_back(std::move(current));
  return words;
}

report_matcher::report_matcher(const phrase_table& signals, const phrase_table& sensitive_categories) {
  auto add = [this](const phrase_table& table, bool sensitive) {
    for (const auto& [name, list] : table) {
      const std::size_t entry = names_.size();
      names_.push_back(name);
      is_sensitive_.push_back(sensitive);
      for (const auto& text : list) {
        auto words = report_words(text);
        if (words.empty()) continue;  // a phrase of punctuation only can never match
        by_first_word_[words.front()].push_back(phrases_.size());
        phrases_.push_back(phrase{std::move(words), entry});
      }
    }
  };
  add(signals, false);
  add(sensitive_categories, true);
}

report_match report_matcher::match(std::string_view text) const {
  const auto words = report_words(text);
  std::vector<bool> hit(names_.size(), false);
  for (std::size_t i = 0; i < words.size(); ++i) {
    const auto found = by_first_word_.find(words[i]);
    if (found == by_first_word_.end()) continue;
    for (const std::size_t p : found->second) {
      const auto& ph = phrases_[p];
      if (hit[ph.entry] || i + ph.words.size() > words.size()) continue;
      bool all = true;
      for (std::size_t k = 1; k < ph.words.size() && all; ++k) all = words[i + k] == ph.words[k];
      if (all) hit[ph.entry] = true;
    }
  }
  report_match m;
  for (std::size_t e = 0; e < names_.size(); ++e) {
    if (!hit[e]) continue;
    (is_sensitive_[e] ? m.sensitive_categories : m.signals).push_back(names_[e]);
  }
  return m;
}

}  // namespace flare::policy
