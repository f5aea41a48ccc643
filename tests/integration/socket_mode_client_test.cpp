// socket_mode_client against the fake Slack: real TLS (a test CA, verified), a real WebSocket,
// apps.connections.open through web_api_client as in production. The client runs on its own
// io_context thread; the test thread drives the fake (thread-safe) and reads the client's state
// through on_io(), so nothing is shared without the io thread's say-so. Every wait is bounded.
#include "bot/slack/socket_mode_client.hpp"
#include "bot/slack/web_api_client.hpp"
#include "tests/fake_slack/fake_slack.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <future>
#include <mutex>
#include <stdexcept>
#include <thread>

namespace flare::slack {
namespace {

using namespace std::chrono_literals;
using testing::fake_slack;
using testing::fake_slack_options;

using steady = std::chrono::steady_clock;

// What the sink does with each envelope.
enum class sink_mode { ack_now, never_ack, throw_error, ack_with_payload, ack_with_20_kb_payload };

class link_harness {
 public:
  explicit link_harness(fake_slack_options fake_options = {},
                        const std::function<void(socket_mode_options&, web_api_options&)>& adjust = {})
      : fake_(std::move(fake_options)) {
    web_api_options web;
    web.api_url = fake_.api_url();
    web.bot_token = fake_.options().bot_token;
    web.extra_ca_file = fake_.ca_file();
    web.connect_timeout = 2s;
    web.request_timeout = 3s;
    web.max_attempts = 2;
    web.backoff_initial = 20ms;
    web.backoff_max = 100ms;

    options_.extra_ca_file = fake_.ca_file();
    options_.connect_timeout = 2s;
    options_.hello_timeout = 2s;
    options_.backoff_initial = 50ms;
    options_.backoff_max = 400ms;
    options_.close_timeout = 1s;
    app_token_ = fake_.options().app_token;
    if (adjust) adjust(options_, web);

    web_ = std::make_unique<web_api_client>(io_.get_executor(), web);
    client_ = std::make_unique<socket_mode_client>(
        io_.get_executor(), options_, [this]() { return web_->apps_connections_open(app_token_); },
        [this](const envelope& e, ack_fn ack) { on_envelope(e, std::move(ack)); });
    client_->on_connected_changed = [this](bool up) {
      std::lock_guard lock(mu_);
      readiness_.push_back(up);
    };
  }

  ~link_harness() {  // NOLINT(bugprone-exception-escape): failing to stop ends the test run
    if (thread_.joinable()) {
      if (!finished()) {
        post([this] { client_->stop(); });
        result_.wait_for(5s);
      }
      io_.stop();
      thread_.join();
    }
  }

  void set_app_token(std::string token) { app_token_ = std::move(token); }
  void set_quick_reply(quick_reply_fn reply) {
    on_io([&] { client_->quick_reply = std::move(reply); });
  }
  void set_sink(sink_mode mode) {
    std::lock_guard lock(mu_);
    mode_ = mode;
  }

  void start() {
    result_ = result_promise_.get_future();
    boost::asio::co_spawn(
        io_,
        [this]() -> boost::asio::awaitable<void> {
          auto r = co_await client_->run();
          result_promise_.set_value(std::move(r));
        },
        boost::asio::detached);
    // Bounded: no test may hang the suite.
    thread_ = std::thread([this] { io_.run_for(90s); });
  }

  // Runs f on the client's thread (or here, before that thread starts) and returns its result.
  template <class F>
  auto on_io(F f) -> decltype(f()) {
    if (!thread_.joinable()) return f();
    std::packaged_task<decltype(f())()> task(std::move(f));
    auto done = task.get_future();
    boost::asio::post(io_, [&task] { task(); });
    if (done.wait_for(5s) != std::future_status::ready) throw std::runtime_error("io thread stuck");
    return done.get();
  }
  void post(std::function<void()> f) { boost::asio::post(io_, std::move(f)); }

  bool connected() {
    return on_io([this] { return client_->connected(); });
  }
  socket_mode_stats stats() {
    return on_io([this] { return client_->stats(); });
  }

