#include "bot/runtime/dispatcher.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

namespace flare {
namespace asio = boost::asio;
using json = nlohmann::json;

namespace {

std::string string_at(const json& j, const char* key) {
  if (!j.is_object()) return {};
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string{};
}

std::string string_at(const json& j, const char* outer, const char* inner) {
  if (!j.is_object()) return {};
  auto it = j.find(outer);
  return it == j.end() ? std::string{} : string_at(*it, inner);
}

// Slack sends `&`, `<` and `>` as entities in message text (docs/slack.md §5.6).
std::string decode_entities(std::string text) {
  static const std::pair<const char*, const char*> entities[] = {{"&lt;", "<"}, {"&gt;", ">"}, {"&amp;", "&"}};
  for (const auto& [from, to] : entities) {
    const std::string f(from);
    for (auto pos = text.find(f); pos != std::string::npos; pos = text.find(f, pos + 1))
      text.replace(pos, f.size(), to);
  }
  return text;
}

}  // namespace

bool remember_recent_events::first_time(const std::string& event_id) {
  if (seen_.contains(event_id)) return false;
  seen_.insert(event_id);
  order_.push_back(event_id);
  if (order_.size() > capacity_) {
    seen_.erase(order_.front());
    order_.pop_front();
  }
  return true;
}

command_reply internal_error_reply() {
  return {{"response_type", "ephemeral"},
          {"text", "Sorry, that failed on our side and nothing was changed by the failed step. "
                   "The error is logged; please try again or tell the Security Team."}};
}

std::optional<slash_command> parse_slash_command(const json& payload) {
  slash_command c;
  c.command = string_at(payload, "command");
  c.user_id = string_at(payload, "user_id");
  c.channel_id = string_at(payload, "channel_id");
  if (c.command.empty() || c.user_id.empty()) return std::nullopt;
  c.text = string_at(payload, "text");
  c.trigger_id = string_at(payload, "trigger_id");
  c.response_url = string_at(payload, "response_url");
  return c;
}

std::optional<message_event> parse_message_event(const json& callback) {
  if (!callback.is_object()) return std::nullopt;
  auto ev = callback.find("event");
  if (ev == callback.end() || !ev->is_object()) return std::nullopt;
  message_event m;
  m.event_id = string_at(callback, "event_id");
  m.type = string_at(*ev, "type");
  if (m.type != "message" && m.type != "app_mention") return std::nullopt;
  m.channel = string_at(*ev, "channel");
  m.channel_type = string_at(*ev, "channel_type");
  m.user = string_at(*ev, "user");
  m.bot_id = string_at(*ev, "bot_id");
  m.subtype = string_at(*ev, "subtype");
  m.text = decode_entities(string_at(*ev, "text"));
  m.ts = string_at(*ev, "ts");
  m.thread_ts = string_at(*ev, "thread_ts");
  m.edited = ev->contains("edited");
  if (m.channel.empty() || m.ts.empty()) return std::nullopt;
  return m;
}

std::optional<block_action> parse_block_action(const json& payload) {
  auto actions = payload.find("actions");
  if (actions == payload.end() || !actions->is_array() || actions->empty()) return std::nullopt;
  const json& first = (*actions)[0];
  block_action a;
  a.action_id = string_at(first, "action_id");
  a.block_id = string_at(first, "block_id");
  a.value = string_at(first, "value");
  a.user_id = string_at(payload, "user", "id");
  a.channel_id = string_at(payload, "channel", "id");
  if (a.channel_id.empty()) a.channel_id = string_at(payload, "container", "channel_id");
  a.message_ts = string_at(payload, "container", "message_ts");
  a.thread_ts = string_at(payload, "container", "thread_ts");
  if (a.thread_ts.empty()) a.thread_ts = string_at(payload, "message", "thread_ts");
  a.trigger_id = string_at(payload, "trigger_id");
  if (a.action_id.empty() || a.user_id.empty()) return std::nullopt;
  return a;
}

std::optional<view_submission> parse_view_submission(const json& payload) {
  auto view = payload.find("view");
  if (view == payload.end() || !view->is_object()) return std::nullopt;
  view_submission v;
  v.callback_id = string_at(*view, "callback_id");
  v.view_id = string_at(*view, "id");
  v.private_metadata = string_at(*view, "private_metadata");
  v.user_id = string_at(payload, "user", "id");
  if (auto state = view->find("state"); state != view->end() && state->is_object())
    v.values = state->value("values", json::object());
  else
    v.values = json::object();
  if (v.callback_id.empty() || v.user_id.empty()) return std::nullopt;
  return v;
}

struct dispatcher::impl : std::enable_shared_from_this<impl> {
  impl(asio::any_io_executor ex, slack::slack_api& s, event_log& e, dispatcher_options o)
      : executor(std::move(ex)), slack(s), events(e), options(o), idle(executor) {}

