// parse_untrusted_json: size and depth limits before anything deep is built, repairs instead of
// refusals for text that is almost UTF-8.
#include "input/bounded_json.hpp"

#include <gtest/gtest.h>

namespace flare::input {
namespace {

TEST(bounded_json, a_million_nested_arrays_are_refused_without_building_them) {
  std::string text(1'000'000, '[');
  text.append(1'000'000, ']');
  const auto r = parse_untrusted_json(text, {.max_bytes = 4 * 1024 * 1024, .max_depth = 128});
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

}  // namespace
}  // namespace flare::input