  // Polls a condition (on the test thread; it may use connected(), stats(), the fake) until it
  // holds or the time is up.
  template <class F>
  bool eventually(F condition, std::chrono::milliseconds timeout = 5s) {
    auto deadline = steady::now() + timeout;
    while (steady::now() < deadline) {
      if (condition()) return true;
      std::this_thread::sleep_for(10ms);
    }
    return condition();
  }
  bool wait_connected(std::chrono::milliseconds timeout = 5s) {
    return eventually([this] { return connected(); }, timeout);
  }

  bool finished() const { return result_.valid() && result_.wait_for(0s) == std::future_status::ready; }
  // run()'s result, waiting up to `timeout`; nullopt-of-nullopt when it has not returned.
  std::optional<std::optional<api_error>> result(std::chrono::milliseconds timeout) {
    if (result_.wait_for(timeout) != std::future_status::ready) return std::nullopt;
    return result_.get();
  }
  // Stops the client and returns how long run() took to come back.
  std::optional<std::chrono::milliseconds> stop_and_time() {
    auto t0 = steady::now();
    post([this] { client_->stop(); });
    if (result_.wait_for(5s) != std::future_status::ready) return std::nullopt;
    return std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - t0);
  }

  std::vector<envelope> received() {
    std::lock_guard lock(mu_);
    return received_;
  }
  bool wait_received(std::size_t n, std::chrono::milliseconds timeout = 5s) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return received_.size() >= n; });
  }
  std::vector<bool> readiness() {
    std::lock_guard lock(mu_);
    return readiness_;
  }

  fake_slack& fake() { return fake_; }
  const socket_mode_options& options() const { return options_; }

 private:
  void on_envelope(const envelope& e, ack_fn ack) {
    sink_mode mode;
    {
      std::lock_guard lock(mu_);
      received_.push_back(e);
      mode = mode_;
    }
    cv_.notify_all();
    switch (mode) {
      case sink_mode::ack_now: ack(std::nullopt); break;
      case sink_mode::never_ack: break;
      case sink_mode::throw_error: throw std::runtime_error("handler exploded");
      case sink_mode::ack_with_payload:
        ack(nlohmann::json{{"response_type", "ephemeral"}, {"text", "Incident INC-1 opened"}});
        break;
      case sink_mode::ack_with_20_kb_payload:
        // The size of `/incident list` with 50 incidents: two TLS records, so two sends.
        ack(nlohmann::json{{"response_type", "ephemeral"},
                           {"text", std::string(std::size_t{20} * 1024, 'x')}});
        break;
    }
  }

  fake_slack fake_;
  boost::asio::io_context io_;
  // Keeps the io thread serving on_io() after run() has returned; the destructor stops it.
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_{io_.get_executor()};
  socket_mode_options options_;
  std::string app_token_;
  std::unique_ptr<web_api_client> web_;
  std::unique_ptr<socket_mode_client> client_;
  std::promise<std::optional<api_error>> result_promise_;
  std::shared_future<std::optional<api_error>> result_;
  std::thread thread_;

  std::mutex mu_;
  std::condition_variable cv_;
  sink_mode mode_ = sink_mode::ack_now;
  std::vector<envelope> received_;
  std::vector<bool> readiness_;
};

testing::envelope_options on_connection(int connection) {
  testing::envelope_options o;
  o.connection = connection;
  return o;
}

const nlohmann::json event_payload = {
    {"type", "event_callback"},
    {"event_id", "Ev01"},
    {"event", {{"type", "app_mention"}, {"text", "<@U0BOT> help"}, {"channel", "C1"}}}};

const nlohmann::json command_payload = {
    {"command", "/incident"}, {"text", "new"}, {"user_id", "U1"}, {"channel_id", "C1"}};

TEST(socket_mode_client, hello_makes_it_connected) {
  link_harness h;
  EXPECT_FALSE(h.connected());
  h.start();
  ASSERT_TRUE(h.wait_connected());
  EXPECT_EQ(h.fake().open_connections(), 1);
  EXPECT_EQ(h.fake().calls("apps.connections.open").size(), 1u);
  auto stats = h.stats();
  EXPECT_EQ(stats.connections_opened, 1u);
  EXPECT_TRUE(stats.reconnects_by_reason.empty());
  EXPECT_EQ(h.readiness(), std::vector<bool>{true});
}

