#include "bot/runtime/inbox_pruner.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

namespace flare {
namespace asio = boost::asio;

struct inbox_pruner::state {
  state(asio::any_io_executor ex, store::store& s, const clock& c, prune_options o)
      : timer(ex), store(s), time_source(c), options(o) {}
  asio::steady_timer timer;
  store::store& store;
  const clock& time_source;
  prune_options options;
  bool stopped = false;
};

inbox_pruner::inbox_pruner(asio::any_io_executor executor, store::store& store, const clock& clock,
                           prune_options options)
    : state_(std::make_shared<state>(std::move(executor), store, clock, options)) {}

inbox_pruner::~inbox_pruner() { stop(); }

std::size_t inbox_pruner::prune_once() {
  return state_->store.prune_handled(state_->time_source.now() - state_->options.retention,
                                     state_->options.batch);
}

asio::awaitable<void> inbox_pruner::run() {
  auto s = state_;
  while (!s->stopped) {
    std::size_t removed = 0;
    try {
      removed = prune_once();
    } catch (const std::exception& e) {
      // A full or read-only disk: readiness reports it; pruning tries again next time.
      spdlog::warn("store: pruning handled deliveries failed: {}", e.what());
    }
    if (removed > 0) spdlog::debug("store: pruned {} handled deliveries and event marks", removed);
    if (removed > 0 && removed >= s->options.batch) {
      // More to go: let acks and handlers run first, then the next batch.
      co_await asio::post(s->timer.get_executor(), asio::use_awaitable);
      continue;
    }
    s->timer.expires_after(s->options.every);
    co_await s->timer.async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

void inbox_pruner::stop() {
  state_->stopped = true;
  state_->timer.cancel();
}

}  // namespace flare
