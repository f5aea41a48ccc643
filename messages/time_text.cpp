#include "messages/time_text.hpp"

#include <string_view>

namespace flare::messages {
namespace {

using std::chrono::seconds;

// Two largest units, rounded down: "2 d 4 h", "3 h", "3 h 5 min", "45 min".
std::string span(seconds d) {
  const long long minutes = d.count() / 60;
  const long long days = minutes / (24LL * 60);
  const long long hours = (minutes / 60) % 24;
  const long long mins = minutes % 60;
  if (days > 0) return std::to_string(days) + " d" + (hours ? " " + std::to_string(hours) + " h" : "");
  if (hours > 0) return std::to_string(hours) + " h" + (mins ? " " + std::to_string(mins) + " min" : "");
  if (mins > 0) return std::to_string(mins) + " min";
  return "less than a minute";
}

}  // namespace

std::string local_time_text(std::chrono::sys_seconds t, const date::time_zone* zone,
                            std::chrono::sys_seconds now) {
  // date::format with %Z gives the zone's abbreviation ("CET", "EST"); %a %b are C-locale names.
  const bool same_year = date::year_month_day{date::floor<date::days>(t)}.year() ==
                         date::year_month_day{date::floor<date::days>(now)}.year();
  const char* pattern = same_year ? "%a %e %b, %H:%M %Z" : "%a %e %b %Y, %H:%M %Z";
  std::string out = zone ? date::format(pattern, date::make_zoned(zone, t))
                         : date::format(same_year ? "%a %e %b, %H:%M UTC" : "%a %e %b %Y, %H:%M UTC", t);
  // %e pads single-digit days with a space: "Tue  1 Dec" → "Tue 1 Dec".
  if (auto pos = out.find("  "); pos != std::string::npos) out.erase(pos, 1);
  return out;
}

std::string countdown_text(std::chrono::sys_seconds t, std::chrono::sys_seconds now) {
  if (t == now) return "now";
  if (t > now) return "in " + span(t - now);
  return span(now - t) + " ago";
}

std::string overdue_text(std::chrono::sys_seconds due, std::chrono::sys_seconds now) {
  return "OVERDUE by " + span(now > due ? now - due : seconds{0});
}

std::string due_text(std::chrono::sys_seconds due, const date::time_zone* zone,
                     std::chrono::sys_seconds now) {
  const std::string when = local_time_text(due, zone, now);
  if (now > due) return when + ", *" + overdue_text(due, now) + "*";
  return when + ", " + countdown_text(due, now);
}

}  // namespace flare::messages