TEST(socket_mode_client, not_connected_until_hello) {
  link_harness h({}, [](socket_mode_options& o, web_api_options&) { o.hello_timeout = 400ms; });
  h.fake().set_send_hello(false);
  h.start();
  ASSERT_TRUE(h.fake().wait_for_open_connections(1));
  EXPECT_FALSE(h.connected());
  // A connection that never says hello is given up and another one is tried.
  ASSERT_TRUE(h.eventually([&] { return h.stats().failed_attempts_by_reason["hello_timeout"] >= 1; }, 3s));
  EXPECT_FALSE(h.connected());
  h.fake().set_send_hello(true);
  ASSERT_TRUE(h.wait_connected());
  EXPECT_GE(h.fake().connections_opened(), 2);
  EXPECT_EQ(h.stats().connections_opened, 1u);
}

TEST(socket_mode_client, envelope_reaches_sink_and_is_acked_fast) {
  link_harness h;
  h.start();
  ASSERT_TRUE(h.wait_connected());
  auto id = h.fake().send_envelope("events_api", event_payload);
  auto ack = h.fake().wait_for_ack(id);
  ASSERT_TRUE(ack);
  EXPECT_LT(ack->latency, 1s);
  EXPECT_FALSE(ack->payload);  // events_api takes no response payload
  ASSERT_TRUE(h.wait_received(1));
  auto got = h.received();
  EXPECT_EQ(got[0].envelope_id, id);
  EXPECT_EQ(got[0].type, "events_api");
  EXPECT_EQ(got[0].payload, event_payload);
  // The fake can record the ack before the client's write completes and counts it.
  EXPECT_TRUE(h.eventually([&] { return h.stats().acks_sent == 1; }, 2s));
  auto stats = h.stats();
  EXPECT_EQ(stats.envelopes_received, 1u);
  EXPECT_EQ(stats.safety_acks, 0u);
}

TEST(socket_mode_client, sink_that_never_acks_gets_a_safety_ack_within_three_seconds) {
  link_harness h;
  h.set_sink(sink_mode::never_ack);
  h.start();
  ASSERT_TRUE(h.wait_connected());
  auto id = h.fake().send_envelope("events_api", event_payload);
  auto ack = h.fake().wait_for_ack(id, 4s);
  ASSERT_TRUE(ack);
  EXPECT_LT(ack->latency, 3s);
  EXPECT_GE(ack->latency, h.options().safety_ack_after - 100ms);
  EXPECT_FALSE(ack->payload);
  EXPECT_EQ(h.stats().safety_acks, 1u);
}

TEST(socket_mode_client, sink_that_throws_is_contained_and_envelope_acked) {
  link_harness h;
  h.set_sink(sink_mode::throw_error);
  h.start();
  ASSERT_TRUE(h.wait_connected());
  auto first = h.fake().send_envelope("events_api", event_payload);
  auto second = h.fake().send_envelope("events_api", event_payload);
  auto a1 = h.fake().wait_for_ack(first);
  auto a2 = h.fake().wait_for_ack(second);
  ASSERT_TRUE(a1 && a2);
  EXPECT_LT(a1->latency, 1s);
  EXPECT_EQ(h.stats().sink_failures, 2u);
  EXPECT_TRUE(h.connected());
}

TEST(socket_mode_client, slash_command_ack_carries_the_response_payload) {
  link_harness h;
  h.set_sink(sink_mode::ack_with_payload);
  h.start();
  ASSERT_TRUE(h.wait_connected());
  testing::envelope_options accepts;
  accepts.accepts_response_payload = true;
  auto command = h.fake().send_envelope("slash_commands", command_payload, accepts);
  auto ack = h.fake().wait_for_ack(command);
  ASSERT_TRUE(ack);
  ASSERT_TRUE(ack->payload);
  EXPECT_EQ((*ack->payload)["text"], "Incident INC-1 opened");
  EXPECT_EQ((*ack->payload)["response_type"], "ephemeral");

  // The same handler answering an envelope that takes no payload: a plain ack.
  auto event = h.fake().send_envelope("events_api", event_payload);
  auto plain = h.fake().wait_for_ack(event);
  ASSERT_TRUE(plain);
  EXPECT_FALSE(plain->payload);
}

