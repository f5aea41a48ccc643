// The Slack Web API over HTTPS (Boost.Beast + OpenSSL).
//
// One call = one coroutine: wait out a 429 on its method, pace its channel (posts only), take a
// kept-alive connection or open one (resolve, connect, TLS), write, read, classify, and maybe
// retry. Everything runs on the client's executor (one thread), so the pool, the per-method
// Retry-After deadlines and the channel buckets need no locks.
#include "bot/slack/web_api_client.hpp"

#include "bot/slack/backoff.hpp"
#include "bot/slack/errors.hpp"
#include "bot/slack/tls_context.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/url/parse.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <map>
#include <set>
#include <stdexcept>

namespace flare::slack {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using steady = std::chrono::steady_clock;
using boost::system::error_code;
using json = nlohmann::json;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

constexpr const char* kJsonContentType = "application/json; charset=utf-8";
constexpr const char* kFormContentType = "application/x-www-form-urlencoded";
constexpr std::size_t kMaxResponseBytes = std::size_t{8} * 1024 * 1024;
// Slack's edge drops idle keep-alive connections after about a minute; one idle longer than
// this is more likely dead than alive, so it is not worth the failed write.
constexpr auto kMaxIdle = std::chrono::seconds(50);
// Slack: "Retry-After" tells how long to wait; the SDKs assume 30 s when it is missing.
constexpr auto kDefaultRetryAfter = std::chrono::seconds(30);

using tls_stream = beast::ssl_stream<beast::tcp_stream>;

struct connection {
  connection(const asio::any_io_executor& ex, asio::ssl::context& tls) : stream(ex, tls) {}
  tls_stream stream;
  beast::flat_buffer buffer;
  steady::time_point idle_since = steady::now();
};

// One request as sent, token included: the token goes into the Authorization header and
// nowhere else (not a log line, not an error detail).
struct request_spec {
  std::string method;
  std::string content_type;
  std::string body;
  std::string token;
  std::string pace_channel;  // non-empty: a post paced per channel
};

// What one HTTP exchange produced: either an HTTP answer or a transport failure.
struct exchange_result {
  unsigned status = 0;
  std::string body;
  std::string retry_after;
  bool keep_alive = false;
  std::optional<api_error> failure;
  bool retryable = false;        // for `failure`
  bool before_response = false;  // `failure` came before any byte of a response
};

exchange_result transport_failure(error code, std::string detail, bool retryable,
                                  bool before_response = false) {
  exchange_result r;
  r.failure = make_api_error(code, std::move(detail));
  r.retryable = retryable;
  r.before_response = before_response;
  return r;
}

std::string string_field(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

bool bool_field(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_boolean() && it->get<bool>();
}

const json& object_field(const json& j, const char* key) {
  static const json empty_object = json::object();
  auto it = j.find(key);
  return it != j.end() && it->is_object() ? *it : empty_object;
}

std::string slack_error_detail(const std::string& method, const std::string& code, const json& j) {
  std::string detail = method + " answered " + code;
  if (code == "missing_scope") {
    detail += " (needed: " + string_field(j, "needed") + "; provided: " + string_field(j, "provided") + ")";
  }
  const json& meta = object_field(j, "response_metadata");
  if (auto it = meta.find("messages"); it != meta.end() && it->is_array()) {
    for (const auto& m : *it) {
      if (m.is_string()) detail += "; " + m.get<std::string>();
    }
  }
  return detail;
}

std::string form_encode(std::initializer_list<std::pair<std::string, std::string>> fields) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (const auto& [name, value] : fields) {
    if (!out.empty()) out += '&';
    for (const std::string* part : {&name, &value}) {
      for (unsigned char c : *part) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
          out += static_cast<char>(c);
        } else {
          out += '%';
          out += hex[c >> 4];
          out += hex[c & 0xF];
        }
      }
      if (part == &name) out += '=';
    }
  }
  return out;
}

// Belt and braces: nothing should ever put a token into a detail, but if a server echoed one
// back it must still not reach a log.
std::string scrub(std::string text, const std::string& token) {
  if (token.empty()) return text;
  for (auto pos = text.find(token); pos != std::string::npos; pos = text.find(token, pos)) {
    text.replace(pos, token.size(), "[token]");
  }
  return text;
}

