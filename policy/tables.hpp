// The policy's numbers as data: the SaaS severity table and the business-day calendar. Defaults
// are the documents' values; the runtime may override them from config. The policy version is a
// hash of these tables, so every decision records which numbers it was made with.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "policy/facts.hpp"

namespace flare::policy {

enum class interval_unit { hours, business_days };

// "48h" is exact elapsed time; "7 business days" ends at 23:59:59 local time (business_calendar).
struct notification_interval {
  interval_unit unit = interval_unit::hours;
  int count = 0;

  friend bool operator==(const notification_interval&, const notification_interval&) = default;
};

// One row of the SaaS process's "Paid Customer Notification Process" table. No initial interval
// means "No scheduled notifications" (the Low row).
struct severity_timing {
  std::optional<notification_interval> initial;
  std::optional<notification_interval> update;

  friend bool operator==(const severity_timing&, const severity_timing&) = default;
};

struct calendar_settings {
  std::string zone = "UTC";           // IANA name
  std::vector<std::string> holidays;  // "YYYY-MM-DD", local dates in `zone`

  friend bool operator==(const calendar_settings&, const calendar_settings&) = default;
};

// A legal notification regime (legal_regimes.hpp): who must be told, within what time of
// awareness. Here because the regimes are policy data carried with the tables (config may add
// or override them) and count in the policy version when they differ from the defaults.
struct legal_regime {
  std::string key;     // what `legal=` names: "gdpr-art33"
  std::string title;   // "GDPR Art. 33: notify the supervisory authority"
  std::string notify;  // who: "the supervisory authority"
  // The clock from awareness; nullopt for "without undue/unreasonable delay" (no fixed time):
  // an obligation with no due time.
  std::optional<notification_interval> within;
  std::string citation;  // "Regulation (EU) 2016/679, Article 33(1)"

  friend bool operator==(const legal_regime&, const legal_regime&) = default;
};

using legal_regime_table = std::vector<legal_regime>;

// The regimes flare ships with (legal_regimes.cpp).
const legal_regime_table& default_legal_regimes();

struct tables {
  // SaaS process, "Paid Customer Notification Process", severity table.
  severity_timing critical{notification_interval{interval_unit::hours, 48},
                           notification_interval{interval_unit::hours, 24}};
  severity_timing high{notification_interval{interval_unit::hours, 72},
                       notification_interval{interval_unit::hours, 48}};
  severity_timing medium{notification_interval{interval_unit::business_days, 7},
                         notification_interval{interval_unit::business_days, 7}};
  severity_timing low{};
  calendar_settings calendar{};
  // Legal regimes that `legal=` facts name (config: policy.legal.<key>).
  legal_regime_table legal_regimes = default_legal_regimes();

  const severity_timing& timing(severity s) const;
  severity_timing& timing(severity s);

  friend bool operator==(const tables&, const tables&) = default;
};

class tables_error : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// "24h", "48 hours", "7 business days", "1 business day"; nullopt for anything else or count < 1.
std::optional<notification_interval> parse_interval(std::string_view text);
// "24h", "7 business days", "1 business day".
std::string describe(const notification_interval& i);

// Throws tables_error naming the row when an interval is not positive or a row has updates but
// no initial notification, or naming the regime when a legal regime is invalid (validate in
// legal_regimes.hpp). Calendar values are validated by business_calendar.
void validate(const tables& t);

// Canonical JSON (sorted keys, holidays sorted and de-duplicated) of the tables.
nlohmann::json to_json(const tables& t);

// First 12 hex characters of SHA-256 over to_json(t).dump().
std::string policy_version(const tables& t);

}  // namespace flare::policy