// The quick path (issue 11): a command its hook answers is acked with the hook's payload and never
// reaches the sink; one it declines, or that makes it throw, takes the usual path.
TEST(socket_mode_client, quick_reply_answers_from_the_frame_and_declined_commands_reach_the_sink) {
  link_harness h;
  h.set_sink(sink_mode::ack_with_payload);
  std::atomic<int> hook_calls{0};
  h.set_quick_reply([&](const slash_frame& command) -> std::optional<ack_payload> {
    ++hook_calls;
    if (command.text == "boom") throw std::runtime_error("hook exploded");
    if (command.text != "help" || command.user_id != "U1") return std::nullopt;
    return ack_payload::serialized(std::make_shared<const std::string>(R"({"text":"kept help"})"));
  });
  h.start();
  ASSERT_TRUE(h.wait_connected());
  testing::envelope_options accepts;
  accepts.accepts_response_payload = true;
  auto help = command_payload;
  help["text"] = "help";
  auto quick = h.fake().send_envelope("slash_commands", help, accepts);
  auto quick_ack = h.fake().wait_for_ack(quick);
  ASSERT_TRUE(quick_ack);
  ASSERT_TRUE(quick_ack->payload);
  EXPECT_EQ((*quick_ack->payload)["text"], "kept help");

  auto declined = h.fake().send_envelope("slash_commands", command_payload, accepts);
  auto boom_payload = command_payload;
  boom_payload["text"] = "boom";
  auto boom = h.fake().send_envelope("slash_commands", boom_payload, accepts);
  // Help on an envelope that takes no payload is not the hook's: it never sees it.
  auto no_reply = h.fake().send_envelope("slash_commands", help);
  for (const auto& id : {declined, boom}) {
    auto ack = h.fake().wait_for_ack(id);
    ASSERT_TRUE(ack);
    ASSERT_TRUE(ack->payload);
    EXPECT_EQ((*ack->payload)["text"], "Incident INC-1 opened");
  }
  ASSERT_TRUE(h.fake().wait_for_ack(no_reply));
  ASSERT_TRUE(h.wait_received(3));
  auto got = h.received();
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].envelope_id, declined);
  EXPECT_EQ(got[1].envelope_id, boom);
  EXPECT_EQ(got[2].envelope_id, no_reply);
  EXPECT_EQ(hook_calls.load(), 3);
  EXPECT_TRUE(h.eventually([&] { return h.stats().acks_sent == 4; }, 2s));
  EXPECT_EQ(h.stats().envelopes_received, 4u);
  EXPECT_EQ(h.stats().safety_acks, 0u);
}

// TCP_NODELAY: without it the second TLS record of a large ack waits for the peer's delayed ACK
// (~40 ms on Linux), every time. The median of several round trips keeps one slow turn of a loaded
// machine from failing the test; the bound is four times under the stall it guards against.
TEST(socket_mode_client, a_20_kb_reply_reaches_slack_in_under_10_ms) {
  link_harness h;
  h.set_sink(sink_mode::ack_with_20_kb_payload);
  h.start();
  ASSERT_TRUE(h.wait_connected());
  testing::envelope_options accepts;
  accepts.accepts_response_payload = true;
  std::vector<std::chrono::microseconds> latencies;
  for (int i = 0; i < 9; ++i) {
    auto id = h.fake().send_envelope("slash_commands", command_payload, accepts);
    auto ack = h.fake().wait_for_ack(id);
    ASSERT_TRUE(ack);
    ASSERT_TRUE(ack->payload);
    ASSERT_EQ((*ack->payload)["text"].get<std::string>().size(), 20u * 1024);
    latencies.push_back(std::chrono::duration_cast<std::chrono::microseconds>(ack->latency));
  }
  std::sort(latencies.begin(), latencies.end());
  EXPECT_LT(latencies[latencies.size() / 2], 10ms) << "median of " << latencies.size() << " round trips";
}

