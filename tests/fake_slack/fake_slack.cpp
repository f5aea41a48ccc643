// The fake Slack server: one TLS port on 127.0.0.1 that answers the Web API over HTTPS
// (/api/<method>, keep-alive) and the Socket Mode link over WSS (/link/?ticket=...). Everything
// touching sockets runs as coroutines on the server's own thread and io_context; the test thread
// only reads and writes recorded state under a mutex and posts socket work onto that thread.
#include "tests/fake_slack/fake_slack.hpp"

#include "tests/fake_slack/pausable_stream.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <spdlog/spdlog.h>

#include <poll.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <thread>

namespace flare::testing {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using json = nlohmann::json;
using steady = std::chrono::steady_clock;

namespace {

constexpr auto use_tuple = net::as_tuple(net::use_awaitable);
constexpr auto handshake_timeout = std::chrono::seconds(10);
constexpr auto http_idle_timeout = std::chrono::seconds(30);
constexpr const char* app_id = "A0001";

using tls_stream = beast::ssl_stream<pausable_stream>;
using ws_stream = websocket::stream<tls_stream>;
using http_request = http::request<http::string_body>;
using http_response = http::response<http::string_body>;

std::shared_ptr<spdlog::logger> make_logger() {
  // Quiet by default: tests print only what went wrong. FLARE_FAKE_SLACK_LOG=debug to trace.
  auto log = std::make_shared<spdlog::logger>("fake_slack", spdlog::default_logger()->sinks().begin(),
                                              spdlog::default_logger()->sinks().end());
  log->set_level(spdlog::level::warn);
  if (const char* level = std::getenv("FLARE_FAKE_SLACK_LOG")) {
    log->set_level(spdlog::level::from_str(level));
  }
  return log;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// application/x-www-form-urlencoded decoding: '+' is a space, %XX a byte.
std::string form_decode(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '+') {
      out += ' ';
    } else if (in[i] == '%' && i + 2 < in.size() && hex_value(in[i + 1]) >= 0 && hex_value(in[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(in[i + 1]) * 16 + hex_value(in[i + 2]));
      i += 2;
    } else {
      out += in[i];
    }
  }
  return out;
}

void add_form_fields(std::string_view text, json& into) {
  while (!text.empty()) {
    const auto amp = text.find('&');
    const std::string_view pair = text.substr(0, amp);
    text = amp == std::string_view::npos ? std::string_view{} : text.substr(amp + 1);
    if (pair.empty()) continue;
    const auto eq = pair.find('=');
    const std::string key = form_decode(pair.substr(0, eq));
    const std::string value = eq == std::string_view::npos ? std::string{} : form_decode(pair.substr(eq + 1));
    into[key] = value;
  }
}

std::string query_param(std::string_view target, std::string_view name) {
  const auto q = target.find('?');
  if (q == std::string_view::npos) return {};
  json fields = json::object();
  add_form_fields(target.substr(q + 1), fields);
  if (auto it = fields.find(std::string(name)); it != fields.end() && it->is_string()) {
    return it->get<std::string>();
  }
  return {};
}

// A string argument, whether it came as a JSON string, a number or a form field.
std::string arg(const json& args, const char* name) {
  auto it = args.find(name);
  if (it == args.end() || it->is_null()) return {};
  if (it->is_string()) return it->get<std::string>();
  return it->dump();
}

// Form-encoded requests carry structured arguments (blocks, view) as JSON strings.
std::optional<json> structured_arg(const json& args, const char* name) {
  auto it = args.find(name);
  if (it == args.end() || it->is_null()) return std::nullopt;
  if (it->is_string()) {
    json parsed = json::parse(it->get<std::string>(), nullptr, false);
    if (parsed.is_discarded()) return json();  // present but unparseable: caller reports it
    return parsed;
  }
  return *it;
}

json slack_error(const std::string& code) { return {{"ok", false}, {"error", code}}; }

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

void log_coroutine_failure(const std::shared_ptr<spdlog::logger>& log, const std::exception_ptr& e) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    log->warn("fake_slack: task failed: {}", ex.what());
  }
}

}  // namespace

// One accepted TCP connection: HTTP first, a WebSocket link after an upgrade. Touched only on
// the server thread.
struct connection {
  std::optional<tls_stream> tls;
  std::optional<ws_stream> ws;
  int link_id = 0;  // 0 until the WebSocket handshake completes
  std::deque<std::string> outbox;
  bool writing = false;
  bool closed = false;

  pausable_stream& transport() { return ws ? ws->next_layer().next_layer() : tls->next_layer(); }
  // No close frame, no TLS close_notify: the peer sees the TCP connection vanish.
  void drop() {
    closed = true;
    transport().close();
  }
};

// An envelope sent and not yet acked, kept for redelivery.
struct delivery {
  std::string type;
  json payload;
  envelope_options options;
  int redeliveries = 0;
  steady::time_point last_sent;
  bool acked = false;
};

struct fake_slack::impl {
  fake_slack_options options;
  test_ca ca;
  ssl::context tls_ctx{ssl::context::tls_server};
  std::shared_ptr<spdlog::logger> log = make_logger();

