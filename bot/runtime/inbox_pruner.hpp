// Forgets handled inbox rows and processed-event marks once they are older than the retention
// (config store.processed_retention; Slack redelivers for minutes, not days), a small batch at a
// time so a prune never holds the event loop for long.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "bot/runtime/clock.hpp"
#include "bot/store/store.hpp"

namespace flare {

struct prune_options {
  std::chrono::seconds retention{std::chrono::hours(24 * 7)};
  std::chrono::seconds every{std::chrono::minutes(10)};  // between sweeps once nothing is left
  // Rows per table per transaction; an ack can wait behind one. 1M-event store, loaded machine (inbox_bench
  // prune): 100 rows p50 1.3 ms, p99 22.3, slowest 78.9; 500 rows 9.5 / 72.6 / 204.8 ms.
  std::size_t batch = 100;
};

class inbox_pruner {
 public:
  inbox_pruner(boost::asio::any_io_executor executor, store::store& store, const clock& clock,
               prune_options options);
  ~inbox_pruner();

  // Sweeps until stop(): batch after batch (yielding to the loop between them) while full
  // batches come back, then waits `every`.
  boost::asio::awaitable<void> run();
  void stop();

  // One batch; returns how many rows went. For tests and run().
  std::size_t prune_once();

 private:
  struct state;
  std::shared_ptr<state> state_;
};

}  // namespace flare
