// The Slack Web API as the rest of flare sees it: typed calls, typed errors, no transport.
// Implemented over HTTPS by web_api_client (bot/web_api_client.hpp) and on the terminal by
// console_slack (bot/console_adapter.hpp). Handlers hold a slack_api&, never a concrete client.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace flare::slack {

// A failed call. `code` is Slack's own `error` ("channel_not_found", "ratelimited", ...) or, when
// the request never got a Slack answer, a transport code ("timeout", "connection_failed",
// "tls_handshake_failed", "http_502", "invalid_response"). `detail` is for logs and people and
// never holds a token.
struct api_error {
  std::string code;
  std::string detail;
  bool transport = false;  // true when Slack never answered with {ok:false}
};

// Either a value or an api_error. Small on purpose: C++20 has no std::expected.
template <class T>
class api_result {
 public:
  api_result(T value) : state_(std::move(value)) {}          // NOLINT: implicit by design
  api_result(api_error error) : state_(std::move(error)) {}  // NOLINT: implicit by design
  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() { return std::get<0>(state_); }
  const T& value() const { return std::get<0>(state_); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const api_error& error() const { return std::get<1>(state_); }

 private:
  std::variant<T, api_error> state_;
};

struct empty {};

// One message the bot wants to post. `text` is the notification fallback and is always sent,
// even with blocks (Slack: "text is the fallback when blocks are given; always send it").
struct message {
  std::string channel;
  std::string text;
  nlohmann::json blocks = nlohmann::json::array();
  std::string thread_ts;  // empty: top-level post
  std::string reference;  // what the post is about, for logs only ("INC-12"); never sent
};

struct posted_message {
  std::string channel;
  std::string ts;
};

struct auth_identity {
  std::string team_id;
  std::string user_id;  // the bot user's id, for ignoring our own messages
  std::string bot_id;
};

struct user_info {
  std::string id;
  std::string name;
  std::string real_name;
  std::string tz;
  bool is_bot = false;
  bool deleted = false;
};

struct conversation_info {
  std::string id;
  std::string name;
  bool is_private = false;
  bool is_im = false;
  bool is_member = false;
};

struct view_ref {
  std::string id;
  std::string hash;
};

class slack_api {
 public:
  virtual ~slack_api() = default;

  virtual boost::asio::awaitable<api_result<auth_identity>> auth_test() = 0;
  virtual boost::asio::awaitable<api_result<posted_message>> post_message(message msg) = 0;
  // chat.update of an earlier post of ours; msg.channel and msg.thread_ts are ignored.
  virtual boost::asio::awaitable<api_result<posted_message>> update_message(std::string channel,
                                                                            std::string ts, message msg) = 0;
  // chat.postEphemeral; returns the message_ts (which cannot be updated later).
  virtual boost::asio::awaitable<api_result<std::string>> post_ephemeral(std::string user, message msg) = 0;
  // conversations.open with one user; returns the DM channel id.
  virtual boost::asio::awaitable<api_result<std::string>> open_dm(std::string user) = 0;
  // Named after the Slack methods (conversations.info, users.info).
  virtual boost::asio::awaitable<api_result<conversation_info>> conversations_info(std::string channel) = 0;
  virtual boost::asio::awaitable<api_result<user_info>> users_info(std::string user) = 0;
  virtual boost::asio::awaitable<api_result<std::vector<std::string>>> usergroup_members(
      std::string usergroup) = 0;
  virtual boost::asio::awaitable<api_result<view_ref>> open_view(std::string trigger_id,
                                                                 nlohmann::json view) = 0;
  virtual boost::asio::awaitable<api_result<view_ref>> update_view(std::string view_id, nlohmann::json view,
                                                                   std::string hash) = 0;
};

}  // namespace flare::slack
