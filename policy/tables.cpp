#include "policy/tables.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>

#include <nlohmann/json.hpp>
#include <openssl/evp.h>

#include "policy/legal_regimes.hpp"

namespace flare::policy {

const severity_timing& tables::timing(severity s) const {
  switch (s) {
    case severity::critical: return critical;
    case severity::high: return high;
    case severity::medium: return medium;
    case severity::low: return low;
  }
  return critical;
}

severity_timing& tables::timing(severity s) {
  return const_cast<severity_timing&>(static_cast<const tables&>(*this).timing(s));
}

std::optional<notification_interval> parse_interval(std::string_view text) {
  int count = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), count);
  if (ec != std::errc{} || end == text.data() || count < 1) return std::nullopt;
  std::string_view unit = text.substr(static_cast<std::size_t>(end - text.data()));
  if (unit.starts_with(' ')) unit.remove_prefix(1);
  if (unit == "h" || unit == "hours" || unit == "hour") {
    return notification_interval{interval_unit::hours, count};
  }
  if (unit == "business days" || unit == "business day") {
    return notification_interval{interval_unit::business_days, count};
  }
  return std::nullopt;
}

std::string describe(const notification_interval& i) {
  if (i.unit == interval_unit::hours) return std::to_string(i.count) + "h";
  return std::to_string(i.count) + (i.count == 1 ? " business day" : " business days");
}

void validate(const tables& t) {
  for (severity s : {severity::critical, severity::high, severity::medium, severity::low}) {
    const severity_timing& row = t.timing(s);
    const std::string name{to_string(s)};
    if (row.initial && row.initial->count < 1) {
      throw tables_error("severity table, " + name + ": initial notification interval must be positive");
    }
    if (row.update && row.update->count < 1) {
      throw tables_error("severity table, " + name + ": update interval must be positive");
    }
    if (row.update && !row.initial) {
      throw tables_error("severity table, " + name +
                         ": an update interval needs an initial notification interval");
    }
  }
  validate(t.legal_regimes);
}

namespace {

nlohmann::json interval_json(const std::optional<notification_interval>& i) {
  if (!i) return nullptr;
  return describe(*i);
}

}  // namespace

nlohmann::json to_json(const tables& t) {
  nlohmann::json severities = nlohmann::json::object();
  for (severity s : {severity::critical, severity::high, severity::medium, severity::low}) {
    const severity_timing& row = t.timing(s);
    severities[std::string{to_string(s)}] = {{"initial", interval_json(row.initial)},
                                             {"update", interval_json(row.update)}};
  }
  std::vector<std::string> holidays = t.calendar.holidays;
  std::sort(holidays.begin(), holidays.end());
  holidays.erase(std::unique(holidays.begin(), holidays.end()), holidays.end());
  nlohmann::json j{{"severities", severities},
                   {"calendar", {{"zone", t.calendar.zone}, {"holidays", holidays}}}};
  // Only when configured differently: the defaults are part of the code's version already, and
  // decisions made before regimes were configurable keep their version.
  if (t.legal_regimes != default_legal_regimes()) {
    nlohmann::json regimes = nlohmann::json::array();
    for (const auto& r : t.legal_regimes) {
      regimes.push_back({{"key", r.key},
                         {"title", r.title},
                         {"notify", r.notify},
                         {"within", interval_json(r.within)},
                         {"citation", r.citation}});
    }
    j["legal_regimes"] = std::move(regimes);
  }
  return j;
}

std::string policy_version(const tables& t) {
  const std::string canonical = to_json(t).dump();
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(canonical.data(), canonical.size(), digest, &length, EVP_sha256(), nullptr) != 1) {
    throw std::runtime_error("SHA-256 of the policy tables failed");
  }
  std::string hex;
  char buf[3];
  for (unsigned int i = 0; i < 6 && i < length; ++i) {
    std::snprintf(buf, sizeof buf, "%02x", digest[i]);
    hex += buf;
  }
  return hex;
}

}  // namespace flare::policy
