#include "policy/report_text.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <unordered_map>
#include <utility>

namespace flare::policy {

namespace {

// Base letters of U+00C0..U+00FF (Latin-1 Supplement letters); "" = not a letter (× ÷).
constexpr std::array<const char*, 64> latin1_letters = {
    "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i",  "i",   // C0
    "d", "n", "o", "o", "o", "o", "o",  "",  "o", "u", "u", "u", "u", "y", "th", "ss",  // D0
    "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i",  "i",   // E0
    "d", "n", "o", "o", "o", "o", "o",  "",  "o", "u", "u", "u", "u", "y", "th", "y"};  // F0

// Base letters of U+0100..U+017F (Latin Extended-A), by ranges.
const char* latin_extended_a(std::uint32_t cp) {
  struct range {
    std::uint32_t last;
    const char* base;
  };
  static constexpr range ranges[] = {{0x105, "a"}, {0x10D, "c"}, {0x111, "d"},  {0x11B, "e"},  {0x123, "g"},
                                     {0x127, "h"}, {0x131, "i"}, {0x133, "ij"}, {0x135, "j"},  {0x138, "k"},
                                     {0x142, "l"}, {0x14B, "n"}, {0x151, "o"},  {0x153, "oe"}, {0x159, "r"},
                                     {0x161, "s"}, {0x167, "t"}, {0x173, "u"},  {0x175, "w"},  {0x178, "y"},
                                     {0x17E, "z"}, {0x17F, "s"}};
  for (const auto& r : ranges)
    if (cp <= r.last) return r.base;
  return nullptr;
}

// Decodes one UTF-8 sequence at `i`; returns false (and advances one byte) if it is invalid:
// bad lead byte, missing continuation, overlong form, surrogate or beyond U+10FFFF.
bool next_code_point(std::string_view s, std::size_t& i, std::uint32_t& cp) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) {
    cp = b0;
    ++i;
    return true;
  }
  int len = 0;
  if ((b0 & 0xE0) == 0xC0) {
    len = 2;
    cp = b0 & 0x1F;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3;
    cp = b0 & 0x0F;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4;
    cp = b0 & 0x07;
  } else {
    ++i;
    return false;
  }
  if (i + static_cast<std::size_t>(len) > s.size()) {
    ++i;
    return false;
  }
  for (int k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[i + static_cast<std::size_t>(k)]);
    if ((b & 0xC0) != 0x80) {
      ++i;
      return false;
    }
    cp = (cp << 6) | (b & 0x3F);
  }
  static constexpr std::uint32_t min_for_len[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < min_for_len[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    ++i;
    return false;
  }
  i += static_cast<std::size_t>(len);
  return true;
}

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

void fold_code_point(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    const auto c = static_cast<char>(cp);
    if (c >= 'A' && c <= 'Z') out.push_back(static_cast<char>(c - 'A' + 'a'));
    else if (cp < 0x20 || cp == 0x7F) out.push_back(' ');
    else out.push_back(c);
    return;
  }
  if (cp >= 0xFF01 && cp <= 0xFF5E) return fold_code_point(out, cp - 0xFEE0);  // full-width ASCII
  if (cp >= 0xC0 && cp <= 0xFF) {
    const char* base = latin1_letters[cp - 0xC0];
    out += *base ? base : " ";
    return;
  }
  if (cp >= 0x100 && cp <= 0x17F) {
    out += latin_extended_a(cp);
    return;
  }
  switch (cp) {
    case 0x2018:
    case 0x2019:
    case 0x201A:
    case 0x201B:
    case 0x2032:
    case 0x02BC: out.push_back('\''); return;
    case 0x201C:
    case 0x201D:
    case 0x201E:
    case 0x201F:
    case 0x2033:
    case 0xAB:
    case 0xBB: out.push_back('"'); return;
    case 0x2010:
    case 0x2011:
    case 0x2012:
    case 0x2013:
    case 0x2014:
    case 0x2015:
    case 0x2212:
    case 0xFE58:
    case 0xFE63: out.push_back('-'); return;
    case 0x2026: out += "..."; return;
    case 0x200B:
    case 0x200C:
    case 0x200D:
    case 0x2060:
    case 0xFEFF:
    case 0xAD: return;  // invisible: must not split a word ("phi<ZWSP>shing")
    default: break;
  }
  if (cp == 0xA0 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x202F || cp == 0x205F || cp == 0x3000 ||
      cp == 0x2028 || cp == 0x2029 || (cp >= 0x80 && cp < 0xA0)) {
    out.push_back(' ');
    return;
  }
  if (cp >= 0x2000 && cp <= 0x2BFF) {  // other punctuation, arrows, symbols: separators
    out.push_back(' ');
    return;
  }
  if (cp >= 0x1F000) {  // emoji and pictographs
    out.push_back(' ');
    return;
  }
  append_utf8(out, cp);
}

