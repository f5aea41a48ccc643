#include "policy/business_calendar.hpp"

#include <algorithm>
#include <charconv>

namespace flare::policy {
namespace {

std::optional<date::local_days> parse_date(std::string_view s) {
  auto number = [&](std::size_t pos, std::size_t n) -> std::optional<int> {
    int v = 0;
    const char* first = s.data() + pos;
    const auto [end, ec] = std::from_chars(first, first + n, v);
    if (ec != std::errc{} || end != first + n || *first == '-' || *first == '+') return std::nullopt;
    return v;
  };
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
  auto y = number(0, 4);
  auto m = number(5, 2);
  auto d = number(8, 2);
  if (!y || !m || !d) return std::nullopt;
  const date::year_month_day ymd{date::year{*y}, date::month(static_cast<unsigned>(*m)),
                                 date::day(static_cast<unsigned>(*d))};
  if (!ymd.ok()) return std::nullopt;
  return date::local_days{ymd};
}

}  // namespace

business_calendar::business_calendar(const calendar_settings& settings)
    : business_calendar(settings.zone, settings.holidays) {}

business_calendar::business_calendar(std::string_view zone, const std::vector<std::string>& holidays) {
  const std::string zone_name = zone.empty() ? std::string{"UTC"} : std::string{zone};
  try {
    zone_ = date::locate_zone(zone_name);
  } catch (const std::exception&) {
    throw calendar_error("unknown time zone \"" + zone_name +
                         "\" (expected an IANA name such as \"Europe/Berlin\" or \"UTC\")");
  }
  settings_.zone = zone_name;
  for (const std::string& h : holidays) {
    auto day = parse_date(h);
    if (!day) {
      throw calendar_error("holiday \"" + h + "\" is not a valid date (expected YYYY-MM-DD)");
    }
    holidays_.insert(*day);
  }
  for (date::local_days d : holidays_) {
    settings_.holidays.push_back(date::format("%F", d));
  }
}

bool business_calendar::is_business_day(date::local_days day) const {
  const date::weekday wd{day};
  if (wd == date::Saturday || wd == date::Sunday) return false;
  return !holidays_.contains(day);
}

date::local_days business_calendar::local_day(std::chrono::sys_seconds t) const {
  return date::floor<date::days>(zone_->to_local(t));
}

std::chrono::sys_seconds business_calendar::end_of_business_days_after(std::chrono::sys_seconds t,
                                                                       int n) const {
  using namespace std::chrono;
  date::local_days day = local_day(t);
  for (int counted = 0; counted < n;) {
    day += date::days{1};
    if (is_business_day(day)) ++counted;
  }
  const date::local_seconds end_of_day = day + hours{23} + minutes{59} + seconds{59};
  // If 23:59:59 is repeated by a fall-back transition, take the earlier instant: it is the
  // reading that gives customers their notice sooner. If it does not exist (a gap), date::choose
  // maps it to the transition instant, which is also the earlier one.
  return date::zoned_time<seconds>{zone_, end_of_day, date::choose::earliest}.get_sys_time();
}

}  // namespace flare::policy
