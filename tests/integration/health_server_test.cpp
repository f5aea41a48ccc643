// The health/metrics endpoint through a real HTTP client, with the Socket Mode link to the fake
// Slack behind /readyz as in production: readiness goes 503 when the fake drops the socket and
// refuses to reconnect, and back to 200 when it lets the bot in again. /metrics is checked with a
// Prometheus text-format (0.0.4) parser written here, strict about every line.
#include "bot/ops/health_server.hpp"
#include "bot/ops/metrics.hpp"
#include "bot/slack/socket_mode_client.hpp"
#include "bot/slack/web_api_client.hpp"
#include "tests/fake_slack/fake_slack.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <gtest/gtest.h>

#include <cmath>
#include <future>
#include <limits>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

namespace flare {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

// ---- a strict parser for the Prometheus text exposition format 0.0.4 ----

struct sample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

struct exposition {
  std::map<std::string, std::string> types;  // family -> counter|gauge|histogram|summary|untyped
  std::map<std::string, std::string> help;
  std::vector<sample> samples;

  // The value of the sample with this name and exactly these labels, if any.
  std::optional<double> value(const std::string& name,
                              const std::map<std::string, std::string>& labels = {}) const {
    for (const auto& s : samples)
      if (s.name == name && s.labels == labels) return s.value;
    return std::nullopt;
  }
  double sum(const std::string& name) const {
    double total = 0;
    for (const auto& s : samples)
      if (s.name == name) total += s.value;
    return total;
  }
};

struct parse_failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

bool valid_metric_name(const std::string& n) {
  return std::regex_match(n, std::regex("[a-zA-Z_:][a-zA-Z0-9_:]*"));
}

double parse_value(const std::string& v, int line) {
  if (v == "+Inf") return std::numeric_limits<double>::infinity();
  if (v == "-Inf") return -std::numeric_limits<double>::infinity();
  if (v == "NaN") return std::numeric_limits<double>::quiet_NaN();
  if (!std::regex_match(v, std::regex(R"([-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?)")))
    throw parse_failure("line " + std::to_string(line) + ": bad value '" + v + "'");
  return std::stod(v);
}

// The family a sample belongs to: histograms own name_bucket, name_sum, name_count.
std::string family_of(const std::string& name, const std::map<std::string, std::string>& types) {
  if (types.count(name)) return name;
  for (const char* suffix : {"_bucket", "_sum", "_count"}) {
    const std::string s = suffix;
    if (name.size() > s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0) {
      auto base = name.substr(0, name.size() - s.size());
      if (auto it = types.find(base);
          it != types.end() && (it->second == "histogram" || it->second == "summary"))
        return base;
    }
  }
  return {};
}

exposition parse_prometheus_text(const std::string& text) {
  exposition out;
  if (!text.empty() && text.back() != '\n') throw parse_failure("the exposition must end with a newline");
  std::istringstream in(text);
  std::string line;
  int n = 0;
  std::set<std::string> families_with_samples;
  std::string current_family;
  while (std::getline(in, line)) {
    ++n;
    auto fail = [&](const std::string& why) {
      // NOLINTNEXTLINE(performance-inefficient-string-concatenation): only on the way to a failure
      throw parse_failure("line " + std::to_string(n) + ": " + why + ": " + line);
    };
    if (line.empty()) continue;
    if (line[0] == '#') {
      std::smatch m;
      if (std::regex_match(line, m, std::regex(R"(# HELP (\S+) (.*))"))) {
        if (!valid_metric_name(m[1])) fail("bad metric name in HELP");
        // HELP text escapes only backslash and newline.
        if (std::regex_search(m[2].str(), std::regex(R"(\\[^\\n])"))) fail("bad escape in HELP");
        if (out.help.count(m[1])) fail("second HELP for a family");
        out.help[m[1]] = m[2];
      } else if (std::regex_match(line, m, std::regex(R"(# TYPE (\S+) (\S+))"))) {
        if (!valid_metric_name(m[1])) fail("bad metric name in TYPE");
        static const std::set<std::string> kinds = {"counter", "gauge", "histogram", "summary", "untyped"};
        if (!kinds.count(m[2])) fail("unknown type");
        if (out.types.count(m[1])) fail("second TYPE for a family");
        if (families_with_samples.count(m[1])) fail("TYPE after the family's samples");
        out.types[m[1]] = m[2];
      } else if (line.rfind("# HELP", 0) == 0 || line.rfind("# TYPE", 0) == 0) {
        fail("malformed HELP/TYPE");
      }
      continue;  // other comments are allowed
    }
    // name{label="value",...} value [timestamp]
    sample s;
    std::size_t i = 0;
    while (i < line.size() && line[i] != '{' && line[i] != ' ') ++i;
    s.name = line.substr(0, i);
    if (!valid_metric_name(s.name)) fail("bad metric name");
    if (i < line.size() && line[i] == '{') {
      ++i;
      while (i < line.size() && line[i] != '}') {
        std::size_t eq = line.find('=', i);
        if (eq == std::string::npos) fail("label without '='");
        const auto label = line.substr(i, eq - i);
        if (!std::regex_match(label, std::regex("[a-zA-Z_][a-zA-Z0-9_]*")))
          fail("bad label name '" + label + "'");
        i = eq + 1;
        if (i >= line.size() || line[i] != '"') fail("label value not quoted");
        ++i;
        std::string value;
        for (;; ++i) {
          if (i >= line.size()) fail("unterminated label value");
          if (line[i] == '"') break;
          if (line[i] == '\\') {
            ++i;
            if (i >= line.size()) fail("dangling backslash");
            if (line[i] == 'n') value += '\n';
            else if (line[i] == '\\' || line[i] == '"') value += line[i];
            else fail("bad escape in label value");
          } else {
            value += line[i];
          }
        }
        ++i;  // closing quote
        if (!s.labels.emplace(label, value).second) fail("repeated label");
        if (i < line.size() && line[i] == ',') ++i;
        else if (i < line.size() && line[i] != '}') fail("expected ',' or '}'");
      }
      if (i >= line.size()) fail("unterminated label set");
      ++i;  // '}'
    }
    if (i >= line.size() || line[i] != ' ') fail("expected a space before the value");
    std::istringstream rest(line.substr(i + 1));
    std::string value, timestamp, extra;
    rest >> value >> timestamp >> extra;
    if (!extra.empty()) fail("trailing text");
    if (!timestamp.empty() && !std::regex_match(timestamp, std::regex(R"(-?\d+)"))) fail("bad timestamp");
    s.value = parse_value(value, n);

    const auto family = family_of(s.name, out.types);
    if (family.empty()) fail("sample without a TYPE for its family");
    if (family != current_family && families_with_samples.count(family))
      fail("family's samples not together");
    current_family = family;
    families_with_samples.insert(family);
    const auto& type = out.types[family];
    if (type == "counter" && (s.value < 0 || std::isnan(s.value))) fail("negative counter");
    if (type == "histogram" && s.name == family) fail("histogram sample without _bucket/_sum/_count");
    if (s.name.size() > 7 && s.name.compare(s.name.size() - 7, 7, "_bucket") == 0 && !s.labels.count("le"))
      fail("bucket without le");
    out.samples.push_back(std::move(s));
  }

  // Histograms: per label set, buckets ascending in le and cumulative, a +Inf bucket equal to
  // _count, and a _sum.
  for (const auto& [family, type] : out.types) {
    if (type != "histogram") continue;
    std::map<std::map<std::string, std::string>, std::vector<std::pair<double, double>>> buckets;
    std::map<std::map<std::string, std::string>, double> counts, sums;
    for (const auto& s : out.samples) {
      if (s.name == family + "_bucket") {
        auto labels = s.labels;
        const double le = parse_value(labels.at("le"), 0);
        labels.erase("le");
        buckets[labels].emplace_back(le, s.value);
      } else if (s.name == family + "_count") {
        counts[s.labels] = s.value;
      } else if (s.name == family + "_sum") {
        sums[s.labels] = s.value;
      }
    }
    for (const auto& [labels, series] : buckets) {
      for (std::size_t k = 1; k < series.size(); ++k) {
        if (!(series[k].first > series[k - 1].first)) throw parse_failure(family + ": le not ascending");
        if (series[k].second < series[k - 1].second) throw parse_failure(family + ": buckets not cumulative");
      }
      if (series.empty() || !std::isinf(series.back().first))
        throw parse_failure(family + ": no +Inf bucket");
      if (!counts.count(labels)) throw parse_failure(family + ": no _count");
      if (!sums.count(labels)) throw parse_failure(family + ": no _sum");
      if (counts[labels] != series.back().second) throw parse_failure(family + ": +Inf bucket != _count");
    }
    if (buckets.size() != counts.size() || counts.size() != sums.size())
      throw parse_failure(family + ": _count/_sum without buckets");
  }
  return out;
}

TEST(prometheus_text_parser, rejects_what_the_format_forbids) {
  const std::string ok =
      "# HELP a_total A counter\n# TYPE a_total counter\na_total{x=\"q\\\"uote\\\\\"} 3\n"
      "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 3.5\nh_count 2\n";
  const auto e = parse_prometheus_text(ok);
  EXPECT_EQ(e.value("a_total", {{"x", "q\"uote\\"}}), 3);
  for (const std::string& bad : {
           std::string("a_total 1\n"),                         // no TYPE
           std::string("# TYPE a counter\na{x=\"\\t\"} 1\n"),  // bad escape
           std::string("# TYPE a counter\na{x=\"1\" 1\n"),     // unterminated labels
           std::string("# TYPE a counter\na -1\n"),            // negative counter
           std::string("# TYPE a gauge\na one\n"),             // not a number
           std::string("# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 3\n"),  // count
           std::string(
               "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n"),
           std::string("# TYPE a gauge\na 1"),  // no final newline
       }) {
    EXPECT_THROW(parse_prometheus_text(bad), parse_failure) << bad;
  }
}

// ---- a real HTTP client, with a deadline ----

struct http_reply {
  int status = 0;
  std::string body;
  std::string content_type;
  std::string allow;
  std::string error;  // transport failure
};

http_reply http_exchange(std::uint16_t port, const std::string& raw_request, bool head = false) {
  asio::io_context ioc;
  beast::tcp_stream stream(ioc);
  http_reply out;
  asio::co_spawn(
      ioc,
      [&]() -> asio::awaitable<void> {
        stream.expires_after(3s);
        co_await stream.async_connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port),
                                      asio::use_awaitable);
        co_await asio::async_write(stream, asio::buffer(raw_request), asio::use_awaitable);
        beast::flat_buffer buffer;
        http::response_parser<http::string_body> parser;
        parser.skip(head);
        co_await http::async_read(stream, buffer, parser, asio::use_awaitable);
        const auto& res = parser.get();
        out.status = static_cast<int>(res.result_int());
        out.body = res.body();
        out.content_type = std::string(res[http::field::content_type]);
        out.allow = std::string(res[http::field::allow]);
      },
      [&](const std::exception_ptr& e) {
        if (!e) return;
        try {
          std::rethrow_exception(e);
        } catch (const std::exception& x) {
          out.error = x.what();
        }
      });
  ioc.run_for(5s);
  if (out.status == 0 && out.error.empty()) out.error = "no answer";
  return out;
}

