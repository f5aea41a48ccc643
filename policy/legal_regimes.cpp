#include "policy/legal_regimes.hpp"

#include <algorithm>
#include <cctype>
#include <set>

namespace flare::policy {
namespace {

notification_interval hours(int n) { return {interval_unit::hours, n}; }
notification_interval business_days(int n) { return {interval_unit::business_days, n}; }

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace

const legal_regime_table& default_legal_regimes() {
  // The clocks as the texts state them, counted from awareness of the breach. "Without undue /
  // unreasonable delay" with no fixed hours is an obligation with no due time: flare lists it and
  // never invents a deadline the law does not give.
  static const legal_regime_table table{
      {"gdpr-art33", "GDPR Art. 33: notify the supervisory authority", "the supervisory authority", hours(72),
       "Regulation (EU) 2016/679, Article 33(1): within 72 hours after becoming aware"},
      {"gdpr-art34", "GDPR Art. 34: tell the affected data subjects", "the affected data subjects",
       std::nullopt, "Regulation (EU) 2016/679, Article 34(1): without undue delay"},
      {"uk-gdpr-art33", "UK GDPR Art. 33: notify the ICO", "the Information Commissioner's Office", hours(72),
       "UK GDPR, Article 33(1): within 72 hours after becoming aware"},
      {"nis2-early-warning", "NIS2 Art. 23: early warning to the CSIRT", "the CSIRT or competent authority",
       hours(24), "Directive (EU) 2022/2555, Article 23(4)(a): early warning within 24 hours of awareness"},
      {"nis2-notification", "NIS2 Art. 23: incident notification", "the CSIRT or competent authority",
       hours(72),
       "Directive (EU) 2022/2555, Article 23(4)(b): incident notification within 72 hours of awareness"},
      {"dora-initial", "DORA: initial notification of a major ICT incident", "the competent authority",
       hours(24),
       "Regulation (EU) 2022/2554, Article 19 and its RTS: initial notification at the latest 24 hours "
       "after awareness (4 hours after classification as major)"},
      {"nydfs-500.17", "NYDFS 23 NYCRR 500.17: notify the superintendent", "the NYDFS superintendent",
       hours(72), "23 NYCRR 500.17(a): within 72 hours of determining a cybersecurity incident occurred"},
      {"hipaa-individuals", "HIPAA: notify affected individuals", "the affected individuals", hours(60 * 24),
       "45 CFR 164.404(b): without unreasonable delay and in no case later than 60 calendar days after "
       "discovery"},
      {"sec-8k", "SEC Form 8-K Item 1.05: material cybersecurity incident", "the SEC (Form 8-K)",
       business_days(4),
       "17 CFR 229.106 / Form 8-K Item 1.05: within four business days of determining materiality"},
      {"ca-1798.82", "California Civ. Code 1798.82: notify California residents",
       "the affected California residents", std::nullopt,
       "California Civil Code 1798.82(a): in the most expedient time possible and without unreasonable "
       "delay"},
      {"au-ndb", "Australia NDB: assess a suspected eligible data breach", "the OAIC (after assessment)",
       hours(30 * 24), "Privacy Act 1988 (Cth), s 26WH(2): assessment within 30 days"},
      {"pipeda", "PIPEDA: report a breach of security safeguards", "the Privacy Commissioner of Canada",
       std::nullopt, "PIPEDA, s 10.1(2): as soon as feasible"},
  };
  return table;
}

const legal_regime* find_regime(const legal_regime_table& table, std::string_view key) {
  for (const auto& r : table) {
    if (iequals(r.key, key)) return &r;
  }
  return nullptr;
}

void validate(const legal_regime_table& table) {
  std::set<std::string> seen;
  for (const auto& r : table) {
    if (r.key.empty()) throw tables_error("legal regimes: a regime has an empty key");
    if (std::any_of(r.key.begin(), r.key.end(), [](unsigned char c) { return std::isspace(c) || c == ','; }))
      throw tables_error("legal regimes, " + r.key + ": a key may not contain spaces or commas");
    std::string lower = r.key;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (!seen.insert(lower).second) throw tables_error("legal regimes: duplicate key " + r.key);
    if (r.title.empty()) throw tables_error("legal regimes, " + r.key + ": empty title");
    if (r.within && r.within->count < 1) {
      throw tables_error("legal regimes, " + r.key + ": the clock must be positive");
    }
  }
}

}  // namespace flare::policy