std::string describe(const error_code& ec) { return ec.message(); }

api_error cancelled_error(const std::string& method) {
  return make_api_error(error::cancelled, method + " cancelled: the Web API client is shutting down");
}

json message_body(const message& msg) {
  // Slack: text is the notification fallback when blocks are given; always send it.
  json body = {{"channel", msg.channel}, {"text", msg.text}};
  if (msg.blocks.is_array() && !msg.blocks.empty()) body["blocks"] = msg.blocks;
  if (!msg.thread_ts.empty()) body["thread_ts"] = msg.thread_ts;
  return body;
}

api_error invalid_response(const std::string& method, const std::string& what) {
  return make_api_error(error::invalid_response, method + " answered ok but " + what);
}

}  // namespace

// A call in progress: what cancel() must reach to stop it.
struct call_state {
  explicit call_state(const asio::any_io_executor& ex) : timer(ex) {}
  asio::steady_timer timer;  // backoff, Retry-After and pacing waits
  tcp::resolver* resolver = nullptr;
  connection* conn = nullptr;
};

struct web_api_client::impl : std::enable_shared_from_this<impl> {
  impl(asio::any_io_executor executor, web_api_options opts)
      : ex(std::move(executor)),
        options(std::move(opts)),
        // "Equal jitter": at least half the delay, so clients that failed together spread out
        // without any of them retrying at once.
        retry_backoff(backoff_policy{options.backoff_initial, options.backoff_max, jitter::equal}) {
    auto parsed = boost::urls::parse_uri(options.api_url);
    if (!parsed) {
      throw std::runtime_error("SLACK_API_URL '" + options.api_url +
                               "' is not a URL: " + parsed.error().message());
    }
    const auto& url = *parsed;
    if (url.scheme() != "https") {
      throw std::runtime_error("SLACK_API_URL '" + options.api_url + "' must use https");
    }
    host = url.host_address();
    if (host.empty()) throw std::runtime_error("SLACK_API_URL '" + options.api_url + "' has no host");
    port = url.has_port() ? std::string(url.port()) : std::string("443");
    host_header = std::string(url.encoded_host_and_port());
    base_path = std::string(url.encoded_path());
    if (base_path.empty() || base_path.back() != '/') base_path += '/';
    options.max_attempts = std::max(1, options.max_attempts);
    options.channel_burst = std::max(1, options.channel_burst);
    tls = make_client_tls_context(options.extra_ca_file);
  }

  asio::any_io_executor ex;
  web_api_options options;
  std::shared_ptr<asio::ssl::context> tls;
  std::string host;  // what we connect to, send as SNI and verify the certificate for
  std::string port;
  std::string host_header;  // host[:port] as in the URL
  std::string base_path;    // "/api/"

  std::vector<std::unique_ptr<connection>> idle;
  std::map<std::string, steady::time_point> method_blocked_until;  // 429 Retry-After, per method
  struct bucket {
    double tokens;
    steady::time_point refilled;
  };
  std::map<std::string, bucket> channel_buckets;
  std::set<call_state*> calls;
  bool cancelled = false;
  web_api_stats stats;
  backoff retry_backoff;

  struct call_registration {
    call_registration(impl& i, call_state& s) : owner(i), state(s) { owner.calls.insert(&state); }
    ~call_registration() { owner.calls.erase(&state); }
    call_registration(const call_registration&) = delete;
    call_registration& operator=(const call_registration&) = delete;
    impl& owner;
    call_state& state;
  };

  void cancel_all() {
    cancelled = true;
    for (call_state* s : calls) {
      s->timer.cancel();
      if (s->resolver) s->resolver->cancel();
      if (s->conn) beast::get_lowest_layer(s->conn->stream).close();
    }
    idle.clear();
  }

  // ---- waits ----

  asio::awaitable<std::optional<api_error>> sleep(call_state& s, steady::time_point until,
                                                  const std::string& method) {
    if (cancelled) co_return cancelled_error(method);
    if (until > steady::now()) {
      s.timer.expires_at(until);
      co_await s.timer.async_wait(use_tuple);
    }
    if (cancelled) co_return cancelled_error(method);
    co_return std::nullopt;
  }

