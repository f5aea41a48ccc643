// Self-test of the fake Slack server with a small Beast client that verifies the fake's
// certificate against ca_file(), exactly as the bot does with SLACK_CA_FILE.
#include "tests/fake_slack/fake_slack.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using json = nlohmann::json;
using namespace std::chrono_literals;
using flare::testing::fake_slack;

using tls_stream = beast::ssl_stream<beast::tcp_stream>;
using ws_stream = websocket::stream<tls_stream>;

// Runs one client coroutine to completion on its own io_context, bounded, rethrowing failures.
template <class F>
void run_client(F&& body, std::chrono::seconds bound = 10s) {
  net::io_context ioc;
  std::exception_ptr failure;
  bool done = false;
  net::co_spawn(ioc, body(ioc), [&](std::exception_ptr e) {
    failure = std::move(e);
    done = true;
  });
  ioc.run_for(bound);
  if (failure) std::rethrow_exception(failure);
  if (!done) throw std::runtime_error("client did not finish in time");
}

ssl::context client_tls(const fake_slack& fake) {
  ssl::context ctx(ssl::context::tls_client);
  ctx.load_verify_file(fake.ca_file());
  ctx.set_verify_mode(ssl::verify_peer);
  return ctx;
}

net::awaitable<void> connect(tls_stream& stream, const fake_slack& fake,
                             const std::string& host = "localhost") {
  if (!SSL_set_tlsext_host_name(stream.native_handle(), host.c_str())) {
    throw std::runtime_error("SNI");
  }
  stream.set_verify_callback(ssl::host_name_verification(host));
  beast::get_lowest_layer(stream).expires_after(5s);
  co_await beast::get_lowest_layer(stream).async_connect(
      tcp::endpoint(net::ip::address_v4::loopback(), fake.port()), net::use_awaitable);
  co_await stream.async_handshake(ssl::stream_base::client, net::use_awaitable);
}

struct api_reply {  // NOLINT(bugprone-exception-escape): json's destructor may allocate
  unsigned status = 0;
  std::string retry_after;
  json body;
};

net::awaitable<api_reply> call(tls_stream& stream, const std::string& method, const std::string& token,
                               const std::string& body,
                               const std::string& content_type = "application/json") {
  http::request<http::string_body> req{http::verb::post, "/api/" + method, 11};
  req.set(http::field::host, "localhost");
  if (!token.empty()) req.set(http::field::authorization, "Bearer " + token);
  req.set(http::field::content_type, content_type);
  req.keep_alive(true);
  req.body() = body;
  req.prepare_payload();
  beast::get_lowest_layer(stream).expires_after(5s);
  co_await http::async_write(stream, req, net::use_awaitable);
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  co_await http::async_read(stream, buffer, res, net::use_awaitable);
  api_reply reply;
  reply.status = res.result_int();
  reply.retry_after = std::string(res[http::field::retry_after]);
  reply.body = json::parse(res.body(), nullptr, false);
  co_return reply;
}

// One Web API call on a fresh connection.
api_reply call_once(const fake_slack& fake, const std::string& method, const std::string& token,
                    const std::string& body, const std::string& content_type = "application/json") {
  api_reply reply;
  auto ctx = client_tls(fake);
  run_client([&](net::io_context& ioc) -> net::awaitable<void> {
    tls_stream stream(ioc, ctx);
    co_await connect(stream, fake);
    reply = co_await call(stream, method, token, body, content_type);
  });
  return reply;
}

// Opens a Socket Mode link the way a client does: apps.connections.open, then the wss URL.
net::awaitable<void> open_link(ws_stream& ws, const fake_slack& fake) {
  co_await connect(ws.next_layer(), fake);
  const std::string method = "apps.connections.open", form = "application/x-www-form-urlencoded";
  api_reply opened = co_await call(ws.next_layer(), method, fake.options().app_token, std::string(), form);
  const std::string url = opened.body.at("url").get<std::string>();
  const std::string prefix = "wss://localhost:" + std::to_string(fake.port());
  if (!url.starts_with(prefix)) throw std::runtime_error("unexpected url " + url);
  ws.set_option(websocket::stream_base::timeout::suggested(beast::role_type::client));
  beast::get_lowest_layer(ws).expires_never();
  const std::string host = "localhost:" + std::to_string(fake.port());
  co_await ws.async_handshake(host, url.substr(prefix.size()), net::use_awaitable);
}

