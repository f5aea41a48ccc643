#include "bot/slack/backoff.hpp"

#include <algorithm>

namespace flare::slack {

std::chrono::milliseconds backoff_ceiling(const backoff_policy& policy, int retry) {
  const auto cap = std::max<std::int64_t>(policy.max.count(), 0);
  auto ceiling = std::max<std::int64_t>(policy.initial.count(), 0);
  for (int i = 0; i < retry && ceiling < cap; ++i) ceiling *= 2;
  return std::chrono::milliseconds(std::min(ceiling, cap));
}

backoff::backoff(backoff_policy policy, std::uint64_t seed) : policy_(policy), rng_(seed) {}

std::chrono::milliseconds backoff::delay(int retry) {
  const auto ceiling = backoff_ceiling(policy_, retry).count();
  const auto floor = policy_.spread == jitter::equal ? ceiling / 2 : 0;
  std::uniform_int_distribution<std::int64_t> pick(floor, ceiling);
  return std::chrono::milliseconds(pick(rng_));
}

}  // namespace flare::slack