  // Slack: after a 429, wait Retry-After "before calling that method again"; other methods
  // are unaffected, so only calls of this method wait here.
  asio::awaitable<std::optional<api_error>> wait_for_method(call_state& s, const std::string& method) {
    for (;;) {
      if (cancelled) co_return cancelled_error(method);
      auto it = method_blocked_until.find(method);
      if (it == method_blocked_until.end()) co_return std::nullopt;
      if (it->second <= steady::now()) {
        method_blocked_until.erase(it);
        co_return std::nullopt;
      }
      if (auto e = co_await sleep(s, it->second, method)) co_return e;
    }
  }

  // Slack: about one message per second per channel, short bursts tolerated. A token bucket
  // per channel; a post takes its token now (the count may go negative) and waits until the
  // bucket would have refilled to it, so concurrent posts queue in order and none is dropped.
  asio::awaitable<std::optional<api_error>> pace(call_state& s, const request_spec& spec) {
    const double rate = options.channel_posts_per_second;
    if (spec.pace_channel.empty() || !(rate > 0)) co_return std::nullopt;
    const auto now = steady::now();
    const double burst = options.channel_burst;
    auto refill = [&](bucket& b) {
      const double elapsed = std::chrono::duration<double>(now - b.refilled).count();
      b.tokens = std::min(burst, b.tokens + elapsed * rate);
      b.refilled = now;
    };
    if (channel_buckets.size() > 1024) {
      for (auto it = channel_buckets.begin(); it != channel_buckets.end();) {
        refill(it->second);
        it = it->second.tokens >= burst ? channel_buckets.erase(it) : std::next(it);
      }
    }
    auto [it, inserted] = channel_buckets.try_emplace(spec.pace_channel, bucket{burst, now});
    bucket& b = it->second;
    refill(b);
    b.tokens -= 1;
    if (b.tokens >= 0) co_return std::nullopt;
    const auto wait =
        std::chrono::duration_cast<steady::duration>(std::chrono::duration<double>(-b.tokens / rate));
    spdlog::debug("slack: pacing {} to {}: waiting {} ms", spec.method, spec.pace_channel,
                  std::chrono::duration_cast<std::chrono::milliseconds>(wait).count());
    co_return co_await sleep(s, now + wait, spec.method);
  }

  std::chrono::seconds retry_after(const std::string& header) const {
    long long seconds = -1;
    const char* first = header.data();
    const char* last = header.data() + header.size();
    while (first != last && *first == ' ') ++first;
    auto [ptr, ec] = std::from_chars(first, last, seconds);
    std::chrono::seconds wait =
        (ec == std::errc() && seconds >= 0) ? std::chrono::seconds(seconds) : kDefaultRetryAfter;
    return std::min(wait, options.max_retry_after);
  }

  // ---- connections ----

  std::unique_ptr<connection> take_idle() {
    while (!idle.empty()) {
      auto conn = std::move(idle.back());
      idle.pop_back();
      if (steady::now() - conn->idle_since < kMaxIdle &&
          beast::get_lowest_layer(conn->stream).socket().is_open()) {
        return conn;
      }
    }
    return nullptr;
  }

  void give_back(std::unique_ptr<connection> conn) {
    if (cancelled || idle.size() >= options.max_idle_connections || conn->buffer.size() != 0) return;
    conn->idle_since = steady::now();
    idle.push_back(std::move(conn));
  }

  struct opened {
    std::unique_ptr<connection> conn;
    exchange_result failure;
  };

