#include "policy/report_recogniser.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

namespace flare::policy {

namespace {

std::vector<std::string> split(std::string_view s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == sep) {
      out.push_back(std::move(cur));
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  out.push_back(std::move(cur));
  return out;
}

std::vector<std::string> split_words(std::string_view s) {
  std::vector<std::string> out;
  for (auto& w : split(s, ' '))
    if (!w.empty()) out.push_back(std::move(w));
  return out;
}

bool contains(const std::vector<std::string>& list, const std::string& s) {
  return std::find(list.begin(), list.end(), s) != list.end();
}

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

// The folded, base form of a pattern word ("Stolen" -> "steal"); empty if it has no letters.
std::string pattern_stem(const std::string& word) {
  auto tokens = report_tokens(word);
  return tokens.empty() ? std::string{} : tokens.front().stem;
}

std::string pattern_fold(const std::string& word) {
  auto tokens = report_tokens(word);
  return tokens.empty() ? std::string{} : tokens.front().surface;
}

void add_unique(std::vector<std::string>& list, std::string s) {
  if (!s.empty() && !contains(list, s)) list.push_back(std::move(s));
}

}  // namespace

std::string_view kind_name(incident_kind k) {
  switch (k) {
    case incident_kind::security: return "security";
    case incident_kind::people_and_safety: return "people and safety";
    case incident_kind::none: break;
  }
  return "none";
}

report_recogniser::report_recogniser(report_lexicon lexicon) : lexicon_(std::move(lexicon)) {
  for (std::size_t c = 0; c < lexicon_.categories.size(); ++c)
    for (const auto& p : lexicon_.categories[c].patterns) {
      auto compiled = compile(p.pattern, c, p.weight);
      if (!compiled.elements.empty()) patterns_.push_back(std::move(compiled));
    }
  for (const auto& p : lexicon_.process_question_patterns) {
    auto compiled = compile(p, 0, 1);
    if (!compiled.elements.empty()) question_patterns_.push_back(std::move(compiled));
  }
  for (const auto& p : lexicon_.personal_patterns) {
    auto compiled = compile(p, 0, 1);
    if (!compiled.elements.empty()) personal_patterns_.push_back(std::move(compiled));
  }
  for (const auto& p : lexicon_.settled_patterns) {
    auto compiled = compile(p, 0, 1);
    if (!compiled.elements.empty()) settled_patterns_.push_back(std::move(compiled));
  }
  for (const auto& p : lexicon_.hypothetical_patterns) {
    auto compiled = compile(p, 0, 1);
    if (!compiled.elements.empty()) hypothetical_patterns_.push_back(std::move(compiled));
  }
  for (const auto& w : lexicon_.negators) add_unique(negators_, pattern_fold(w));
  for (const auto& w : lexicon_.negation_fillers) add_unique(fillers_, pattern_fold(w));
  for (const auto& w : lexicon_.topic_words) add_unique(topic_stems_, pattern_stem(w));
  for (const auto& w : lexicon_.announcement_words) add_unique(announcement_stems_, pattern_stem(w));
  for (const auto& w : lexicon_.never_corrected) add_unique(never_corrected_, pattern_fold(w));
  for (const auto& p : patterns_)
    for (const auto& e : p.elements) {
      for (const auto& s : e.stems)
        if (s.size() >= 6) add_unique(vocabulary_, s);
      for (const auto& s : e.prefixes)
        if (s.size() >= 5) add_unique(prefix_vocabulary_, s);
    }
}

report_recogniser::compiled_pattern report_recogniser::compile(const std::string& pattern,
                                                               std::size_t category, double weight) const {
  compiled_pattern out;
  out.category = category;
  out.weight = weight;
  const auto folded = fold_text(pattern);
  std::vector<std::string> parts;
  if (folded.find('&') != std::string::npos) {
    out.any_order = true;
    for (auto& part : split(folded, '&'))
      for (auto& w : split_words(part)) parts.push_back(std::move(w));
  } else {
    parts = split_words(folded);
  }
  int gap = lexicon_.near_gap;
  for (const auto& part : parts) {
    if (part == "...") {
      gap = lexicon_.far_gap;
      continue;
    }
    element e;
    e.gap_before = out.elements.empty() ? 0 : gap;
    for (const auto& alternative : split(part, '|')) {
      if (alternative.empty()) continue;
      if (alternative.back() == '*') {
        add_unique(e.prefixes, pattern_fold(alternative.substr(0, alternative.size() - 1)));
      } else {
        // "e-mail" or "anti virus" written in a pattern word: its tokens joined.
        std::string joined;
        for (const auto& t : report_tokens(alternative)) joined += t.surface;
        add_unique(e.stems, stem_word(joined));
      }
    }
    if (!e.stems.empty() || !e.prefixes.empty()) out.elements.push_back(std::move(e));
    gap = lexicon_.near_gap;
  }
  return out;
}

bool report_recogniser::element_matches(const element& e, const token_view& t) const {
  const auto& tok = *t.token;
  for (const auto& s : e.stems)
    if (tok.stem == s) return true;
  for (const auto& p : e.prefixes)
    if (starts_with(tok.surface, p)) return true;
  for (const auto* fix : t.corrections) {
    for (const auto& s : e.stems)
      if (*fix == s) return true;
    for (const auto& p : e.prefixes)
      if (*fix == p) return true;
  }
  return false;
}

bool report_recogniser::match_ordered(const compiled_pattern& p, const std::vector<token_view>& words,
                                      std::size_t start, std::vector<std::size_t>& at) const {
  at.assign(1, start);
  // Depth-first over the next element's positions; gaps are small, so this stays cheap.
  auto step = [&](auto&& self, std::size_t k) -> bool {
    if (k == p.elements.size()) return true;
    const std::size_t from = at.back() + 1;
    const std::size_t to =
        std::min(words.size(), from + static_cast<std::size_t>(p.elements[k].gap_before) + 1);
    for (std::size_t q = from; q < to; ++q) {
      if (!element_matches(p.elements[k], words[q])) continue;
      at.push_back(q);
      if (self(self, k + 1)) return true;
      at.pop_back();
    }
    return false;
  };
  return step(step, 1);
}

bool report_recogniser::match_any_order(const compiled_pattern& p, const std::vector<token_view>& words,
                                        std::size_t start, std::vector<std::size_t>& at) const {
  at.assign(1, start);
  const auto window = static_cast<std::size_t>(lexicon_.far_gap) + 1;
  const std::size_t lo = start >= window ? start - window : 0;
  const std::size_t hi = std::min(words.size(), start + window + 1);
  for (std::size_t k = 1; k < p.elements.size(); ++k) {
    bool found = false;
    for (std::size_t q = lo; q < hi && !found; ++q) {
      if (q == start || !element_matches(p.elements[k], words[q])) continue;
      at.push_back(q);
      found = true;
    }
    if (!found) return false;
  }
  return true;
}

bool report_recogniser::negated(const std::vector<token_view>& words, std::size_t first,
                                const std::vector<std::size_t>& matched) const {
  // "not a phishing email", "nobody was hurt", "wasn't stolen": the negation must stand right
  // before the match, with only fillers between, so "didn't click the phishing link" is still
  // phishing. A negation the pattern itself matched ("don't recognise") is part of its meaning.
  for (std::size_t back = 1; back <= 4 && back <= first; ++back) {
    const std::size_t q = first - back;
    if (std::find(matched.begin(), matched.end(), q) != matched.end()) return false;
    const auto& w = words[q].token->surface;
    if (contains(negators_, w)) return true;
    if (!contains(fillers_, w)) return false;
  }
  return false;
}

bool report_recogniser::near_topic_word(const std::vector<token_view>& words, std::size_t first,
                                        std::size_t last) const {
  const std::size_t lo = first >= 2 ? first - 2 : 0;
  const std::size_t hi = std::min(words.size(), last + 3);
  for (std::size_t q = lo; q < hi; ++q) {
    if (q >= first && q <= last) continue;
    if (contains(topic_stems_, words[q].token->stem)) return true;
  }
  return false;
}

bool report_recogniser::any_match(const std::vector<compiled_pattern>& list,
                                  const std::vector<token_view>& words, bool statement_only) const {
  // "do we need to report...?" asks; "we need to report..." states: in a statement-only match
  // the words must not follow an auxiliary verb.
  static const std::vector<std::string> auxiliaries = {"do",    "does", "did",   "should", "can", "could",
                                                       "would", "will", "shall", "must",   "may", "might"};
  std::vector<std::size_t> at;
  for (const auto& p : list)
    for (std::size_t i = 0; i < words.size(); ++i) {
      if (statement_only && i > 0 && contains(auxiliaries, words[i - 1].token->surface)) continue;
      if (element_matches(p.elements.front(), words[i]) &&
          (p.any_order ? match_any_order(p, words, i, at) : match_ordered(p, words, i, at)))
        return true;
    }
  return false;
}

bool report_recogniser::is_process_question(std::string_view text,
                                            const std::vector<token_view>& words) const {
  if (words.empty()) return false;
  static const std::vector<std::string> openers = {"how",  "where", "who",    "what", "whats", "when",
                                                   "can",  "could", "should", "is",   "are",   "do",
                                                   "does", "which", "any",    "whom"};
  const bool question =
      text.find('?') != std::string_view::npos || contains(openers, words.front().token->surface);
  if (!question) return false;
  if (any_match(hypothetical_patterns_, words)) return true;
  return any_match(question_patterns_, words) && !any_match(personal_patterns_, words, true);
}

double report_recogniser::message_factor(std::string_view text, const std::vector<token_view>& words) const {
  double factor = 1.0;
  if (is_process_question(text, words)) factor *= lexicon_.question_factor;
  if (any_match(settled_patterns_, words)) factor *= lexicon_.settled_factor;
  const bool topic = std::any_of(words.begin(), words.end(), [&](const token_view& w) {
    return contains(announcement_stems_, w.token->stem);
  });
  if (topic && !any_match(personal_patterns_, words, true)) factor *= lexicon_.announcement_factor;
  return factor;
}

recognition report_recogniser::recognise(std::string_view text) const {
  const auto tokens = report_tokens(text);
  std::vector<token_view> words;
  words.reserve(std::min(tokens.size(), max_words));
  for (std::size_t i = 0; i < tokens.size() && i < max_words; ++i) {
    token_view v{&tokens[i], {}};
    const auto& stem = tokens[i].stem;
    // Typos: only words of 5+ letters, never a common word that happens to be one letter away,
    // same first letter (people rarely mistype the first one), and not a word we know exactly.
    const auto& surface = tokens[i].surface;
    if (surface.size() >= 5 && !contains(never_corrected_, surface) && !contains(never_corrected_, stem) &&
        !contains(vocabulary_, stem)) {
      for (const auto& word : vocabulary_)
        if (word.front() == stem.front() &&
            (edit_distance(stem, word, 1) <= 1 || edit_distance(surface, word, 1) <= 1))
          v.corrections.push_back(&word);
      // A prefix ("harass*") is compared with the word's start of about its length: "harrassment".
      for (const auto& prefix : prefix_vocabulary_) {
        if (prefix.front() != surface.front() || starts_with(surface, prefix)) continue;
        for (std::size_t len = prefix.size() - 1; len <= prefix.size() + 1 && len <= surface.size(); ++len)
          if (edit_distance(std::string_view(surface).substr(0, len), prefix, 1) <= 1) {
            v.corrections.push_back(&prefix);
            break;
          }
      }
    }
    words.push_back(std::move(v));
  }

  const double factor = message_factor(text, words);
  std::vector<double> score(lexicon_.categories.size(), 0.0);
  std::vector<std::vector<std::string>> triggers(lexicon_.categories.size());
  std::vector<std::size_t> at;
  for (const auto& p : patterns_) {
    for (std::size_t i = 0; i < words.size(); ++i) {
      if (!element_matches(p.elements.front(), words[i])) continue;
      if (!(p.any_order ? match_any_order(p, words, i, at) : match_ordered(p, words, i, at))) continue;
      const auto [lo, hi] = std::minmax_element(at.begin(), at.end());
      // Another occurrence may still count. In any order, a negation before any of the words
      // counts ("my phone wasn't stolen").
      if (p.any_order
              ? std::any_of(at.begin(), at.end(), [&](std::size_t q) { return negated(words, q, at); })
              : negated(words, *lo, at))

        continue;
      double w = p.weight * factor;
      if (near_topic_word(words, *lo, *hi)) w *= lexicon_.topic_factor;
      score[p.category] += w;
      if (w > 0)
        for (auto q : at) add_unique(triggers[p.category], words[q].token->surface);
      break;  // each pattern counts once per message
    }
  }

  recognition r;
  const double eps = 1e-9;
  double best = 0;
  for (std::size_t c = 0; c < lexicon_.categories.size(); ++c) {
    const auto& cat = lexicon_.categories[c];
    const double needed =
        cat.sensitive ? lexicon_.threshold * lexicon_.sensitive_fraction : lexicon_.threshold;
    if (score[c] + eps < needed || score[c] <= 0) continue;
    r.is_report = true;
    if (cat.sensitive) r.sensitive = true;
    if (score[c] > best + eps) {
      best = score[c];
      r.kind = cat.kind;
    }
    r.categories.push_back(category_score{cat.name, cat.kind, cat.sensitive, std::round(score[c] * 100) / 100,
                                          std::move(triggers[c])});
  }
  return r;
}

}  // namespace flare::policy