  // ---- recorded state, shared with the test thread (mu) ----
  mutable std::mutex mu;
  mutable std::condition_variable changed;
  std::vector<api_call> calls;
  std::vector<ack> acks;
  std::function<void(const ack&)> ack_observer;  // see observe_acks()
  bool keep_acks = true;
  std::map<std::string, std::deque<fault>> faults;
  std::map<std::string, std::vector<std::string>> usergroups;
  std::map<std::string, json> conversation_overrides;
  std::vector<json> messages;
  std::set<std::string> tickets;
  std::map<std::string, std::string> view_hashes;
  // File uploads (files.getUploadURLExternal → POST /upload/<id> → files.completeUploadExternal):
  // tests see them through calls() ("upload" has the bytes, and its faults are injected as method
  // "upload"; the share is the complete call, and each file it shared is a "files.shared" call
  // with {"id", "name", "title", "content", "channel", "thread_ts", "initial_comment"}).
  struct pending_file {
    std::string filename;
    std::size_t length = 0;
    std::optional<std::string> content;  // set once the bytes arrived
  };
  std::map<std::string, pending_file> pending_files;
  std::vector<json> shared;                // completed uploads, in order
  std::map<std::string, json> home_views;  // views.publish, by user
  int next_file = 0;
  std::int64_t ts_counter = 0;
  int next_ticket = 0;
  int next_view = 0;
  int next_envelope = 0;
  bool refusing = false;
  bool send_hello = true;
  bool answer_pings = true;
  bool redelivery = false;
  // The wait before each redelivery, counted from the attempt before it; its size is how many
  // redeliveries there are (Slack: 3).
  std::vector<std::chrono::milliseconds> redelivery_waits{3000ms, 3000ms, 3000ms};
  std::atomic<bool> spread{false};  // see set_spread()
  int last_spread_link = 0;         // server thread: the link the last spread frame went to
  int open_links = 0;
  int links_opened = 0;
  std::map<std::string, steady::time_point> sent_at;            // every envelope ever sent
  std::map<std::string, std::shared_ptr<delivery>> deliveries;  // by envelope_id, all attempts
  // For wait_until_drained(): connections open (HTTP or WebSocket), and when one last opened or
  // closed or a call arrived.
  std::size_t clients = 0;
  steady::time_point last_activity = steady::now();

  // ---- server thread only ----
  net::io_context ioc{1};
  tcp::acceptor acceptor{ioc};
  std::uint16_t port = 0;
  std::set<std::shared_ptr<connection>> connections;
  std::map<int, std::shared_ptr<connection>> links;  // open WebSocket links by id
  std::set<net::steady_timer*> delays;               // injected delays under way
  net::steady_timer redelivery_timer{ioc};
  std::thread thread;
  std::promise<void> stopped;
  int listen_fd = -1;  // the acceptor's descriptor, fixed from construction to destruction

  explicit impl(fake_slack_options o) : options(std::move(o)), ca(options.certificate_names) {}

  template <class Awaitable>
  void spawn(Awaitable&& a) {
    net::co_spawn(ioc, std::forward<Awaitable>(a),
                  [log = log](const std::exception_ptr& e) { log_coroutine_failure(log, e); });
  }