  // Resolver ops ignore per-operation cancellation, so the deadline cancels the resolver.
  asio::awaitable<std::optional<tcp::resolver::results_type>> resolve(call_state& s,
                                                                      const std::string& method,
                                                                      exchange_result& failure) {
    struct resolve_state {
      explicit resolve_state(const asio::any_io_executor& ex) : resolver(ex), deadline(ex) {}
      tcp::resolver resolver;
      asio::steady_timer deadline;
      bool timed_out = false;
    };
    auto rs = std::make_shared<resolve_state>(ex);
    rs->deadline.expires_after(options.connect_timeout);
    rs->deadline.async_wait([rs](error_code ec) {
      if (!ec) {
        rs->timed_out = true;
        rs->resolver.cancel();
      }
    });
    s.resolver = &rs->resolver;
    auto [ec, endpoints] = co_await rs->resolver.async_resolve(host, port, use_tuple);
    s.resolver = nullptr;
    rs->deadline.cancel();
    if (cancelled) {
      failure.failure = cancelled_error(method);
    } else if (rs->timed_out) {
      failure = transport_failure(error::timeout, method + ": resolving " + host + " timed out", true);
    } else if (ec) {
      failure = transport_failure(error::connection_failed,
                                  method + ": cannot resolve " + host + ": " + describe(ec), true);
    } else {
      co_return endpoints;
    }
    co_return std::nullopt;
  }

  asio::awaitable<std::optional<exchange_result>> connect_tcp(connection& conn,
                                                              const tcp::resolver::results_type& endpoints,
                                                              const std::string& method) {
    auto& tcp_layer = beast::get_lowest_layer(conn.stream);
    tcp_layer.expires_after(options.connect_timeout);
    auto [ec, endpoint] = co_await tcp_layer.async_connect(endpoints, use_tuple);
    if (!ec) {
      // A request over one TLS record (16 KB: a long list or card) is two sends; with Nagle the
      // second waits for the server's delayed ACK (~40 ms). Requests are written whole: no Nagle.
      boost::system::error_code ignored;
      tcp_layer.socket().set_option(tcp::no_delay(true), ignored);
      co_return std::nullopt;
    }
    if (cancelled) {
      exchange_result r;
      r.failure = cancelled_error(method);
      co_return r;
    }
    if (ec == beast::error::timeout)
      co_return transport_failure(error::timeout,
                                  method + ": connecting to " + host + ":" + port + " timed out", true);
    co_return transport_failure(error::connection_failed,
                                method + ": cannot connect to " + host + ":" + port + ": " + describe(ec),
                                true);
  }

  asio::awaitable<std::optional<exchange_result>> handshake_tls(connection& conn, const std::string& method) {
    if (auto ec = prepare_tls_stream(conn.stream, host)) {
      co_return transport_failure(error::tls_handshake_failed,
                                  method + ": cannot set up TLS for " + host + ": " + describe(ec), false);
    }
    auto& tcp_layer = beast::get_lowest_layer(conn.stream);
    tcp_layer.expires_after(options.connect_timeout);
    auto [ec] = co_await conn.stream.async_handshake(asio::ssl::stream_base::client, use_tuple);
    if (!ec) {
      tcp_layer.expires_never();
      co_return std::nullopt;
    }
    if (cancelled) {
      exchange_result r;
      r.failure = cancelled_error(method);
      co_return r;
    }
    if (is_tls_verification_failure(ec, conn.stream.native_handle())) {
      // A certificate we don't trust, or one issued for another name: retrying can't help and
      // may be an attack, so it is reported once and loudly.
      co_return transport_failure(error::tls_verification_failed,
                                  method + ": the TLS certificate of " + host + " was rejected (" +
                                      tls_verification_failure_reason(conn.stream.native_handle()) +
                                      "); if a proxy or private CA signs it, name its CA in SLACK_CA_FILE",
                                  false);
    }
    if (ec == beast::error::timeout)
      co_return transport_failure(error::timeout,
                                  method + ": TLS handshake with " + host + ":" + port + " timed out", true);
    co_return transport_failure(
        error::tls_handshake_failed,
        method + ": TLS handshake with " + host + ":" + port + " failed: " + describe(ec), true);
  }

  // Resolve, connect, TLS: each step with its deadline, each failure named.
  asio::awaitable<opened> open_connection(call_state& s, const std::string& method) {
    opened out;
    if (cancelled) {
      out.failure.failure = cancelled_error(method);
      co_return out;
    }
    auto endpoints = co_await resolve(s, method, out.failure);
    if (!endpoints) co_return out;

    auto conn = std::make_unique<connection>(ex, *tls);
    s.conn = conn.get();  // cancel() closes it under the steps below
    auto failure = co_await connect_tcp(*conn, *endpoints, method);
    if (!failure) failure = co_await handshake_tls(*conn, method);
    s.conn = nullptr;
    if (failure) {
      out.failure = std::move(*failure);
      co_return out;
    }
    ++stats.connections_opened;
    spdlog::debug("slack: connected to {}:{}", host, port);
    out.conn = std::move(conn);
    co_return out;
  }

