#include "policy/rfc3339.hpp"

#include <date/date.h>

namespace flare::policy {
namespace {

// Reads exactly n ASCII digits at pos; no sign, no spaces.
std::optional<int> digits(std::string_view s, std::size_t pos, std::size_t n) {
  if (pos + n > s.size()) return std::nullopt;
  int v = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return std::nullopt;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

bool at(std::string_view s, std::size_t pos, char c) { return pos < s.size() && s[pos] == c; }

}  // namespace

std::optional<std::chrono::sys_seconds> parse_rfc3339(std::string_view text) {
  using namespace std::chrono;
  auto y = digits(text, 0, 4);
  auto mo = digits(text, 5, 2);
  auto d = digits(text, 8, 2);
  auto h = digits(text, 11, 2);
  auto mi = digits(text, 14, 2);
  auto se = digits(text, 17, 2);
  if (!y || !mo || !d || !h || !mi || !se) return std::nullopt;
  if (!at(text, 4, '-') || !at(text, 7, '-') || !at(text, 10, 'T') || !at(text, 13, ':') ||
      !at(text, 16, ':')) {
    return std::nullopt;
  }
  // Leap second 60 is refused: sys_seconds cannot hold it and no incident fact needs it.
  if (*h > 23 || *mi > 59 || *se > 59) return std::nullopt;
  const date::year_month_day ymd{date::year{*y}, date::month(static_cast<unsigned>(*mo)),
                                 date::day(static_cast<unsigned>(*d))};
  if (!ymd.ok()) return std::nullopt;

  std::size_t pos = 19;
  if (at(text, pos, '.')) {
    ++pos;
    const std::size_t first = pos;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') ++pos;
    if (pos == first) return std::nullopt;
  }
  seconds offset{0};
  if (at(text, pos, 'Z')) {
    ++pos;
  } else if (at(text, pos, '+') || at(text, pos, '-')) {
    const bool negative = text[pos] == '-';
    auto oh = digits(text, pos + 1, 2);
    auto om = digits(text, pos + 4, 2);
    if (!oh || !om || !at(text, pos + 3, ':') || *oh > 23 || *om > 59) return std::nullopt;
    offset = hours{*oh} + minutes{*om};
    if (negative) offset = -offset;
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != text.size()) return std::nullopt;

  const sys_seconds local_reading = date::sys_days{ymd} + hours{*h} + minutes{*mi} + seconds{*se};
  return local_reading - offset;
}

std::string format_rfc3339(std::chrono::sys_seconds t) { return date::format("%FT%TZ", t); }

}  // namespace flare::policy