net::awaitable<json> read_frame(ws_stream& ws, std::chrono::milliseconds bound = 3s) {
  net::steady_timer timer(co_await net::this_coro::executor, bound);
  timer.async_wait([&](beast::error_code ec) {
    if (!ec) beast::get_lowest_layer(ws).close();  // unblocks the read below
  });
  beast::flat_buffer buffer;
  co_await ws.async_read(buffer, net::use_awaitable);
  timer.cancel();
  co_return json::parse(beast::buffers_to_string(buffer.data()));
}

TEST(test_ca, writes_ca_file_and_removes_it_on_destruction) {
  std::string path;
  {
    flare::testing::test_ca ca({"localhost", "127.0.0.1"});
    path = ca.ca_file();
    std::ifstream in(path);
    std::string first;
    std::getline(in, first);
    EXPECT_EQ(first, "-----BEGIN CERTIFICATE-----");
    EXPECT_NE(ca.server_cert_pem().find("BEGIN CERTIFICATE"), std::string::npos);
    EXPECT_NE(ca.server_key_pem().find("PRIVATE KEY"), std::string::npos);
  }
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_FALSE(std::filesystem::exists(std::filesystem::path(path).parent_path()));
}

TEST(fake_slack_web_api, post_message_is_recorded_and_answered_with_ts) {
  fake_slack fake;
  EXPECT_EQ(fake.api_url(), "https://localhost:" + std::to_string(fake.port()) + "/api/");
  api_reply reply =
      call_once(fake, "chat.postMessage", fake.options().bot_token, R"({"channel":"C0001","text":"hello"})");
  EXPECT_EQ(reply.status, 200u);
  ASSERT_TRUE(reply.body.value("ok", false)) << reply.body.dump();
  EXPECT_EQ(reply.body["channel"], "C0001");
  EXPECT_EQ(reply.body["ts"], "1700000000.000100");
  EXPECT_EQ(reply.body["message"]["text"], "hello");
  EXPECT_EQ(reply.body["message"]["user"], "U0BOT");

  ASSERT_TRUE(fake.wait_for_calls("chat.postMessage", 1, 1s));
  auto calls = fake.calls("chat.postMessage");
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].authorization, "Bearer " + fake.options().bot_token);
  EXPECT_EQ(calls[0].body["text"], "hello");
  auto posted = fake.posted_messages();
  ASSERT_EQ(posted.size(), 1u);
  EXPECT_EQ(posted[0]["ts"], "1700000000.000100");
  EXPECT_EQ(posted[0]["channel"], "C0001");
}

TEST(fake_slack_web_api, a_table_block_is_checked_against_slacks_documented_limits) {
  fake_slack fake;
  const auto post = [&](const std::string& blocks) {
    return call_once(fake, "chat.postMessage", fake.options().bot_token,
                     R"({"channel":"C0001","text":"t","blocks":)" + blocks + "}");
  };
  const std::string cell = R"({"type":"raw_text","text":"1"})";
  const auto row = [&](int cells) {
    std::string r = "[";
    for (int i = 0; i < cells; ++i) {
      if (i > 0) r += ',';
      r += cell;
    }
    return r + "]";
  };
  const auto table = [&](int rows, int cells, const std::string& extra = "") {
    std::string t = R"({"type":"table","rows":[)";
    for (int i = 0; i < rows; ++i) {
      if (i > 0) t += ',';
      t += row(cells);
    }
    return t + "]" + extra + "}";
  };
  EXPECT_TRUE(post("[" + table(100, 20, R"(,"column_settings":[{"align":"right","is_wrapped":true}])") + "]")
                  .body.value("ok", false));
  EXPECT_EQ(post("[" + table(101, 2) + "]").body.value("error", ""), "invalid_blocks");
  EXPECT_EQ(post("[" + table(2, 21) + "]").body.value("error", ""), "invalid_blocks");
  EXPECT_EQ(post(R"([{"type":"table","rows":[[{"type":"raw_text","text":""}]]}])").body.value("error", ""),
            "invalid_blocks");
  EXPECT_EQ(post(R"([{"type":"table","rows":[[{"type":"mrkdwn","text":"x"}]]}])").body.value("error", ""),
            "invalid_blocks");
  EXPECT_EQ(
      post("[" + table(1, 1, R"(,"column_settings":[{"align":"middle"}])") + "]").body.value("error", ""),
      "invalid_blocks");
  EXPECT_EQ(post("[" + table(1, 1) + "," + table(1, 1) + "]").body.value("error", ""), "invalid_blocks");
}