  asio::awaitable<exchange_result> exchange(call_state& s, connection& conn, const request_spec& spec) {
    if (cancelled) {
      exchange_result r;
      r.failure = cancelled_error(spec.method);
      co_return r;
    }
    http::request<http::string_body> req{http::verb::post, base_path + spec.method, 11};
    req.set(http::field::host, host_header);
    req.set(http::field::user_agent, "flare/0.1");
    req.set(http::field::accept, "application/json");
    req.set(http::field::authorization, "Bearer " + spec.token);
    req.set(http::field::content_type, spec.content_type);
    req.keep_alive(true);
    req.body() = spec.body;
    req.prepare_payload();

    s.conn = &conn;
    auto& tcp_layer = beast::get_lowest_layer(conn.stream);
    tcp_layer.expires_after(options.request_timeout);
    ++stats.requests_sent;
    auto [wec, written] = co_await http::async_write(conn.stream, req, use_tuple);
    if (wec) {
      s.conn = nullptr;
      if (cancelled) {
        exchange_result r;
        r.failure = cancelled_error(spec.method);
        co_return r;
      }
      if (wec == beast::error::timeout) {
        co_return transport_failure(error::timeout, spec.method + ": sending the request timed out", true,
                                    true);
      }
      co_return transport_failure(error::connection_failed,
                                  spec.method + ": sending the request failed: " + describe(wec), true, true);
    }

    http::response_parser<http::string_body> parser;
    parser.body_limit(kMaxResponseBytes);
    tcp_layer.expires_after(options.request_timeout);
    auto [rec, read] = co_await http::async_read(conn.stream, conn.buffer, parser, use_tuple);
    s.conn = nullptr;
    if (cancelled) {
      exchange_result r;
      r.failure = cancelled_error(spec.method);
      co_return r;
    }
    if (rec) {
      const bool nothing_received = !parser.got_some() && conn.buffer.size() == 0;
      if (rec == beast::error::timeout) {
        co_return transport_failure(
            error::timeout,
            spec.method + ": no answer within " + std::to_string(options.request_timeout.count()) + " ms",
            true, nothing_received);
      }
      co_return transport_failure(error::connection_failed,
                                  spec.method + ": reading the answer failed: " + describe(rec), true,
                                  nothing_received);
    }
    tcp_layer.expires_never();
    auto& res = parser.get();
    exchange_result r;
    r.status = res.result_int();
    r.keep_alive = res.keep_alive();
    r.retry_after = std::string(res[http::field::retry_after]);
    r.body = std::move(res.body());
    co_return r;
  }

  // One exchange, on a kept-alive connection when there is one. If that connection turns out
  // to have been closed by the server while idle (it fails before any answer), the request
  // goes once more on a fresh connection; that is not a failed attempt.
  asio::awaitable<exchange_result> exchange_on_some_connection(call_state& s, const request_spec& spec) {
    auto conn = take_idle();
    const bool reused = conn != nullptr;
    if (!conn) {
      auto o = co_await open_connection(s, spec.method);
      if (!o.conn) co_return std::move(o.failure);
      conn = std::move(o.conn);
    }
    auto result = co_await exchange(s, *conn, spec);
    if (result.failure && reused && result.before_response && !cancelled) {
      spdlog::debug("slack: a kept-alive connection had closed; sending {} on a new one", spec.method);
      conn.reset();
      auto o = co_await open_connection(s, spec.method);
      if (!o.conn) co_return std::move(o.failure);
      conn = std::move(o.conn);
      result = co_await exchange(s, *conn, spec);
    }
    if (!result.failure && result.keep_alive) give_back(std::move(conn));
    co_return result;
  }

  // ---- the call ----

