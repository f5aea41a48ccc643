// The layer under the Socket Mode WebSocket that turns the frames of one loop turn into one TLS
// write (issue 11). Included only by socket_mode_client.cpp: Beast stays out of wide headers.
//
//   websocket::stream< coalescing_stream< beast::ssl_stream<beast::tcp_stream> > >
//
// The client appends whole ack frames to queue() itself (framed and masked by
// append_masked_frame, no Beast write per ack); Beast's own writes (the upgrade request, pongs,
// pings, the close frame) join the same queue through async_write_some, which completes at once.
// The queue goes out in one async_write:
//   - when the reader has run out of input: Beast asked for more (async_read_some) and that read
//     is still waiting on the socket when a flush posted right after it runs. A read the TLS layer
//     answers from records it already holds completes ahead of that flush, and the acks of the
//     frames it brings join the same write (with one TLS record per envelope, as Slack and the
//     load generator send them, a flush at every async_read_some was one write per 2-3 acks);
//   - when 16 reads have completed at once without a write (input that never pauses does not
//     hold acks back for long);
//   - when a posted flush runs while the reader waits on the socket (acks that handlers produced
//     later, e.g. after the inbox's commit);
//   - when the previous write has completed and the reader waits, if more was queued meanwhile.
// So an ack waits at most for the frames already received to be handled, never for a timer. One
// write is in progress at a time; write_started() is what the connection's watchdog checks, and a
// failed write fails every later write and calls on_error.
#pragma once

#include <boost/asio/append.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/role.hpp>
#include <boost/system/error_code.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace flare::slack::socket_mode_detail {

// Bytes waiting to be written. Unlike std::string it does not zero what it grows into, only to
// have a frame written over it (a 5 KB memset per ack).
class byte_queue {
 public:
  // `n` more bytes at the end, to be written by the caller.
  char* extend(std::size_t n) {
    if (size_ + n > capacity_) {
      std::size_t capacity = capacity_ == 0 ? 16384 : capacity_;
      while (capacity < size_ + n) capacity *= 2;
      auto bigger = std::make_unique_for_overwrite<char[]>(capacity);
      if (size_ > 0) std::memcpy(bigger.get(), data_.get(), size_);
      data_ = std::move(bigger);
      capacity_ = capacity;
    }
    char* at = data_.get() + size_;
    size_ += n;
    return at;
  }
  void clear() { size_ = 0; }  // the capacity stays for the next turn
  void swap(byte_queue& other) noexcept {
    std::swap(data_, other.data_);
    std::swap(size_, other.size_);
    std::swap(capacity_, other.capacity_);
  }
  const char* data() const { return data_.get(); }
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

 private:
  std::unique_ptr<char[]> data_;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
};

template <class NextLayer>
class coalescing_stream {
 public:
  using next_layer_type = NextLayer;
  using executor_type = typename NextLayer::executor_type;
  using error_code = boost::system::error_code;

  template <class... Args>
  explicit coalescing_stream(Args&&... args)
      : next_(std::forward<Args>(args)...), write_done_(next_.get_executor()) {}

  next_layer_type& next_layer() { return next_; }
  const next_layer_type& next_layer() const { return next_; }
  executor_type get_executor() noexcept { return next_.get_executor(); }

  // The object that owns this stream, kept alive while a write is in progress.
  void set_owner(std::weak_ptr<void> owner) { owner_ = std::move(owner); }
  // Called once, on the executor, when a write fails.
  void on_error(std::function<void(const error_code&)> f) { on_error_ = std::move(f); }

  // Bytes queued and not yet handed to a write.
  std::size_t queued_bytes() const { return pending_.size(); }
  // When the write in progress started (none: nullopt).
  std::optional<std::chrono::steady_clock::time_point> write_started() const { return write_started_; }
  bool failed() const { return static_cast<bool>(error_); }

  // The reader has a message in hand: until Beast asks for more input, frames already read are
  // being handled, and a posted flush leaves their acks to the next async_read_some.
  void reader_busy() { reader_waiting_ = false; }