  // ---------------------------------------------------------------- accept and dispatch
  net::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor.async_accept(use_tuple);
      if (ec) {
        if (!acceptor.is_open()) co_return;
        continue;
      }
      bool refuse = false;
      {
        std::lock_guard lock(mu);
        refuse = refusing;
        if (!refuse) ++clients;
        last_activity = steady::now();
      }
      changed.notify_all();
      if (refuse) {
        // Linger 0 makes close() send a RST: the nearest a listening socket gets to "refused".
        beast::error_code ignored;
        socket.set_option(net::socket_base::linger(true, 0), ignored);
        socket.close(ignored);
        continue;
      }
      {
        // As a real server does: a response written as header then body must not wait for the
        // client's delayed ACK (Nagle), or every answer would take ~40 ms.
        beast::error_code ignored;
        socket.set_option(net::ip::tcp::no_delay(true), ignored);
      }
      auto c = std::make_shared<connection>();
      c->tls.emplace(pausable_stream(beast::tcp_stream(std::move(socket))), tls_ctx);
      connections.insert(c);
      spawn(serve(c));
    }
  }

  net::awaitable<void> serve(std::shared_ptr<connection> c) {
    tls_stream& tls = *c->tls;
    beast::get_lowest_layer(tls).expires_after(handshake_timeout);
    auto [hec] = co_await tls.async_handshake(ssl::stream_base::server, use_tuple);
    if (hec) {
      log->debug("fake_slack: TLS handshake failed: {}", hec.message());
      finish(c);
      co_return;
    }
    beast::flat_buffer buffer;
    for (;;) {
      http_request req;
      beast::get_lowest_layer(tls).expires_after(http_idle_timeout);
      auto [rec, rn] = co_await http::async_read(tls, buffer, req, use_tuple);
      if (rec) break;
      if (websocket::is_upgrade(req)) {
        co_await run_link(c, std::move(req));
        co_return;
      }
      http_response res = co_await answer(req);
      beast::get_lowest_layer(tls).expires_after(http_idle_timeout);
      auto [wec, wn] = co_await http::async_write(tls, res, use_tuple);
      if (wec || !res.keep_alive() || c->closed) break;
    }
    if (!c->closed) {
      beast::get_lowest_layer(tls).expires_after(std::chrono::seconds(2));
      co_await tls.async_shutdown(use_tuple);
    }
    finish(c);
  }

  void finish(const std::shared_ptr<connection>& c) {
    if (!c->closed) c->drop();
    if (connections.erase(c) == 0) return;
    {
      std::lock_guard lock(mu);
      --clients;
      last_activity = steady::now();
    }
    changed.notify_all();
  }

  // A connection the kernel completed that accept_loop has not taken yet.
  bool accept_pending() const {
    pollfd p{listen_fd, POLLIN, 0};
    return ::poll(&p, 1, 0) > 0 && (p.revents & POLLIN) != 0;
  }

  // ---------------------------------------------------------------- Web API
  static http_response make_response(const http_request& req, http::status status, std::string body,
                                     const char* content_type) {
    http_response res{status, req.version()};
    res.set(http::field::server, "fake-slack");
    res.set(http::field::content_type, content_type);
    res.keep_alive(req.keep_alive());
    res.body() = std::move(body);
    res.prepare_payload();
    return res;
  }

  static http_response json_response(const http_request& req, const json& body) {
    return make_response(req, http::status::ok, body.dump(), "application/json; charset=utf-8");
  }

  std::optional<fault> take_fault(const std::string& method) {
    std::lock_guard lock(mu);
    auto it = faults.find(method);
    if (it == faults.end() || it->second.empty()) return std::nullopt;
    fault f = it->second.front();
    if (--it->second.front().times <= 0) it->second.pop_front();
    return f;
  }

  net::awaitable<http_response> answer(const http_request& req) {
    const std::string_view target = req.target();
    const std::string_view path = target.substr(0, target.find('?'));
    if (path.starts_with("/upload/")) {
      // Faults for the upload URL are injected as method "upload" (status only: 500, 413, ...).
      const auto f = take_fault("upload");
      co_return receive_upload(req, std::string(path.substr(8)), f);
    }
    if (!path.starts_with("/api/") || path.size() == 5) {
      co_return make_response(req, http::status::not_found, "not found\n", "text/plain");
    }
    const std::string method(path.substr(5));

    json body = json::object();
    std::optional<std::string> body_error;
    if (const auto q = target.find('?'); q != std::string_view::npos) {
      add_form_fields(target.substr(q + 1), body);
    }
    const std::string content_type(req[http::field::content_type]);
    if (lower(content_type).starts_with("application/json") && !req.body().empty()) {
      json parsed = json::parse(req.body(), nullptr, false);
      if (parsed.is_discarded()) {
        body_error = "invalid_json";
      } else if (!parsed.is_object()) {
        body_error = "json_not_object";
      } else {
        for (auto& [k, v] : parsed.items()) body[k] = v;
      }
    } else {
      add_form_fields(req.body(), body);
    }

    const std::string authorization(req[http::field::authorization]);
    {
      std::lock_guard lock(mu);
      calls.push_back(api_call{method, authorization, content_type, body, steady::now()});
      last_activity = steady::now();
    }
    changed.notify_all();
    log->debug("fake_slack: {} {}", std::string_view(req.method_string()), method);

    if (auto f = take_fault(method)) {
      if (f->delay.count() > 0) {
        net::steady_timer timer(ioc, f->delay);
        delays.insert(&timer);
        co_await timer.async_wait(use_tuple);
        delays.erase(&timer);
      }
      if (f->http_status == 429) {
        http_response res =
            make_response(req, http::status::too_many_requests, slack_error("ratelimited").dump(),
                          "application/json; charset=utf-8");
        if (f->retry_after_seconds) {
          res.set(http::field::retry_after, std::to_string(*f->retry_after_seconds));
        }
        co_return res;
      }
      if (f->http_status != 200) {
        co_return make_response(req, static_cast<http::status>(f->http_status),
                                "fake slack: injected failure\n", "text/plain");
      }
      if (!f->slack_error.empty()) co_return json_response(req, slack_error(f->slack_error));
    }

    if (body_error) co_return json_response(req, slack_error(*body_error));
    co_return json_response(req, call_method(method, authorization, body));
  }

  json call_method(const std::string& method, const std::string& authorization, const json& args) {
    using handler = json (impl::*)(const json&);
    static const std::map<std::string, handler> methods = {
        {"apps.connections.open", &impl::apps_connections_open},
        {"auth.test", &impl::auth_test},
        {"chat.postMessage", &impl::chat_post_message},
        {"chat.update", &impl::chat_update},
        {"chat.postEphemeral", &impl::chat_post_ephemeral},
        {"conversations.open", &impl::conversations_open},
        {"conversations.info", &impl::conversations_info},
        {"users.info", &impl::users_info},
        {"usergroups.users.list", &impl::usergroups_users_list},
        {"views.open", &impl::views_open},
        {"views.update", &impl::views_update},
        {"views.publish", &impl::views_publish},
        {"files.getUploadURLExternal", &impl::files_get_upload_url_external},
        {"files.completeUploadExternal", &impl::files_complete_upload_external},
    };
    auto it = methods.find(method);
    if (it == methods.end()) return slack_error("unknown_method");

    std::string token;
    if (authorization.starts_with("Bearer ")) {
      token = authorization.substr(7);
    } else if (authorization.empty()) {
      token = arg(args, "token");  // Slack also takes the token as a POST field
    }
    if (token.empty()) return slack_error("not_authed");
    // apps.connections.open takes only the app-level token, everything else the bot token.
    const std::string& expected = method == "apps.connections.open" ? options.app_token : options.bot_token;
    if (token != expected) return slack_error("invalid_auth");

    std::lock_guard lock(mu);
    return (this->*(it->second))(args);
  }

  // Handlers below run with mu held.
  json apps_connections_open(const json&) {
    const std::string ticket = std::to_string(++next_ticket);
    tickets.insert(ticket);
    // A load generator that serves the Socket Mode link itself (bench/ack_load.cpp: Beast and
    // nlohmann in the fake cost more per ack than flare does) names its own wss:// URL here; the
    // Web API stays the fake's. Tests leave it unset.
    if (const char* link = std::getenv("FLARE_FAKE_SLACK_SOCKET_MODE_URL"); link && *link)
      return {{"ok", true}, {"url", std::string(link) + "?ticket=" + ticket + "&app_id=" + app_id}};
    return {{"ok", true},
            {"url", "wss://" + options.advertised_host + ":" + std::to_string(port) +
                        "/link/?ticket=" + ticket + "&app_id=" + app_id}};
  }

  json auth_test(const json&) {
    return {{"ok", true},
            {"url", "https://fake.slack.com/"},
            {"team", "Fake Workspace"},
            {"user", "flare"},
            {"team_id", options.team_id},
            {"user_id", options.bot_user_id},
            {"bot_id", options.bot_id},
            {"is_enterprise_install", false}};
  }

  std::string next_ts() {
    // Slack's ts shape, unique and increasing: "1700000000.000100", "1700000000.000200", ...
    ts_counter += 100;
    char buf[32];
    std::snprintf(buf, sizeof buf, "%lld.%06lld", 1700000000LL + ts_counter / 1000000,
                  static_cast<long long>(ts_counter % 1000000));
    return buf;
  }

  // A table block as Slack's reference describes it (docs/slack.md §5.5): rows of at most 20
  // raw_text / rich_text cells, at most 100 rows, at most 20 column settings with a known align;
  // and, as flare assumes, one table per message.
  static bool valid_tables(const json& blocks) {
    int tables = 0;
    for (const auto& b : blocks) {
      if (!b.is_object() || b.value("type", "") != "table") continue;
      if (++tables > 1) return false;
      const auto rows = b.find("rows");
      if (rows == b.end() || !rows->is_array() || rows->empty() || rows->size() > 100) return false;
      for (const auto& row : *rows) {
        if (!row.is_array() || row.empty() || row.size() > 20) return false;
        for (const auto& cell : row) {
          const std::string type = cell.is_object() ? cell.value("type", "") : "";
          if (type == "raw_text") {
            const auto text = cell.find("text");
            if (text == cell.end() || !text->is_string() || text->get<std::string>().empty()) return false;
          } else if (type != "rich_text") {
            return false;
          }
        }
      }
      if (const auto settings = b.find("column_settings"); settings != b.end()) {
        if (!settings->is_array() || settings->size() > 20) return false;
        for (const auto& c : *settings) {
          if (!c.is_object()) return false;
          const std::string align = c.value("align", "left");
          if (align != "left" && align != "center" && align != "right") return false;
          if (c.contains("is_wrapped") && !c["is_wrapped"].is_boolean()) return false;
        }
      }
    }
    return true;
  }

  // Validates text/blocks the way chat.* methods do; returns an error code or empty.
  static std::string message_content(const json& args, json& message) {
    const std::string text = arg(args, "text");
    const std::optional<json> blocks = structured_arg(args, "blocks");
    if (blocks && !blocks->is_array()) return "invalid_blocks";
    if (blocks && !valid_tables(*blocks)) return "invalid_blocks";
    if (text.empty() && (!blocks || blocks->empty())) return "no_text";
    message["text"] = text;
    if (blocks) message["blocks"] = *blocks;
    return {};
  }

  json chat_post_message(const json& args) {
    const std::string channel = arg(args, "channel");
    if (channel.empty()) return slack_error("channel_not_found");
    json message = {{"type", "message"},
                    {"user", options.bot_user_id},
                    {"bot_id", options.bot_id},
                    {"app_id", app_id},
                    {"team", options.team_id}};
    if (auto error = message_content(args, message); !error.empty()) return slack_error(error);
    if (auto thread = arg(args, "thread_ts"); !thread.empty()) message["thread_ts"] = thread;
    if (auto md = structured_arg(args, "metadata")) message["metadata"] = *md;
    const std::string ts = next_ts();
    message["ts"] = ts;
    json stored = message;
    stored["channel"] = channel;  // so tests can tell where it went
    messages.push_back(stored);
    changed.notify_all();
    return {{"ok", true}, {"channel", channel}, {"ts", ts}, {"message", message}};
  }

  json chat_update(const json& args) {
    const std::string channel = arg(args, "channel");
    const std::string ts = arg(args, "ts");
    if (channel.empty()) return slack_error("channel_not_found");
    auto it = std::find_if(messages.begin(), messages.end(), [&](const json& m) {
      return m.value("ts", "") == ts && m.value("channel", "") == channel;
    });
    if (ts.empty() || it == messages.end()) return slack_error("message_not_found");
    json update;
    if (auto error = message_content(args, update); !error.empty()) return slack_error(error);
    (*it)["text"] = update["text"];
    // Text without blocks drops the old blocks, as Slack documents.
    if (update.contains("blocks")) {
      (*it)["blocks"] = update["blocks"];
    } else {
      it->erase("blocks");
    }
    (*it)["edited"] = {{"user", options.bot_user_id}, {"ts", next_ts()}};
    json message = *it;
    message.erase("channel");
    return {{"ok", true}, {"channel", channel}, {"ts", ts}, {"text", message["text"]}, {"message", message}};
  }

  json chat_post_ephemeral(const json& args) {
    if (arg(args, "channel").empty()) return slack_error("channel_not_found");
    if (arg(args, "user").empty()) return slack_error("user_not_in_channel");
    json message;
    if (auto error = message_content(args, message); !error.empty()) return slack_error(error);
    return {{"ok", true}, {"message_ts", next_ts()}};
  }

  json conversations_open(const json& args) {
    const std::string users = arg(args, "users");
    if (users.empty()) {
      if (auto channel = arg(args, "channel"); !channel.empty()) {
        return {{"ok", true}, {"channel", {{"id", channel}}}};
      }
      return slack_error("users_list_not_supplied");
    }
    return {{"ok", true}, {"channel", {{"id", "D" + users.substr(0, users.find(','))}}}};
  }

  json conversations_info(const json& args) {
    const std::string id = arg(args, "channel");
    if (id.empty()) return slack_error("channel_not_found");
    const bool im = id.front() == 'D';
    const bool group = id.front() == 'G';
    json channel = {{"id", id},
                    {"is_channel", id.front() == 'C'},
                    {"is_group", group},
                    {"is_im", im},
                    {"is_mpim", false},
                    {"is_private", im || group},
                    {"is_archived", false},
                    {"is_member", true},
                    {"created", 1700000000}};
    if (im) {
      channel["user"] = id.substr(1);
    } else {
      channel["name"] = lower(id);
      channel["name_normalized"] = lower(id);
    }
    if (auto it = conversation_overrides.find(id); it != conversation_overrides.end()) {
      if (it->second.contains("error")) return slack_error(it->second["error"].get<std::string>());
      channel.update(it->second);
    }
    return {{"ok", true}, {"channel", channel}};
  }

  json users_info(const json& args) {
    const std::string id = arg(args, "user");
    if (id.empty()) return slack_error("user_not_found");
    const bool bot = id.front() == 'B' || id == options.bot_user_id || id == "U0BOT";
    const std::string name = lower(id);
    const std::string real_name = "User " + id;
    return {{"ok", true},
            {"user",
             {{"id", id},
              {"team_id", options.team_id},
              {"name", name},
              {"deleted", false},
              {"real_name", real_name},
              {"tz", "Europe/London"},
              {"tz_label", "Greenwich Mean Time"},
              {"tz_offset", 0},
              {"is_bot", bot},
              {"is_app_user", false},
              {"profile",
               {{"display_name", name}, {"real_name", real_name}, {"email", name + "@example.com"}}}}}};
  }

  json usergroups_users_list(const json& args) {
    auto it = usergroups.find(arg(args, "usergroup"));
    if (it == usergroups.end()) return slack_error("no_such_subteam");
    return {{"ok", true}, {"users", it->second}};
  }

  json make_view(const std::string& id, const json& requested) {
    json view = requested.is_object() ? requested : json::object();
    const std::string hash = "1700000000." + std::to_string(++next_view) + "abcdef";
    view_hashes[id] = hash;
    view["id"] = id;
    view["hash"] = hash;
    view["team_id"] = options.team_id;
    view["app_id"] = app_id;
    view["bot_id"] = options.bot_id;
    return view;
  }

  // The upload URL is presigned: no token is expected (and one sent is recorded, so a test can
  // check that none leaks there). Slack answers 200 "OK - <length>".
  http_response receive_upload(const http_request& req, const std::string& id,
                               const std::optional<fault>& f) {
    std::lock_guard lock(mu);
    // Recorded like a Web API call (method "upload"), with the file id and the bytes received.
    calls.push_back(api_call{"upload", std::string(req[http::field::authorization]),
                             std::string(req[http::field::content_type]),
                             json{{"file_id", id}, {"content", req.body()}}, steady::now()});
    changed.notify_all();
    // An injected refusal: the bytes are not kept, so sharing this file id fails (as Slack's
    // share of an unfinished upload does).
    if (f && f->http_status != 200)
      return make_response(req, static_cast<http::status>(f->http_status), "upload refused\n", "text/plain");
    auto it = pending_files.find(id);
    if (it == pending_files.end() || req.method() != http::verb::post)
      return make_response(req, http::status::not_found, "not found\n", "text/plain");
    if (req.body().size() != it->second.length)
      return make_response(req, http::status::bad_request, "length mismatch\n", "text/plain");
    it->second.content = req.body();
    return make_response(req, http::status::ok, "OK - " + std::to_string(req.body().size()), "text/plain");
  }

  json files_get_upload_url_external(const json& args) {
    const std::string filename = arg(args, "filename");
    const std::string length = arg(args, "length");
    if (filename.empty() || length.empty()) return slack_error("invalid_arguments");
    std::size_t n = 0;
    try {
      n = static_cast<std::size_t>(std::stoull(length));
    } catch (const std::exception&) {
      return slack_error("invalid_arguments");
    }
    char id[16];
    std::snprintf(id, sizeof id, "F%05d", ++next_file);
    pending_files[id] = pending_file{filename, n, std::nullopt};
    return {
        {"ok", true},
        {"upload_url", "https://" + options.advertised_host + ":" + std::to_string(port) + "/upload/" + id},
        {"file_id", id}};
  }

  json files_complete_upload_external(const json& args) {
    const std::optional<json> files = structured_arg(args, "files");
    if (!files || !files->is_array() || files->empty()) return slack_error("invalid_arguments");
    const std::string channel = arg(args, "channel_id");
    json out = json::array();
    for (const auto& f : *files) {
      const std::string id = f.is_object() ? arg(f, "id") : "";
      auto it = pending_files.find(id);
      if (it == pending_files.end()) return slack_error("file_not_found");
      // The bytes never arrived: the share fails, as Slack's does for an unfinished upload.
      if (!it->second.content) return slack_error("file_upload_incomplete");
    }
    for (const auto& f : *files) {
      const std::string id = arg(f, "id");
      auto& p = pending_files[id];
      json file = {{"id", id},
                   {"name", p.filename},
                   {"title", f.contains("title") ? arg(f, "title") : p.filename},
                   {"content", *p.content},
                   {"channel", channel},
                   {"thread_ts", arg(args, "thread_ts")},
                   {"initial_comment", arg(args, "initial_comment")}};
      shared.push_back(file);
      // Recorded as a pseudo-method "files.shared", one per file of a successful share, so tests
      // count what was shared, not what was asked for (calls("files.shared")).
      calls.push_back(api_call{"files.shared", "", "", file, steady::now()});
      out.push_back({{"id", id}, {"title", file["title"]}});
      pending_files.erase(id);
    }
    return {{"ok", true}, {"files", out}};
  }

  // App Home: a view of type "home" with at most 100 blocks (Block Kit's limit).
  json views_publish(const json& args) {
    const std::string user = arg(args, "user_id");
    const std::optional<json> view = structured_arg(args, "view");
    if (user.empty() || !view || !view->is_object()) return slack_error("invalid_arguments");
    if (view->value("type", "") != "home") return slack_error("invalid_arguments");
    if (!view->contains("blocks") || !(*view)["blocks"].is_array() || (*view)["blocks"].size() > 100)
      return slack_error("invalid_blocks");
    const std::string id = "VH" + user;
    json stored = make_view(id, *view);
    home_views[user] = stored;
    return {{"ok", true}, {"view", stored}};
  }

  json views_open(const json& args) {
    if (arg(args, "trigger_id").empty()) return slack_error("invalid_arguments");
    const std::optional<json> view = structured_arg(args, "view");
    if (!view || !view->is_object()) return slack_error("invalid_arguments");
    char id[16];
    std::snprintf(id, sizeof id, "V%05d", next_view + 1);
    return {{"ok", true}, {"view", make_view(id, *view)}};
  }

  json views_update(const json& args) {
    const std::string id = arg(args, "view_id");
    const std::optional<json> view = structured_arg(args, "view");
    if (!view || !view->is_object()) return slack_error("invalid_arguments");
    auto it = view_hashes.find(id);
    if (it == view_hashes.end()) return slack_error("not_found");
    if (auto hash = arg(args, "hash"); !hash.empty() && hash != it->second) {
      return slack_error("hash_conflict");
    }
    return {{"ok", true}, {"view", make_view(id, *view)}};
  }

  // ---------------------------------------------------------------- Socket Mode
  net::awaitable<void> run_link(std::shared_ptr<connection> c, http_request req) {
    const std::string_view target = req.target();
    bool known_ticket;
    {
      std::lock_guard lock(mu);
      known_ticket = tickets.count(query_param(target, "ticket")) > 0;
    }
    if (!target.starts_with("/link") || !known_ticket) {
      // Only URLs handed out by apps.connections.open open a link.
      http_response res = make_response(req, http::status::unauthorized, "invalid ticket\n", "text/plain");
      res.keep_alive(false);
      beast::get_lowest_layer(*c->tls).expires_after(http_idle_timeout);
      co_await http::async_write(*c->tls, res, use_tuple);
      finish(c);
      co_return;
    }

    c->ws.emplace(std::move(*c->tls));
    c->tls.reset();
    ws_stream& ws = *c->ws;
    beast::get_lowest_layer(ws).expires_never();  // the websocket's own timeouts take over
    websocket::stream_base::timeout timeouts{};
    timeouts.handshake_timeout = handshake_timeout;
    timeouts.idle_timeout = websocket::stream_base::none();
    timeouts.keep_alive_pings = false;
    ws.set_option(timeouts);
    ws.set_option(websocket::stream_base::decorator(
        [](websocket::response_type& res) { res.set(http::field::server, "fake-slack"); }));
    ws.text(true);
    auto [aec] = co_await ws.async_accept(req, use_tuple);
    if (aec) {
      log->debug("fake_slack: WebSocket accept failed: {}", aec.message());
      finish(c);
      co_return;
    }

    bool hello;
    int num_connections;
    {
      std::lock_guard lock(mu);
      c->link_id = ++links_opened;
      num_connections = ++open_links;
      hello = send_hello;
      if (!answer_pings) c->transport().pause();
    }
    links[c->link_id] = c;
    changed.notify_all();
    log->debug("fake_slack: link {} open", c->link_id);
    if (hello) {
      send(c, json{{"type", "hello"},
                   {"num_connections", num_connections},
                   {"debug_info", {{"host", "fake"}, {"approximate_connection_time", 18060}}},
                   {"connection_info", {{"app_id", app_id}}}}
                  .dump());
    }

    beast::flat_buffer buffer;
    for (;;) {
      auto [rec, rn] = co_await ws.async_read(buffer, use_tuple);
      if (rec) {
        log->debug("fake_slack: link {} closed: {}", c->link_id, rec.message());
        break;
      }
      const std::string text = beast::buffers_to_string(buffer.data());
      buffer.consume(buffer.size());
      received(c->link_id, text);
    }

    links.erase(c->link_id);
    {
      std::lock_guard lock(mu);
      --open_links;
    }
    changed.notify_all();
    finish(c);
  }

  void received(int link_id, const std::string& text) {
    json frame = json::parse(text, nullptr, false);
    if (frame.is_discarded() || !frame.is_object()) return;
    auto id = frame.find("envelope_id");
    if (id == frame.end() || !id->is_string()) return;
    ack a;
    a.envelope_id = id->get<std::string>();
    if (auto p = frame.find("payload"); p != frame.end()) a.payload = *p;
    a.connection = link_id;
    const auto now = steady::now();
    std::function<void(const ack&)> observer;
    {
      std::lock_guard lock(mu);
      auto sent = sent_at.find(a.envelope_id);
      a.latency = sent == sent_at.end() ? steady::duration::zero() : now - sent->second;
      if (auto d = deliveries.find(a.envelope_id); d != deliveries.end()) d->second->acked = true;
      observer = ack_observer;
      if (keep_acks) acks.push_back(a);
    }
    if (observer) observer(a);
    changed.notify_all();
  }

  std::shared_ptr<connection> pick_link(int id) {
    if (id == 0 && spread && !links.empty()) {
      auto next = links.upper_bound(last_spread_link);
      if (next == links.end()) next = links.begin();
      last_spread_link = next->first;
      return next->second;
    }
    if (id == 0) return links.empty() ? nullptr : links.rbegin()->second;
    auto it = links.find(id);
    return it == links.end() ? nullptr : it->second;
  }

  // Beast allows one outstanding write per stream: frames queue here and one writer drains them.
  void send(const std::shared_ptr<connection>& c, std::string text) {
    c->outbox.push_back(std::move(text));
    if (!c->writing) {
      c->writing = true;
      spawn(drain(c));
    }
  }

  net::awaitable<void> drain(std::shared_ptr<connection> c) {
    while (!c->outbox.empty() && !c->closed) {
      auto [ec, n] = co_await c->ws->async_write(net::buffer(c->outbox.front()), use_tuple);
      if (ec) {
        log->debug("fake_slack: link {} write failed: {}", c->link_id, ec.message());
        break;
      }
      c->outbox.pop_front();
    }
    c->outbox.clear();
    c->writing = false;
  }

  // Runs on the server thread.
  void send_on_link(int link, std::string text, const std::string& envelope_id) {
    auto c = pick_link(link);
    if (!c) {
      log->warn("fake_slack: no open link {} for a frame; dropped", link);
      return;
    }
    if (!envelope_id.empty()) {
      std::lock_guard lock(mu);
      sent_at[envelope_id] = steady::now();
    }
    send(c, std::move(text));
  }

  static std::string envelope_frame(const std::string& id, const delivery& d, int retry_attempt,
                                    const std::string& retry_reason) {
    return json{{"envelope_id", id},
                {"type", d.type},
                {"payload", d.payload},
                {"accepts_response_payload", d.options.accepts_response_payload},
                {"retry_attempt", retry_attempt},
                {"retry_reason", retry_reason}}
        .dump();
  }

  std::string fresh_envelope_id() {  // mu held
    char id[64];
    std::snprintf(id, sizeof id, "e7a1c0de-0000-4000-8000-%012d", ++next_envelope);
    return id;
  }

  net::awaitable<void> redeliver_loop() {
    for (;;) {
      redelivery_timer.expires_after(std::chrono::milliseconds(20));
      auto [ec] = co_await redelivery_timer.async_wait(use_tuple);
      if (ec || !acceptor.is_open()) co_return;
      std::vector<std::pair<std::string, std::string>> due;  // envelope id, frame
      {
        std::lock_guard lock(mu);
        if (!redelivery) continue;
        const auto now = steady::now();
        std::set<delivery*> seen;
        std::vector<std::pair<std::string, std::shared_ptr<delivery>>> add;
        for (auto& [id, d] : deliveries) {
          if (!seen.insert(d.get()).second) continue;
          if (d->acked || d->redeliveries >= static_cast<int>(redelivery_waits.size())) continue;
          if (now - d->last_sent < redelivery_waits[static_cast<std::size_t>(d->redeliveries)]) continue;
          ++d->redeliveries;
          d->last_sent = now;
          const std::string new_id = fresh_envelope_id();
          due.emplace_back(new_id,
                           envelope_frame(new_id, *d, d->options.retry_attempt + d->redeliveries, "timeout"));
          add.emplace_back(new_id, d);
        }
        for (auto& [id, d] : add) deliveries[id] = d;
      }
      // Slack redelivers on whichever connection is open: the newest, or the next in turn when
      // spreading over several.
      for (auto& [id, frame] : due) send_on_link(0, std::move(frame), id);
    }
  }

  // ---------------------------------------------------------------- life cycle
  void drop_all() {  // server thread
    for (const auto& c : std::vector(connections.begin(), connections.end())) c->drop();
  }

  // Ends every task so the io_context runs out of work and the thread returns. Server thread.
  void shut_down() {
    beast::error_code ignored;
    acceptor.close(ignored);
    redelivery_timer.cancel();
    for (auto* timer : delays) timer->cancel();
    drop_all();
  }
};