TEST(socket_mode_client, refresh_opens_the_new_link_before_closing_the_old_and_loses_nothing) {
  link_harness h;
  h.start();
  ASSERT_TRUE(h.wait_connected());
  std::vector<std::string> ids;
  ids.push_back(h.fake().send_envelope("events_api", event_payload));
  ASSERT_TRUE(h.fake().wait_for_ack(ids.back()));

  // Hold back hello on the replacement so the overlap can be observed: the old link must stay
  // open (and keep acking) until a new one is ready.
  h.fake().set_send_hello(false);
  h.fake().send_disconnect("warning", 1);
  ASSERT_TRUE(h.fake().wait_for_open_connections(2));
  ids.push_back(h.fake().send_envelope("events_api", event_payload, on_connection(1)));
  auto during = h.fake().wait_for_ack(ids.back());
  ASSERT_TRUE(during);
  EXPECT_EQ(during->connection, 1);
  EXPECT_TRUE(h.connected());

  h.fake().set_send_hello(true);
  ASSERT_TRUE(h.eventually(
      [&] { return h.fake().open_connections() == 1 && h.fake().connections_opened() >= 3; }, 8s));
  ids.push_back(h.fake().send_envelope("events_api", event_payload));
  auto after = h.fake().wait_for_ack(ids.back());
  ASSERT_TRUE(after);
  EXPECT_NE(after->connection, 1);

  for (const auto& id : ids) EXPECT_TRUE(h.fake().wait_for_ack(id, 0ms)) << id;
  EXPECT_EQ(h.received().size(), ids.size());
  auto stats = h.stats();
  EXPECT_EQ(stats.reconnects_by_reason["warning"], 1u);
  EXPECT_EQ(stats.connections_opened, 2u);
  // Ready the whole time: never a gap during the refresh.
  EXPECT_EQ(h.readiness(), std::vector<bool>{true});
}

TEST(socket_mode_client, refresh_requested_under_load_acks_every_envelope) {
  link_harness h;
  h.start();
  ASSERT_TRUE(h.wait_connected());
  std::vector<std::string> ids;
  ids.reserve(5);
  for (int i = 0; i < 5; ++i) ids.push_back(h.fake().send_envelope("events_api", event_payload));
  h.fake().send_disconnect("refresh_requested", 1);
  for (int i = 0; i < 5; ++i) {
    ids.push_back(h.fake().send_envelope("events_api", event_payload, on_connection(1)));
  }
  ASSERT_TRUE(h.eventually([&] { return h.stats().connections_opened == 2; }, 5s));
  ASSERT_TRUE(h.eventually([&] { return h.fake().open_connections() == 1; }, 5s));
  for (int i = 0; i < 5; ++i) ids.push_back(h.fake().send_envelope("events_api", event_payload));

  int acked = 0;
  for (const auto& id : ids) {
    if (auto a = h.fake().wait_for_ack(id, 3s); a) {
      ++acked;
      EXPECT_LT(a->latency, 3s) << id;
    }
  }
  EXPECT_EQ(acked, 15);
  EXPECT_TRUE(h.wait_received(15));
  EXPECT_EQ(h.received().size(), 15u);
  EXPECT_EQ(h.stats().reconnects_by_reason["refresh_requested"], 1u);
  EXPECT_EQ(h.readiness(), std::vector<bool>{true});
}

TEST(socket_mode_client, retiring_link_stays_open_until_its_envelopes_are_acked) {
  link_harness h;
  h.set_sink(sink_mode::never_ack);
  h.start();
  ASSERT_TRUE(h.wait_connected());
  auto id = h.fake().send_envelope("events_api", event_payload);
  ASSERT_TRUE(h.wait_received(1));
  h.fake().send_disconnect("refresh_requested", 1);
  ASSERT_TRUE(h.eventually([&] { return h.stats().connections_opened == 2; }, 5s));
  // The replacement is ready, but the old link still owes an ack: it closes only after the
  // safety ack went out on it.
  auto ack = h.fake().wait_for_ack(id, 4s);
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->connection, 1);
  EXPECT_LT(ack->latency, 3s);
  EXPECT_TRUE(h.eventually([&] { return h.fake().open_connections() == 1; }, 5s));
  EXPECT_EQ(h.stats().safety_acks, 1u);
}