bool word_byte(unsigned char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c >= 0x80; }

bool vowel(char c) { return c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u'; }

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// Irregular and awkward forms a suffix rule would get wrong (or leave apart from their base).
const std::unordered_map<std::string_view, std::string_view>& irregular_forms() {
  static const std::unordered_map<std::string_view, std::string_view> forms = {
      {"stole", "steal"},
      {"stolen", "steal"},
      {"steals", "steal"},
      {"stealing", "steal"},
      {"lost", "lose"},
      {"losing", "lose"},
      {"loses", "lose"},
      {"lose", "lose"},
      {"fell", "fall"},
      {"fallen", "fall"},
      {"falling", "fall"},
      {"falls", "fall"},
      {"broke", "break"},
      {"broken", "break"},
      {"breaking", "break"},
      {"breaks", "break"},
      {"took", "take"},
      {"taken", "take"},
      {"taking", "take"},
      {"takes", "take"},
      {"take", "take"},
      {"sent", "send"},
      {"sending", "send"},
      {"sends", "send"},
      {"left", "leave"},
      {"leaving", "leave"},
      {"leaves", "leave"},
      {"leave", "leave"},
      {"got", "get"},
      {"gotten", "get"},
      {"getting", "get"},
      {"gets", "get"},
      {"gave", "give"},
      {"given", "give"},
      {"giving", "give"},
      {"gives", "give"},
      {"give", "give"},
      {"said", "say"},
      {"says", "say"},
      {"saying", "say"},
      {"told", "tell"},
      {"telling", "tell"},
      {"tells", "tell"},
      {"saw", "see"},
      {"seen", "see"},
      {"seeing", "see"},
      {"sees", "see"},
      {"wrote", "write"},
      {"written", "write"},
      {"writing", "write"},
      {"writes", "write"},
      {"write", "write"},
      {"came", "come"},
      {"coming", "come"},
      {"comes", "come"},
      {"come", "come"},
      {"threw", "throw"},
      {"thrown", "throw"},
      {"throwing", "throw"},
      {"hit", "hit"},
      {"hitting", "hit"},
      {"hits", "hit"},
      {"cut", "cut"},
      {"cutting", "cut"},
      {"cuts", "cut"},
      {"hurt", "hurt"},
      {"hurting", "hurt"},
      {"hurts", "hurt"},
      {"bit", "bite"},
      {"bitten", "bite"},
      {"biting", "bite"},
      {"bites", "bite"},
      {"bite", "bite"},
      {"burnt", "burn"},
      {"burned", "burn"},
      {"burning", "burn"},
      {"burns", "burn"},
      {"slipped", "slip"},
      {"slipping", "slip"},
      {"slips", "slip"},
      {"tripped", "trip"},
      {"tripping", "trip"},
      {"trips", "trip"},
      {"used", "use"},
      {"using", "use"},
      {"uses", "use"},
      {"use", "use"},
      {"men", "man"},
      {"women", "woman"},
      {"people", "person"},
      {"was", "was"},
      {"has", "has"},
      {"is", "is"},
      {"this", "this"},
      {"its", "its"},
      {"us", "us"},
      {"bus", "bus"},
      {"yes", "yes"},
      {"his", "his"},
      {"as", "as"},
      {"does", "do"},
      {"doing", "do"},
      {"did", "do"},
      {"done", "do"},
      {"went", "go"},
      {"gone", "go"},
      {"goes", "go"},
      {"going", "go"},
      {"ran", "run"},
      {"running", "run"},
      {"runs", "run"},
      {"found", "find"},
      {"finding", "find"},
      {"finds", "find"},
      {"kept", "keep"},
      {"keeping", "keep"},
      {"keeps", "keep"},
      {"made", "make"},
      {"making", "make"},
      {"makes", "make"},
      {"make", "make"},
      {"caught", "catch"},
      {"catching", "catch"},
      {"catches", "catch"},
      {"bought", "buy"},
      {"paid", "pay"},
      {"paying", "pay"},
      {"pays", "pay"},
      {"shook", "shake"},
      {"struck", "strike"},
      {"stuck", "stick"},
      {"mice", "mouse"},
      {"data", "data"},
      {"news", "news"},
      {"series", "series"},
      {"access", "access"},
      {"process", "process"},
      {"address", "address"},
      {"virus", "virus"},
      {"viruses", "virus"},
      {"status", "status"},
      {"campus", "campus"},
      {"bonus", "bonus"},
      {"alias", "alias"},
      {"dns", "dns"},
      {"aws", "aws"},
      {"ios", "ios"},
      {"sms", "sms"},
      {"https", "https"},
      {"gcs", "gcs"},
      {"nas", "nas"},
      {"ssh", "ssh"},
      {"always", "always"},
      {"analysis", "analysis"},
      {"harass", "harass"},
      {"harasses", "harass"},
      {"ransomware", "ransomware"},
      {"malware", "malware"},
      {"injury", "injur"},
      {"injuries", "injur"},
      {"injure", "injur"},
      {"injured", "injur"},
      {"injuring", "injur"},
      {"bleeding", "bleed"},
      {"bled", "bleed"},
      {"bleeds", "bleed"},
      {"threaten", "threaten"},
      {"threatened", "threaten"},
      {"threatening", "threaten"},
      {"threatens", "threaten"},
      {"stalker", "stalk"},
      {"stalking", "stalk"},
      {"stalked", "stalk"},
      {"stalks", "stalk"},
      {"phisher", "phish"},
      {"phishy", "phish"},
      {"phishing", "phish"},
      {"phished", "phish"},
      {"leakage", "leak"},
      {"thieves", "thief"},
      {"knives", "knife"},
      {"wives", "wife"},
      {"lives", "life"},
  };
  return forms;
}

}  // namespace