TEST(fake_slack_web_api, keep_alive_serves_several_calls_on_one_connection) {
  fake_slack fake;
  auto ctx = client_tls(fake);
  std::vector<api_reply> replies;
  run_client([&](net::io_context& ioc) -> net::awaitable<void> {
    tls_stream stream(ioc, ctx);
    co_await connect(stream, fake);
    // Arguments as named strings: GCC 12 rejects string literals inside these co_await calls.
    const std::string token = fake.options().bot_token;
    const std::string auth_test = "auth.test", post = "chat.postMessage", update = "chat.update";
    const std::string unknown = "no.such.method", empty = "{}";
    const std::string form = "application/x-www-form-urlencoded";
    const std::string form_body = "channel=C1&text=a%20b+c&blocks=%5B%5D";
    replies.push_back(co_await call(stream, auth_test, token, empty));
    replies.push_back(co_await call(stream, post, token, form_body, form));
    const std::string ts = replies.back().body.value("ts", "");
    const std::string update_body = json{{"channel", "C1"}, {"ts", ts}, {"text", "new"}}.dump();
    const std::string stale_update = R"({"channel":"C1","ts":"1.2","text":"x"})";
    replies.push_back(co_await call(stream, update, token, update_body));
    replies.push_back(co_await call(stream, update, token, stale_update));
    replies.push_back(co_await call(stream, unknown, token, empty));
  });
  ASSERT_EQ(replies.size(), 5u);
  EXPECT_EQ(replies[0].body["user_id"], "U0BOT");
  EXPECT_EQ(replies[0].body["bot_id"], "B0BOT");
  EXPECT_EQ(replies[0].body["team_id"], "T0001");
  EXPECT_EQ(replies[1].body["message"]["text"], "a b c");
  EXPECT_TRUE(replies[2].body.value("ok", false)) << replies[2].body.dump();
  EXPECT_EQ(replies[3].body["error"], "message_not_found");
  EXPECT_EQ(replies[4].body["error"], "unknown_method");
  EXPECT_EQ(fake.posted_messages().at(0)["text"], "new");
  EXPECT_EQ(fake.calls().size(), 5u);
}

TEST(fake_slack_web_api, wrong_or_missing_token_is_rejected) {
  fake_slack fake;
  EXPECT_EQ(call_once(fake, "auth.test", "xoxb-wrong", "{}").body["error"], "invalid_auth");
  EXPECT_EQ(call_once(fake, "auth.test", "", "{}").body["error"], "not_authed");
  // The app-level token opens connections and nothing else, and vice versa.
  EXPECT_EQ(call_once(fake, "auth.test", fake.options().app_token, "{}").body["error"], "invalid_auth");
  EXPECT_EQ(call_once(fake, "apps.connections.open", fake.options().bot_token, "").body["error"],
            "invalid_auth");
  EXPECT_EQ(fake.calls("auth.test").size(), 3u);
}

TEST(fake_slack_web_api, rate_limit_fault_answers_429_with_retry_after_then_recovers) {
  fake_slack fake;
  fake.inject("chat.postMessage", {.http_status = 429, .retry_after_seconds = 7, .times = 2});
  const std::string body = R"({"channel":"C1","text":"x"})";
  const std::string token = fake.options().bot_token;
  for (int i = 0; i < 2; ++i) {
    api_reply limited = call_once(fake, "chat.postMessage", token, body);
    EXPECT_EQ(limited.status, 429u);
    EXPECT_EQ(limited.retry_after, "7");
    EXPECT_EQ(limited.body["error"], "ratelimited");
  }
  EXPECT_EQ(call_once(fake, "chat.postMessage", token, body).status, 200u);
  EXPECT_EQ(fake.calls("chat.postMessage").size(), 3u);  // faulted calls are recorded too
  EXPECT_EQ(fake.posted_messages().size(), 1u);
}

