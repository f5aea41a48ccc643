// The Socket Mode link (docs/slack.md §1). Shape:
//
//   run() ── supervise(): fetch URL → connect → hello ── wait for an event ──┐
//               ▲            (each connection: reader ∥ writer ∥ safety acks)  │
//               └── refresh (new first, then close old) / drop (backoff) ◀────┘
//
// Everything runs on one executor (one thread): the flags and queues below need no locks. Each
// connection's three coroutines share ownership of it; the supervisor learns about a drop or a
// `disconnect` through a small event queue. run() does not return before every connection
// coroutine has finished, so nothing outlives it touching the sink or the opener.
#include "bot/slack/socket_mode_client.hpp"

#include "bot/slack/backoff.hpp"
#include "bot/slack/coalescing_stream.hpp"
#include "bot/slack/errors.hpp"
#include "bot/slack/reconnect.hpp"
#include "bot/slack/timeout.hpp"
#include "bot/slack/tls_context.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/url/parse.hpp>
#include <openssl/rand.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <deque>
#include <random>
#include <variant>
#include <vector>

namespace flare::slack::socket_mode_detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using namespace asio::experimental::awaitable_operators;
using tcp = asio::ip::tcp;
using tls_stream = beast::ssl_stream<beast::tcp_stream>;
using ws_stream = websocket::stream<coalescing_stream<tls_stream>>;
using steady = std::chrono::steady_clock;
using std::chrono::milliseconds;

std::string describe_read_error(const boost::system::error_code& ec, ws_stream& ws) {
  if (ec == websocket::error::closed) {
    return "closed_by_slack (" + std::to_string(static_cast<int>(ws.reason().code)) + ")";
  }
  if (ec == beast::error::timeout) return "idle_timeout";
  if (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated) return "eof";
  if (ec == asio::error::connection_reset) return "connection_reset";
  if (ec == asio::error::operation_aborted) return "aborted";
  return "read_error (" + ec.message() + ")";
}

struct state;
struct connection;

// One envelope's acknowledgement. `acked` decides who wins between the sink and the safety ack;
// it is atomic because the ack_fn may be called from another thread (the send itself is
// dispatched onto the client's executor).
struct ack_state {
  std::atomic<bool> acked{false};
  bool sent = false;  // queued on the connection (or found it gone); executor thread only
  std::string envelope_id;
  bool accepts_response_payload = false;
  std::weak_ptr<connection> conn;
  std::weak_ptr<state> owner;  // for stats
  asio::any_io_executor ex;
};

struct connection_event {
  std::shared_ptr<connection> conn;
  link_event kind;
  std::string reason;
};

// One connection's life, after its WebSocket handshake (as Boost.MySQL's pool names a node's
// status). Only forward: awaiting_hello -> ready -> closing -> closed, any step may be skipped.
enum class connection_state {
  awaiting_hello,  // the WebSocket is open; Slack has not said hello yet
  ready,           // hello received: envelopes flow
  closing,         // flare closes it on purpose: queued acks first, then a close frame
  closed,          // the reader has finished: nothing more is sent or received
};

struct connection : std::enable_shared_from_this<connection> {
  connection(std::shared_ptr<state> owner, asio::any_io_executor ex, asio::ssl::context& tls, int id)
      : owner(std::move(owner)),
        id(id),
        resolver(ex),
        ws(ex, tls),
        hello_wake(ex),
        writer_wake(ex),
        safety_wake(ex) {}

  std::shared_ptr<state> owner;  // released when the connection's coroutines end
  int id;
  std::string host;  // for logs: never the URL, whose query holds the ticket
  tcp::resolver resolver;
  ws_stream ws;

  connection_state status = connection_state::awaiting_hello;
  std::string end_reason;

  std::deque<std::pair<steady::time_point, std::shared_ptr<ack_state>>> awaiting_ack;

  wakeup hello_wake;
  wakeup writer_wake;
  wakeup safety_wake;
  // The safety-ack coroutine waits without a deadline (nothing unacked, or an ack on its way from
  // another thread): only then does it need waking. It otherwise sleeps until the oldest
  // envelope's deadline, however many acks go out meanwhile (issue 11: no wake per ack).
  bool safety_idle = false;

  // The layer under the WebSocket where ack frames are queued and written, one write per loop
  // turn (coalescing_stream.hpp).
  coalescing_stream<tls_stream>& frames() { return ws.next_layer(); }
  tls_stream& tls() { return ws.next_layer().next_layer(); }

