#include "bot/runtime/dispatcher.hpp"

#include "bot/slack/quick_slash.hpp"
#include "input/json_fields.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include <deque>

namespace flare {
namespace asio = boost::asio;
using json = nlohmann::json;

namespace {

using input::string_at;

// Slack sends `&`, `<` and `>` as entities in message text (docs/slack.md §5.6).
std::string decode_entities(std::string text) {
  static const std::pair<const char*, const char*> entities[] = {
      {"&lt;", "<"}, {"&gt;", ">"}, {"&amp;", "&"}};
  for (const auto& [from, to] : entities) {
    const std::string f(from);
    for (auto pos = text.find(f); pos != std::string::npos; pos = text.find(f, pos + 1))
      text.replace(pos, f.size(), to);
  }
  return text;
}

// Whether Slack lets this envelope's ack carry the handler's answer.
enum class payload_on_ack { accepted, refused };

command_reply unknown_command_reply(const std::string& command) {
  return {{"response_type", "ephemeral"}, {"text", "flare does not handle " + command + "."}};
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
          {"text",
           "Sorry, that failed on our side and nothing was changed by the failed step. "
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
  v.trigger_id = string_at(payload, "trigger_id");
  if (auto state = view->find("state"); state != view->end() && state->is_object())
    v.values = state->value("values", json::object());
  else v.values = json::object();
  if (v.callback_id.empty() || v.user_id.empty()) return std::nullopt;
  return v;
}

struct dispatcher::impl : std::enable_shared_from_this<impl> {
  impl(asio::any_io_executor ex, slack::slack_api& s, event_log& e, dispatcher_options o)
      : executor(std::move(ex)), slack(s), events(e), options(std::move(o)), idle(executor) {}

  asio::any_io_executor executor;
  slack::slack_api& slack;
  event_log& events;
  dispatcher_options options;
  std::map<std::string, command_handler> commands;
  std::map<std::string, static_reply_lookup, std::less<>> static_replies;
  std::vector<message_handler> message_handlers;
  std::map<std::string, event_handler> event_handlers;
  std::map<std::string, action_handler> actions;
  std::map<std::string, view_handler> views;
  remember_recent_events envelope_ids{5000};
  dispatcher_stats stats;
  std::size_t running = 0;
  asio::steady_timer idle;  // cancelled whenever a handler finishes, for drain()

  // The handlers one process() call started and still waits for.
  struct completion {
    explicit completion(const asio::any_io_executor& ex) : finished(ex) {}
    std::size_t pending = 0;
    asio::steady_timer finished;  // cancelled whenever one of them finishes
  };
  using completion_ptr = std::shared_ptr<completion>;

  // Counts a handler from the moment it is spawned until its coroutine is gone (finished, or
  // destroyed unrun with the io_context), for drain() and process().
  class running_token {
   public:
    running_token(std::shared_ptr<impl> self, completion_ptr done)
        : self_(std::move(self)), done_(std::move(done)) {
      ++self_->running;
      if (done_) ++done_->pending;
    }
    running_token(running_token&& other) noexcept = default;
    running_token(const running_token&) = delete;
    running_token& operator=(const running_token&) = delete;
    running_token& operator=(running_token&&) = delete;
    ~running_token() {
      if (!self_) return;  // moved from
      --self_->running;
      self_->idle.cancel();
      if (done_) {
        --done_->pending;
        done_->finished.cancel();
      }
    }

   private:
    std::shared_ptr<impl> self_;
    completion_ptr done_;
  };

  // The one error sink (bolt-js's handleError): every handler failure is counted and logged
  // here, and never reaches the socket's read loop.
  void handler_failed(std::string_view what, const std::exception& e) {
    ++stats.handler_failures;
    spdlog::error("{} handler failed: {}", what, e.what());
  }

  // The inbox's done mark for one delivery (empty without an inbox). It runs only when the
  // delivery's handlers finished without throwing: a failed one stays unfinished in the inbox and
  // is replayed after a restart.
  using done_mark = std::function<void()>;
  static void call(const done_mark& handled) {
    if (handled) handled();
  }

  static asio::awaitable<void> guarded(std::shared_ptr<impl> self, std::string what,
                                       asio::awaitable<void> task, running_token, done_mark handled) {
    try {
      co_await std::move(task);
      call(handled);
    } catch (const std::exception& e) {
      self->handler_failed(what, e);
    }
  }

  void spawn(std::string what, asio::awaitable<void> task, const completion_ptr& done,
             done_mark handled = {}) {
    running_token token(shared_from_this(), done);
    asio::co_spawn(
        executor,
        guarded(shared_from_this(), std::move(what), std::move(task), std::move(token), std::move(handled)),
        asio::detached);
  }

  // Shared between a handler and its deadline: whoever comes first acks.
  struct reply_race {
    bool acked = false;
    std::chrono::steady_clock::time_point deadline;
    slack::ack_fn ack;  // for the deadline; released when the handler wins
    const char* what = "";
  };
  using reply_race_ptr = std::shared_ptr<reply_race>;

  // Every pending reply deadline, oldest first (one budget for all, so arrival order is deadline
  // order), watched by one timer and one coroutine for the whole dispatcher instead of a timer and
  // a coroutine per command (issue 11). Races the handler won leave the front as they finish.
  std::deque<reply_race_ptr> reply_deadlines;
  asio::steady_timer reply_deadline_timer{executor};
  bool reply_deadline_watch_running = false;

  static asio::awaitable<void> watch_reply_deadlines(std::shared_ptr<impl> self) {
    auto& pending = self->reply_deadlines;
    while (!pending.empty()) {
      auto race = pending.front();
      if (race->acked) {
        pending.pop_front();
        continue;
      }
      if (std::chrono::steady_clock::now() < race->deadline) {
        self->reply_deadline_timer.expires_at(race->deadline);
        co_await self->reply_deadline_timer.async_wait(asio::as_tuple(asio::use_awaitable));
        continue;
      }
      pending.pop_front();
      race->acked = true;
      spdlog::debug("{} still running after the reply budget; acked without a payload", race->what);
      auto ack = std::move(race->ack);
      ack(std::nullopt);
    }
    self->reply_deadline_watch_running = false;
  }

  reply_race_ptr start_deadline(const slack::ack_fn& ack, const char* what) {
    auto race = std::make_shared<reply_race>();
    race->deadline = std::chrono::steady_clock::now() + options.reply_budget;
    race->ack = ack;
    race->what = what;
    reply_deadlines.push_back(race);
    if (!reply_deadline_watch_running) {
      reply_deadline_watch_running = true;
      asio::co_spawn(executor, watch_reply_deadlines(shared_from_this()), asio::detached);
    }
    return race;
  }

  // True when the handler finished first and may put its answer on the ack itself.
  bool won(const reply_race_ptr& race) {
    if (race->acked) {
      ++stats.late_replies;
      return false;
    }
    race->acked = true;
    race->ack = nullptr;
    while (!reply_deadlines.empty() && reply_deadlines.front()->acked) reply_deadlines.pop_front();
    return true;
  }

  asio::awaitable<void> post_late_reply(const slash_command& cmd, const command_reply& reply) {
    slack::message msg;
    msg.channel = cmd.channel_id;
    msg.text = reply.value("text", std::string{});
    msg.blocks = reply.value("blocks", json::array());
    msg.reference = cmd.command;
    auto result = co_await slack.post_ephemeral(cmd.user_id, msg);
    if (!result)
      spdlog::error("could not deliver the reply to {} for user {}: {} ({})", cmd.command, cmd.user_id,
                    result.error().code, result.error().detail);
  }

  // ---- slash commands ----

  static asio::awaitable<void> run_slash_command(std::shared_ptr<impl> self, command_handler handler,
                                                 slash_command cmd, reply_race_ptr race, slack::ack_fn ack,
                                                 payload_on_ack payload, done_mark handled) {
    command_reply reply;
    try {
      reply = co_await handler(cmd);
      call(handled);
    } catch (const std::exception& e) {
      self->handler_failed(cmd.command, e);
      reply = internal_error_reply();
    }
    if (self->won(race)) {
      if (payload == payload_on_ack::accepted) {
        ack(std::move(reply));
        co_return;
      }
      ack(std::nullopt);
    }
    if (!reply.is_null() && reply.contains("text")) co_await self->post_late_reply(cmd, reply);
  }

  void handle_slash_command(const slack::envelope& env, const slack::ack_fn& ack, const completion_ptr& done,
                            const done_mark& handled) {
    auto cmd = parse_slash_command(env.payload);
    if (!cmd) {
      spdlog::warn("slash_commands envelope {} without command or user_id; acked and ignored",
                   env.envelope_id);
      ack(std::nullopt);
      return call(handled);
    }
    auto it = commands.find(cmd->command);
    if (it == commands.end()) {
      ++stats.unhandled;
      spdlog::warn("no handler for slash command {}", cmd->command);
      ack(unknown_command_reply(cmd->command));
      return call(handled);
    }
    auto race = start_deadline(ack, "slash command");
    const auto payload = env.accepts_response_payload ? payload_on_ack::accepted : payload_on_ack::refused;
    spawn(cmd->command, run_slash_command(shared_from_this(), it->second, *cmd, race, ack, payload, handled),
          done);
  }

  // ---- events ----

  static asio::awaitable<void> run_event(std::shared_ptr<impl> self, json payload, int retry,
                                         done_mark handled) {
    const std::string event_id = string_at(payload, "event_id");
    // With an inbox, redeliveries were recognised before the ack; without one, the event log does it.
    const bool recorded = static_cast<bool>(handled);
    if (!recorded && !event_id.empty() && !self->events.first_time(event_id)) {
      ++self->stats.duplicates;
      spdlog::info("event {} already handled (retry_attempt {}); ignored", event_id, retry);
      co_return;
    }
    auto event = parse_message_event(payload);
    if (!event) {
      const std::string type = string_at(payload, "event", "type");
      if (auto it = self->event_handlers.find(type); it != self->event_handlers.end()) {
        try {
          co_await it->second(payload["event"]);
          call(handled);
        } catch (const std::exception& e) {
          self->handler_failed(type, e);
        }
        co_return;
      }
      ++self->stats.unhandled;
      spdlog::debug("event {} of type '{}' not handled", event_id, string_at(payload, "event", "type"));
      call(handled);
      co_return;
    }
    bool failed = false;
    for (const auto& handler : self->message_handlers) {
      try {
        co_await handler(*event);
      } catch (const std::exception& e) {
        self->handler_failed("message", e);
        failed = true;
      }
    }
    if (!failed) call(handled);
  }

  void handle_event(const slack::envelope& env, const slack::ack_fn& ack, const completion_ptr& done,
                    const done_mark& handled) {
    ack(std::nullopt);  // ack first: events carry no response payload
    // Without an inbox the de-dup write waits for the disk; doing it in the task lets the ack go out first.
    spawn("message", run_event(shared_from_this(), env.payload, env.retry_attempt, handled), done);
  }

  // ---- interactivity ----

  void handle_block_action(const slack::envelope& env, const slack::ack_fn& ack, const completion_ptr& done,
                           const done_mark& handled) {
    ack(std::nullopt);
    auto action = parse_block_action(env.payload);
    if (!action) {
      spdlog::warn("block_actions envelope {} without an action or user", env.envelope_id);
      return call(handled);
    }
    auto it = actions.find(action->action_id);
    if (it == actions.end()) {
      ++stats.unhandled;
      spdlog::warn("no handler for action {}", action->action_id);
      return call(handled);
    }
    spawn("action " + action->action_id, it->second(*action), done, handled);
  }

  static asio::awaitable<void> run_view_submission(std::shared_ptr<impl> self, view_handler handler,
                                                   view_submission view, reply_race_ptr race,
                                                   slack::ack_fn ack, done_mark handled) {
    std::optional<json> response;
    try {
      response = co_await handler(view);
      call(handled);
    } catch (const std::exception& e) {
      self->handler_failed("view " + view.callback_id, e);
    }
    if (self->won(race)) ack(std::move(response));
  }

  void handle_view_submission(const slack::envelope& env, const slack::ack_fn& ack,
                              const completion_ptr& done, const done_mark& handled) {
    auto view = parse_view_submission(env.payload);
    auto it = view ? views.find(view->callback_id) : views.end();
    if (it == views.end()) {
      ++stats.unhandled;
      spdlog::warn("no handler for view submission {}", view ? view->callback_id : "(unparsable)");
      ack(std::nullopt);
      return call(handled);
    }
    auto race = start_deadline(ack, "view submission");
    spawn("view " + view->callback_id,
          run_view_submission(shared_from_this(), it->second, *view, race, ack, handled), done);
  }

  void handle_interactive(const slack::envelope& env, const slack::ack_fn& ack, const completion_ptr& done,
                          const done_mark& handled) {
    const std::string type = string_at(env.payload, "type");
    if (type == "block_actions") return handle_block_action(env, ack, done, handled);
    if (type == "view_submission") return handle_view_submission(env, ack, done, handled);
    ack(std::nullopt);
    ++stats.unhandled;
    spdlog::debug("interactive payload of type '{}' not handled", type);
    call(handled);
  }

  // Routes an envelope to its kind's handler.
  void route_kind(const slack::envelope& envelope, const slack::ack_fn& ack, const completion_ptr& done,
                  const done_mark& handled) {
    if (envelope.type == "events_api") return handle_event(envelope, ack, done, handled);
    if (envelope.type == "slash_commands") return handle_slash_command(envelope, ack, done, handled);
    if (envelope.type == "interactive") return handle_interactive(envelope, ack, done, handled);
    ++stats.unhandled;
    spdlog::warn("envelope {} of unknown type '{}'; acked and ignored", envelope.envelope_id, envelope.type);
    ack(std::nullopt);
    call(handled);
  }

  done_mark mark_for(std::int64_t inbox_id) const {
    return [inbox = options.inbox, inbox_id] { inbox->handled(inbox_id); };
  }

  // Inbox first: the envelope is stored (group commit) before anything acks it. The running token
  // keeps drain() and process() waiting for the record as well as for the handlers it starts.
  static asio::awaitable<void> record_then_route(std::shared_ptr<impl> self, slack::envelope envelope,
                                                 slack::ack_fn ack, completion_ptr done, running_token) {
    std::optional<std::int64_t> id;
    try {
      id = co_await self->options.inbox->record(envelope);
    } catch (const std::exception& e) {
      ++self->stats.unrecorded;
      spdlog::error("envelope {} ({}) not recorded, so not acked; Slack will redeliver it: {}",
                    envelope.envelope_id, envelope.type, e.what());
      ack(slack::withheld_ack());  // and the transport's safety ack must not answer it either
      co_return;
    }
    if (!id) {
      ++self->stats.duplicates;
      spdlog::info("envelope {} ({}) is a redelivery of one already received; acked and ignored",
                   envelope.envelope_id, envelope.type);
      ack(std::nullopt);
      co_return;
    }
    try {
      self->route_kind(envelope, ack, done, self->mark_for(*id));
    } catch (const std::exception& e) {
      self->handler_failed("envelope " + envelope.envelope_id, e);
    }
  }

  // ---- the one entry ----

  // Copies of an ack_fn share one "done" flag, so each envelope is observed once.
  slack::ack_fn observed(slack::ack_fn ack, const std::string& type) const {
    if (!options.on_ack) return ack;
    return
        [inner = std::move(ack), observe = options.on_ack, type, received = std::chrono::steady_clock::now(),
         acked = std::make_shared<bool>(false)](slack::ack_payload payload) {
          if (!*acked && !slack::is_withheld(payload))
            observe(type, std::chrono::steady_clock::now() - received);
          *acked = true;
          inner(std::move(payload));
        };
  }

  // What dispatch() would ack a slash command with a kept reply with (answer_at_once).
  std::optional<slack::ack_payload> answer_at_once(const slack::slash_frame& frame) {
    const auto received = std::chrono::steady_clock::now();
    auto reply = kept_reply(
        {frame.command, frame.text, frame.user_id, frame.channel_id, frame.trigger_id, frame.response_url});
    if (!reply) return std::nullopt;
    ++stats.envelopes;
    std::optional<slack::ack_payload> out(std::in_place);  // empty: a repeated envelope
    if (envelope_ids.first_time(frame.envelope_id)) *out = slack::ack_payload::serialized(std::move(reply));
    else ++stats.duplicates;
    if (options.on_ack) options.on_ack("slash_commands", std::chrono::steady_clock::now() - received);
    return out;
  }

  // The kept reply for `cmd` (see static_reply_lookup), or null when it needs its handler.
  std::shared_ptr<const std::string> kept_reply(const slash_command& cmd) const {
    auto lookup = static_replies.find(cmd.command);
    return lookup == static_replies.end() ? nullptr : lookup->second(cmd);
  }

  // The kept reply for an envelope whose ack can carry one, or null.
  std::shared_ptr<const std::string> static_reply_for(const slack::envelope& envelope) const {
    if (static_replies.empty() || envelope.type != "slash_commands" || !envelope.accepts_response_payload)
      return nullptr;
    auto cmd = parse_slash_command(envelope.payload);
    return cmd ? kept_reply(*cmd) : nullptr;
  }

  // Takes the envelope by value: with an inbox it moves on into the recording coroutine (no copy of
  // the payload per envelope).
  void route(slack::envelope envelope, slack::ack_fn raw_ack, const completion_ptr& done) {
    ++stats.envelopes;
    const slack::ack_fn ack = observed(std::move(raw_ack), envelope.type);
    try {
      if (!envelope_ids.first_time(envelope.envelope_id)) {
        // The same envelope twice (Slack has been seen re-sending an envelope_id): ack, do nothing.
        ++stats.duplicates;
        return ack(std::nullopt);
      }
      if (auto reply = static_reply_for(envelope))
        return ack(slack::ack_payload::serialized(std::move(reply)));
      if (options.inbox) {
        running_token token(shared_from_this(), done);
        asio::co_spawn(
            executor, record_then_route(shared_from_this(), std::move(envelope), ack, done, std::move(token)),
            asio::detached);
        return;
      }
      route_kind(envelope, ack, done, {});
    } catch (const std::exception& e) {
      // (The id is empty only if co_spawn itself failed after the envelope moved into the coroutine.)
      handler_failed("envelope " + envelope.envelope_id, e);
      ack(std::nullopt);
    }
  }
};

dispatcher::dispatcher(asio::any_io_executor executor, slack::slack_api& slack, event_log& events,
                       dispatcher_options options)
    : impl_(std::make_shared<impl>(std::move(executor), slack, events, std::move(options))) {}

dispatcher::~dispatcher() = default;

void dispatcher::on_command(const std::string& command, command_handler handler,
                            static_reply_lookup static_reply) {
  impl_->commands[command] = std::move(handler);
  if (static_reply) impl_->static_replies[command] = std::move(static_reply);
  else impl_->static_replies.erase(command);
}
void dispatcher::on_event(const std::string& type, event_handler handler) {
  impl_->event_handlers[type] = std::move(handler);
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
  impl_->route(std::move(envelope), std::move(ack), nullptr);
}

std::optional<slack::ack_payload> dispatcher::answer_at_once(const slack::slash_frame& command) {
  return impl_->answer_at_once(command);
}

asio::awaitable<void> dispatcher::process(slack::envelope envelope, slack::ack_fn ack) {
  auto self = impl_;
  auto done = std::make_shared<impl::completion>(self->executor);
  self->route(std::move(envelope), std::move(ack), done);
  while (done->pending > 0) {
    done->finished.expires_at(std::chrono::steady_clock::time_point::max());
    co_await done->finished.async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

void dispatcher::replay(slack::envelope envelope, std::int64_t inbox_id) {
  envelope.accepts_response_payload = false;  // nobody waits for this ack
  impl::done_mark handled;
  if (impl_->options.inbox) handled = impl_->mark_for(inbox_id);
  try {
    impl_->route_kind(
        envelope, [](const slack::ack_payload&) {}, nullptr, handled);
  } catch (const std::exception& e) {
    impl_->handler_failed("replayed envelope " + envelope.envelope_id, e);
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