TEST(fake_slack_web_api, faults_apply_in_order_delay_status_error) {
  fake_slack fake;
  const std::string token = fake.options().bot_token;
  fake.inject("auth.test", {.http_status = 503});
  fake.inject("auth.test", {.slack_error = "internal_error", .delay = 150ms});
  EXPECT_EQ(call_once(fake, "auth.test", token, "{}").status, 503u);
  const auto start = std::chrono::steady_clock::now();
  api_reply slow = call_once(fake, "auth.test", token, "{}");
  EXPECT_GE(std::chrono::steady_clock::now() - start, 150ms);
  EXPECT_EQ(slow.body["error"], "internal_error");
  EXPECT_TRUE(call_once(fake, "auth.test", token, "{}").body.value("ok", false));
}

TEST(fake_slack_web_api, destructor_is_bounded_with_a_delayed_answer_pending) {
  auto fake = std::make_unique<fake_slack>();
  fake->inject("auth.test", {.delay = 60s});
  EXPECT_THROW(run_client(
                   [&](net::io_context& ioc) -> net::awaitable<void> {
                     auto ctx = client_tls(*fake);
                     tls_stream stream(ioc, ctx);
                     co_await connect(stream, *fake);
                     const std::string method = "auth.test", body = "{}";
                     co_await call(stream, method, fake->options().bot_token, body);
                   },
                   1s),
               std::exception);
  EXPECT_TRUE(fake->wait_for_calls("auth.test", 1, 1s));
  const auto start = std::chrono::steady_clock::now();
  fake.reset();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
}

TEST(fake_slack_web_api, drained_only_once_a_vanished_client_s_last_request_is_answered) {
  fake_slack fake;
  fake.inject("chat.postMessage", {.delay = 300ms});
  EXPECT_TRUE(fake.wait_until_drained(10ms, 1s));  // nothing connected yet
  auto ctx = client_tls(fake);
  bool drained_while_open = true;
  std::chrono::steady_clock::time_point written;
  run_client([&](net::io_context& ioc) -> net::awaitable<void> {
    tls_stream stream(ioc, ctx);
    co_await connect(stream, fake);
    drained_while_open = fake.wait_until_drained(10ms, 200ms);  // an idle live connection
    http::request<http::string_body> req{http::verb::post, "/api/chat.postMessage", 11};
    req.set(http::field::host, "localhost");
    req.set(http::field::authorization, "Bearer " + fake.options().bot_token);
    req.set(http::field::content_type, "application/json");
    req.body() = R"({"channel":"C1","text":"last words"})";
    req.prepare_payload();
    co_await http::async_write(stream, req, net::use_awaitable);
    written = std::chrono::steady_clock::now();
    // The client vanishes without reading the answer: no TLS shutdown, the socket just closes.
  });
  EXPECT_FALSE(drained_while_open);
  ASSERT_TRUE(fake.wait_until_drained(50ms, 5s));
  EXPECT_GE(std::chrono::steady_clock::now() - written, 300ms);  // the delayed answer came first
  EXPECT_EQ(fake.calls("chat.postMessage").size(), 1u);
}

TEST(fake_slack_web_api, other_methods_answer_like_slack) {
  fake_slack fake;
  fake.set_usergroup_members("S0001", {"U1", "U2"});
  const std::string token = fake.options().bot_token;
  EXPECT_EQ(call_once(fake, "usergroups.users.list", token, R"({"usergroup":"S0001"})").body["users"],
            json::array({"U1", "U2"}));
  EXPECT_EQ(call_once(fake, "usergroups.users.list", token, R"({"usergroup":"S9"})").body["error"],
            "no_such_subteam");
  EXPECT_EQ(call_once(fake, "conversations.open", token, R"({"users":"U1"})").body["channel"]["id"],
            "D"
            "U1");
  EXPECT_TRUE(call_once(fake, "conversations.info", token, R"({"channel":"DU1"})").body["channel"]["is_im"]);
  EXPECT_TRUE(call_once(fake, "users.info", token, R"({"user":"B1"})").body["user"]["is_bot"]);
  EXPECT_FALSE(call_once(fake, "users.info", token, R"({"user":"U1"})").body["user"]["is_bot"]);
  EXPECT_EQ(call_once(fake, "chat.postMessage", token, R"({"channel":"C1"})").body["error"], "no_text");
  EXPECT_EQ(call_once(fake, "chat.postMessage", token, R"({"text":"x"})").body["error"], "channel_not_found");
  EXPECT_TRUE(call_once(fake, "chat.postEphemeral", token, R"({"channel":"C1","user":"U1","text":"x"})")
                  .body.contains("message_ts"));
  api_reply view = call_once(fake, "views.open", token, R"({"trigger_id":"1.2.3","view":{"type":"modal"}})");
  ASSERT_TRUE(view.body.value("ok", false)) << view.body.dump();
  const std::string view_id = view.body["view"]["id"];
  EXPECT_TRUE(view_id.starts_with("V"));
  EXPECT_EQ(call_once(fake, "views.open", token, R"({"view":{"type":"modal"}})").body["error"],
            "invalid_arguments");
  EXPECT_TRUE(
      call_once(fake, "views.update", token, json{{"view_id", view_id}, {"view", {{"type", "modal"}}}}.dump())
          .body.value("ok", false));
}