  // Close the socket under everything: pending operations complete at once with an error.
  void abort() {
    boost::system::error_code ignored;
    resolver.cancel();
    auto& socket = beast::get_lowest_layer(ws).socket();
    socket.shutdown(tcp::socket::shutdown_both, ignored);
    socket.close(ignored);
  }

  bool is_closed() const { return status == connection_state::closed; }

  // Graceful close: the writer sends the queued acks, then the close frame. Its end is then not
  // a drop, and it no longer counts as connected.
  void request_close();
};

struct state {
  state(asio::any_io_executor ex, socket_mode_options options, url_opener open_url, envelope_sink sink)
      : ex(ex),
        options(std::move(options)),
        open_url(std::move(open_url)),
        sink(std::move(sink)),
        tls(make_client_tls_context(this->options.extra_ca_file)),
        stop_timer(ex, steady::time_point::max()),
        events_wake(ex),
        drained_wake(ex),
        // Full jitter: after an outage every client reconnects at once; spread them widely.
        reconnect_backoff(
            backoff_policy{this->options.backoff_initial, this->options.backoff_max, jitter::full}) {}

  asio::any_io_executor ex;
  socket_mode_options options;
  url_opener open_url;
  envelope_sink sink;
  std::shared_ptr<asio::ssl::context> tls;
  socket_mode_client* owner = nullptr;  // for on_connected_changed; null once the client is gone

  socket_mode_stats stats;
  bool running = false;
  bool stopping = false;
  bool is_connected = false;
  int next_connection_id = 1;

  std::shared_ptr<connection> connecting;                // between URL fetch and hello
  std::vector<std::shared_ptr<connection>> connections;  // coroutines running
  std::deque<connection_event> events;

  asio::steady_timer stop_timer;  // never expires; stop() cancels it to wake every waiter
  std::string ack_text;           // an ack's JSON before it is framed (kept: no allocation per ack)
  std::array<unsigned char, 1024> mask_keys{};  // WebSocket masking keys, drawn 256 at a time
  std::size_t mask_keys_used = mask_keys.size();
  wakeup events_wake;
  wakeup drained_wake;
  backoff reconnect_backoff;

  asio::awaitable<void> wait_stopped() {
    if (!stopping) co_await stop_timer.async_wait(use_tuple);
  }

  void update_connected() {
    bool now = false;
    for (const auto& c : connections) now = now || c->status == connection_state::ready;
    if (now == is_connected) return;
    is_connected = now;
    if (!owner || !owner->on_connected_changed) return;
    try {
      owner->on_connected_changed(now);
    } catch (const std::exception& e) {
      spdlog::error("socket mode: on_connected_changed failed: {}", e.what());
    }
  }

  // An unpredictable masking key for one client frame (RFC 6455 §5.3), from OpenSSL's CSPRNG.
  std::array<unsigned char, 4> next_mask_key() {
    if (mask_keys_used + 4 > mask_keys.size()) {
      if (RAND_bytes(mask_keys.data(), static_cast<int>(mask_keys.size())) != 1) {
        std::random_device random;
        for (auto& b : mask_keys) b = static_cast<unsigned char>(random());
      }
      mask_keys_used = 0;
    }
    std::array<unsigned char, 4> key{};
    std::copy_n(mask_keys.begin() + static_cast<std::ptrdiff_t>(mask_keys_used), 4, key.begin());
    mask_keys_used += 4;
    return key;
  }

  void push_event(connection_event ev) {
    if (stopping) return;
    events.push_back(std::move(ev));
    events_wake.notify();
  }
};

void connection::request_close() {
  if (status == connection_state::closed) return;
  status = connection_state::closing;
  writer_wake.notify();
  if (owner) owner->update_connected();
}

// Acks queued beyond this while a write does not complete end the connection (its unacked
// envelopes are redelivered by Slack): a bound on memory when the peer stops reading.
constexpr std::size_t max_queued_bytes = std::size_t{16} * 1024 * 1024;