  asio::awaitable<api_result<json>> request(request_spec spec) {
    auto self = shared_from_this();  // the client may be destroyed while we are suspended
    call_state state(ex);
    call_registration registration(*this, state);
    auto result = co_await request_with_retries(state, spec);
    if (options.on_call_done)
      options.on_call_done(spec.method, result.ok() ? std::string() : result.error().code);
    if (result.ok()) co_return result;
    api_error e = result.error();
    e.detail = scrub(std::move(e.detail), spec.token);
    if (classify(e) == error_kind::refused) {
      spdlog::error("slack: {} refused the token ({}); check the configured token", spec.method, e.code);
    }
    co_return e;
  }

  // What one HTTP answer means for the call.
  struct answer {
    std::optional<json> body;        // ok:true
    std::optional<api_error> error;  // otherwise
    bool retry = false;              // the error may pass: try again after a backoff
  };

  answer read_answer(const request_spec& spec, const exchange_result& r) const {
    const std::string http = "http_" + std::to_string(r.status);
    if (r.status >= 500)
      return {std::nullopt,
              api_error{http, spec.method + ": Slack answered HTTP " + std::to_string(r.status), true}, true};
    if (r.status != 200)
      return {std::nullopt,
              api_error{http, spec.method + ": Slack answered HTTP " + std::to_string(r.status), true}};
    json j = json::parse(r.body, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("ok") || !j["ok"].is_boolean())
      return {std::nullopt, make_api_error(error::invalid_response,
                                           spec.method + ": the answer is not a Slack JSON envelope")};
    if (j["ok"].get<bool>()) {
      if (auto w = string_field(j, "warning"); !w.empty())
        spdlog::warn("slack: {} warned: {}", spec.method, w);
      return {std::move(j), std::nullopt};
    }
    std::string code = string_field(j, "error");
    if (code.empty()) code = "unknown_error";
    api_error e{code, slack_error_detail(spec.method, code, j), false};
    const bool retry = is_retryable(e);
    return {std::nullopt, std::move(e), retry};
  }

  // Slack: after a 429, wait Retry-After before calling that method again. Returns the error
  // once the call has been rate limited too often.
  std::optional<api_error> note_rate_limit(const request_spec& spec, const exchange_result& r, int times) {
    if (times > options.max_rate_limited_retries) {
      return api_error{"ratelimited",
                       spec.method + ": still rate limited after " +
                           std::to_string(options.max_rate_limited_retries) + " waits",
                       false};
    }
    const auto wait = retry_after(r.retry_after);
    auto& until = method_blocked_until[spec.method];
    until = std::max(until, steady::now() + wait);
    if (options.on_rate_limited) options.on_rate_limited(spec.method, wait);
    spdlog::warn("slack: {} rate limited (429); waiting {} s before calling it again", spec.method,
                 wait.count());
    return std::nullopt;
  }

  asio::awaitable<api_result<json>> request_with_retries(call_state& s, const request_spec& spec) {
    if (auto e = co_await pace(s, spec)) co_return *e;
    int failures = 0;
    int rate_limited = 0;
    for (;;) {
      if (auto e = co_await wait_for_method(s, spec.method)) co_return *e;
      const auto started = steady::now();
      auto r = co_await exchange_on_some_connection(s, spec);
      if (cancelled) co_return cancelled_error(spec.method);

      api_error retryable;
      if (r.failure) {
        if (!r.retryable) co_return *r.failure;
        retryable = std::move(*r.failure);
      } else {
        spdlog::debug("slack: {} -> HTTP {} in {} ms", spec.method, r.status,
                      std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - started).count());
        if (r.status == 429) {
          if (auto e = note_rate_limit(spec, r, ++rate_limited)) co_return *e;
          continue;
        }
        auto a = read_answer(spec, r);
        if (a.body) co_return std::move(*a.body);
        if (!a.retry) co_return std::move(*a.error);
        retryable = std::move(*a.error);
      }

      if (++failures >= options.max_attempts) {
        retryable.detail += " (gave up after " + std::to_string(failures) + " attempts)";
        co_return retryable;
      }
      const auto delay = retry_backoff.delay(failures - 1);
      spdlog::warn("slack: {} failed ({}: {}); attempt {} of {} in {} ms", spec.method, retryable.code,
                   scrub(retryable.detail, spec.token), failures + 1, options.max_attempts, delay.count());
      if (auto e = co_await sleep(s, steady::now() + delay, spec.method)) co_return *e;
    }
  }

  asio::awaitable<api_result<json>> call_json(std::string method, const json& body,
                                              std::string pace_channel = {}) {
    request_spec spec{std::move(method), kJsonContentType,
                      body.dump(-1, ' ', false, json::error_handler_t::replace), options.bot_token,
                      std::move(pace_channel)};
    co_return co_await request(std::move(spec));
  }

  asio::awaitable<api_result<json>> call_form(std::string method, std::string form) {
    request_spec spec{std::move(method), kFormContentType, std::move(form), options.bot_token, {}};
    co_return co_await request(std::move(spec));
  }
};