std::string fold_text(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    std::uint32_t cp = 0;
    if (next_code_point(text, i, cp)) fold_code_point(out, cp);
    else out.push_back(' ');
  }
  return out;
}

std::string stem_word(std::string_view word) {
  if (auto it = irregular_forms().find(word); it != irregular_forms().end()) return std::string(it->second);
  std::string w(word);
  // Suffixes only on ASCII words long enough to keep a recognisable base.
  if (!std::all_of(w.begin(), w.end(), [](char c) { return (c >= 'a' && c <= 'z'); })) return w;
  auto undouble = [](std::string& s) {
    const std::size_t n = s.size();
    if (n >= 3 && s[n - 1] == s[n - 2] && !vowel(s[n - 1]) && s[n - 1] != 'l' && s[n - 1] != 's' &&
        s[n - 1] != 'z')
      s.pop_back();
  };
  if (w.size() >= 5 && (ends_with(w, "ies") || ends_with(w, "ied"))) {
    w.replace(w.size() - 3, 3, "y");
  } else if (w.size() >= 6 && ends_with(w, "ing")) {
    w.resize(w.size() - 3);
    undouble(w);
  } else if (w.size() >= 5 && ends_with(w, "ed") && !ends_with(w, "eed")) {
    w.resize(w.size() - 2);
    undouble(w);
  } else if (w.size() >= 5 &&
             (ends_with(w, "sses") || ends_with(w, "ches") || ends_with(w, "shes") || ends_with(w, "xes"))) {
    w.resize(w.size() - 2);
  } else if (w.size() >= 4 && ends_with(w, "s") && !ends_with(w, "ss") && !ends_with(w, "us") &&
             !ends_with(w, "is")) {
    w.pop_back();
  }
  // A final silent "e" goes, so "share", "shared" and "sharing" meet at "shar".
  if (w.size() >= 4 && w.back() == 'e' && !ends_with(w, "ee")) w.pop_back();
  return w;
}