void send_ack(const std::shared_ptr<ack_state>& a, const ack_payload& payload) {
  a->sent = true;
  auto conn = a->conn.lock();
  if (!conn || conn->is_closed()) {
    if (auto s = a->owner.lock()) ++s->stats.acks_lost;
    spdlog::warn(
        "socket mode: ack for envelope {} dropped: its connection is gone (Slack will "
        "redeliver events)",
        a->envelope_id);
    return;
  }
  // {"envelope_id":...,"payload":...}, as nlohmann::json would write it, with a kept reply's bytes
  // copied in rather than parsed and written again; framed and masked straight into the
  // connection's write queue, sent with the other acks of this loop turn in one write.
  auto& s = *conn->owner;
  std::string& text = s.ack_text;
  text.assign("{\"envelope_id\":");
  const bool plain_id = std::all_of(a->envelope_id.begin(), a->envelope_id.end(),
                                    [](char c) { return c >= 0x20 && c < 0x7f && c != '"' && c != '\\'; });
  if (plain_id) {
    text += '"';
    text += a->envelope_id;
    text += '"';
  } else {
    text += nlohmann::json(a->envelope_id).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  if (payload && a->accepts_response_payload) {
    text += ",\"payload\":";
    payload.append_json_to(text);
  }
  text += '}';
  auto& frames = conn->frames();
  append_masked_frame(frames.queue(), text, s.next_mask_key());
  ++s.stats.acks_sent;
  if (frames.queued_bytes() > max_queued_bytes) {
    // Slack has not taken our writes for a long time and acks pile up: the link is dead.
    conn->end_reason = "write_backlog";
    conn->abort();
    return;
  }
  frames.schedule_flush();
  // Acked envelopes leave the front of the safety queue here, without waking its coroutine.
  while (!conn->awaiting_ack.empty() && conn->awaiting_ack.front().second->sent)
    conn->awaiting_ack.pop_front();
  if (conn->safety_idle) conn->safety_wake.notify();
  if (conn->status == connection_state::closing) conn->writer_wake.notify();  // may close now
}

// The sink withheld the ack (see withheld_ack): nothing is sent, and the safety ack stands down.
void withhold_ack(const std::shared_ptr<ack_state>& a) {
  a->sent = true;  // settled: the safety ack pops it
  spdlog::warn("socket mode: envelope {} not acked on purpose; Slack will redeliver it", a->envelope_id);
  if (auto conn = a->conn.lock()) {
    conn->writer_wake.notify();  // a close may be waiting for this envelope
    conn->safety_wake.notify();
  }
}

ack_fn make_ack_fn(std::shared_ptr<ack_state> a) {
  return [a = std::move(a)](ack_payload payload) {
    if (a->acked.exchange(true)) return;  // first call wins
    if (is_withheld(payload)) {
      asio::dispatch(a->ex, [a] { withhold_ack(a); });
      return;
    }
    asio::dispatch(a->ex, [a, payload = std::move(payload)] { send_ack(a, payload); });
  };
}

// Counts an envelope received and gives it its ack, watched by the safety ack.
ack_fn receive(const std::shared_ptr<connection>& conn, const std::string& envelope_id,
               bool accepts_response_payload) {
  auto& s = *conn->owner;
  ++s.stats.envelopes_received;
  auto a = std::make_shared<ack_state>();
  a->envelope_id = envelope_id;
  a->accepts_response_payload = accepts_response_payload;
  a->conn = conn;
  a->owner = conn->owner;
  a->ex = s.ex;
  conn->awaiting_ack.emplace_back(steady::now() + s.options.safety_ack_after, a);
  if (conn->safety_idle) conn->safety_wake.notify();
  return make_ack_fn(std::move(a));
}

// A slash command the quick_reply hook answers from its frame alone; false when the frame must
// take parse_frame's path (not such a command, or the hook has no reply for it).
bool answer_quickly(const std::shared_ptr<connection>& conn, std::string_view text) {
  auto& s = *conn->owner;
  if (s.owner == nullptr || !s.owner->quick_reply) return false;
  auto command = peek_slash_command(text);
  if (!command) return false;
  std::optional<ack_payload> reply;
  try {
    reply = s.owner->quick_reply(*command);
  } catch (const std::exception& ex) {
    // Nothing was answered: the envelope goes the usual way, where a failure is handled in full.
    spdlog::warn("socket mode: quick reply failed on envelope {}: {}", command->envelope_id, ex.what());
    return false;
  }
  if (!reply) return false;
  spdlog::debug("socket mode: envelope {} (slash_commands) on connection {}, answered at once",
                command->envelope_id, conn->id);
  receive(conn, command->envelope_id, true)(std::move(*reply));
  return true;
}

void deliver(const std::shared_ptr<connection>& conn, envelope e) {
  auto& s = *conn->owner;
  spdlog::debug("socket mode: envelope {} ({}) on connection {}{}", e.envelope_id, e.type, conn->id,
                e.retry_attempt > 0 ? fmt::format(", retry {}", e.retry_attempt) : "");
  auto ack = receive(conn, e.envelope_id, e.accepts_response_payload);
  if (!s.sink) {
    ack(std::nullopt);
    return;
  }
  std::string id = e.envelope_id;
  std::string type = e.type;
  try {
    s.sink(std::move(e), ack);
  } catch (const std::exception& ex) {
    ++s.stats.sink_failures;
    spdlog::error("socket mode: handler failed on envelope {} ({}): {}; acked anyway", id, type, ex.what());
    ack(std::nullopt);
  } catch (...) {
    ++s.stats.sink_failures;
    spdlog::error("socket mode: handler failed on envelope {} ({}); acked anyway", id, type);
    ack(std::nullopt);
  }
}

void handle_frame(const std::shared_ptr<connection>& conn, std::string_view text) {
  auto& s = *conn->owner;
  if (answer_quickly(conn, text)) return;
  auto f = parse_frame(text);
  if (auto* h = std::get_if<hello>(&f)) {
    if (conn->status != connection_state::awaiting_hello) {
      spdlog::debug("socket mode: extra hello on connection {}", conn->id);
      return;
    }
    conn->status = connection_state::ready;
    spdlog::info("socket mode: connection {} to {} ready ({} open, recycled in about {} s)", conn->id,
                 conn->host, h->num_connections, h->approximate_connection_time);
    conn->hello_wake.notify();
    s.update_connected();
  } else if (auto* d = std::get_if<disconnect>(&f)) {
    spdlog::info("socket mode: Slack asks connection {} to disconnect ({})", conn->id,
                 d->reason.empty() ? "no reason" : d->reason);
    s.push_event({conn, link_event::disconnect_requested, d->reason});
  } else if (auto* e = std::get_if<envelope>(&f)) {
    deliver(conn, std::move(*e));
  } else if (auto* m = std::get_if<malformed_frame>(&f)) {
    ++s.stats.malformed_frames;
    if (m->envelope_id) {
      spdlog::warn("socket mode: malformed {} frame on connection {} ({}); acking envelope {}", m->type,
                   conn->id, m->reason, *m->envelope_id);
      auto a = std::make_shared<ack_state>();
      a->envelope_id = *m->envelope_id;
      a->conn = conn;
      a->owner = conn->owner;
      a->ex = s.ex;
      make_ack_fn(a)(std::nullopt);
    } else {
      spdlog::warn(
          "socket mode: malformed {} frame on connection {} ({}); no readable envelope id, "
          "so not acked",
          m->type, conn->id, m->reason);
    }
  }
}

asio::awaitable<void> read_frames(std::shared_ptr<connection> conn) {
  beast::flat_buffer buffer;
  for (;;) {
    auto [ec, n] = co_await conn->ws.async_read(buffer, use_tuple);
    if (ec) {
      if (conn->end_reason.empty()) conn->end_reason = describe_read_error(ec, conn->ws);
      co_return;
    }
    conn->frames().reader_busy();
    // Slack sends JSON in text frames; anything else is not for us. Parsed in place: the flat
    // buffer is contiguous, so no copy of the frame is made first.
    if (conn->ws.got_text()) {
      const auto data = buffer.data();
      handle_frame(conn, std::string_view(static_cast<const char*>(data.data()), data.size()));
    }
    buffer.consume(buffer.size());
  }
}

// Acks are queued by send_ack() and written by the connection's frame layer; this coroutine ends
// the connection when a write fails, and sends the close frame when the connection closes.
asio::awaitable<void> write_frames(std::shared_ptr<connection> conn) {
  auto& s = *conn->owner;
  for (;;) {
    if (conn->frames().failed()) co_return;  // end_reason set by the layer's on_error
    // Closing waits for every envelope already handed to the sink to be acked (by the sink or,
    // at the latest, by the safety ack): an ack can't follow the close frame.
    bool acks_pending = std::any_of(conn->awaiting_ack.begin(), conn->awaiting_ack.end(),
                                    [](const auto& entry) { return !entry.second->sent; });
    if (conn->status == connection_state::closing && !acks_pending) {
      conn->ws.set_option(
          websocket::stream_base::timeout{s.options.close_timeout, s.options.idle_timeout, true});
      auto closed = co_await with_timeout(conn->ws.async_close(websocket::close_code::normal, use_tuple),
                                          s.options.close_timeout);
      if (!closed) {
        spdlog::debug("socket mode: close handshake of connection {} timed out", conn->id);
      } else if (auto [ec] = *closed; ec) {
        spdlog::debug("socket mode: close of connection {}: {}", conn->id, ec.message());
      }
      co_return;
    }
    co_await conn->writer_wake.wait();
  }
}

// Acks, without payload, every envelope the sink has not acked by safety_ack_after: Slack's
// deadline is 3 s, and a slow handler must not turn into a redelivery or a user-visible error.
asio::awaitable<void> safety_acks(std::shared_ptr<connection> conn) {
  auto& s = *conn->owner;
  for (;;) {
    if (conn->awaiting_ack.empty()) {
      conn->safety_idle = true;
      co_await conn->safety_wake.wait();
      conn->safety_idle = false;
      continue;
    }
    auto [deadline, a] = conn->awaiting_ack.front();
    if (a->sent) {
      conn->awaiting_ack.pop_front();
      conn->writer_wake.notify();  // a close may be waiting for this ack
      continue;
    }
    if (steady::now() >= deadline) {
      if (!a->acked.exchange(true)) {
        ++s.stats.safety_acks;
        spdlog::warn(
            "socket mode: envelope {} not acked by its handler within {} ms; acked "
            "without a response",
            a->envelope_id, s.options.safety_ack_after.count());
        send_ack(a, std::nullopt);
      } else {
        // Acked on another thread, its send is on the way here; send_ack wakes us.
        conn->safety_idle = true;
        co_await conn->safety_wake.wait();
        conn->safety_idle = false;
      }
      continue;
    }
    co_await conn->safety_wake.wait_until(deadline);
  }
}

// The connection's one write watchdog: ends the connection when a write has been in progress
// longer than the idle timeout (a dead link whose send buffer is full). Checking a few times per
// timeout costs one timer wake every few seconds, not a timer per write.
asio::awaitable<void> write_watchdog(std::shared_ptr<connection> conn) {
  const auto limit = conn->owner->options.idle_timeout;
  const auto period = std::max<steady::duration>(limit / 4, milliseconds(1));
  for (;;) {
    co_await sleep_for(period);
    const auto started = conn->frames().write_started();
    if (started && steady::now() - *started >= limit) {
      conn->end_reason = "write_timeout";
      conn->abort();  // the stuck write (and a close waiting behind it) ends at once
      co_return;
    }
  }
}

// The life of one connection after its WebSocket handshake. When any part ends (the reader on a
// drop or after the close handshake, the writer on a write error or after sending close) the
// others are cancelled.
asio::awaitable<void> run_connection(std::shared_ptr<connection> conn) {
  try {
    co_await (read_frames(conn) || write_frames(conn) || safety_acks(conn) || write_watchdog(conn));
  } catch (const std::exception& e) {
    // Not expected (I/O errors are values, the sink is guarded); the cleanup below must run.
    conn->end_reason = std::string("internal_error (") + e.what() + ")";
    spdlog::error("socket mode: connection {} failed: {}", conn->id, e.what());
  }
  const bool closed_by_flare = conn->status == connection_state::closing;
  conn->status = connection_state::closed;
  conn->abort();
  auto s = conn->owner;
  std::erase(s->connections, conn);
  spdlog::info("socket mode: connection {} to {} closed ({})", conn->id, conn->host,
               closed_by_flare ? "by flare" : conn->end_reason);
  if (!closed_by_flare) {
    s->push_event(
        {conn, link_event::dropped, conn->end_reason.empty() ? std::string("closed") : conn->end_reason});
  }
  conn->hello_wake.notify();
  s->update_connected();
  s->drained_wake.notify();
  // The connection may still be referenced by late ack_fns (weakly) and by the event queue; its
  // tie to the state goes now so no cycle keeps either alive.
  conn->owner.reset();
}

// Runs `op` unless it outlasts `timeout` or stop() is called.
enum class step_end { done, timed_out, stopped };

template <class T>
asio::awaitable<std::pair<step_end, std::optional<T>>> bounded(state& s, asio::awaitable<T> op,
                                                               milliseconds timeout) {
  if (s.stopping) co_return std::pair{step_end::stopped, std::optional<T>{}};
  auto r = co_await (with_timeout(std::move(op), timeout) || s.wait_stopped());
  if (r.index() == 1) co_return std::pair{step_end::stopped, std::optional<T>{}};
  auto result = std::get<0>(std::move(r));
  co_return std::pair{result ? step_end::done : step_end::timed_out, std::move(result)};
}

struct establish_result {
  std::shared_ptr<connection> conn;  // set on success
  std::optional<api_error> fatal;
  bool stopped = false;
  std::string failure;  // why this attempt failed, for logs and stats
};

establish_result failed(std::string why) { return {nullptr, std::nullopt, false, std::move(why)}; }
establish_result stopped() { return {nullptr, std::nullopt, true, {}}; }
establish_result fatal(api_error e) { return {nullptr, std::move(e), false, {}}; }
establish_result ready(std::shared_ptr<connection> conn) {
  return {std::move(conn), std::nullopt, false, {}};
}

asio::awaitable<establish_result> establish(std::shared_ptr<state> s) {
  ++s->stats.connection_attempts;
  auto& o = s->options;

  // The opener has its own timeouts and waits out Retry-After (up to minutes on Tier 1); this
  // bound only guards against one that never returns.
  auto [url_end, url] = co_await bounded(*s, s->open_url(), std::chrono::minutes(6));
  if (url_end == step_end::stopped) co_return stopped();
  if (url_end == step_end::timed_out) co_return failed("url_timeout");
  if (!url->ok()) {
    const auto& e = url->error();
    // A refusal needs a person to change the token, the app or the workspace: not retried.
    if (classify(e) == error_kind::refused) co_return fatal(e);
    co_return failed("apps.connections.open: " + e.code);
  }

  auto parsed = boost::urls::parse_uri(url->value());
  if (!parsed || parsed->scheme_id() != boost::urls::scheme::wss || parsed->host_address().empty()) {
    // The URL itself is not logged: its query holds the ticket.
    co_return failed("invalid_url");
  }
  auto conn = std::make_shared<connection>(s, s->ex, *s->tls, s->next_connection_id++);
  conn->frames().set_owner(conn);
  conn->frames().on_error([c = std::weak_ptr<connection>(conn)](const boost::system::error_code& ec) {
    auto self = c.lock();
    if (!self) return;
    if (self->end_reason.empty()) self->end_reason = "write_error (" + ec.message() + ")";
    self->writer_wake.notify();
  });
  conn->host = parsed->host_address();
  std::string port = parsed->has_port() ? std::to_string(parsed->port_number()) : "443";
  auto encoded_target = parsed->encoded_target();
  std::string target =
      encoded_target.empty() ? std::string("/") : std::string(encoded_target.data(), encoded_target.size());
  auto encoded_authority = parsed->encoded_host_and_port();
  std::string host_header(encoded_authority.data(), encoded_authority.size());
  s->connecting = conn;
  struct clear_connecting {
    state& s;
    ~clear_connecting() { s.connecting.reset(); }
  } clear{*s};

  auto give_up = [&](std::string why) {
    conn->abort();
    return failed(std::move(why));
  };

  auto [resolve_end, resolved] =
      co_await bounded(*s, conn->resolver.async_resolve(conn->host, port, use_tuple), o.connect_timeout);
  if (resolve_end == step_end::stopped) co_return stopped();
  if (resolve_end == step_end::timed_out) co_return give_up("resolve_timeout");
  if (auto [ec, endpoints] = *resolved; ec) {
    co_return give_up("resolve_failed (" + ec.message() + ")");
  }

  auto& tcp_layer = beast::get_lowest_layer(conn->ws);
  tcp_layer.expires_after(o.connect_timeout);
  auto [connect_end, connected] =
      co_await bounded(*s, tcp_layer.async_connect(std::get<1>(*resolved), use_tuple), o.connect_timeout);
  if (connect_end == step_end::stopped) co_return stopped();
  if (connect_end == step_end::timed_out) co_return give_up("connect_timeout");
  if (auto [ec, endpoint] = *connected; ec) {
    co_return give_up(ec == beast::error::timeout ? "connect_timeout"
                                                  : "connect_failed (" + ec.message() + ")");
  }
  // An ack with a reply over one TLS record (16 KB) is two sends; with Nagle the second waits for
  // Slack's delayed ACK (~40 ms). Acks are small and latency-bound: send each at once.
  {
    boost::system::error_code ignored;
    tcp_layer.socket().set_option(tcp::no_delay(true), ignored);
  }

  if (auto ec = prepare_tls_stream(conn->tls(), conn->host); ec) {
    co_return give_up("tls_setup_failed (" + ec.message() + ")");
  }
  tcp_layer.expires_after(o.connect_timeout);
  auto [tls_end, tls_done] = co_await bounded(
      *s, conn->tls().async_handshake(asio::ssl::stream_base::client, use_tuple), o.connect_timeout);
  if (tls_end == step_end::stopped) co_return stopped();
  if (tls_end == step_end::timed_out) co_return give_up("tls_timeout");
  if (auto [ec] = *tls_done; ec) {
    if (is_tls_verification_failure(ec, conn->tls().native_handle())) {
      // Not retried into silence: this needs a person (SLACK_CA_FILE, a proxy, the clock).
      spdlog::error("socket mode: certificate of {} not accepted: {}", conn->host,
                    tls_verification_failure_reason(conn->tls().native_handle()));
      co_return give_up("tls_verification_failed");
    }
    co_return give_up(ec == beast::error::timeout ? "tls_timeout"
                                                  : "tls_handshake_failed (" + ec.message() + ")");
  }

  // From here on the WebSocket's own timeouts apply: handshake, and the idle timeout with
  // keep-alive pings that detects a dead link (a ping after idle/2, closed after idle).
  tcp_layer.expires_never();
  conn->ws.set_option(websocket::stream_base::timeout{o.connect_timeout, o.idle_timeout, true});
  conn->ws.set_option(websocket::stream_base::decorator(
      [](websocket::request_type& req) { req.set(beast::http::field::user_agent, "flare-socket-mode"); }));
  auto [ws_end, ws_done] =
      co_await bounded(*s, conn->ws.async_handshake(host_header, target, use_tuple), o.connect_timeout);
  if (ws_end == step_end::stopped) co_return stopped();
  if (ws_end == step_end::timed_out) co_return give_up("websocket_handshake_timeout");
  if (auto [ec] = *ws_done; ec) {
    co_return give_up("websocket_handshake_failed (" + ec.message() + ")");
  }

  spdlog::info("socket mode: connection {} to {} opened; waiting for hello", conn->id, conn->host);
  s->connections.push_back(conn);
  asio::co_spawn(s->ex, run_connection(conn), asio::detached);

  auto deadline = steady::now() + o.hello_timeout;
  while (conn->status == connection_state::awaiting_hello && !s->stopping && steady::now() < deadline) {
    co_await conn->hello_wake.wait_until(deadline);
  }
  if (conn->status == connection_state::ready) {
    ++s->stats.connections_opened;
    co_return ready(conn);
  }
  const bool closed = conn->is_closed();
  // Its end is this attempt's failure, not a separate drop.
  if (!closed) conn->status = connection_state::closing;
  conn->abort();
  if (s->stopping) co_return stopped();
  co_return failed(closed ? "closed_before_hello (" + conn->end_reason + ")" : "hello_timeout");
}

// Owns the link: keeps one connection ready, replaces it when Slack asks, reconnects when it
// drops. Returns a fatal error, or nullopt once stop() was called.
asio::awaitable<std::optional<api_error>> supervise(std::shared_ptr<state> s) {
  std::shared_ptr<connection> current;
  std::shared_ptr<connection> retiring;  // kept serving until its replacement said hello
  std::string reason;                    // why the next connection is opened ("" the first time)
  bool wait_first = false;

  while (!s->stopping) {
    if (!current) {
      if (wait_first) {
        auto delay = s->reconnect_backoff.next();
        spdlog::info("socket mode: reconnecting in {} ms ({})", delay.count(), reason);
        co_await (sleep_for(delay) || s->wait_stopped());
        if (s->stopping) break;
      }
      auto r = co_await establish(s);
      if (r.stopped) break;
      if (r.fatal) {
        spdlog::error("socket mode: cannot open a connection: {} — not retrying", r.fatal->code);
        co_return r.fatal;
      }
      if (!r.conn) {
        spdlog::warn("socket mode: connection attempt failed: {}", r.failure);
        ++s->stats.failed_attempts_by_reason[r.failure.substr(0, r.failure.find(' '))];
        wait_first = true;
        continue;
      }
      current = r.conn;
      s->reconnect_backoff.reset();
      wait_first = false;
      if (!reason.empty()) ++s->stats.reconnects_by_reason[reason];
      if (retiring) {
        spdlog::info("socket mode: connection {} replaced by {}; closing it", retiring->id, current->id);
        retiring->request_close();
        retiring.reset();
      }
      continue;
    }

    while (s->events.empty() && !s->stopping) co_await s->events_wake.wait();
    if (s->stopping) break;
    auto ev = std::move(s->events.front());
    s->events.pop_front();

    const auto decision =
        decide_reconnect(ev.kind, ev.reason, ev.conn == current ? link_role::current : link_role::retiring);
    switch (decision.action) {
      case reconnect_action::give_up:
        spdlog::error("socket mode: Slack disabled Socket Mode for this app (link_disabled)");
        co_return api_error{"link_disabled", "Socket Mode was turned off in the app settings", false};
      case reconnect_action::ignore: break;
      case reconnect_action::reconnect_after_backoff:
        current.reset();
        wait_first = true;
        break;
      case reconnect_action::close_then_reconnect:
        current->request_close();
        while (!current->is_closed() && !s->stopping) co_await current->hello_wake.wait();
        current.reset();
        wait_first = true;
        break;
      case reconnect_action::replace_first:
        retiring = current;
        current.reset();
        wait_first = false;
        break;
    }
    if (decision.action != reconnect_action::ignore) reason = decision.reason;
  }
  co_return std::nullopt;
}

// Closes every connection with a close frame after its queued acks, waits close_timeout for
// that, then cuts whatever is left; returns once every connection coroutine has finished.
asio::awaitable<void> close_all(std::shared_ptr<state> s) {
  s->stopping = true;
  for (auto& c : s->connections) c->request_close();
  auto deadline = steady::now() + s->options.close_timeout;
  while (!s->connections.empty() && steady::now() < deadline) {
    co_await s->drained_wake.wait_until(deadline);
  }
  if (!s->connections.empty()) {
    spdlog::warn("socket mode: {} connection(s) did not close in {} ms; dropping them", s->connections.size(),
                 s->options.close_timeout.count());
    for (auto& c : s->connections) c->abort();
  }
  // Aborted sockets complete their operations at once; the bound only guards against a bug.
  auto hard_deadline = steady::now() + std::chrono::seconds(5);
  while (!s->connections.empty() && steady::now() < hard_deadline) {
    co_await s->drained_wake.wait_until(hard_deadline);
  }
  if (!s->connections.empty()) spdlog::error("socket mode: connections still running after stop");
}

}  // namespace flare::slack::socket_mode_detail