http_reply http_request(std::uint16_t port, const std::string& method, const std::string& target) {
  return http_exchange(port,
                       method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
                       method == "HEAD");
}

// ---- the bot's side: Socket Mode link, metrics and health server on one io_context ----

class health_harness {
 public:
  health_harness() {
    slack::web_api_options web;
    web.api_url = fake_.api_url();
    web.bot_token = fake_.options().bot_token;
    web.extra_ca_file = fake_.ca_file();
    web.connect_timeout = 2s;
    web.request_timeout = 3s;
    web.max_attempts = 2;
    web.backoff_initial = 20ms;
    web.backoff_max = 100ms;
    web.on_call_done = [this](const std::string& method, const std::string& error) {
      metrics_.web_api_call(method, error);
    };
    web.on_rate_limited = [this](const std::string& method, std::chrono::seconds wait) {
      metrics_.web_api_rate_limited(method, wait);
    };

    slack::socket_mode_options socket;
    socket.extra_ca_file = fake_.ca_file();
    socket.connect_timeout = 2s;
    socket.hello_timeout = 2s;
    socket.backoff_initial = 50ms;
    socket.backoff_max = 200ms;
    socket.close_timeout = 1s;

    web_ = std::make_unique<slack::web_api_client>(io_.get_executor(), web);
    socket_ = std::make_unique<slack::socket_mode_client>(
        io_.get_executor(), socket,
        [this]() { return web_->apps_connections_open(fake_.options().app_token); },
        [this](const slack::envelope& e, slack::ack_fn ack) {
          const auto arrived = steady::now();
          metrics_.envelope_received(e.type);
          ack(std::nullopt);
          metrics_.envelope_acked(e.type, steady::now() - arrived);
        });
    metrics_.set_sources(scrape_sources{
        [this] { return socket_->stats().reconnects_by_reason; },
        [this] { return socket_->connected(); },
        [] {
          return std::map<std::string, std::size_t>{{"high", 2}, {"low", 0}};
        },
        [] { return std::size_t{1}; },
        [] { return std::uint64_t{0}; },
    });

    health_options options;
    options.port = 0;
    options.io_timeout = 1s;
    options.max_request_bytes = 2048;
    server_ = std::make_unique<health_server>(
        io_.get_executor(), options,
        health_handlers{[this] { return socket_->connected(); }, [this] { return metrics_.scrape(); }});
    port_ = server_->port();
  }