// -------------------------------------------------------------------------------- fake_slack

fake_slack::fake_slack(fake_slack_options options) : impl_(std::make_unique<impl>(std::move(options))) {
  impl& s = *impl_;
  s.tls_ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                        ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  s.tls_ctx.use_certificate_chain(net::buffer(s.ca.server_cert_pem()));
  s.tls_ctx.use_private_key(net::buffer(s.ca.server_key_pem()), ssl::context::pem);

  // 127.0.0.1 only, an ephemeral port: tests never listen on a public interface.
  const tcp::endpoint endpoint(net::ip::address_v4::loopback(), 0);
  s.acceptor.open(endpoint.protocol());
  s.acceptor.set_option(net::socket_base::reuse_address(true));
  s.acceptor.bind(endpoint);
  s.acceptor.listen();
  s.port = s.acceptor.local_endpoint().port();
  s.listen_fd = s.acceptor.native_handle();

  s.spawn(s.accept_loop());
  s.spawn(s.redeliver_loop());
  s.thread = std::thread([&s] {
    for (;;) {
      try {
        s.ioc.run();
        break;
      } catch (const std::exception& e) {
        s.log->warn("fake_slack: server thread: {}", e.what());
      }
    }
    s.stopped.set_value();
  });
}

fake_slack::~fake_slack() {  // NOLINT(bugprone-exception-escape): failing to stop ends the test run
  impl& s = *impl_;
  net::post(s.ioc, [&s] { s.shut_down(); });
  // Dropped sockets finish their coroutines promptly; stop() is the bound if one doesn't.
  if (s.stopped.get_future().wait_for(std::chrono::seconds(3)) != std::future_status::ready) {
    s.log->warn("fake_slack: server thread did not wind down in time; stopping it");
    s.ioc.stop();
  }
  s.thread.join();
}