namespace flare::slack {

using socket_mode_detail::state;

socket_mode_client::socket_mode_client(boost::asio::any_io_executor ex, socket_mode_options options,
                                       url_opener open_url, envelope_sink sink)
    : state_(
          std::make_shared<state>(std::move(ex), std::move(options), std::move(open_url), std::move(sink))) {
  state_->owner = this;
}

socket_mode_client::~socket_mode_client() {
  state_->owner = nullptr;
  if (!state_->running) return;
  // stop() dispatches to the executor, which can throw (allocation); a destructor must not. If it
  // does, nothing is lost: run() holds its own reference to the state and ends with its executor.
  try {
    stop();
  } catch (...) {  // nothing more to do in a destructor
  }
}

boost::asio::awaitable<std::optional<api_error>> socket_mode_client::run() {
  auto s = state_;
  if (s->running) co_return make_api_error(error::already_running, "socket_mode_client::run called twice");
  s->running = true;
  std::optional<api_error> result;
  if (!s->stopping) result = co_await socket_mode_detail::supervise(s);
  co_await socket_mode_detail::close_all(s);
  s->events.clear();
  s->update_connected();
  s->running = false;
  co_return result;
}

void socket_mode_client::stop() {
  // Dispatched so a signal handler's thread may call it too; on the executor it runs at once.
  boost::asio::dispatch(state_->ex, [s = state_] {
    if (s->stopping) return;
    s->stopping = true;
    spdlog::info("socket mode: stopping");
    s->stop_timer.cancel();
    s->events_wake.notify();
    if (s->connecting) s->connecting->abort();
    for (auto& c : s->connections) c->hello_wake.notify();
  });
}

bool socket_mode_client::connected() const { return state_->is_connected; }

const socket_mode_stats& socket_mode_client::stats() const { return state_->stats; }

}  // namespace flare::slack
