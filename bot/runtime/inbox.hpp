// The durable inbox in front of the dispatcher: every envelope is written to the store before it
// is acked, then handled, then marked done (docs/reliability.md, "The inbox").
//
// Group commit: the writes of the envelopes that arrive within `window` (a few ms) and the done
// marks made meanwhile are committed as one transaction, so one disk sync (synchronous=FULL)
// serves them all and the ack stays fast. A crash inside the window loses nothing: nothing in it
// was acked, so Slack redelivers. A failed write is thrown to every envelope of the batch, which
// the dispatcher then does not ack, and reported through `on_write` (readiness, metrics).
//
// Several replicas (a store with delivery_claims, i.e. PostgreSQL): each recorded delivery is
// claimed by this replica; run_claims() keeps renewing the claims of the deliveries whose
// handlers run here, and replays deliveries whose claim expired because their replica died (or
// gave up on a handler). Without claims (SQLite, one process) unfinished deliveries are replayed
// at start only, through unfinished().
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "bot/runtime/clock.hpp"
#include "bot/runtime/dispatcher.hpp"
#include "bot/store/delivery_claims.hpp"
#include "bot/store/store.hpp"

namespace flare {

struct inbox_options {
  // How long the first write of a batch waits for company. Slack's ack budget is 3 s; 2 ms keeps
  // the ack well inside it and lets a burst share one disk sync.
  std::chrono::microseconds window{2000};
  // A batch this large commits at once, without waiting for the window.
  std::size_t max_batch = 512;
  // Told after every commit: whether it succeeded, and the error when not.
  std::function<void(bool ok, const std::string& error)> on_write;
  // Replays of one unfinished delivery (one per start) before it is parked as a dead letter: a
  // delivery whose handler throws, or crashes the process, every time must not be replayed at
  // every start for ever, nor be dropped without a trace.
  int max_replays = 5;
  // Told when a delivery is parked (metrics).
  std::function<void(const store::delivery&)> on_parked;
  // Several replicas: the store's claims on unfinished deliveries (the PostgreSQL store). Null:
  // one process, unfinished deliveries are replayed at start only.
  store::delivery_claims* claims = nullptr;
  // How often run_claims() renews this replica's claims and looks for expired ones. Zero: a third
  // of the store's claim lease (so a claim is renewed twice before it could expire).
  std::chrono::milliseconds claim_every{0};
  // A handler still running after this long is given up on: its claim is no longer renewed, so
  // when the lease expires the delivery is replayed (by any replica) and counted towards
  // max_replays. Also how long a failed handler's delivery waits for its replay (the dispatcher
  // reports only finished handlers). Every handler's Slack calls are bounded far below this.
  std::chrono::seconds max_handler_time{300};
};

// The store key that recognises a redelivery of `envelope`: the event_id of an event, the
// trigger_id of a slash command or interaction, else the envelope id.
std::string inbox_key(const slack::envelope& envelope);

class inbox final : public delivery_log {
 public:
  inbox(boost::asio::any_io_executor executor, store::store& store, const clock& clock,
        inbox_options options = {});
  ~inbox() override;

  boost::asio::awaitable<std::optional<std::int64_t>> record(const slack::envelope& envelope) override;
  void handled(std::int64_t id) override;

  // Commits whatever is waiting now (shutdown: the done marks of the last handlers).
  void flush();
  // False after a failed commit, until one succeeds.
  bool writable() const;

  // The deliveries a crash (or a failed handler) left unfinished, as envelopes to replay. Each
  // one's replay is counted in the store first; one that has already had `max_replays` is parked
  // instead (logged as an error naming it, reported through `on_parked`) and not returned.
  std::vector<std::pair<std::int64_t, slack::envelope>> unfinished(std::size_t limit);

  // Several replicas (options.claims set; returns at once otherwise): until stop(), every
  // claim_every renews this replica's claims on the deliveries it is handling, then claims
  // deliveries whose claim has expired (left unfinished by a replica that died, or given up on)
  // and hands each to `replay`, the replay cap applied as in unfinished(). The first pass runs at
  // once: it is the start-up replay. Store errors are logged and retried on the next pass.
  boost::asio::awaitable<void> run_claims(std::function<void(std::int64_t, slack::envelope)> replay);
  void stop();
  // Deliveries whose claims this replica renews (tests, metrics).
  std::size_t held() const;

 private:
  struct state;
  std::shared_ptr<state> state_;
};

}  // namespace flare
