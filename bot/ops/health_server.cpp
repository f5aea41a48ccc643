#include "bot/ops/health_server.hpp"

#include "bot/store/store.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <spdlog/spdlog.h>

#include <map>
#include <optional>
#include <string_view>
#include <system_error>

namespace flare {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
constexpr auto no_throw = asio::as_tuple(asio::use_awaitable);

namespace health_detail {

struct state : std::enable_shared_from_this<state> {
  state(asio::any_io_executor ex, health_options o, health_handlers h)
      : executor(ex), options(std::move(o)), handlers(std::move(h)), acceptor(ex), all_closed(ex) {}

  asio::any_io_executor executor;
  health_options options;
  health_handlers handlers;
  tcp::acceptor acceptor;
  // Every open connection, with what eviction needs to know about it.
  struct slot {
    bool probe_only = false;      // accepted into a probe slot: /healthz and /readyz only
    bool awaiting_header = true;  // reading a request (not yet answered / writing)
    std::chrono::steady_clock::time_point waiting_since;
  };
  std::map<std::shared_ptr<beast::tcp_stream>, slot> connections;
  std::size_t probe_connections = 0;
  asio::steady_timer all_closed;  // woken when the last connection goes after stop()
  bool stopping = false;
  std::uint64_t evicted = 0;  // connections closed to make room (slow clients)

  http::response<http::string_body> answer(const http::request<http::empty_body>& req, bool probe_only) {
    http::response<http::string_body> res;
    res.version(req.version());
    res.keep_alive(req.keep_alive());
    res.set(http::field::server, "flare");
    res.set(http::field::cache_control, "no-store");
    res.set(http::field::content_type, "text/plain; charset=utf-8");

    auto target = std::string_view(req.target());
    target = target.substr(0, target.find('?'));  // probes may add cache-busting queries

    auto text = [&](http::status status, std::string body) {
      res.result(status);
      res.body() = std::move(body);
    };
    const bool known = target == "/healthz" || target == "/readyz" || target == "/metrics";
    if (!known) {
      text(http::status::not_found, "not found\n");
    } else if (req.method() != http::verb::get && req.method() != http::verb::head) {
      text(http::status::method_not_allowed, "method not allowed\n");
      res.set(http::field::allow, "GET, HEAD");
    } else if (probe_only && target == "/metrics") {
      // Over the general slots: kept for the probes, so a scrape waits for a normal one.
      text(http::status::service_unavailable, "busy; try again\n");
      res.keep_alive(false);
    } else if (target == "/healthz") {
      text(http::status::ok, "ok\n");
    } else if (target == "/readyz") {
      bool ready = false;
      try {
        ready = handlers.ready && handlers.ready();
      } catch (const std::exception& e) {
        spdlog::warn("health: readiness check failed: {}", e.what());
      }
      if (ready) text(http::status::ok, "ready\n");
      else text(http::status::service_unavailable, "not ready\n");
    } else {
      std::string body;
      try {
        if (handlers.metrics_text) body = handlers.metrics_text();
      } catch (const std::exception& e) {
        spdlog::warn("health: collecting metrics failed: {}", e.what());
        text(http::status::internal_server_error, "metrics unavailable\n");
      }
      if (res.result() != http::status::internal_server_error) {
        if (body.empty()) {
          text(http::status::not_found, "no metrics\n");
        } else {
          // The Prometheus text exposition format, version 0.0.4.
          res.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
          text(http::status::ok, std::move(body));
        }
      }
    }
    res.prepare_payload();
    if (req.method() == http::verb::head) res.body().clear();  // Content-Length stays the GET one
    return res;
  }

  asio::awaitable<void> serve(std::shared_ptr<beast::tcp_stream> stream) {
    auto self = shared_from_this();
    beast::flat_buffer buffer(options.max_request_bytes);
    for (;;) {
      http::request_parser<http::empty_body> parser;
      parser.header_limit(static_cast<std::uint32_t>(options.max_request_bytes));
      parser.body_limit(0);  // a probe has nothing to send; a body is refused, not read
      set_waiting(stream, true);
      stream->expires_after(options.header_timeout);
      auto [read_error, n] = co_await http::async_read(*stream, buffer, parser, no_throw);
      set_waiting(stream, false);
      if (read_error) {
        if (read_error != http::error::end_of_stream && read_error != asio::error::operation_aborted &&
            read_error != beast::error::timeout && !stopping && connections.contains(stream)) {
          // A malformed or oversized request gets a plain 400 before the connection closes.
          http::response<http::string_body> bad{http::status::bad_request, 11};
          bad.set(http::field::content_type, "text/plain; charset=utf-8");
          bad.body() = "bad request\n";
          bad.keep_alive(false);
          bad.prepare_payload();
          stream->expires_after(options.io_timeout);
          co_await http::async_write(*stream, bad, no_throw);
        }
        break;
      }
      const auto it = connections.find(stream);
      auto res = answer(parser.get(), it != connections.end() && it->second.probe_only);
      stream->expires_after(options.io_timeout);
      auto [write_error, m] = co_await http::async_write(*stream, res, no_throw);
      if (write_error || !res.keep_alive() || stopping) break;
    }
    boost::system::error_code ignored;
    stream->socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream->socket().close(ignored);
    release(stream);
  }