  ~health_harness() {  // NOLINT(bugprone-exception-escape): failing to stop ends the test run
    if (thread_.joinable()) {
      asio::post(io_, [this] {
        socket_->stop();
        server_->stop();
      });
      socket_done_.wait_for(5s);
      server_done_.wait_for(5s);
      io_.stop();
      thread_.join();
    }
  }

  void start() {
    socket_done_ = socket_promise_.get_future();
    server_done_ = server_promise_.get_future();
    asio::co_spawn(
        io_,
        [this]() -> asio::awaitable<void> {
          co_await socket_->run();
          socket_promise_.set_value();
        },
        asio::detached);
    asio::co_spawn(
        io_,
        [this]() -> asio::awaitable<void> {
          co_await server_->run();
          server_promise_.set_value();
        },
        asio::detached);
    thread_ = std::thread([this] { io_.run_for(60s); });  // bounded: no test may hang the suite
  }

  // Stops the health server from the io thread; true when run() returned within the limit.
  bool stop_server(std::chrono::milliseconds limit) {
    asio::post(io_, [this] { server_->stop(); });
    return server_done_.wait_for(limit) == std::future_status::ready;
  }

  template <class F>
  bool eventually(F condition, std::chrono::milliseconds timeout = 5s) {
    const auto deadline = steady::now() + timeout;
    while (steady::now() < deadline) {
      if (condition()) return true;
      std::this_thread::sleep_for(20ms);
    }
    return condition();
  }

