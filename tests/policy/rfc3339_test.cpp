#include "policy/rfc3339.hpp"

#include <gtest/gtest.h>

#include "test_time.hpp"

namespace flare::policy {
namespace {

struct accepted_case {
  const char* text;
  const char* utc;
};

TEST(rfc3339, accepts_z_and_offsets_and_converts_to_utc) {
  const accepted_case cases[] = {
      {"2026-11-20T10:00:00Z", "2026-11-20T10:00:00Z"},
      {"2026-11-20T10:00:00+02:00", "2026-11-20T08:00:00Z"},
      {"2026-11-20T10:00:00-05:30", "2026-11-20T15:30:00Z"},
      {"2026-12-31T23:30:00-01:00", "2027-01-01T00:30:00Z"},
      {"2026-11-20T10:00:00.999Z", "2026-11-20T10:00:00Z"},
      {"2028-02-29T00:00:00Z", "2028-02-29T00:00:00Z"},
  };
  for (const auto& c : cases) {
    auto t = parse_rfc3339(c.text);
    ASSERT_TRUE(t) << c.text;
    EXPECT_EQ(format_rfc3339(*t), c.utc) << c.text;
  }
}

TEST(rfc3339, rejects_anything_that_is_not_strict_rfc3339) {
  const char* rejected[] = {
      "",
      "2026-11-20",
      "2026-11-20T10:00:00",       // no offset: ambiguous
      "2026-11-20 10:00:00Z",      // space instead of T
      "2026-11-20T10:00Z",         // no seconds
      "2026-11-20T10:00:00+0200",  // offset without colon
      "2026-11-20T10:00:00+02",
      "2026-11-20T24:00:00Z",
      "2026-11-20T10:60:00Z",
      "2026-11-20T10:00:60Z",  // leap second
      "2026-02-29T10:00:00Z",  // not a leap year
      "2026-13-01T10:00:00Z",
      "2026-11-20T10:00:00.Z",
      "2026-11-20T10:00:00Zjunk",
      " 2026-11-20T10:00:00Z",
      "2026-11-20T10:00:00z",
  };
  for (const char* text : rejected) EXPECT_FALSE(parse_rfc3339(text)) << text;
}

TEST(rfc3339, formats_utc_with_trailing_z) {
  EXPECT_EQ(format_rfc3339(testing::at("2026-03-08T07:00:00Z")), "2026-03-08T07:00:00Z");
}

}  // namespace
}  // namespace flare::policy