  asio::any_io_executor executor;
  slack::slack_api& slack;
  event_log& events;
  dispatcher_options options;
  std::map<std::string, command_handler> commands;
  std::vector<message_handler> message_handlers;
  std::map<std::string, action_handler> actions;
  std::map<std::string, view_handler> views;
  remember_recent_events envelope_ids{5000};
  dispatcher_stats stats;
  std::size_t running = 0;
  asio::steady_timer idle;  // cancelled whenever a handler finishes, for drain()

  // Counts a running handler for drain().
  struct running_guard {
    std::shared_ptr<impl> self;
    explicit running_guard(std::shared_ptr<impl> s) : self(std::move(s)) { ++self->running; }
    ~running_guard() {
      --self->running;
      self->idle.cancel();
    }
  };

  template <class Task>
  void spawn(const char* what, Task task) {
    auto self = shared_from_this();
    asio::co_spawn(
        executor,
        [self, what, task = std::move(task)]() mutable -> asio::awaitable<void> {
          running_guard guard(self);
          try {
            co_await task();
          } catch (const std::exception& e) {
            ++self->stats.handler_failures;
            spdlog::error("{} handler failed: {}", what, e.what());
          }
        },
        asio::detached);
  }

  // Shared between a handler and its deadline: whoever comes first acks.
  struct reply_race {
    explicit reply_race(asio::any_io_executor ex) : deadline(std::move(ex)) {}
    bool acked = false;
    asio::steady_timer deadline;
  };

  void start_deadline(std::shared_ptr<reply_race> race, slack::ack_fn ack, const char* what) {
    race->deadline.expires_after(options.reply_budget);
    asio::co_spawn(
        executor,
        [race, ack, what]() -> asio::awaitable<void> {
          auto [ec] = co_await race->deadline.async_wait(asio::as_tuple(asio::use_awaitable));
          if (race->acked) co_return;
          race->acked = true;
          spdlog::debug("{} still running after the reply budget; acked without a payload", what);
          ack(std::nullopt);
        },
        asio::detached);
  }

  asio::awaitable<void> post_late_reply(const slash_command& cmd, const command_reply& reply) {
    slack::message msg;
    msg.channel = cmd.channel_id;
    msg.text = reply.value("text", std::string{});
    msg.blocks = reply.value("blocks", json::array());
    msg.reference = cmd.command;
    auto result = co_await slack.post_ephemeral(cmd.user_id, msg);
    if (!result)
      spdlog::error("could not deliver the reply to {} for user {}: {} ({})", cmd.command,
                    cmd.user_id, result.error().code, result.error().detail);
  }

