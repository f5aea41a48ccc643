#include "bot/slack/backoff.hpp"

#include <gtest/gtest.h>

namespace {

using namespace std::chrono_literals;
using flare::slack::backoff;
using flare::slack::backoff_ceiling;
using flare::slack::backoff_policy;
using flare::slack::jitter;

TEST(backoff, ceiling_doubles_from_initial_and_stops_at_max) {
  const backoff_policy p{500ms, 4000ms, jitter::equal};
  EXPECT_EQ(backoff_ceiling(p, 0), 500ms);
  EXPECT_EQ(backoff_ceiling(p, 1), 1000ms);
  EXPECT_EQ(backoff_ceiling(p, 3), 4000ms);
  EXPECT_EQ(backoff_ceiling(p, 4), 4000ms);
  EXPECT_EQ(backoff_ceiling(p, 1000), 4000ms);  // no overflow however long it fails
}

TEST(backoff, equal_jitter_waits_at_least_half_the_ceiling) {
  backoff b(backoff_policy{1000ms, 60000ms, jitter::equal}, 42);
  for (int retry = 0; retry < 200; ++retry) {
    const auto ceiling = backoff_ceiling(b.policy(), retry % 12);
    const auto d = b.delay(retry % 12);
    EXPECT_GE(d, ceiling / 2);
    EXPECT_LE(d, ceiling);
  }
}

TEST(backoff, full_jitter_spreads_down_to_zero) {
  backoff b(backoff_policy{1000ms, 60000ms, jitter::full}, 7);
  auto lowest = 1000ms;
  for (int i = 0; i < 200; ++i) {
    const auto d = b.delay(0);
    EXPECT_LE(d, 1000ms);
    lowest = std::min(lowest, d);
  }
  EXPECT_LT(lowest, 500ms);
}

TEST(backoff, next_counts_retries_and_reset_starts_over) {
  backoff b(backoff_policy{100ms, 10000ms, jitter::equal}, 1);
  EXPECT_LE(b.next(), 100ms);
  EXPECT_GE(b.next(), 100ms);  // second retry: [100, 200]
  EXPECT_EQ(b.retries(), 2);
  b.reset();
  EXPECT_LE(b.next(), 100ms);
}

}  // namespace