  int status(const std::string& target) { return http_request(port_, "GET", target).status; }
  exposition scrape() {
    auto r = http_request(port_, "GET", "/metrics");
    EXPECT_EQ(r.status, 200) << r.error;
    return parse_prometheus_text(r.body);
  }

  std::uint16_t port() const { return port_; }
  testing::fake_slack& fake() { return fake_; }

 private:
  testing::fake_slack fake_;
  asio::io_context io_;
  metrics metrics_;
  std::unique_ptr<slack::web_api_client> web_;
  std::unique_ptr<slack::socket_mode_client> socket_;
  std::unique_ptr<health_server> server_;
  std::uint16_t port_ = 0;
  std::promise<void> socket_promise_, server_promise_;
  std::future<void> socket_done_, server_done_;
  std::thread thread_;
};

TEST(health_server, readyz_follows_the_socket_mode_link_and_healthz_stays_up) {
  health_harness h;
  h.start();
  ASSERT_TRUE(h.eventually([&] { return h.status("/readyz") == 200; }));
  EXPECT_EQ(h.status("/healthz"), 200);

  h.fake().refuse_connections(true);
  h.fake().close_abruptly();
  ASSERT_TRUE(h.eventually([&] { return h.status("/readyz") == 503; }, 5s)) << "readiness did not drop";
  EXPECT_EQ(h.status("/healthz"), 200) << "the process is alive while Slack is away";

  h.fake().refuse_connections(false);
  EXPECT_TRUE(h.eventually([&] { return h.status("/readyz") == 200; }, 10s)) << "readiness did not come back";
}