TEST(socket_mode_client, too_many_websockets_closes_first_then_reopens) {
  link_harness h;
  h.start();
  ASSERT_TRUE(h.wait_connected());
  h.fake().send_disconnect("too_many_websockets", 1);
  ASSERT_TRUE(h.eventually([&] { return h.stats().connections_opened == 2; }, 5s));
  ASSERT_TRUE(h.wait_connected());
  EXPECT_EQ(h.fake().open_connections(), 1);
  EXPECT_EQ(h.stats().reconnects_by_reason["too_many_websockets"], 1u);
  // Closed before reopening: readiness dropped in between.
  EXPECT_EQ(h.readiness(), (std::vector<bool>{true, false, true}));
  auto id = h.fake().send_envelope("events_api", event_payload);
  EXPECT_TRUE(h.fake().wait_for_ack(id));
}

TEST(socket_mode_client, abrupt_close_reconnects_and_acks_again) {
  link_harness h;
  h.start();
  ASSERT_TRUE(h.wait_connected());
  h.fake().close_abruptly();
  ASSERT_TRUE(h.eventually([&] { return h.stats().connections_opened == 2; }, 5s));
  ASSERT_TRUE(h.wait_connected());
  auto id = h.fake().send_envelope("events_api", event_payload);
  auto ack = h.fake().wait_for_ack(id);
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->connection, 2);
  auto stats = h.stats();
  std::uint64_t reconnects = 0;
  for (const auto& [reason, n] : stats.reconnects_by_reason) reconnects += n;
  EXPECT_EQ(reconnects, 1u);
  EXPECT_EQ(h.fake().calls("apps.connections.open").size(), 2u);  // a fresh ticket each time
}

TEST(socket_mode_client, link_disabled_is_fatal) {
  link_harness h;
  h.start();
  ASSERT_TRUE(h.wait_connected());
  h.fake().send_disconnect("link_disabled");
  auto r = h.result(5s);
  ASSERT_TRUE(r) << "run() did not return";
  ASSERT_TRUE(*r);
  EXPECT_EQ((*r)->code, "link_disabled");
  EXPECT_TRUE(h.fake().wait_for_open_connections(0, 3s));
  EXPECT_EQ(h.fake().calls("apps.connections.open").size(), 1u);
}

TEST(socket_mode_client, bad_app_token_is_fatal_without_retrying) {
  link_harness h;
  h.set_app_token("xapp-1-not-the-right-token");
  auto t0 = steady::now();
  h.start();
  auto r = h.result(5s);
  ASSERT_TRUE(r) << "run() did not return";
  EXPECT_LT(steady::now() - t0, 2s);
  ASSERT_TRUE(*r);
  EXPECT_EQ((*r)->code, "invalid_auth");
  EXPECT_EQ(h.fake().calls("apps.connections.open").size(), 1u);
  EXPECT_EQ(h.fake().connections_opened(), 0);
}

TEST(socket_mode_client, malformed_frames_are_acked_when_possible_and_the_link_survives) {
  link_harness h;
  h.start();
  ASSERT_TRUE(h.wait_connected());
  h.fake().send_raw("{not json at all");
  h.fake().send_raw(R"({"envelope_id":"m-missing-payload","type":"events_api"})");
  h.fake().send_raw(R"({"envelope_id":"m-unknown-type","type":"brand_new_kind","payload":{}})");
  h.fake().send_raw(R"([1,2,3])");
  EXPECT_TRUE(h.fake().wait_for_ack("m-missing-payload"));
  EXPECT_TRUE(h.fake().wait_for_ack("m-unknown-type"));
  auto id = h.fake().send_envelope("events_api", event_payload);
  EXPECT_TRUE(h.fake().wait_for_ack(id));
  auto stats = h.stats();
  EXPECT_EQ(stats.malformed_frames, 4u);
  EXPECT_EQ(stats.envelopes_received, 1u);
  EXPECT_EQ(h.fake().connections_opened(), 1);
  EXPECT_EQ(h.received().size(), 1u);  // malformed frames never reach the handlers
}