  void handle_slash_command(const slack::envelope& env, slack::ack_fn ack) {
    auto cmd = parse_slash_command(env.payload);
    if (!cmd) {
      spdlog::warn("slash_commands envelope {} without command or user_id; acked and ignored", env.envelope_id);
      return ack(std::nullopt);
    }
    auto it = commands.find(cmd->command);
    if (it == commands.end()) {
      ++stats.unhandled;
      spdlog::warn("no handler for slash command {}", cmd->command);
      return ack(json{{"response_type", "ephemeral"},
                      {"text", "flare does not handle " + cmd->command + "."}});
    }
    auto race = std::make_shared<reply_race>(executor);
    start_deadline(race, ack, "slash command");
    const bool payload_allowed = env.accepts_response_payload;
    spawn("slash command", [self = shared_from_this(), handler = it->second, cmd = *cmd, race, ack,
                            payload_allowed]() -> asio::awaitable<void> {
      command_reply reply;
      try {
        reply = co_await handler(cmd);
      } catch (const std::exception& e) {
        ++self->stats.handler_failures;
        spdlog::error("{} handler failed: {}", cmd.command, e.what());
        reply = internal_error_reply();
      }
      if (!race->acked) {
        race->acked = true;
        race->deadline.cancel();
        if (payload_allowed) {
          ack(reply);
          co_return;
        }
        ack(std::nullopt);
      } else {
        ++self->stats.late_replies;
      }
      if (!reply.is_null() && reply.contains("text")) co_await self->post_late_reply(cmd, reply);
    });
  }

  void handle_event(const slack::envelope& env, slack::ack_fn ack) {
    ack(std::nullopt);  // ack first: events carry no response payload
    // The de-dup write waits for the disk; doing it in the task lets the ack go out first.
    spawn("message", [self = shared_from_this(), payload = env.payload,
                      retry = env.retry_attempt]() -> asio::awaitable<void> {
      const std::string event_id = string_at(payload, "event_id");
      if (!event_id.empty() && !self->events.first_time(event_id)) {
        ++self->stats.duplicates;
        spdlog::info("event {} already handled (retry_attempt {}); ignored", event_id, retry);
        co_return;
      }
      auto event = parse_message_event(payload);
      if (!event) {
        ++self->stats.unhandled;
        spdlog::debug("event {} of type '{}' not handled", event_id, string_at(payload, "event", "type"));
        co_return;
      }
      for (const auto& handler : self->message_handlers) {
        try {
          co_await handler(*event);
        } catch (const std::exception& e) {
          ++self->stats.handler_failures;
          spdlog::error("message handler failed: {}", e.what());
        }
      }
    });
  }