TEST(health_server, metrics_parse_and_count_envelopes_acks_calls_and_reconnects) {
  health_harness h;
  h.start();
  ASSERT_TRUE(h.eventually([&] { return h.status("/readyz") == 200; }));
  const auto id = h.fake().send_envelope(
      "events_api",
      nlohmann::json{{"type", "event_callback"}, {"event_id", "Ev1"}, {"event", {{"type", "message"}}}});
  ASSERT_TRUE(h.fake().wait_for_ack(id));
  h.fake().close_abruptly();  // one reconnect
  ASSERT_TRUE(h.eventually([&] { return h.fake().connections_opened() >= 2 && h.status("/readyz") == 200; }));

  exposition m;
  ASSERT_NO_THROW(m = h.scrape());
  const std::map<std::string, std::string> events{{"type", "events_api"}};
  EXPECT_EQ(m.value("flare_envelopes_received_total", events), 1);
  EXPECT_EQ(m.value("flare_envelopes_acked_total", events), 1);
  EXPECT_EQ(m.value("flare_ack_latency_seconds_count", events), 1);
  EXPECT_EQ(m.types["flare_ack_latency_seconds"], "histogram");
  EXPECT_GE(m.value("flare_slack_api_calls_total", {{"method", "apps.connections.open"}}).value_or(0), 2);
  EXPECT_GE(m.sum("flare_socket_reconnects_total"), 1);
  EXPECT_EQ(m.value("flare_socket_connected"), 1);
  EXPECT_EQ(m.value("flare_open_incidents", {{"severity", "high"}}), 2);
  EXPECT_EQ(m.value("flare_open_incidents", {{"severity", "critical"}}), 0) << "known severities read 0";
  EXPECT_EQ(m.value("flare_outbox_pending"), 1);
  // Label-less series exist from the start; labelled families (errors, 429s) appear with their
  // first series, since prometheus-cpp omits a family that has none.
  for (const char* family : {"flare_reminders_sent_total", "flare_reminders_late_total",
                             "flare_reminders_overdue_total", "flare_outbox_failed_total"})
    EXPECT_TRUE(m.types.count(family)) << family;
  for (const auto& [family, type] : m.types) EXPECT_TRUE(m.help.count(family)) << family << " has no HELP";
}

TEST(health_server, web_api_errors_and_429_waits_are_counted_by_method) {
  health_harness h;
  h.fake().inject("apps.connections.open", testing::fault{429, 1});
  h.fake().inject("apps.connections.open", testing::fault{200, std::nullopt, "internal_error", 0ms, 2});
  h.start();
  ASSERT_TRUE(h.eventually([&] { return h.status("/readyz") == 200; }, 10s));
  const auto m = h.scrape();
  const std::map<std::string, std::string> open{{"method", "apps.connections.open"}};
  EXPECT_EQ(m.value("flare_slack_api_rate_limited_total", open), 1);
  EXPECT_EQ(m.value("flare_slack_api_rate_limited_wait_seconds_total", open), 1);
  EXPECT_GE(m.value("flare_slack_api_errors_total",
                    {{"method", "apps.connections.open"}, {"error", "internal_error"}})
                .value_or(0),
            1);
}

TEST(health_server, answers_only_get_and_head_on_its_three_paths) {
  health_harness h;
  h.start();
  auto missing = http_request(h.port(), "GET", "/admin");
  EXPECT_EQ(missing.status, 404);
  auto post = http_request(h.port(), "POST", "/healthz");
  EXPECT_EQ(post.status, 405);
  EXPECT_EQ(post.allow, "GET, HEAD");
  auto head = http_request(h.port(), "HEAD", "/healthz");
  EXPECT_EQ(head.status, 200);
  EXPECT_TRUE(head.body.empty());
  auto query = http_request(h.port(), "GET", "/healthz?probe=1");
  EXPECT_EQ(query.status, 200);
  auto metrics = http_request(h.port(), "GET", "/metrics");
  EXPECT_EQ(metrics.content_type, "text/plain; version=0.0.4; charset=utf-8");
}

TEST(health_server, refuses_oversized_requests_and_bodies) {
  health_harness h;
  h.start();
  const std::string huge =
      "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: " + std::string(4096, 'a') + "\r\n\r\n";
  auto r = http_exchange(h.port(), huge);
  EXPECT_TRUE(r.status == 400 || !r.error.empty()) << "a request over the limit is not served";
  EXPECT_NE(r.status, 200);
  auto body = http_exchange(h.port(), "POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello");
  EXPECT_NE(body.status, 200);
  EXPECT_EQ(h.status("/healthz"), 200) << "still serving afterwards";
}

TEST(health_server, stop_closes_idle_keep_alive_connections_promptly) {
  health_harness h;
  h.start();
  // A client that connects and says nothing holds a connection open.
  asio::io_context client_io;
  asio::ip::tcp::socket idle(client_io);
  idle.connect({asio::ip::make_address("127.0.0.1"), h.port()});
  ASSERT_EQ(h.status("/healthz"), 200);
  const auto t0 = steady::now();
  EXPECT_TRUE(h.stop_server(3s));
  EXPECT_LT(steady::now() - t0, 900ms) << "stop waited for the idle connection's read timeout";
  EXPECT_NE(h.status("/healthz"), 200) << "no longer listening";
}

