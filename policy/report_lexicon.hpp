// The report recogniser's data: categories, their patterns and weights, and the words that
// cancel or soften a match. Defaults come from the response policy ("Incident Detection");
// operators extend them through `intake.*` in the config (docs/intake.md).
//
// Pattern syntax (the same in the defaults and in the config):
// - words separated by spaces; each word matches any form of itself ("phishing" matches
//   "phished", "phish"; "stolen" matches "stole", "steal"), and longer words (6+ letters of
//   base form) also match a one-letter typo ("pasword", "ransomwre");
// - `a|b|c` is any one of the words; `word*` is any word starting with "word";
// - consecutive words may have up to `near_gap` other words between them; `...` allows up to
//   `far_gap` ("shared ... password ... email");
// - `a & b & c` (each part one word or `a|b`): all of them within `far_gap` words, any order.
#pragma once

#include <string>
#include <vector>

#include "policy/incident_kind.hpp"

namespace flare::policy {

// Response policy, "Incident Detection", paragraph 2: sensitive reports go to the Security Team
// or to the Head of Finance & Operations, not the public channel. The kind (incident_kind.hpp)
// proposes which checklist the incident gets (security incident vs people and safety).
std::string_view kind_name(incident_kind k);  // "none", "security", "people and safety"

struct weighted_pattern {
  std::string pattern;
  double weight = 1.0;
};

struct report_category {
  std::string name;  // shown to responders ("phishing", "harassment")
  incident_kind kind = incident_kind::security;
  bool sensitive = false;  // person-related harm: routed privately
  std::vector<weighted_pattern> patterns;
};

struct report_lexicon {
  std::vector<report_category> categories;
  // A category is recognised when the weights of its matched patterns add up to this.
  double threshold = 1.0;
  // "When unsure, treat it as sensitive" (issue 8): a sensitive category at this fraction of the
  // threshold already makes the report sensitive (and a report).
  double sensitive_fraction = 0.5;
  int near_gap = 2;
  int far_gap = 8;
  // A match right after one of these ("not a phishing email", "nobody was hurt") counts for
  // nothing; only `negation_fillers` may stand between the two.
  std::vector<std::string> negators;
  std::vector<std::string> negation_fillers;
  // A match next to one of these words is about the topic, not an event ("phishing training",
  // "harassment policy"): its weight is multiplied by `topic_factor`.
  std::vector<std::string> topic_words;
  double topic_factor = 0.3;
  // A question about the process ("how do I report a lost laptop?") without the writer's own
  // stake (a pattern of `personal_patterns`: me, my, our, "I clicked") is not a report: every
  // weight is multiplied by `question_factor`.
  std::vector<std::string> process_question_patterns;
  // A hypothetical question ("what should I do if I lose my laptop?") is scaled down even with
  // the writer's own stake.
  std::vector<std::string> hypothetical_patterns;
  std::vector<std::string> personal_patterns;
  double question_factor = 0.4;
  // A message that settles or retracts ("false alarm", "never mind", "all good") or gives advice
  // ("reminder to lock your screen") is not a new report: every weight times `settled_factor`.
  std::vector<std::string> settled_patterns;
  double settled_factor = 0.3;
  // One of these anywhere in a message without the writer's own stake ("the security newsletter
  // is about MFA fatigue attacks"): every weight times `announcement_factor`.
  std::vector<std::string> announcement_words;
  double announcement_factor = 0.5;
  // Common words one typo away from a keyword ("thread"/"threat", "random"/"ransom").
  std::vector<std::string> never_corrected;
};

report_lexicon default_report_lexicon();

// Adds config phrases (`intake.signals.<name>`, `intake.sensitive.<name>`): to the category of
// that name if there is one (a sensitive table also makes it sensitive), else as a new category
// (security kind for signals, people and safety for sensitive). Each phrase weighs `threshold`,
// so one match is enough.
void add_phrases(report_lexicon& lexicon, const std::string& name, const std::vector<std::string>& phrases,
                 bool sensitive);

}  // namespace flare::policy