  void handle_interactive(const slack::envelope& env, slack::ack_fn ack) {
    const std::string type = string_at(env.payload, "type");
    if (type == "block_actions") {
      ack(std::nullopt);
      auto action = parse_block_action(env.payload);
      if (!action) {
        spdlog::warn("block_actions envelope {} without an action or user", env.envelope_id);
        return;
      }
      auto it = actions.find(action->action_id);
      if (it == actions.end()) {
        ++stats.unhandled;
        spdlog::warn("no handler for action {}", action->action_id);
        return;
      }
      spawn("action", [handler = it->second, action = *action]() { return handler(action); });
      return;
    }
    if (type == "view_submission") {
      auto view = parse_view_submission(env.payload);
      auto it = view ? views.find(view->callback_id) : views.end();
      if (it == views.end()) {
        ++stats.unhandled;
        spdlog::warn("no handler for view submission {}", view ? view->callback_id : "(unparsable)");
        return ack(std::nullopt);
      }
      auto race = std::make_shared<reply_race>(executor);
      start_deadline(race, ack, "view submission");
      spawn("view submission", [self = shared_from_this(), handler = it->second, view = *view, race,
                                ack]() -> asio::awaitable<void> {
        std::optional<json> response;
        try {
          response = co_await handler(view);
        } catch (const std::exception& e) {
          ++self->stats.handler_failures;
          spdlog::error("view {} handler failed: {}", view.callback_id, e.what());
        }
        if (race->acked) {
          ++self->stats.late_replies;
          co_return;
        }
        race->acked = true;
        race->deadline.cancel();
        ack(response);
      });
      return;
    }
    ack(std::nullopt);
    ++stats.unhandled;
    spdlog::debug("interactive payload of type '{}' not handled", type);
  }
};

dispatcher::dispatcher(asio::any_io_executor executor, slack::slack_api& slack, event_log& events,
                       dispatcher_options options)
    : impl_(std::make_shared<impl>(std::move(executor), slack, events, options)) {}

dispatcher::~dispatcher() = default;

void dispatcher::on_command(const std::string& command, command_handler handler) {
  impl_->commands[command] = std::move(handler);
}
void dispatcher::on_message(message_handler handler) {
  impl_->message_handlers.push_back(std::move(handler));
}
void dispatcher::on_action(const std::string& action_id, action_handler handler) {
  impl_->actions[action_id] = std::move(handler);
}
void dispatcher::on_view_submission(const std::string& callback_id, view_handler handler) {
  impl_->views[callback_id] = std::move(handler);
}

void dispatcher::dispatch(slack::envelope envelope, slack::ack_fn ack) {
  ++impl_->stats.envelopes;
  if (impl_->options.on_ack) {
    // Copies of an ack_fn share one "done" flag, so each envelope is observed once.
    ack = [inner = std::move(ack), observe = impl_->options.on_ack, type = envelope.type,
           received = std::chrono::steady_clock::now(),
           done = std::make_shared<bool>(false)](std::optional<json> payload) {
      if (!*done) observe(type, std::chrono::steady_clock::now() - received);
      *done = true;
      inner(std::move(payload));
    };
  }
  try {
    if (!impl_->envelope_ids.first_time(envelope.envelope_id)) {
      // The same envelope twice (Slack has been seen re-sending an envelope_id): ack, do nothing.
      ++impl_->stats.duplicates;
      return ack(std::nullopt);
    }
    if (envelope.type == "events_api") return impl_->handle_event(envelope, std::move(ack));
    if (envelope.type == "slash_commands") return impl_->handle_slash_command(envelope, std::move(ack));
    if (envelope.type == "interactive") return impl_->handle_interactive(envelope, std::move(ack));
    ++impl_->stats.unhandled;
    spdlog::warn("envelope {} of unknown type '{}'; acked and ignored", envelope.envelope_id, envelope.type);
    ack(std::nullopt);
  } catch (const std::exception& e) {
    ++impl_->stats.handler_failures;
    spdlog::error("dispatching envelope {} failed: {}", envelope.envelope_id, e.what());
    ack(std::nullopt);
  }
}

asio::awaitable<command_reply> dispatcher::run_command(slash_command command) {
  auto it = impl_->commands.find(command.command);
  if (it == impl_->commands.end())
    co_return json{{"response_type", "ephemeral"}, {"text", "flare does not handle " + command.command + "."}};
  impl::running_guard guard(impl_);
  try {
    co_return co_await it->second(command);
  } catch (const std::exception& e) {
    ++impl_->stats.handler_failures;
    spdlog::error("{} handler failed: {}", command.command, e.what());
  }
  co_return internal_error_reply();
}

asio::awaitable<void> dispatcher::run_message(message_event event) {
  if (!event.event_id.empty() && !impl_->events.first_time(event.event_id)) {
    ++impl_->stats.duplicates;
    co_return;
  }
  impl::running_guard guard(impl_);
  for (const auto& handler : impl_->message_handlers) {
    try {
      co_await handler(event);
    } catch (const std::exception& e) {
      ++impl_->stats.handler_failures;
      spdlog::error("message handler failed: {}", e.what());
    }
  }
}

asio::awaitable<void> dispatcher::run_action(block_action action) {
  auto it = impl_->actions.find(action.action_id);
  if (it == impl_->actions.end()) co_return;
  impl::running_guard guard(impl_);
  try {
    co_await it->second(action);
  } catch (const std::exception& e) {
    ++impl_->stats.handler_failures;
    spdlog::error("action {} handler failed: {}", action.action_id, e.what());
  }
}

asio::awaitable<bool> dispatcher::drain(std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (impl_->running > 0) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) co_return false;
    impl_->idle.expires_at(deadline);
    co_await impl_->idle.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  co_return true;
}

std::size_t dispatcher::in_flight() const { return impl_->running; }
const dispatcher_stats& dispatcher::stats() const { return impl_->stats; }

}  // namespace flare