std::string fake_slack::api_url() const {
  return "https://" + impl_->options.advertised_host + ":" + std::to_string(impl_->port) + "/api/";
}
const std::string& fake_slack::ca_file() const { return impl_->ca.ca_file(); }
std::uint16_t fake_slack::port() const { return impl_->port; }
const fake_slack_options& fake_slack::options() const { return impl_->options; }

int fake_slack::open_connections() const {
  std::lock_guard lock(impl_->mu);
  return impl_->open_links;
}

int fake_slack::connections_opened() const {
  std::lock_guard lock(impl_->mu);
  return impl_->links_opened;
}

bool fake_slack::wait_for_open_connections(int n, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(impl_->mu);
  return impl_->changed.wait_for(lock, timeout, [&] { return impl_->open_links >= n; });
}

std::string fake_slack::send_envelope(const std::string& type, const nlohmann::json& payload,
                                      envelope_options options) {
  impl& s = *impl_;
  auto d = std::make_shared<delivery>();
  d->type = type;
  d->payload = payload;
  d->options = options;
  d->last_sent = steady::now();
  std::string id;
  {
    std::lock_guard lock(s.mu);
    id = options.envelope_id ? *options.envelope_id : s.fresh_envelope_id();
    s.deliveries[id] = d;
  }
  std::string frame = impl::envelope_frame(id, *d, options.retry_attempt, options.retry_reason);
  net::post(s.ioc, [&s, link = options.connection, frame = std::move(frame), id]() mutable {
    s.send_on_link(link, std::move(frame), id);
  });
  return id;
}

