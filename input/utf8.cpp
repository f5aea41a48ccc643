#include "input/utf8.hpp"

#include <cstdint>
#include <cstring>

namespace flare::input {
namespace {

constexpr std::string_view replacement = "\xEF\xBF\xBD";  // U+FFFD

// Length of the well-formed UTF-8 sequence at the start of `s`, or 0 when it is ill-formed
// (Unicode Table 3-7). `bad` then holds the length of the maximal ill-formed subpart to skip.
std::size_t sequence_length(std::string_view s, std::size_t& bad) {
  const auto b0 = static_cast<unsigned char>(s[0]);
  bad = 1;
  if (b0 < 0x80) return 1;
  std::size_t n = 0;
  unsigned char lo = 0x80, hi = 0xBF;
  if (b0 >= 0xC2 && b0 <= 0xDF) n = 2;
  else if (b0 == 0xE0) {
    n = 3;
    lo = 0xA0;
  } else if (b0 >= 0xE1 && b0 <= 0xEC) n = 3;  // NOLINT(bugprone-branch-clone): Table 3-7's rows
  else if (b0 == 0xED) {
    n = 3;
    hi = 0x9F;
  }  // no UTF-16 surrogates
  else if (b0 >= 0xEE && b0 <= 0xEF)
    n = 3;
  else if (b0 == 0xF0) {
    n = 4;
    lo = 0x90;
  } else if (b0 >= 0xF1 && b0 <= 0xF3) n = 4;
  else if (b0 == 0xF4) {
    n = 4;
    hi = 0x8F;
  }  // nothing above U+10FFFF
  else
    return 0;
  for (std::size_t i = 1; i < n; ++i) {
    if (i >= s.size()) return 0;
    const auto b = static_cast<unsigned char>(s[i]);
    const unsigned char min = i == 1 ? lo : 0x80;
    const unsigned char max = i == 1 ? hi : 0xBF;
    if (b < min || b > max) return 0;
    bad = i + 1;
  }
  return n;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The code unit of the `\uXXXX` escape starting at `at` (the backslash), or -1.
long escaped_unit(std::string_view s, std::size_t at) {
  if (at + 6 > s.size() || s[at] != '\\' || s[at + 1] != 'u') return -1;
  long v = 0;
  for (std::size_t i = at + 2; i < at + 6; ++i) {
    const int h = hex_value(s[i]);
    if (h < 0) return -1;
    v = v * 16 + h;
  }
  return v;
}

bool is_high(long u) { return u >= 0xD800 && u <= 0xDBFF; }
bool is_low(long u) { return u >= 0xDC00 && u <= 0xDFFF; }

}  // namespace

bool is_valid_utf8(std::string_view text) {
  const std::size_t size = text.size();
  for (std::size_t i = 0; i < size;) {
    // ASCII, most of what Slack sends, eight bytes at a time (issue 11: this check ran a byte at a
    // time over every Socket Mode frame).
    while (i + 8 <= size) {
      std::uint64_t word = 0;
      std::memcpy(&word, text.data() + i, 8);
      if ((word & 0x8080808080808080ULL) != 0) break;
      i += 8;
    }
    if (i == size) break;
    std::size_t bad = 0;
    const std::size_t n = sequence_length(text.substr(i), bad);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

std::string sanitize_utf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    std::size_t bad = 0;
    const std::size_t n = sequence_length(text.substr(i), bad);
    if (n == 0) {
      out += replacement;
      i += bad;
    } else {
      out.append(text.substr(i, n));
      i += n;
    }
  }
  return out;
}

bool replace_lone_surrogate_escapes(std::string& json_text) {
  bool changed = false;
  for (std::size_t i = 0; i < json_text.size(); ++i) {
    if (json_text[i] != '\\') continue;
    if (i + 1 >= json_text.size()) break;
    if (json_text[i + 1] != 'u') {
      ++i;  // skip the escaped character (it may be a backslash)
      continue;
    }
    const long unit = escaped_unit(json_text, i);
    if (unit < 0) {
      ++i;
      continue;
    }
    if (is_high(unit) && is_low(escaped_unit(json_text, i + 6))) {
      i += 11;  // a proper pair: keep both halves
      continue;
    }
    if (is_high(unit) || is_low(unit)) {
      json_text.replace(i + 2, 4, "FFFD");
      changed = true;
    }
    i += 5;
  }
  return changed;
}

}  // namespace flare::input