namespace {

// A post that fails for good is an incident update nobody will see: say so loudly, with what
// it was about, so it is never lost silently.
void log_failed_post(const char* method, const message& msg, const std::string& channel, const api_error& e) {
  spdlog::error("slack: {} to {} for {} failed: {} ({})", method, channel,
                msg.reference.empty() ? std::string("(no reference)") : msg.reference, e.code, e.detail);
}

}  // namespace

web_api_client::web_api_client(asio::any_io_executor ex, web_api_options options)
    : impl_(std::make_shared<impl>(std::move(ex), std::move(options))) {}

web_api_client::~web_api_client() = default;

void web_api_client::cancel() {
  asio::dispatch(impl_->ex, [i = impl_] { i->cancel_all(); });
}

web_api_stats web_api_client::stats() const { return impl_->stats; }

asio::awaitable<api_result<json>> web_api_client::call(std::string method, json body) {
  if (body.is_null()) body = json::object();
  co_return co_await impl_->call_json(std::move(method), body);
}

asio::awaitable<api_result<std::string>> web_api_client::apps_connections_open(std::string app_token) {
  // Slack: the app-level token goes in the Authorization header; the body may be empty.
  request_spec spec{"apps.connections.open", kFormContentType, "", std::move(app_token), {}};
  auto r = co_await impl_->request(std::move(spec));
  if (!r) co_return r.error();
  std::string url = string_field(r.value(), "url");
  if (url.rfind("wss://", 0) != 0)
    co_return invalid_response("apps.connections.open", "without a wss:// url");
  co_return url;
}

asio::awaitable<api_result<auth_identity>> web_api_client::auth_test() {
  auto r = co_await impl_->call_json("auth.test", json::object());
  if (!r) co_return r.error();
  auth_identity id{string_field(r.value(), "team_id"), string_field(r.value(), "user_id"),
                   string_field(r.value(), "bot_id")};
  if (id.user_id.empty()) co_return invalid_response("auth.test", "without user_id");
  co_return id;
}

asio::awaitable<api_result<posted_message>> web_api_client::post_message(message msg) {
  auto r = co_await impl_->call_json("chat.postMessage", message_body(msg), msg.channel);
  if (!r) {
    log_failed_post("chat.postMessage", msg, msg.channel, r.error());
    co_return r.error();
  }
  posted_message posted{string_field(r.value(), "channel"), string_field(r.value(), "ts")};
  if (posted.channel.empty()) posted.channel = msg.channel;
  if (posted.ts.empty()) co_return invalid_response("chat.postMessage", "without ts");
  co_return posted;
}

asio::awaitable<api_result<posted_message>> web_api_client::update_message(std::string channel,
                                                                           std::string ts, message msg) {
  json body = {{"channel", channel}, {"ts", ts}, {"text", msg.text}};
  // Slack drops the old blocks when text comes without blocks; sending them (even []) says so.
  body["blocks"] = msg.blocks.is_array() ? msg.blocks : json::array();
  auto r = co_await impl_->call_json("chat.update", body, channel);
  if (!r) {
    log_failed_post("chat.update", msg, channel, r.error());
    co_return r.error();
  }
  posted_message posted{string_field(r.value(), "channel"), string_field(r.value(), "ts")};
  if (posted.channel.empty()) posted.channel = channel;
  if (posted.ts.empty()) posted.ts = ts;
  co_return posted;
}