TEST(socket_mode_client, unknown_certificate_authority_never_connects_and_keeps_trying) {
  // The Web API is trusted (it must hand out URLs) but the Socket Mode client is not given the
  // test CA: its handshake must fail verification.
  link_harness h({}, [](socket_mode_options& o, web_api_options&) { o.extra_ca_file.clear(); });
  h.start();
  ASSERT_TRUE(
      h.eventually([&] { return h.stats().failed_attempts_by_reason["tls_verification_failed"] >= 2; }, 5s));
  EXPECT_FALSE(h.connected());
  EXPECT_EQ(h.fake().connections_opened(), 0);
  auto took = h.stop_and_time();
  ASSERT_TRUE(took);
  EXPECT_LT(*took, 1s);
  auto r = h.result(0ms);
  ASSERT_TRUE(r);
  EXPECT_FALSE(*r);
}

TEST(socket_mode_client, certificate_for_another_host_is_refused) {
  // The wss URL names 127.0.0.1, which the certificate does not cover; the Web API is reached
  // as localhost, which it does.
  fake_slack_options fo;
  fo.certificate_names = {"localhost"};
  fo.advertised_host = "127.0.0.1";
  link_harness h(fo, [](socket_mode_options&, web_api_options& w) {
    auto url = w.api_url;
    if (auto at = url.find("127.0.0.1"); at != std::string::npos) url.replace(at, 9, "localhost");
    w.api_url = url;
  });
  h.start();
  ASSERT_TRUE(
      h.eventually([&] { return h.stats().failed_attempts_by_reason["tls_verification_failed"] >= 2; }, 5s));
  EXPECT_EQ(h.fake().connections_opened(), 0);
  EXPECT_FALSE(h.connected());
  auto took = h.stop_and_time();
  ASSERT_TRUE(took);
  EXPECT_LT(*took, 1s);
}

TEST(socket_mode_client, dead_link_is_detected_by_pings_and_replaced) {
  link_harness h({}, [](socket_mode_options& o, web_api_options&) { o.idle_timeout = 800ms; });
  h.start();
  ASSERT_TRUE(h.wait_connected());
  auto t0 = steady::now();
  h.fake().set_answer_pings(false);
  ASSERT_TRUE(h.eventually([&] { return h.stats().reconnects_by_reason.count("idle_timeout") > 0; }, 5s));
  EXPECT_LT(steady::now() - t0, 3s);
  h.fake().set_answer_pings(true);
  ASSERT_TRUE(h.eventually([&] { return h.fake().open_connections() == 1 && h.connected(); }, 5s));
  auto id = h.fake().send_envelope("events_api", event_payload);
  EXPECT_TRUE(h.fake().wait_for_ack(id));
}

TEST(socket_mode_client, stop_closes_promptly_with_a_close_frame) {
  link_harness h;
  h.start();
  ASSERT_TRUE(h.wait_connected());
  auto took = h.stop_and_time();
  ASSERT_TRUE(took) << "run() did not return after stop()";
  EXPECT_LT(*took, h.options().close_timeout);
  auto r = h.result(0ms);
  ASSERT_TRUE(r);
  EXPECT_FALSE(*r);
  EXPECT_TRUE(h.fake().wait_for_open_connections(0, 2s));
  EXPECT_FALSE(h.connected());
  EXPECT_EQ(h.readiness(), (std::vector<bool>{true, false}));
}

TEST(socket_mode_client, stop_while_backing_off_returns_promptly) {
  link_harness h;
  h.fake().refuse_connections(true);
  h.start();
  ASSERT_TRUE(h.eventually([&] { return h.stats().connection_attempts >= 2; }, 5s));
  auto took = h.stop_and_time();
  ASSERT_TRUE(took);
  EXPECT_LT(*took, 1s);
}

}  // namespace
}  // namespace flare::slack
