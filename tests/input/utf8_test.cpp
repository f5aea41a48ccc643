// UTF-8 repair and lone-surrogate escapes: what reaches the parser is always well-formed.
#include "input/utf8.hpp"

#include <gtest/gtest.h>

namespace flare::input {
namespace {

const std::string fffd = "\xEF\xBF\xBD";

TEST(utf8, valid_text_comes_back_unchanged) {
  const std::string text = "plain, caf\xC3\xA9, \xE2\x82\xAC, \xF0\x9F\x98\x80";
  EXPECT_TRUE(is_valid_utf8(text));
  EXPECT_EQ(sanitize_utf8(text), text);
}

TEST(utf8, each_ill_formed_sequence_becomes_one_replacement_character) {
  EXPECT_EQ(sanitize_utf8("a\xFF"
                          "b"),
            "a" + fffd + "b");
  EXPECT_EQ(sanitize_utf8("a\xC3"), "a" + fffd);  // truncated at the end
  EXPECT_EQ(sanitize_utf8("\xE2\x82"
                          "x"),
            fffd + "x");                                                    // truncated 3-byte sequence
  EXPECT_EQ(sanitize_utf8("\xC0\xAF"), fffd + fffd);                        // overlong '/'
  EXPECT_EQ(sanitize_utf8("\xED\xA0\x80"), fffd + fffd + fffd);             // an encoded surrogate
  EXPECT_EQ(sanitize_utf8("\xF4\x90\x80\x80"), fffd + fffd + fffd + fffd);  // above U+10FFFF
  EXPECT_FALSE(is_valid_utf8("\xED\xA0\x80"));
}

// The check skips ASCII eight bytes at a time: an ill-formed byte is found at every offset of a
// word, and a sequence that straddles two words is still checked whole.
TEST(utf8, ill_formed_bytes_are_found_at_any_offset_after_ascii) {
  for (std::size_t at = 0; at < 24; ++at) {
    std::string text(32, 'a');
    text[at] = '\xFF';
    EXPECT_FALSE(is_valid_utf8(text)) << "at " << at;
    text.replace(at, 1, "\xE2\x82\xAC");  // a well-formed euro sign instead
    EXPECT_TRUE(is_valid_utf8(text)) << "at " << at;
    text[at + 1] = 'x';  // broken in its middle
    EXPECT_FALSE(is_valid_utf8(text)) << "at " << at;
  }
  EXPECT_FALSE(is_valid_utf8(std::string(40, 'a') + "\xC3"));  // truncated at the very end
  EXPECT_TRUE(is_valid_utf8(""));
}

TEST(utf8, lone_surrogate_escapes_become_fffd_and_pairs_are_kept) {
  std::string text = R"({"a":"\uD800","b":"x\udc00y","c":"\uD83D\uDE00","d":"\\uD800","e":"\uD800\u0041"})";
  EXPECT_TRUE(replace_lone_surrogate_escapes(text));
  EXPECT_EQ(text, R"({"a":"\uFFFD","b":"x\uFFFDy","c":"\uD83D\uDE00","d":"\\uD800","e":"\uFFFD\u0041"})");
  std::string clean = R"({"c":"\uD83D\uDE00"})";
  EXPECT_FALSE(replace_lone_surrogate_escapes(clean));
}

TEST(utf8, a_trailing_backslash_or_short_escape_is_left_for_the_parser_to_refuse) {
  std::string a = R"("abc\)";
  std::string b = R"("\uD8")";
  EXPECT_FALSE(replace_lone_surrogate_escapes(a));
  EXPECT_FALSE(replace_lone_surrogate_escapes(b));
}

}  // namespace
}  // namespace flare::input
