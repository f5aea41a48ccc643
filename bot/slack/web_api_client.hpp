// The Slack Web API over HTTPS: keep-alive connections, retries with backoff, Retry-After on
// 429 (per method), per-channel pacing of posts, typed results. Transport details (Beast, the
// TLS context, the connection pool) live in web_api_client.cpp.
#pragma once

#include "bot/slack/slack_api.hpp"

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

namespace flare::slack {

struct web_api_options {
  std::string api_url = "https://slack.com/api/";    // SLACK_API_URL; must be https
  std::string bot_token;                             // secret, never logged
  std::string extra_ca_file;                         // SLACK_CA_FILE; empty: system trust only
  std::chrono::milliseconds connect_timeout{5000};   // resolve, connect, TLS handshake (each)
  std::chrono::milliseconds request_timeout{15000};  // write the request, read the response (each)
  int max_attempts = 5;                              // 5xx / connection failures / timeouts
  std::chrono::milliseconds backoff_initial{500};
  std::chrono::milliseconds backoff_max{30000};
  std::chrono::seconds max_retry_after{300};  // cap on a single Retry-After wait
  int max_rate_limited_retries = 10;
  double channel_posts_per_second = 1.0;  // per-channel pacing (token bucket); <= 0: off
  int channel_burst = 3;
  std::size_t max_idle_connections = 4;  // keep-alive pool

  // Optional observers (metrics). on_call_done: once per call, after its retries, with Slack's
  // error code or "" on success. on_rate_limited: once per 429, with the wait it imposes.
  std::function<void(const std::string& method, const std::string& error)> on_call_done;
  std::function<void(const std::string& method, std::chrono::seconds wait)> on_rate_limited;
};

// Counters for logs and tests.
struct web_api_stats {
  std::size_t connections_opened = 0;  // TCP+TLS connections established
  std::size_t requests_sent = 0;       // HTTP requests written (every attempt)
};

// The Web API client.
// - Preconditions: `ex` is the executor of the single-threaded io_context it runs on; api_url is
//   https (checked: the constructor throws otherwise).
// - Lifetime: calls in flight share its state, so destroying the client while one is suspended
//   is safe (the call then fails with `cancelled`).
// - Cancellation: cancel() aborts every wait and request; later calls fail with `cancelled`.
// - Errors: values, never exceptions: api_error with Slack's code or flare's own
//   (bot/slack/errors.hpp); transient ones are retried (max_attempts, backoff, Retry-After)
//   before they are returned. No error detail holds a token.
// - Thread safety: one executor; cancel() may be called from any thread.
class web_api_client final : public slack_api {
 public:
  // Throws std::runtime_error on a bad api_url or an unusable extra CA file.
  web_api_client(boost::asio::any_io_executor ex, web_api_options options);
  ~web_api_client() override;
  web_api_client(const web_api_client&) = delete;
  web_api_client& operator=(const web_api_client&) = delete;

  // POST <api_url><method> with a JSON body and the bot token. The parsed response on ok:true.
  boost::asio::awaitable<api_result<nlohmann::json>> call(std::string method, nlohmann::json body);
  // apps.connections.open with the app-level token (xapp-...); returns the wss:// URL.
  boost::asio::awaitable<api_result<std::string>> apps_connections_open(std::string app_token);

  // Aborts every wait (backoff, Retry-After, pacing) and in-flight request: they return
  // api_error{"cancelled"}. For shutdown: calls made afterwards fail with "cancelled" too.
  void cancel();

  web_api_stats stats() const;

  boost::asio::awaitable<api_result<auth_identity>> auth_test() override;
  boost::asio::awaitable<api_result<posted_message>> post_message(message msg) override;
  boost::asio::awaitable<api_result<posted_message>> update_message(std::string channel, std::string ts,
                                                                    message msg) override;
  boost::asio::awaitable<api_result<std::string>> post_ephemeral(std::string user, message msg) override;
  boost::asio::awaitable<api_result<std::string>> open_dm(std::string user) override;
  boost::asio::awaitable<api_result<slack::conversation_info>> conversations_info(
      std::string channel) override;
  boost::asio::awaitable<api_result<slack::user_info>> users_info(std::string user) override;
  boost::asio::awaitable<api_result<std::vector<std::string>>> usergroup_members(
      std::string usergroup) override;
  boost::asio::awaitable<api_result<view_ref>> open_view(std::string trigger_id,
                                                         nlohmann::json view) override;
  boost::asio::awaitable<api_result<view_ref>> update_view(std::string view_id, nlohmann::json view,
                                                           std::string hash) override;

 private:
  struct impl;
  std::shared_ptr<impl> impl_;  // shared with calls in flight so they outlive nothing they use
};

}  // namespace flare::slack