  // The queue, for appending whole frames; then call schedule_flush().
  byte_queue& queue() { return pending_; }

  // Sends the queue within this loop turn (see the header comment).
  void schedule_flush() {
    if (flush_posted_ || writing_) return;  // a write in progress sends the rest when it completes
    flush_posted_ = true;
    flush_if_reader_still_waits(reads_started_);
  }

  // Starts writing the queue now unless a write is in progress (which sends it when it completes).
  void flush() {
    if (writing_ || pending_.empty() || error_) return;
    auto keep = owner_.lock();
    if (!keep) return;
    writing_buffer_.swap(pending_);
    pending_.clear();
    control_frame_queued_ = false;
    reads_at_write_ = reads_started_;
    writing_ = true;
    write_started_ = std::chrono::steady_clock::now();
    boost::asio::async_write(next_, boost::asio::buffer(writing_buffer_.data(), writing_buffer_.size()),
                             [this, keep = std::move(keep)](const error_code& ec, std::size_t) {
                               writing_ = false;
                               write_started_.reset();
                               writing_buffer_.clear();
                               write_done_.cancel();
                               if (ec) {
                                 fail(ec);
                                 return;
                               }
                               // Beast's own frames (a pong, the close) go at once; acks queued
                               // meanwhile go as any other ack does, once the reader waits (a
                               // write per completion was a write per 2-3 acks).
                               if (control_frame_queued_) {
                                 flush();
                               } else if (!pending_.empty() && !flush_posted_) {
                                 flush_posted_ = true;
                                 flush_if_reader_still_waits(reads_started_);
                               }
                             });
  }

  // Completes `handler` (void(error_code)) once no write is in progress: for the TLS shutdown,
  // which must not overlap a write.
  template <class Handler>
  void after_writes(Handler&& handler) {
    flush();
    if (!writing_) {
      boost::asio::post(next_.get_executor(),
                        boost::asio::append(std::forward<Handler>(handler), error_code{}));
      return;
    }
    write_done_.expires_at(std::chrono::steady_clock::time_point::max());
    write_done_.async_wait([this, h = std::forward<Handler>(handler)](const error_code&) mutable {
      after_writes(std::move(h));
    });
  }

  // AsyncReadStream. Beast asks for more input only once it has handed over every frame it had:
  // what they produced goes out as soon as this read has to wait for the socket.
  template <class MutableBufferSequence, class ReadToken>
  auto async_read_some(const MutableBufferSequence& buffers, ReadToken&& token) {
    return boost::asio::async_initiate<ReadToken, void(error_code, std::size_t)>(
        [this](auto handler, const MutableBufferSequence& b) {
          reader_waiting_ = true;
          const std::uint64_t read = ++reads_started_;
          // A completion the layer below has at hand is posted here, ahead of the check below.
          next_.async_read_some(b, std::move(handler));
          if (pending_.empty()) return;
          if (read - reads_at_write_ >= max_reads_without_write) flush();
          else flush_if_reader_still_waits(read);
        },
        token, buffers);
  }

  // AsyncWriteStream: Beast's own frames join the queue and are sent with it, in order.
  template <class ConstBufferSequence, class WriteToken>
  auto async_write_some(const ConstBufferSequence& buffers, WriteToken&& token) {
    return boost::asio::async_initiate<WriteToken, void(error_code, std::size_t)>(
        [this](auto handler, const ConstBufferSequence& b) {
          error_code ec = error_;
          std::size_t n = 0;
          if (!ec) {
            n = boost::asio::buffer_size(b);
            boost::asio::buffer_copy(boost::asio::buffer(pending_.extend(n), n), b);
            control_frame_queued_ = true;
            flush();
          }
          boost::asio::post(next_.get_executor(), boost::asio::append(std::move(handler), ec, n));
        },
        token, buffers);
  }

 private:
  static constexpr std::uint64_t max_reads_without_write = 16;