asio::awaitable<api_result<std::string>> web_api_client::post_ephemeral(std::string user, message msg) {
  json body = message_body(msg);
  body["user"] = user;
  auto r = co_await impl_->call_json("chat.postEphemeral", body, msg.channel);
  if (!r) {
    log_failed_post("chat.postEphemeral", msg, msg.channel, r.error());
    co_return r.error();
  }
  std::string ts = string_field(r.value(), "message_ts");
  if (ts.empty()) co_return invalid_response("chat.postEphemeral", "without message_ts");
  co_return ts;
}

asio::awaitable<api_result<std::string>> web_api_client::open_dm(std::string user) {
  // (Arguments built outside co_await: GCC 12 miscompiles braced temporaries inside it.)
  json body = {{"users", user}};
  auto r = co_await impl_->call_json("conversations.open", body);
  if (!r) co_return r.error();
  std::string id = string_field(object_field(r.value(), "channel"), "id");
  if (id.empty()) co_return invalid_response("conversations.open", "without channel.id");
  co_return id;
}

// Read methods take form arguments: Slack documents them as GET methods, and not all of them
// read a JSON body.
asio::awaitable<api_result<slack::conversation_info>> web_api_client::conversations_info(
    std::string channel) {
  std::string form = form_encode({{"channel", channel}});
  auto r = co_await impl_->call_form("conversations.info", std::move(form));
  if (!r) co_return r.error();
  const json& c = object_field(r.value(), "channel");
  slack::conversation_info info{string_field(c, "id"), string_field(c, "name"), bool_field(c, "is_private"),
                                bool_field(c, "is_im"), bool_field(c, "is_member")};
  if (info.id.empty()) co_return invalid_response("conversations.info", "without channel.id");
  co_return info;
}

asio::awaitable<api_result<slack::user_info>> web_api_client::users_info(std::string user) {
  std::string form = form_encode({{"user", user}});
  auto r = co_await impl_->call_form("users.info", std::move(form));
  if (!r) co_return r.error();
  const json& u = object_field(r.value(), "user");
  slack::user_info info{string_field(u, "id"), string_field(u, "name"), string_field(u, "real_name"),
                        string_field(u, "tz"), bool_field(u, "is_bot"), bool_field(u, "deleted")};
  if (info.real_name.empty()) info.real_name = string_field(object_field(u, "profile"), "real_name");
  if (info.id.empty()) co_return invalid_response("users.info", "without user.id");
  co_return info;
}

asio::awaitable<api_result<std::vector<std::string>>> web_api_client::usergroup_members(
    std::string usergroup) {
  std::string form = form_encode({{"usergroup", usergroup}});
  auto r = co_await impl_->call_form("usergroups.users.list", std::move(form));
  if (!r) co_return r.error();
  auto it = r.value().find("users");
  if (it == r.value().end() || !it->is_array()) {
    co_return invalid_response("usergroups.users.list", "without users");
  }
  std::vector<std::string> users;
  for (const auto& u : *it) {
    if (u.is_string()) users.push_back(u.get<std::string>());
  }
  co_return users;
}

asio::awaitable<api_result<view_ref>> web_api_client::open_view(std::string trigger_id, json view) {
  json body = {{"trigger_id", trigger_id}, {"view", view}};
  auto r = co_await impl_->call_json("views.open", body);
  if (!r) co_return r.error();
  const json& v = object_field(r.value(), "view");
  view_ref ref{string_field(v, "id"), string_field(v, "hash")};
  if (ref.id.empty()) co_return invalid_response("views.open", "without view.id");
  co_return ref;
}

asio::awaitable<api_result<view_ref>> web_api_client::update_view(std::string view_id, json view,
                                                                  std::string hash) {
  json body = {{"view_id", view_id}, {"view", view}};
  // Slack: the hash guards against overwriting a newer version of the view.
  if (!hash.empty()) body["hash"] = hash;
  auto r = co_await impl_->call_json("views.update", body);
  if (!r) co_return r.error();
  const json& v = object_field(r.value(), "view");
  view_ref ref{string_field(v, "id"), string_field(v, "hash")};
  if (ref.id.empty()) co_return invalid_response("views.update", "without view.id");
  co_return ref;
}

}  // namespace flare::slack