void fake_slack::send_raw(const std::string& text, int connection) {
  impl& s = *impl_;
  net::post(s.ioc, [&s, connection, text] { s.send_on_link(connection, text, {}); });
}

void fake_slack::send_disconnect(const std::string& reason, int connection) {
  send_raw(json{{"type", "disconnect"}, {"reason", reason}, {"debug_info", {{"host", "fake"}}}}.dump(),
           connection);
}

void fake_slack::close_abruptly() {
  impl& s = *impl_;
  net::post(s.ioc, [&s] {
    for (auto& [id, c] : s.links) c->drop();
  });
}

void fake_slack::set_spread(bool on) { impl_->spread = on; }

std::vector<std::string> fake_slack::unacked() const {
  std::lock_guard lock(impl_->mu);
  // deliveries holds every attempt's id; the first one seen per delivery is its original (ids
  // are handed out in increasing order, and a map iterates in order).
  std::set<const delivery*> seen;
  std::vector<std::string> out;
  for (const auto& [id, d] : impl_->deliveries)
    if (seen.insert(d.get()).second && !d->acked) out.push_back(id);
  return out;
}

void fake_slack::set_redelivery(bool on, std::chrono::milliseconds after) {
  std::lock_guard lock(impl_->mu);
  impl_->redelivery = on;
  impl_->redelivery_waits = {after, after, after};
}