TEST(fake_slack_web_api, certificate_for_another_name_fails_verification) {
  fake_slack fake({.certificate_names = {"wrong.example"}});
  EXPECT_THROW(call_once(fake, "auth.test", fake.options().bot_token, "{}"), std::exception);
  EXPECT_TRUE(fake.calls().empty());
}

TEST(fake_slack_web_api, refused_connections_fail_until_switched_back) {
  fake_slack fake;
  fake.refuse_connections(true);
  EXPECT_THROW(call_once(fake, "auth.test", fake.options().bot_token, "{}"), std::exception);
  fake.refuse_connections(false);
  EXPECT_TRUE(call_once(fake, "auth.test", fake.options().bot_token, "{}").body.value("ok", false));
}

TEST(fake_slack_socket_mode, link_gets_hello_and_ack_is_recorded_with_latency) {
  fake_slack fake;
  auto ctx = client_tls(fake);
  std::string envelope_id;
  json hello, envelope;
  run_client([&](net::io_context& ioc) -> net::awaitable<void> {
    ws_stream ws(ioc, ctx);
    co_await open_link(ws, fake);
    hello = co_await read_frame(ws);
    envelope_id =
        fake.send_envelope("slash_commands", {{"command", "/incident"}}, {.accepts_response_payload = true});
    envelope = co_await read_frame(ws);
    net::steady_timer pause(ioc, 20ms);
    co_await pause.async_wait(net::use_awaitable);
    const std::string ack_frame = json{{"envelope_id", envelope_id}, {"payload", {{"text", "ok"}}}}.dump();
    co_await ws.async_write(net::buffer(ack_frame), net::use_awaitable);
    co_await ws.async_close(websocket::close_code::normal, net::use_awaitable);
  });
  EXPECT_EQ(hello["type"], "hello");
  EXPECT_EQ(hello["num_connections"], 1);
  EXPECT_EQ(hello["connection_info"]["app_id"], "A0001");
  EXPECT_EQ(envelope["envelope_id"], envelope_id);
  EXPECT_EQ(envelope["type"], "slash_commands");
  EXPECT_EQ(envelope["payload"]["command"], "/incident");
  EXPECT_EQ(envelope["accepts_response_payload"], true);
  EXPECT_EQ(envelope["retry_attempt"], 0);
  EXPECT_EQ(envelope["retry_reason"], "");

  auto a = fake.wait_for_ack(envelope_id, 2s);
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->connection, 1);
  ASSERT_TRUE(a->payload.has_value());
  EXPECT_EQ((*a->payload)["text"], "ok");
  EXPECT_GE(a->latency, 20ms);
  EXPECT_LT(a->latency, 2s);
  EXPECT_EQ(fake.connections_opened(), 1);
  EXPECT_FALSE(fake.wait_for_ack("never-sent", 10ms).has_value());
}

TEST(fake_slack_socket_mode, unknown_ticket_is_refused) {
  fake_slack fake;
  auto ctx = client_tls(fake);
  EXPECT_THROW(run_client([&](net::io_context& ioc) -> net::awaitable<void> {
                 ws_stream ws(ioc, ctx);
                 co_await connect(ws.next_layer(), fake);
                 const std::string host = "localhost", target = "/link/?ticket=42";
                 co_await ws.async_handshake(host, target, net::use_awaitable);
               }),
               std::exception);
  EXPECT_EQ(fake.connections_opened(), 0);
}

