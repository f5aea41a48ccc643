// Bolt-style routing: handlers are registered per slash command, message event, block action and
// view submission; envelopes are routed to them. Every receiver feeds the same entry, as every
// bolt-js receiver feeds App.processEvent: the Socket Mode client calls dispatch(), the console
// builds the envelopes Slack would send and awaits process(). The dispatcher owns Slack's 3-second rule: it
// acks first, and a slash command's reply rides on the ack only when the handler finishes in time; otherwise
// it is posted later as an ephemeral message. Redelivered events (same event_id) are handled once.
#pragma once

#include "bot/slack/envelope.hpp"
#include "bot/slack/slack_api.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_set>

namespace flare {
namespace slack {
struct slash_frame;  // bot/slack/quick_slash.hpp
}

struct slash_command {
  std::string command;  // "/incident"
  std::string text;     // everything after the command
  std::string user_id;
  std::string channel_id;
  std::string trigger_id;
  std::string response_url;
};

// A `message` or `app_mention` event (docs/slack.md §3.2, §3.3).
struct message_event {
  std::string event_id;
  std::string type;  // "message" | "app_mention"
  std::string channel;
  std::string channel_type;  // channel | group | im | mpim
  std::string user;
  std::string bot_id;
  std::string subtype;
  std::string text;
  std::string ts;
  std::string thread_ts;
  bool edited = false;
  bool is_thread_reply() const { return !thread_ts.empty() && thread_ts != ts; }
};

struct block_action {
  std::string action_id;
  std::string block_id;
  std::string value;
  std::string user_id;
  std::string channel_id;
  std::string message_ts;
  std::string thread_ts;
  std::string trigger_id;
};

struct view_submission {  // NOLINT(bugprone-exception-escape): json's destructor may allocate
  std::string callback_id;
  std::string user_id;
  std::string view_id;
  std::string private_metadata;
  nlohmann::json values;   // view.state.values
  std::string trigger_id;  // ties the submission to its inbox delivery
};

// A message payload for the person who ran a command: {"response_type","text","blocks"}.
using command_reply = nlohmann::json;

using command_handler = std::function<boost::asio::awaitable<command_reply>(slash_command)>;
// A reply that depends on nothing but the command's text (/incident help), serialised once and
// kept; null when the command needs its handler. Such a command is answered on its ack at once:
// no handler coroutine, no reply deadline, no inbox row (it changes nothing and a redelivery is
// simply answered again).
using static_reply_lookup = std::function<std::shared_ptr<const std::string>(const slash_command&)>;
using message_handler = std::function<boost::asio::awaitable<void>(message_event)>;
using action_handler = std::function<boost::asio::awaitable<void>(block_action)>;
// Any other Events API event by its type ("app_home_opened"); gets the inner `event` object.
using event_handler = std::function<boost::asio::awaitable<void>(nlohmann::json event)>;
// Returns a response_action payload ({"response_action":"errors",...}) or nothing to close.
using view_handler = std::function<boost::asio::awaitable<std::optional<nlohmann::json>>(view_submission)>;

// Remembers which events were handled. The store implements it durably, so a redelivery after a
// restart is still recognised; `remember_recent_events` is the in-memory fallback.
class event_log {
 public:
  virtual ~event_log() = default;
  // True the first time `event_id` is seen, false for every repeat.
  virtual bool first_time(const std::string& event_id) = 0;
};

class remember_recent_events final : public event_log {
 public:
  explicit remember_recent_events(std::size_t capacity = 10000) : capacity_(capacity) {}
  bool first_time(const std::string& event_id) override;

 private:
  std::size_t capacity_;
  std::deque<std::string> order_;
  std::unordered_set<std::string> seen_;
};

// The durable inbox (bot/runtime/inbox.hpp). With one, dispatch() records every envelope before
// acking it and reports each handled one; a redelivery (same event_id or trigger_id) is acked and
// dropped, and an envelope whose record failed is not acked, so Slack redelivers it.
class delivery_log {
 public:
  virtual ~delivery_log() = default;
  // The inbox row id, or nullopt for a redelivery. Throws when the envelope could not be recorded.
  virtual boost::asio::awaitable<std::optional<std::int64_t>> record(const slack::envelope& envelope) = 0;
  // The handler for row `id` finished (not called when it threw: the row is replayed at start).
  virtual void handled(std::int64_t id) = 0;
};

struct dispatcher_options {
  // How long a slash command may take and still have its reply carried by the ack. Slack's limit
  // is 3 s; the rest is margin for the socket.
  std::chrono::milliseconds reply_budget{2000};
  // Told about every ack: the envelope type and the time from dispatch() to the ack (metrics).
  std::function<void(const std::string& type, std::chrono::steady_clock::duration latency)> on_ack;
  // Optional; see delivery_log.
  delivery_log* inbox = nullptr;
};

struct dispatcher_stats {
  std::uint64_t envelopes = 0;
  std::uint64_t duplicates = 0;
  std::uint64_t unhandled = 0;
  std::uint64_t handler_failures = 0;
  std::uint64_t late_replies = 0;
  std::uint64_t unrecorded = 0;  // envelopes left unacked because the inbox write failed
};

class dispatcher {
 public:
  dispatcher(boost::asio::any_io_executor executor, slack::slack_api& slack, event_log& events,
             dispatcher_options options = {});
  ~dispatcher();

  void on_command(const std::string& command, command_handler handler, static_reply_lookup static_reply = {});
  void on_message(message_handler handler);
  void on_action(const std::string& action_id, action_handler handler);
  void on_view_submission(const std::string& callback_id, view_handler handler);
  // Events that are not messages (issue 12: app_home_opened). One handler per type.
  void on_event(const std::string& type, event_handler handler);

  // The Socket Mode client's envelope_sink. Never blocks, never throws.
  void dispatch(slack::envelope envelope, slack::ack_fn ack);
  // The Socket Mode client's quick_reply hook: the payload for the ack of a slash command that has
  // a kept reply (static_reply_lookup), read straight from its frame, or nullopt when the command
  // needs dispatch(). Counts the envelope and its ack as dispatch() would, and answers a repeated
  // envelope id with an empty ack as dispatch() does.
  std::optional<slack::ack_payload> answer_at_once(const slack::slash_frame& command);
  // The same routing as dispatch(), finishing when the handlers it started have finished: for a
  // receiver that takes one input at a time (the console).
  boost::asio::awaitable<void> process(slack::envelope envelope, slack::ack_fn ack);

  // Handles a delivery the inbox kept from before a restart (nobody waits for its ack: a slash
  // command's reply is posted as an ephemeral message), then reports it handled.
  void replay(slack::envelope envelope, std::int64_t inbox_id);

  // Waits until no handler is running, at most `limit`. Returns false on timeout.
  boost::asio::awaitable<bool> drain(std::chrono::milliseconds limit);
  std::size_t in_flight() const;
  const dispatcher_stats& stats() const;

 private:
  struct impl;
  std::shared_ptr<impl> impl_;
};

// Parsers from Slack payloads, exposed for tests. Return nothing when the payload lacks what the
// kind needs.
std::optional<slash_command> parse_slash_command(const nlohmann::json& payload);
std::optional<message_event> parse_message_event(const nlohmann::json& event_callback);
std::optional<block_action> parse_block_action(const nlohmann::json& payload);
std::optional<view_submission> parse_view_submission(const nlohmann::json& payload);

// The reply shown for a command that failed unexpectedly; names no internals.
command_reply internal_error_reply();

}  // namespace flare