void fake_slack::set_redelivery_schedule(std::vector<std::chrono::milliseconds> waits) {
  std::lock_guard lock(impl_->mu);
  impl_->redelivery = true;
  impl_->redelivery_waits = std::move(waits);
}

void fake_slack::set_send_hello(bool on) {
  std::lock_guard lock(impl_->mu);
  impl_->send_hello = on;
}

void fake_slack::set_answer_pings(bool on) {
  impl& s = *impl_;
  {
    std::lock_guard lock(s.mu);
    s.answer_pings = on;
  }
  net::post(s.ioc, [&s, on] {
    for (auto& [id, c] : s.links) {
      if (on) {
        c->transport().resume();
      } else {
        c->transport().pause();
      }
    }
  });
}

std::optional<ack> fake_slack::wait_for_ack(const std::string& envelope_id,
                                            std::chrono::milliseconds timeout) const {
  std::unique_lock lock(impl_->mu);
  std::optional<ack> found;
  impl_->changed.wait_for(lock, timeout, [&] {
    for (const auto& a : impl_->acks) {
      if (a.envelope_id == envelope_id) {
        found = a;
        return true;
      }
    }
    return false;
  });
  return found;
}

void fake_slack::observe_acks(std::function<void(const ack&)> observer, bool keep) {
  std::lock_guard lock(impl_->mu);
  impl_->ack_observer = std::move(observer);
  impl_->keep_acks = keep;
}

