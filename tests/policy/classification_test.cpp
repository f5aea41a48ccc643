#include "policy/classification.hpp"

#include <gtest/gtest.h>

#include "test_time.hpp"

namespace flare::policy {
namespace {

using testing::at;

TEST(classification, confirmed_starts_the_clock_now) {
  const facts f = classify(facts{}, classification::confirmed, at("2026-11-22T10:00:00Z"));
  EXPECT_EQ(f.classification, classification::confirmed);
  EXPECT_EQ(f.impact_confirmed_at, at("2026-11-22T10:00:00Z"));
}

TEST(classification, confirmed_with_given_time_uses_it) {
  const facts f =
      classify(facts{}, classification::confirmed, at("2026-11-22T10:00:00Z"), at("2026-11-21T08:00:00Z"));
  EXPECT_EQ(f.impact_confirmed_at, at("2026-11-21T08:00:00Z"));
}

TEST(classification, confirmed_keeps_an_earlier_recorded_impact_confirmation) {
  facts before;
  before.classification = classification::potential;
  before.impact_confirmed_at = at("2026-11-20T10:00:00Z");
  const facts f = classify(before, classification::confirmed, at("2026-11-22T10:00:00Z"));
  EXPECT_EQ(f.impact_confirmed_at, at("2026-11-20T10:00:00Z"));
}

TEST(classification, potential_does_not_start_the_clock) {
  const facts f = classify(facts{}, classification::potential, at("2026-11-22T10:00:00Z"));
  EXPECT_EQ(f.classification, classification::potential);
  EXPECT_FALSE(f.impact_confirmed_at);
}

TEST(classification, potential_starts_the_clock_when_impact_confirmation_is_recorded) {
  const facts f =
      classify(facts{}, classification::potential, at("2026-11-22T10:00:00Z"), at("2026-11-22T09:00:00Z"));
  EXPECT_EQ(f.impact_confirmed_at, at("2026-11-22T09:00:00Z"));
}

TEST(classification, reclassifying_as_potential_does_not_stop_a_started_clock) {
  facts before;
  before.classification = classification::confirmed;
  before.impact_confirmed_at = at("2026-11-20T10:00:00Z");
  const facts f = classify(before, classification::potential, at("2026-11-22T10:00:00Z"));
  EXPECT_EQ(f.impact_confirmed_at, at("2026-11-20T10:00:00Z"));
}

}  // namespace
}  // namespace flare::policy
