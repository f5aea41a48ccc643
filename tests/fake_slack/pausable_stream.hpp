// A TCP stream whose reads can be held back. The fake needs it for set_answer_pings(false):
// Beast answers a ping automatically inside any pending websocket read and keeps that read
// pending across control frames, so the only way to stop pongs is to stop the bytes reaching
// Beast at all. Private to tests/fake_slack (it includes Beast headers).
#pragma once

#include <boost/asio/compose.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/teardown.hpp>

#include <utility>

namespace flare::testing {

class pausable_stream {
 public:
  using next_layer_type = boost::beast::tcp_stream;
  using lowest_layer_type = boost::asio::ip::tcp::socket;
  using executor_type = next_layer_type::executor_type;

  explicit pausable_stream(next_layer_type next) : next_(std::move(next)), resume_(next_.get_executor()) {}

  executor_type get_executor() noexcept { return next_.get_executor(); }
  next_layer_type& next_layer() noexcept { return next_; }
  lowest_layer_type& lowest_layer() noexcept { return next_.socket(); }
  const lowest_layer_type& lowest_layer() const noexcept { return next_.socket(); }

  // While paused, bytes that arrive stay in the kernel (or in hand, if a read was already under
  // way): the peer's frames, pings included, go unanswered. Server thread only.
  void pause() { paused_ = true; }
  void resume() {
    paused_ = false;
    resume_.cancel();
  }
  // Closes the socket at once: no TLS close_notify, no WebSocket close frame.
  void close() {
    paused_ = false;
    resume_.cancel();
    next_.close();
  }

  template <class MutableBuffers, class Token>
  auto async_read_some(const MutableBuffers& buffers, Token&& token) {
    return boost::asio::async_compose<Token, void(boost::system::error_code, std::size_t)>(
        read_op<MutableBuffers>(this, buffers), token, next_);
  }

  template <class ConstBuffers, class Token>
  auto async_write_some(const ConstBuffers& buffers, Token&& token) {
    return next_.async_write_some(buffers, std::forward<Token>(token));
  }

 private:
  template <class MutableBuffers>
  struct read_op {
    read_op(pausable_stream* s, const MutableBuffers& b) : stream(s), buffers(b) {}

    pausable_stream* stream;
    MutableBuffers buffers;
    enum { start, reading, delivering } state = start;
    boost::system::error_code result;
    std::size_t bytes = 0;

    template <class Self>
    void operator()(Self& self, boost::system::error_code ec = {}, std::size_t n = 0) {
      switch (state) {
        case start:
          if (stream->paused_) return stream->wait_for_resume(std::move(self));
          state = reading;
          return stream->next_.async_read_some(buffers, std::move(self));
        case reading:
          result = ec;
          bytes = n;
          state = delivering;
          [[fallthrough]];
        case delivering:
          if (stream->paused_ && !result) return stream->wait_for_resume(std::move(self));
          return self.complete(result, bytes);
      }
    }
  };

  template <class Self>
  void wait_for_resume(Self&& self) {
    resume_.expires_at(boost::asio::steady_timer::time_point::max());
    resume_.async_wait(std::forward<Self>(self));
  }

  next_layer_type next_;
  boost::asio::steady_timer resume_;
  bool paused_ = false;
};

// Found by argument-dependent lookup from the SSL stream's websocket teardown.
inline void teardown(boost::beast::role_type role, pausable_stream& stream, boost::system::error_code& ec) {
  using boost::beast::websocket::teardown;
  teardown(role, stream.next_layer(), ec);
}

template <class TeardownHandler>
void async_teardown(boost::beast::role_type role, pausable_stream& stream, TeardownHandler&& handler) {
  using boost::beast::websocket::async_teardown;
  async_teardown(role, stream.next_layer(), std::forward<TeardownHandler>(handler));
}

}  // namespace flare::testing