  // Posts a flush that runs only if read number `read` is the latest and has not completed: the
  // reader waits on the socket. Otherwise a later read, or the message in hand, comes first, and
  // the flush posted after that read's start sends the queue.
  void flush_if_reader_still_waits(std::uint64_t read) {
    auto keep = owner_.lock();
    if (!keep) {
      flush_posted_ = false;
      return;
    }
    boost::asio::post(next_.get_executor(), [this, read, keep = std::move(keep)] {
      flush_posted_ = false;
      if (reader_waiting_ && reads_started_ == read) flush();
    });
  }

  void fail(const error_code& ec) {
    if (error_) return;
    error_ = ec;
    pending_.clear();
    if (on_error_) on_error_(ec);
  }

  NextLayer next_;
  std::weak_ptr<void> owner_;
  std::function<void(const error_code&)> on_error_;
  byte_queue pending_;
  byte_queue writing_buffer_;
  bool writing_ = false;
  bool flush_posted_ = false;
  bool reader_waiting_ = false;
  bool control_frame_queued_ = false;  // Beast wrote into pending_ (see async_write_some)
  std::uint64_t reads_started_ = 0;    // async_read_some calls
  std::uint64_t reads_at_write_ = 0;   // reads_started_ when the last write started
  std::optional<std::chrono::steady_clock::time_point> write_started_;
  error_code error_;
  boost::asio::steady_timer write_done_;  // cancelled whenever a write completes
};

// Beast's WebSocket close ends with a teardown of the layer below: the TLS shutdown, once the
// queued frames (the close frame among them) are written.
template <class NextLayer, class TeardownHandler>
void async_teardown(boost::beast::role_type role, coalescing_stream<NextLayer>& stream,
                    TeardownHandler&& handler) {
  stream.after_writes(
      [role, &stream, h = std::forward<TeardownHandler>(handler)](const boost::system::error_code&) mutable {
        async_teardown(role, stream.next_layer(), std::move(h));
      });
}

template <class NextLayer>
void teardown(boost::beast::role_type role, coalescing_stream<NextLayer>& stream,
              boost::system::error_code& ec) {
  teardown(role, stream.next_layer(), ec);
}

// Appends one client frame (FIN, text) carrying `payload` to `out`: header, masking key, and the
// payload masked as it is copied. `key` must be unpredictable (RFC 6455 §5.3).
inline void append_masked_frame(byte_queue& out, std::string_view payload,
                                const std::array<unsigned char, 4>& key) {
  const std::size_t size = payload.size();
  unsigned char header[14];
  std::size_t h = 0;
  header[h++] = 0x81;
  if (size < 126) {
    header[h++] = static_cast<unsigned char>(0x80 | size);
  } else if (size < 65536) {
    header[h++] = 0x80 | 126;
    header[h++] = static_cast<unsigned char>(size >> 8);
    header[h++] = static_cast<unsigned char>(size & 0xff);
  } else {
    header[h++] = 0x80 | 127;
    for (int i = 7; i >= 0; --i)
      header[h++] = static_cast<unsigned char>((std::uint64_t{size} >> (8 * i)) & 0xff);
  }
  for (auto b : key) header[h++] = b;
  char* p = out.extend(h + size);
  std::memcpy(p, header, h);
  char* to = p + h;
  const char* from = payload.data();
  // Eight bytes at a time, then the tail.
  unsigned char pattern[8];
  for (std::size_t i = 0; i < 8; ++i) pattern[i] = key[i % 4];
  std::uint64_t key8 = 0;
  std::memcpy(&key8, pattern, 8);
  std::size_t i = 0;
  for (; i + 8 <= size; i += 8) {
    std::uint64_t word = 0;
    std::memcpy(&word, from + i, 8);
    word ^= key8;
    std::memcpy(to + i, &word, 8);
  }
  for (; i < size; ++i) to[i] = static_cast<char>(static_cast<unsigned char>(from[i]) ^ key[i % 4]);
}

}  // namespace flare::slack::socket_mode_detail
