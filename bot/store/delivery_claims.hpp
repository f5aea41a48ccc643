// Several processes handling one inbox (issue 10: flare replicas on one PostgreSQL).
//
// Every replica records the envelopes Slack hands it and handles them; a replica that dies after
// the ack leaves its deliveries unfinished, and no Slack redelivery will come for them. So each
// unfinished delivery carries a claim with a lease: the replica that recorded (or took over) a
// delivery holds it while its handler runs and renews the lease meanwhile; once a claim has
// expired (its holder died, or gave up on a handler that never finished), any live replica may
// claim the delivery and replay it. A live replica's handler is never replayed by another.
//
// A store shared by several processes implements this beside `store` (the PostgreSQL store). A
// SQLite store has one process (its lock file) and replays unfinished deliveries at start only,
// without claims (docs/reliability.md). This lives in its own header so the store interface
// that most of the code includes stays as it is.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "bot/store/store.hpp"

namespace flare::store {

class delivery_claims {
 public:
  virtual ~delivery_claims() = default;

  // How long a claim lasts without renewal.
  virtual std::chrono::seconds claim_lease() const = 0;
  // Claims up to `limit` unfinished, unparked deliveries whose claim has expired at `now` (or that
  // never had one), oldest first, for this process until now + claim_lease(). One statement:
  // two processes claiming at once never get the same delivery.
  virtual std::vector<delivery> claim_unfinished(sys_seconds now, std::size_t limit) = 0;
  // Extends this process's claims on `ids` (deliveries whose handlers still run here) to now +
  // claim_lease(). Returns how many were renewed: a delivery done meanwhile, or one whose claim
  // another process took over after this one stalled past the lease, is not.
  virtual std::size_t renew_claims(std::span<const std::int64_t> ids, sys_seconds now) = 0;
};

}  // namespace flare::store
