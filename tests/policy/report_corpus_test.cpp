// Measures the report recogniser with its default lexicon on the labelled corpus in
// tests/intake/ and holds it to issue 8's targets on the held-out part, which the lexicon was
// not tuned on: sensitive reports routed privately >= 98 %, security reports recognised >= 92 %,
// chatter misread as a report <= 3 %. Prints the confusion table of both parts.
// FLARE_CORPUS_MISSES=1 also prints the tuning part's misread messages (for tuning the lexicon).
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "policy/report_signals.hpp"

namespace flare::policy {
namespace {

struct labelled {
  std::string label;
  bool sensitive = false;
  std::string text;
  int line = 0;
};

std::vector<labelled> read_corpus(const std::string& name) {
  const std::string path = std::string(FLARE_INTAKE_CORPUS_DIR) + "/" + name;
  std::ifstream in(path);
  EXPECT_TRUE(in) << "cannot read " << path;
  std::vector<labelled> rows;
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.empty() || line[0] == '#') continue;
    const auto a = line.find('\t');
    const auto b = a == std::string::npos ? a : line.find('\t', a + 1);
    if (b == std::string::npos) {
      ADD_FAILURE() << path << ":" << n << ": expected label<TAB>sensitive<TAB>text";
      continue;
    }
    rows.push_back({line.substr(0, a), line.substr(a + 1, b - a - 1) == "1", line.substr(b + 1), n});
  }
  return rows;
}

enum truth { t_security, t_sensitive_people, t_other_people, t_chatter };
enum outcome { o_none, o_public, o_private };

truth truth_of(const labelled& r) {
  static const std::set<std::string> people{"physical injury", "theft",           "threat",
                                            "harassment",      "property damage", "sensitive"};
  if (r.label == "chatter") return t_chatter;
  if (people.count(r.label)) return r.sensitive ? t_sensitive_people : t_other_people;
  return t_security;
}

struct figures {
  std::array<std::array<int, 3>, 4> table{};
  int sensitive = 0, sensitive_private = 0;
  int security = 0, security_recognised = 0;
  int chatter = 0, chatter_misread = 0;
  int category_hits = 0, reports = 0;

  double pct(int a, int b) const { return b == 0 ? 100.0 : 100.0 * a / b; }
};

figures measure(const std::vector<labelled>& rows, bool print_misses) {
  const report_matcher m(report_lexicon{default_report_lexicon()});
  figures f;
  for (const auto& r : rows) {
    const auto got = m.match(r.text);
    const outcome o = !got.is_report ? o_none : got.sensitive() ? o_private : o_public;
    const truth t = truth_of(r);
    ++f.table[t][o];
    bool miss = false;
    if (r.sensitive) {
      ++f.sensitive;
      if (o == o_private) ++f.sensitive_private;
      else miss = true;
    }
    if (t == t_security) {
      ++f.security;
      if (got.is_report) ++f.security_recognised;
      else miss = true;
    }
    if (t == t_chatter) {
      ++f.chatter;
      if (got.is_report) {
        ++f.chatter_misread;
        miss = true;
      }
    } else {
      ++f.reports;
      for (const auto& c : got.categories)
        if (c.name == r.label) ++f.category_hits;
    }
    if (print_misses && miss) {
      std::string cats;
      for (const auto& c : got.categories) cats += " " + c.name + "=" + std::to_string(c.score);
      std::printf("  miss line %d [%s s=%d] %s ->%s\n", r.line, r.label.c_str(), r.sensitive ? 1 : 0,
                  r.text.c_str(), cats.empty() ? " (not a report)" : cats.c_str());
    }
  }
  return f;
}

void print(const char* part, const figures& f) {
  static const char* rows[] = {"security report", "sensitive people report", "other people report",
                               "chatter"};
  std::printf("\n%s part: confusion table (rows: labelled as; columns: recognised as)\n", part);
  std::printf("  %-26s %12s %12s %12s\n", "", "not a report", "public", "private");
  for (int t = 0; t < 4; ++t)
    std::printf("  %-26s %12d %12d %12d\n", rows[t], f.table[t][o_none], f.table[t][o_public],
                f.table[t][o_private]);
  std::printf("  sensitive reports routed privately: %d/%d = %.1f%%\n", f.sensitive_private, f.sensitive,
              f.pct(f.sensitive_private, f.sensitive));
  std::printf("  security reports recognised:        %d/%d = %.1f%%\n", f.security_recognised, f.security,
              f.pct(f.security_recognised, f.security));
  std::printf("  chatter misread as a report:        %d/%d = %.1f%%\n", f.chatter_misread, f.chatter,
              f.pct(f.chatter_misread, f.chatter));
  std::printf("  labelled category among those recognised: %d/%d = %.1f%%\n", f.category_hits, f.reports,
              f.pct(f.category_hits, f.reports));
}

TEST(report_corpus, corpus_has_at_least_400_messages_of_every_kind) {
  const auto tuning = read_corpus("tuning.tsv");
  const auto held_out = read_corpus("heldout.tsv");
  EXPECT_GE(tuning.size() + held_out.size(), 400u);
  std::array<int, 4> kinds{};
  for (const auto& r : held_out) ++kinds[truth_of(r)];
  EXPECT_GE(kinds[t_security], 50);
  EXPECT_GE(kinds[t_sensitive_people], 35);
  EXPECT_GE(kinds[t_chatter], 50);
}

TEST(report_corpus, tuning_part_figures) {
  const auto f = measure(read_corpus("tuning.tsv"), std::getenv("FLARE_CORPUS_MISSES") != nullptr);
  print("tuning", f);
  // The tables were tuned on these: they must at least meet the held-out targets here.
  EXPECT_GE(f.pct(f.sensitive_private, f.sensitive), 98.0);
  EXPECT_GE(f.pct(f.security_recognised, f.security), 92.0);
  EXPECT_LE(f.pct(f.chatter_misread, f.chatter), 3.0);
}

// Issue 8, "Recognition that reads like a person": the targets, on messages the tables were not
// tuned on.
TEST(report_corpus, held_out_part_meets_issue_targets) {
  const auto f = measure(read_corpus("heldout.tsv"), false);
  print("held-out", f);
  EXPECT_GE(f.pct(f.sensitive_private, f.sensitive), 98.0);
  EXPECT_GE(f.pct(f.security_recognised, f.security), 92.0);
  EXPECT_LE(f.pct(f.chatter_misread, f.chatter), 3.0);
}

}  // namespace
}  // namespace flare::policy