  void set_waiting(const std::shared_ptr<beast::tcp_stream>& stream, bool waiting) {
    if (auto it = connections.find(stream); it != connections.end()) {
      it->second.awaiting_header = waiting;
      if (waiting) it->second.waiting_since = std::chrono::steady_clock::now();
    }
  }

  void release(const std::shared_ptr<beast::tcp_stream>& stream) {
    if (auto it = connections.find(stream); it != connections.end()) {
      if (it->second.probe_only) --probe_connections;
      connections.erase(it);
    }
    if (stopping && connections.empty()) all_closed.cancel();
  }

  // Every slot is taken: the connection that has waited longest for its request header goes (its
  // serve() then ends with a read error), and the new one takes its kind of slot. Nothing when
  // every connection is busy answering.
  std::optional<bool> evict_slowest() {
    auto victim = connections.end();
    for (auto it = connections.begin(); it != connections.end(); ++it) {
      if (!it->second.awaiting_header) continue;
      if (victim == connections.end() || it->second.waiting_since < victim->second.waiting_since) victim = it;
    }
    if (victim == connections.end()) return std::nullopt;
    ++evicted;
    auto stream = victim->first;
    const bool probe_only = victim->second.probe_only;
    if (probe_only) --probe_connections;
    connections.erase(victim);
    stream->cancel();
    boost::system::error_code ignored;
    stream->socket().close(ignored);
    return probe_only;
  }

  asio::awaitable<void> accept_loop() {
    auto self = shared_from_this();
    while (!stopping) {
      auto [ec, socket] = co_await acceptor.async_accept(no_throw);
      if (ec) {
        if (stopping || ec == asio::error::operation_aborted) break;
        // Out of file descriptors and the like: pause instead of spinning.
        spdlog::warn("health: accept failed: {}", ec.message());
        asio::steady_timer pause(executor, std::chrono::milliseconds(100));
        co_await pause.async_wait(no_throw);
        continue;
      }
      boost::system::error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);  // a reply is one write: no Nagle wait
      bool probe_slot = false;
      if (connections.size() - probe_connections < options.max_connections) {
        probe_slot = false;
      } else if (probe_connections < options.probe_slots) {
        probe_slot = true;
      } else if (auto freed = evict_slowest()) {
        probe_slot = *freed;
      } else {
        socket.close(ignored);
        continue;
      }
      if (probe_slot) ++probe_connections;
      auto stream = std::make_shared<beast::tcp_stream>(std::move(socket));
      connections.emplace(stream, slot{probe_slot, true, std::chrono::steady_clock::now()});
      asio::co_spawn(executor, serve(stream), asio::detached);
    }
    while (!connections.empty()) {
      all_closed.expires_at(asio::steady_timer::time_point::max());
      co_await all_closed.async_wait(no_throw);
    }
  }

  void stop() {
    if (stopping) return;
    stopping = true;
    boost::system::error_code ignored;
    acceptor.close(ignored);
    for (const auto& [c, info] : connections) c->cancel();  // each serve() then closes and erases itself
    if (connections.empty()) all_closed.cancel();
  }
};

}  // namespace health_detail

health_server::health_server(asio::any_io_executor ex, health_options options, health_handlers handlers)
    : state_(std::make_shared<health_detail::state>(ex, std::move(options), std::move(handlers))) {
  auto& s = *state_;
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(s.options.address, ec);
  if (ec) {
    throw std::system_error(ec, "health.address \"" + s.options.address + "\" is not an IP address");
  }
  const tcp::endpoint endpoint(address, s.options.port);
  const std::string where = s.options.address + ":" + std::to_string(s.options.port);
  s.acceptor.open(endpoint.protocol(), ec);
  if (!ec) s.acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) s.acceptor.bind(endpoint, ec);
  if (!ec) s.acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) throw std::system_error(ec, "health server cannot listen on " + where);
}

health_server::~health_server() { state_->stop(); }

std::uint16_t health_server::port() const {
  boost::system::error_code ec;
  const auto endpoint = state_->acceptor.local_endpoint(ec);
  return ec ? 0 : endpoint.port();
}

asio::awaitable<void> health_server::run() {
  spdlog::info("health: serving /healthz, /readyz, /metrics on {}:{}", state_->options.address, port());
  co_await state_->accept_loop();
}

void health_server::stop() { state_->stop(); }

bool store_writable(store::store& s) noexcept {
  try {
    s.transaction([] {});
    return true;
  } catch (const std::exception& e) {
    spdlog::warn("health: the store is not writable: {}", e.what());
    return false;
  }
}

}  // namespace flare