TEST(health_server, a_taken_port_is_a_start_up_error) {
  asio::io_context io;
  health_options o;
  o.port = 0;
  health_server first(io.get_executor(), o, {});
  o.port = first.port();
  EXPECT_THROW(health_server(io.get_executor(), o, {}), std::system_error);
  o.address = "not-an-address";
  EXPECT_THROW(health_server(io.get_executor(), o, {}), std::system_error);
}

// ---- slow clients (issue 13: 33 of them starved the probes) ----

// The health server alone on its own io thread, bounded in time.
struct lone_health_server {
  explicit lone_health_server(health_options o) {
    o.port = 0;
    server = std::make_unique<health_server>(
        io.get_executor(), o,
        health_handlers{[] { return true; }, [] { return std::string("# TYPE a gauge\na 1\n"); }});
    port = server->port();
    asio::co_spawn(io, server->run(), asio::detached);
    thread = std::thread([this] { io.run_for(60s); });
  }
  ~lone_health_server() {  // NOLINT(bugprone-exception-escape): failing to stop ends the test run
    asio::post(io, [this] { server->stop(); });
    thread.join();
  }
  asio::io_context io;
  std::unique_ptr<health_server> server;
  std::uint16_t port = 0;
  std::thread thread;
};

// Opens `n` connections that send half a request header and then nothing more.
std::vector<std::unique_ptr<asio::ip::tcp::socket>> slow_clients(asio::io_context& io, std::uint16_t port,
                                                                 int n) {
  std::vector<std::unique_ptr<asio::ip::tcp::socket>> out;
  for (int i = 0; i < n; ++i) {
    auto s = std::make_unique<asio::ip::tcp::socket>(io);
    boost::system::error_code ec;
    s->connect({asio::ip::make_address("127.0.0.1"), port}, ec);
    if (ec) continue;
    asio::write(*s, asio::buffer(std::string_view("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")), ec);
    out.push_back(std::move(s));
  }
  return out;
}

TEST(health_server, probes_are_answered_while_100_slow_clients_hold_connections) {
  health_options o;
  o.header_timeout = 5s;  // the old read timeout: the slow clients hold their slots throughout
  lone_health_server h(o);
  asio::io_context client_io;
  auto slow = slow_clients(client_io, h.port, 100);
  ASSERT_EQ(slow.size(), 100u);
  // A kubelet probes every few seconds with a 1 s timeout; 40 probes over ~2 s must all pass.
  int answered = 0;
  for (int i = 0; i < 40; ++i) {
    const auto t0 = steady::now();
    const auto r = http_request(h.port, "GET", i % 2 ? "/readyz" : "/healthz");
    if (r.status == 200 && steady::now() - t0 < 1s) ++answered;
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(answered, 40);
  EXPECT_EQ(http_request(h.port, "GET", "/metrics").status, 200) << "scrapes have general slots too";
}

TEST(health_server, when_every_slot_is_taken_the_slowest_client_makes_room_for_a_probe) {
  health_options o;
  o.max_connections = 8;
  o.probe_slots = 2;
  o.header_timeout = 5s;  // the slow clients would hold their slots for the whole test
  lone_health_server h(o);
  asio::io_context client_io;
  auto slow = slow_clients(client_io, h.port, 30);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(http_request(h.port, "GET", "/healthz").status, 200) << i;
  // A probe slot answers probes only: a scrape that lands there is told to come back.
  auto r = http_request(h.port, "GET", "/metrics");
  EXPECT_TRUE(r.status == 200 || r.status == 503) << r.status << " " << r.error;
}

TEST(health_server, a_client_that_never_finishes_its_header_is_cut_off_after_the_header_timeout) {
  health_options o;
  o.header_timeout = 300ms;
  lone_health_server h(o);
  asio::io_context client_io;
  auto slow = slow_clients(client_io, h.port, 1);
  ASSERT_EQ(slow.size(), 1u);
  slow[0]->non_blocking(false);
  const auto t0 = steady::now();
  char byte = 0;
  boost::system::error_code ec;
  // Bounded: the server closes it (EOF) at ~300 ms; the receive timeout guards the test itself.
  struct timeval tv {
    3, 0
  };
  ::setsockopt(slow[0]->native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  slow[0]->read_some(asio::buffer(&byte, 1), ec);
  EXPECT_TRUE(ec) << "the server kept the connection";
  EXPECT_LT(steady::now() - t0, 2s);
}

}  // namespace
}  // namespace flare
