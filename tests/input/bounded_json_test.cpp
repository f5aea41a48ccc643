// parse_untrusted_json: size and depth limits before anything deep is built, repairs instead of
// refusals for text that is almost UTF-8.
#include "input/bounded_json.hpp"
#include "input/fast_json.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace flare::input {
namespace {

TEST(bounded_json, a_million_nested_arrays_are_refused_without_building_them) {
  std::string text(1'000'000, '[');
  text.append(1'000'000, ']');
  const auto r = parse_untrusted_json(text, {.max_bytes = std::size_t{4} * 1024 * 1024, .max_depth = 128});
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.error, "nested deeper than 128 levels");
  EXPECT_TRUE(r.value.is_discarded());
}

TEST(bounded_json, text_over_the_size_limit_is_refused) {
  const auto r = parse_untrusted_json(std::string(2000, ' ') + "{}", {.max_bytes = 1000, .max_depth = 8});
  EXPECT_FALSE(r.ok());
  EXPECT_NE(r.error.find("too large"), std::string::npos);
}

TEST(bounded_json, invalid_json_names_the_byte_not_the_text) {
  const auto r = parse_untrusted_json(R"({"token":"xoxb-123-secret",})");
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.error.find("xoxb"), std::string::npos) << r.error;
  EXPECT_NE(r.error.find("invalid JSON at byte"), std::string::npos) << r.error;
}

TEST(bounded_json, repaired_text_is_flagged_and_parses) {
  const auto r = parse_untrusted_json("{\"t\":\"a\xFF\\uDC00\"}");
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_TRUE(r.repaired);
  EXPECT_EQ(r.value["t"].get<std::string>(), "a\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_FALSE(parse_untrusted_json(R"({"t":"fine"})").repaired);
}

TEST(bounded_json, dump_never_throws_on_invalid_utf8_built_in_memory) {
  nlohmann::json j = {{"t", std::string("bad \xFF")}};
  EXPECT_THROW((void)j.dump(), nlohmann::json::type_error);
  EXPECT_EQ(dump_replacing_invalid_utf8(j), "{\"t\":\"bad \xEF\xBF\xBD\"}");
}

// The fast path (Boost.JSON, fast_json.hpp) must give exactly what nlohmann's parser gives, or
// step aside. The fuzz target checks the same over random bytes.
std::string nested(char open, char close, int depth) {
  return std::string(static_cast<std::size_t>(depth), open) +
         std::string(static_cast<std::size_t>(depth), close);
}

TEST(bounded_json, the_fast_path_and_the_reference_path_agree) {
  const std::string slash_envelope =
      R"({"envelope_id":"e1","type":"slash_commands","accepts_response_payload":true,)"
      R"("payload":{"command":"/incident","text":"help","user_id":"U1","is_enterprise_install":"false"}})";
  const std::string integers =
      R"({"a":1,"b":-1,"c":0,"d":-0,"e":9223372036854775807,"f":9223372036854775808,)"
      R"("g":18446744073709551615,"h":18446744073709551616,"i":-9223372036854775808})";
  const std::vector<std::string> inputs = {
      slash_envelope,
      integers,
      R"({"x":1.5,"y":1e3,"z":-0.0,"w":0.1})",
      R"({"dup":1,"dup":"last"})",
      R"({"nul":"a\u0000b","esc":"\"\\\/\b\f\n\r\t","uni":"\u00e9\u20ac","pair":"\ud83d\ude00"})",
      R"({"lone":"\ud800"})",
      R"([null,true,false,[],{},"",[[[]]]])",
      "  {\"ws\" :\t[ 1 ,\n2 ] }  ",
      "\xEF\xBB\xBF{\"bom\":1}",
      R"({"trailing":[1,2,],})",
      R"({"comment":1 /* no */})",
      R"({"a":1} extra)",
      R"({"a":01})",
      R"({"a":"\x"})",
      R"({"unterminated":"abc)",
      "",
      "   ",
      "{\"bad\":\"\xC3\x28\"}",
      R"("just a string")",
      "42",
      nested('[', ']', 128),
      nested('[', ']', 129),
      std::string(127, '[') + "{}" + std::string(127, ']'),
      std::string(128, '[') + "{}" + std::string(128, ']'),
  };
  for (const auto& text : inputs) {
    const auto fast = parse_untrusted_json(text);
    const auto reference = detail::parse_untrusted_json_reference(text);
    EXPECT_EQ(fast.error, reference.error) << text;
    EXPECT_EQ(fast.repaired, reference.repaired) << text;
    if (fast.ok() && reference.ok()) {
      EXPECT_EQ(fast.value, reference.value) << text;
      EXPECT_EQ(fast.value.dump(), reference.value.dump()) << text;
    }
  }
}

TEST(bounded_json, the_fast_path_takes_an_ordinary_envelope_and_steps_aside_for_what_it_cannot_promise) {
  const std::string envelope =
      R"({"envelope_id":"e1","type":"events_api","payload":{"event":{"type":"message","ts":"1.2"},"n":[1,-2]}})";
  const auto value = detail::parse_fast(envelope, 128);
  ASSERT_TRUE(value.has_value());
  EXPECT_EQ(*value, detail::parse_untrusted_json_reference(envelope).value);
  EXPECT_TRUE((*value)["payload"]["n"][0].is_number_unsigned());  // as nlohmann reads 1
  EXPECT_TRUE((*value)["payload"]["n"][1].is_number_integer());
  EXPECT_FALSE(detail::parse_fast(R"({"x":1.5})", 128).has_value());  // floats: nlohmann's rounding
  EXPECT_FALSE(detail::parse_fast(nested('[', ']', 129), 128).has_value());
  EXPECT_FALSE(detail::parse_fast(R"({"a":1,})", 128).has_value());
}

}  // namespace
}  // namespace flare::input
