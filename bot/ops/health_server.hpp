// The operator's HTTP endpoint on the bot's own io_context: /healthz (the process answers),
// /readyz (Socket Mode connected and the store writable), /metrics (Prometheus text format).
// GET and HEAD only, small requests, a deadline on every read and write. It listens on
// 127.0.0.1 by default: the probes and the scraper are local (kubelet, a sidecar, node exporter
// textfile...) and nothing here needs to be reachable from the network. Beast stays in the .cpp.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace flare::store {
class store;
}

namespace flare {

// A probe must never wait behind slow clients (issue 13: 33 clients that opened a connection and
// sent nothing held all 32 slots for 5 s each, and the kubelet restarted a healthy pod). So: the
// request header must arrive within a short deadline; there are many slots; a few more are kept
// for /healthz and /readyz alone; and when every slot is taken, the connection that has waited
// longest for its request header is closed to make room for the new one.
struct health_options {
  std::string address = "127.0.0.1";  // health.address
  std::uint16_t port = 9464;          // health.port; 0 picks a free port (tests)
  // The whole request header, from accept (or from the previous response on a kept-alive
  // connection). A kubelet or Prometheus sends it at once; only a slow or hostile client needs more.
  std::chrono::milliseconds header_timeout{1000};
  std::chrono::milliseconds io_timeout{5000};  // writing a response
  std::size_t max_request_bytes = 8192;        // header limit; bodies are refused
  std::size_t max_connections = 256;           // general slots
  std::size_t probe_slots = 16;                // more, for /healthz and /readyz only (else 503)
};

struct health_handlers {
  std::function<bool()> ready;                // /readyz: 200 when true, 503 otherwise
  std::function<std::string()> metrics_text;  // /metrics body; 404 when empty (not wired)
};

namespace health_detail {
struct state;
}

// The health endpoint.
// - Preconditions: `ex` is the executor of the single-threaded io_context; the handlers outlive
//   the server.
// - Lifetime: run() owns every accepted connection and returns when all are closed.
// - Cancellation: stop() (on the executor, idempotent) stops accepting and closes connections.
// - Errors: a port that cannot be bound throws from the constructor; a client's I/O error ends
//   only that client's connection.
// - Thread safety: everything on the server's executor.
class health_server {
 public:
  // Binds and listens now, so a taken port is a start-up error (std::system_error naming the
  // address), not a silent gap in monitoring.
  health_server(boost::asio::any_io_executor ex, health_options options, health_handlers handlers);
  ~health_server();
  health_server(const health_server&) = delete;
  health_server& operator=(const health_server&) = delete;

  // The port actually bound (useful with port 0).
  std::uint16_t port() const;

  // Serves until stop(); returns once every connection it accepted is closed. Call once.
  boost::asio::awaitable<void> run();

  // Stops accepting and closes open connections. Call on the server's executor; idempotent.
  void stop();

 private:
  std::shared_ptr<health_detail::state> state_;
};

// Readiness input: the store takes a write lock and commits (an empty IMMEDIATE transaction), so
// a read-only or full volume, or a lock held elsewhere, reads as not ready.
bool store_writable(store::store& s) noexcept;

}  // namespace flare
