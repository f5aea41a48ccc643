// The async building blocks every long-running object uses: one timeout helper, one sleep, one
// wake-up signal. Boost 1.81 has no asio::cancel_after, so the timeout is written once here with
// awaitable_operators (the loser of the race is cancelled and awaited). No Beast here.
#pragma once

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <optional>
#include <type_traits>

namespace flare::slack {

// The completion token spelling for operations whose errors are values (docs/architecture.md).
inline constexpr auto use_tuple = boost::asio::as_tuple(boost::asio::use_awaitable);

inline boost::asio::awaitable<void> sleep_for(std::chrono::steady_clock::duration d) {
  boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor, d);
  co_await timer.async_wait(use_tuple);
}

inline boost::asio::awaitable<void> sleep_until(std::chrono::steady_clock::time_point t) {
  boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor, t);
  co_await timer.async_wait(use_tuple);
}

// Runs `op` with a deadline: its result, or nothing when `limit` passed first (then `op` was
// cancelled). An operation that ignores cancellation is still awaited to its end.
template <class T>
boost::asio::awaitable<std::optional<T>> with_timeout(boost::asio::awaitable<T> op,
                                                      std::chrono::steady_clock::duration limit) {
  using namespace boost::asio::experimental::awaitable_operators;
  auto r = co_await (std::move(op) || sleep_for(limit));
  if (r.index() == 1) co_return std::nullopt;
  co_return std::optional<T>(std::get<0>(std::move(r)));
}

// The same for an operation without a result: true when it finished in time.
inline boost::asio::awaitable<bool> finished_within(boost::asio::awaitable<void> op,
                                                    std::chrono::steady_clock::duration limit) {
  using namespace boost::asio::experimental::awaitable_operators;
  auto r = co_await (std::move(op) || sleep_for(limit));
  co_return r.index() == 0;
}

// Wakes the one coroutine that waits on it. The waiter checks its condition first and then
// waits; with one thread nothing can slip in between, so a notify is never missed.
class wakeup {
 public:
  explicit wakeup(const boost::asio::any_io_executor& ex) : timer_(ex) {}
  void notify() { timer_.cancel(); }
  boost::asio::awaitable<void> wait() { co_await wait_until(std::chrono::steady_clock::time_point::max()); }
  boost::asio::awaitable<void> wait_until(std::chrono::steady_clock::time_point deadline) {
    timer_.expires_at(deadline);
    co_await timer_.async_wait(use_tuple);
  }

 private:
  boost::asio::steady_timer timer_;
};

}  // namespace flare::slack
