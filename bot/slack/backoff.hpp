// The one backoff: capped exponential delays with jitter, for every retry loop in flare (Web API
// calls, Socket Mode reconnects, the outbox, start-up). Pure apart from its random source, so
// the ceilings are tested without sleeping.
#pragma once

#include <chrono>
#include <cstdint>
#include <random>

namespace flare::slack {

// How the delay is spread below its ceiling. `full`: anywhere in [0, ceiling] (reconnects: many
// clients dropped at once spread out most). `equal`: in [ceiling/2, ceiling] (a call retried
// never hammers at once).
enum class jitter { full, equal };

struct backoff_policy {
  std::chrono::milliseconds initial{1000};
  std::chrono::milliseconds max{60000};
  jitter spread = jitter::equal;
};

// min(max, initial * 2^retry): the longest the retry-th retry (0 = the first) may wait.
std::chrono::milliseconds backoff_ceiling(const backoff_policy& policy, int retry);

class backoff {
 public:
  explicit backoff(backoff_policy policy, std::uint64_t seed = std::random_device{}());

  // The delay before the retry-th retry (0 = the first).
  std::chrono::milliseconds delay(int retry);
  // The delay before the next retry of a sequence; reset() starts a new sequence.
  std::chrono::milliseconds next() { return delay(retries_++); }
  void reset() { retries_ = 0; }
  int retries() const { return retries_; }
  const backoff_policy& policy() const { return policy_; }

 private:
  backoff_policy policy_;
  std::mt19937_64 rng_;
  int retries_ = 0;
};

}  // namespace flare::slack