TEST(fake_slack_socket_mode, counts_links_and_sends_to_the_chosen_one) {
  fake_slack fake;
  fake.set_send_hello(false);
  auto ctx = client_tls(fake);
  json on_first, on_second;
  int open_after_close = -1;
  run_client([&](net::io_context& ioc) -> net::awaitable<void> {
    ws_stream first(ioc, ctx), second(ioc, ctx);
    co_await open_link(first, fake);
    co_await open_link(second, fake);
    if (!fake.wait_for_open_connections(2, 2s)) throw std::runtime_error("links not open");
    fake.send_raw(R"({"to":"newest"})");
    fake.send_disconnect("warning", 1);
    on_second = co_await read_frame(second);
    on_first = co_await read_frame(first);
    co_await first.async_close(websocket::close_code::normal, net::use_awaitable);
    for (int i = 0; i < 200 && fake.open_connections() != 1; ++i) {
      net::steady_timer poll(ioc, 10ms);
      co_await poll.async_wait(net::use_awaitable);
    }
    open_after_close = fake.open_connections();
    fake.close_abruptly();
    beast::flat_buffer b;
    auto [ec, n] = co_await second.async_read(b, net::as_tuple(net::use_awaitable));
    if (!ec) throw std::runtime_error("expected the abrupt close to fail the read");
    if (ec == websocket::error::closed) throw std::runtime_error("got a close frame");
  });
  EXPECT_EQ(on_second["to"], "newest");
  EXPECT_EQ(on_first["type"], "disconnect");
  EXPECT_EQ(on_first["reason"], "warning");
  EXPECT_EQ(open_after_close, 1);
  EXPECT_EQ(fake.connections_opened(), 2);
}

TEST(fake_slack_socket_mode, unacked_envelope_is_redelivered_with_retry_attempt) {
  fake_slack fake;
  fake.set_send_hello(false);
  fake.set_redelivery(true, 100ms);
  auto ctx = client_tls(fake);
  std::vector<json> frames;
  std::string first_id;
  run_client([&](net::io_context& ioc) -> net::awaitable<void> {
    ws_stream ws(ioc, ctx);
    co_await open_link(ws, fake);
    if (!fake.wait_for_open_connections(1, 2s)) throw std::runtime_error("link not open");
    first_id = fake.send_envelope("events_api", {{"event_id", "Ev1"}});
    frames.push_back(co_await read_frame(ws));
    frames.push_back(co_await read_frame(ws));
    const std::string ack_frame = json{{"envelope_id", frames[1]["envelope_id"]}}.dump();
    co_await ws.async_write(net::buffer(ack_frame), net::use_awaitable);
    net::steady_timer quiet(ioc, 300ms);  // acked: no further copies
    co_await quiet.async_wait(net::use_awaitable);
    co_await ws.async_close(websocket::close_code::normal, net::use_awaitable);
  });
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0]["envelope_id"], first_id);
  EXPECT_NE(frames[1]["envelope_id"], first_id);
  EXPECT_EQ(frames[1]["payload"]["event_id"], "Ev1");
  EXPECT_EQ(frames[1]["retry_attempt"], 1);
  EXPECT_EQ(frames[1]["retry_reason"], "timeout");
  EXPECT_EQ(fake.acks().size(), 1u);
}