std::vector<ack> fake_slack::acks() const {
  std::lock_guard lock(impl_->mu);
  return impl_->acks;
}

std::vector<api_call> fake_slack::calls(const std::string& method) const {
  std::lock_guard lock(impl_->mu);
  if (method.empty()) return impl_->calls;
  std::vector<api_call> out;
  for (const auto& c : impl_->calls) {
    if (c.method == method) out.push_back(c);
  }
  return out;
}

bool fake_slack::wait_for_calls(const std::string& method, std::size_t n,
                                std::chrono::milliseconds timeout) const {
  std::unique_lock lock(impl_->mu);
  return impl_->changed.wait_for(lock, timeout, [&] {
    return static_cast<std::size_t>(
               std::count_if(impl_->calls.begin(), impl_->calls.end(),
                             [&](const api_call& c) { return method.empty() || c.method == method; })) >= n;
  });
}

bool fake_slack::wait_until_drained(std::chrono::milliseconds quiet,
                                    std::chrono::milliseconds timeout) const {
  const impl& s = *impl_;
  const auto deadline = steady::now() + timeout;
  std::unique_lock lock(s.mu);
  for (;;) {
    const auto now = steady::now();
    const bool idle = s.clients == 0 && !s.accept_pending();
    if (idle && now - s.last_activity >= quiet) return true;
    if (now >= deadline) return false;
    // Idle but not yet for `quiet`: wake when it will have been (or at the next change). A
    // connection waiting to be accepted is taken within moments; look again shortly.
    const auto wake = s.clients != 0 ? deadline : idle ? s.last_activity + quiet : now + 10ms;
    s.changed.wait_until(lock, std::min(wake, deadline));
  }
}

void fake_slack::inject(const std::string& method, fault f) {
  if (f.times <= 0) return;
  std::lock_guard lock(impl_->mu);
  impl_->faults[method].push_back(std::move(f));
}

void fake_slack::clear_faults(const std::string& method) {
  std::lock_guard lock(impl_->mu);
  impl_->faults.erase(method);
}

void fake_slack::refuse_connections(bool on) {
  impl& s = *impl_;
  {
    std::lock_guard lock(s.mu);
    s.refusing = on;
  }
  if (on) net::post(s.ioc, [&s] { s.drop_all(); });
}

void fake_slack::set_conversation(const std::string& id, nlohmann::json fields) {
  std::lock_guard lock(impl_->mu);
  impl_->conversation_overrides[id] = std::move(fields);
}

void fake_slack::set_usergroup_members(const std::string& usergroup, std::vector<std::string> users) {
  std::lock_guard lock(impl_->mu);
  impl_->usergroups[usergroup] = std::move(users);
}

std::vector<nlohmann::json> fake_slack::posted_messages() const {
  std::lock_guard lock(impl_->mu);
  return impl_->messages;
}

}  // namespace flare::testing
