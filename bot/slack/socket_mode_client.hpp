// The Socket Mode link to Slack (docs/slack.md §1): a TLS WebSocket that delivers
// envelopes and takes their acks. run() owns the whole life of the link — fetch a fresh URL,
// connect, wait for hello, read, ack, refresh when Slack asks, reconnect with backoff when the
// link drops — the way boost::redis / boost::mysql connections own theirs. No Beast here.
#pragma once

#include "bot/slack/envelope.hpp"
#include "bot/slack/quick_slash.hpp"
#include "bot/slack/slack_api.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

namespace flare::slack {

namespace socket_mode_detail {
struct state;
}

struct socket_mode_options {
  std::string extra_ca_file;                         // SLACK_CA_FILE; empty: system store only
  std::chrono::milliseconds connect_timeout{10000};  // each of resolve, TCP, TLS, WebSocket
  std::chrono::milliseconds hello_timeout{10000};    // from WebSocket handshake to `hello`
  std::chrono::milliseconds idle_timeout{30000};     // silence after which the link is dead
                                                     // (a ping is sent half-way through)
  std::chrono::milliseconds safety_ack_after{2500};  // ack anyway if the sink hasn't
  std::chrono::milliseconds backoff_initial{1000};
  std::chrono::milliseconds backoff_max{60000};
  std::chrono::milliseconds close_timeout{3000};  // close handshake, on refresh and stop
};

// Calls apps.connections.open and returns the wss:// URL. Called afresh for every connection:
// a ticket is never reused.
using url_opener = std::function<boost::asio::awaitable<api_result<std::string>>()>;

struct socket_mode_stats {
  std::uint64_t connection_attempts = 0;  // URL fetches started
  std::uint64_t connections_opened = 0;   // connections that received hello
  // Attempts that never reached hello, by cause: "connect_failed", "tls_verification_failed",
  // "hello_timeout", "apps.connections.open:" + Slack's error, ...
  std::map<std::string, std::uint64_t> failed_attempts_by_reason;
  // Why a new connection was opened after the first: "warning", "refresh_requested",
  // "too_many_websockets", "eof", "idle_timeout", "hello_timeout", "connect_failed", ...
  std::map<std::string, std::uint64_t> reconnects_by_reason;
  std::uint64_t envelopes_received = 0;
  std::uint64_t acks_sent = 0;      // ack frames written (any cause)
  std::uint64_t safety_acks = 0;    // acks the client sent because the sink hadn't
  std::uint64_t sink_failures = 0;  // sink threw
  std::uint64_t malformed_frames = 0;
  std::uint64_t acks_lost = 0;  // acked after the connection had gone (Slack redelivers)
};

// Answers a slash command read straight from its frame (quick_slash.hpp), before the envelope is
// built: returns the ack's payload, or nullopt to let the frame take the sink's path as usual.
// Called on the client's executor; must not block. For replies kept ready (issue 11).
using quick_reply_fn = std::function<std::optional<ack_payload>(const slash_frame&)>;

// The Socket Mode link.
// - Preconditions: `ex` is the executor of the single-threaded io_context the client runs on;
//   `open_url` and `sink` outlive the client.
// - Lifetime: run() owns every connection and coroutine the client starts and returns only when
//   all of them have finished; the client may be destroyed once run() has returned (or was
//   never called).
// - Cancellation: stop() (from any thread, any number of times): owed acks go out, then close
//   frames, bounded by close_timeout. Do not cancel run() itself.
// - Errors: network failures are retried with backoff and counted in stats(); run() returns
//   only a refusal (bot/slack/errors.hpp, error_kind::refused) or link_disabled. The sink's
//   exceptions are contained and the envelope acked.
// - Thread safety: everything but stop() and the ack_fn on the client's executor only.
class socket_mode_client {
 public:
  // `ex` must be the executor of the (single-threaded) io_context the client runs on; the sink
  // is called on it, and ack_fn may be called from anywhere.
  // Throws std::runtime_error when options.extra_ca_file can't be loaded.
  socket_mode_client(boost::asio::any_io_executor ex, socket_mode_options options, url_opener open_url,
                     envelope_sink sink);
  ~socket_mode_client();
  socket_mode_client(const socket_mode_client&) = delete;
  socket_mode_client& operator=(const socket_mode_client&) = delete;

  // Runs the link until stop() or a fatal condition. Returns nullopt after stop(), or the fatal
  // error: link_disabled (Slack's disconnect), or an apps.connections.open error that retrying
  // cannot fix (invalid_auth, not_authed, account_inactive, token_revoked, ...). Every connection
  // and coroutine the client started has finished when it returns. Call at most once, and end it
  // with stop() rather than by cancelling it: stop() is what closes the connections cleanly.
  boost::asio::awaitable<std::optional<api_error>> run();

  // Graceful stop: envelopes already handed to the sink are acked (at the latest by the safety
  // ack), then close frames (1000) on every connection, all bounded by close_timeout; run() then
  // returns. Safe from any thread, before run(), or more than once.
  void stop();

  // True while at least one connection has received hello and is still open.
  bool connected() const;
  const socket_mode_stats& stats() const;

  // Optional: called with true/false when connected() changes (readiness probes).
  std::function<void(bool)> on_connected_changed;
  // Optional: see quick_reply_fn. Envelopes it answers never reach the sink.
  quick_reply_fn quick_reply;

 private:
  std::shared_ptr<socket_mode_detail::state> state_;
};

}  // namespace flare::slack
