// Several processes sending one outbox (issue 10: flare replicas on one PostgreSQL).
//
// begin_attempt claims an outbox item for the replica that sends it, with a lease. A call may take
// long (per-channel pacing, Slack's Retry-After waits), so the sender renews the claims of its
// sends under way every third of the lease: a live replica keeps its post however long the call
// takes, and a dead replica's claim runs out one lease after its last renewal, when another
// replica takes the post over (docs/postgresql.md).
//
// A store shared by several processes implements this beside `store` (the PostgreSQL store); a
// SQLite store has one process and no claims. Its own header, like delivery_claims.hpp, so the
// store interface most of the code includes stays as it is.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "bot/store/store.hpp"

namespace flare::store {

class outbox_claims {
 public:
  virtual ~outbox_claims() = default;

  // Extends this process's claims on `ids` (items it is sending) to now + the lease. Returns how
  // many were renewed: an item sent meanwhile, or one whose claim another process took over after
  // this one stalled past the lease, is not.
  virtual std::size_t renew_outbox_claims(std::span<const std::int64_t> ids, sys_seconds now) = 0;
};

}  // namespace flare::store