TEST(fake_slack_socket_mode, spreading_sends_round_robin_and_redelivers_on_another_link) {
  fake_slack fake;
  fake.set_send_hello(false);
  fake.set_spread(true);
  fake.set_redelivery(true, 1000ms);  // time to ack and close before anything is redelivered
  auto ctx = client_tls(fake);
  std::vector<json> on_first, on_second;
  std::string unacked_id;
  std::vector<std::string> still_unacked;
  run_client([&](net::io_context& ioc) -> net::awaitable<void> {
    ws_stream first(ioc, ctx), second(ioc, ctx);
    co_await open_link(first, fake);
    co_await open_link(second, fake);
    if (!fake.wait_for_open_connections(2, 2s)) throw std::runtime_error("links not open");
    for (int i = 0; i < 4; ++i) fake.send_envelope("events_api", {{"event_id", "Ev" + std::to_string(i)}});
    for (int i = 0; i < 2; ++i) on_first.push_back(co_await read_frame(first));
    for (int i = 0; i < 2; ++i) on_second.push_back(co_await read_frame(second));
    // The first link acks both of its envelopes; the second acks one and leaves one (as a
    // replica that dies would): its redelivery comes on the other link.
    for (const auto& f : on_first) {
      const std::string a = json{{"envelope_id", f["envelope_id"]}}.dump();
      co_await first.async_write(net::buffer(a), net::use_awaitable);
    }
    const std::string a = json{{"envelope_id", on_second[0]["envelope_id"]}}.dump();
    co_await second.async_write(net::buffer(a), net::use_awaitable);
    unacked_id = on_second[1]["envelope_id"].get<std::string>();
    co_await second.async_close(websocket::close_code::normal, net::use_awaitable);
    for (int i = 0; i < 200 && fake.open_connections() != 1; ++i) {
      net::steady_timer poll(ioc, 10ms);
      co_await poll.async_wait(net::use_awaitable);
    }
    on_first.push_back(co_await read_frame(first));
    still_unacked = fake.unacked();
    const std::string last = json{{"envelope_id", on_first.back()["envelope_id"]}}.dump();
    co_await first.async_write(net::buffer(last), net::use_awaitable);
    for (int i = 0; i < 200 && !fake.unacked().empty(); ++i) {
      net::steady_timer poll(ioc, 10ms);
      co_await poll.async_wait(net::use_awaitable);
    }
    co_await first.async_close(websocket::close_code::normal, net::use_awaitable);
  });
  ASSERT_EQ(on_first.size(), 3u);
  ASSERT_EQ(on_second.size(), 2u);
  // In turn: Ev0 and Ev2 on the first link, Ev1 and Ev3 on the second.
  EXPECT_EQ(on_first[0]["payload"]["event_id"], "Ev0");
  EXPECT_EQ(on_second[0]["payload"]["event_id"], "Ev1");
  EXPECT_EQ(on_first[1]["payload"]["event_id"], "Ev2");
  EXPECT_EQ(on_second[1]["payload"]["event_id"], "Ev3");
  // Ev3, left unacked on the second link, came again on the first, with a new envelope id.
  EXPECT_EQ(on_first[2]["payload"]["event_id"], "Ev3");
  EXPECT_NE(on_first[2]["envelope_id"], unacked_id);
  EXPECT_EQ(on_first[2]["retry_attempt"], 1);
  EXPECT_EQ(still_unacked, std::vector<std::string>{unacked_id}) << "named by its first envelope id";
  EXPECT_TRUE(fake.unacked().empty());
}

TEST(fake_slack_socket_mode, ping_switch_stops_and_restarts_pongs) {
  fake_slack fake;
  fake.set_send_hello(false);
  auto ctx = client_tls(fake);
  int pongs_on = 0, pongs_off = 0, pongs_back = 0;
  run_client([&](net::io_context& ioc) -> net::awaitable<void> {
    ws_stream ws(ioc, ctx);
    co_await open_link(ws, fake);
    int pongs = 0;
    ws.control_callback([&](websocket::frame_type kind, beast::string_view) {
      if (kind == websocket::frame_type::pong) ++pongs;
    });
    // A read must be pending for the client to see pongs; it ends when the fake sends a frame.
    beast::flat_buffer buffer;
    bool read_done = false;
    ws.async_read(buffer, [&](beast::error_code, std::size_t) { read_done = true; });
    auto ping_and_wait = [&]() -> net::awaitable<int> {
      const int before = pongs;
      co_await ws.async_ping({}, net::use_awaitable);
      net::steady_timer wait(ioc, 300ms);
      co_await wait.async_wait(net::use_awaitable);
      co_return pongs - before;
    };
    pongs_on = co_await ping_and_wait();
    fake.set_answer_pings(false);
    net::steady_timer settle(ioc, 50ms);
    co_await settle.async_wait(net::use_awaitable);
    pongs_off = co_await ping_and_wait();
    fake.set_answer_pings(true);
    pongs_back = co_await ping_and_wait();  // the held-back ping is answered now
    beast::get_lowest_layer(ws).close();
    for (int i = 0; i < 100 && !read_done; ++i) {  // let the pending read finish with `buffer`
      net::steady_timer poll(ioc, 10ms);
      co_await poll.async_wait(net::use_awaitable);
    }
  });
  EXPECT_EQ(pongs_on, 1);
  EXPECT_EQ(pongs_off, 0);
  EXPECT_GE(pongs_back, 1);
}

}  // namespace