std::vector<report_token> report_tokens(std::string_view text) {
  const std::string folded = fold_text(text);
  std::vector<std::string> words;
  std::string current;
  for (std::size_t i = 0; i < folded.size(); ++i) {
    const auto c = static_cast<unsigned char>(folded[i]);
    if (word_byte(c)) {
      current.push_back(static_cast<char>(c));
    } else if (c == '\'' && !current.empty() && i + 1 < folded.size() &&
               word_byte(static_cast<unsigned char>(folded[i + 1]))) {
      // "don't" -> "dont"; "someone's" -> "someones" (the stem drops the s)
    } else if (!current.empty()) {
      words.push_back(std::move(current));
      current.clear();
    }
  }
  if (!current.empty()) words.push_back(std::move(current));

  // Split spellings of one word ("e-mail", "anti virus"): joined so one pattern word covers both.
  static const std::array<std::pair<std::string_view, std::string_view>, 22> joins = {{
      {"e", "mail"},      {"e", "mails"},      {"anti", "virus"},    {"anti", "malware"}, {"mal", "ware"},
      {"ransom", "ware"}, {"pass", "word"},    {"pass", "words"},    {"user", "name"},    {"wi", "fi"},
      {"lap", "top"},     {"yubi", "key"},     {"pass", "key"},      {"pass", "keys"},    {"d", "dos"},
      {"2", "fa"},        {"security", "key"}, {"security", "keys"}, {"hard", "drive"},   {"smart", "card"},
      {"data", "center"}, {"data", "centre"},
  }};
  std::vector<report_token> tokens;
  tokens.reserve(words.size());
  for (std::size_t i = 0; i < words.size(); ++i) {
    std::string w = std::move(words[i]);
    if (i + 1 < words.size()) {
      for (const auto& [first, second] : joins) {
        if (w == first && words[i + 1] == second) {
          w += words[i + 1];
          ++i;
          break;
        }
      }
    }
    std::string stem = stem_word(w);
    tokens.push_back(report_token{std::move(w), std::move(stem)});
  }
  return tokens;
}

int edit_distance(std::string_view a, std::string_view b, int limit) {
  const int n = static_cast<int>(a.size());
  const int m = static_cast<int>(b.size());
  if (std::abs(n - m) > limit) return limit + 1;
  std::vector<int> prev2(static_cast<std::size_t>(m + 1)), prev(static_cast<std::size_t>(m + 1)),
      cur(static_cast<std::size_t>(m + 1));
  for (int j = 0; j <= m; ++j) prev[static_cast<std::size_t>(j)] = j;
  for (int i = 1; i <= n; ++i) {
    cur[0] = i;
    int row_min = cur[0];
    for (int j = 1; j <= m; ++j) {
      const auto uj = static_cast<std::size_t>(j);
      const int cost = a[static_cast<std::size_t>(i - 1)] == b[uj - 1] ? 0 : 1;
      int v = std::min({prev[uj] + 1, cur[uj - 1] + 1, prev[uj - 1] + cost});
      if (i > 1 && j > 1 && a[static_cast<std::size_t>(i - 1)] == b[uj - 2] &&
          a[static_cast<std::size_t>(i - 2)] == b[uj - 1])
        v = std::min(v, prev2[uj - 2] + 1);
      cur[uj] = v;
      row_min = std::min(row_min, v);
    }
    if (row_min > limit) return limit + 1;
    std::swap(prev2, prev);
    std::swap(prev, cur);
  }
  return std::min(prev[static_cast<std::size_t>(m)], limit + 1);
}

}  // namespace flare::policy
