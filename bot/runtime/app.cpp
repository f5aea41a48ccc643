#include "bot/runtime/app.hpp"

#include "messages/checklist_view.hpp"

#include "bot/ops/health_server.hpp"
#include "bot/ops/metrics.hpp"
#include "bot/ops/redact.hpp"
#include "bot/runtime/app_home_publisher.hpp"
#include "bot/runtime/clock.hpp"
#include "bot/runtime/console_adapter.hpp"
#include "bot/runtime/digest_scheduler.hpp"
#include "bot/runtime/dispatcher.hpp"
#include "bot/runtime/inbox.hpp"
#include "bot/runtime/inbox_pruner.hpp"
#include "bot/runtime/outbox.hpp"
#include "bot/runtime/reminder_scheduler.hpp"
#include "bot/runtime/startup_checks.hpp"
#include "bot/slack/backoff.hpp"
#include "bot/slack/errors.hpp"
#include "bot/slack/slack_files.hpp"
#include "bot/slack/socket_mode_client.hpp"
#include "bot/slack/timeout.hpp"
#include "bot/slack/web_api_client.hpp"
#include "bot/store/pg_store.hpp"
#include "bot/store/sqlite_store.hpp"
#include "bot/store/store_lock.hpp"
#include "commands/incident_commands.hpp"
#include "commands/incident_export.hpp"
#include "commands/report_intake.hpp"
#include "policy/business_calendar.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <csignal>
#include <iostream>
#include <map>

namespace flare {
namespace asio = boost::asio;

namespace {

// Redelivered events are recognised across restarts because the store remembers them.
class store_event_log final : public event_log {
 public:
  store_event_log(store::store& s, const clock& c) : store_(s), clock_(c) {}
  bool first_time(const std::string& event_id) override {
    return store_.mark_event_processed(event_id, clock_.now());
  }

 private:
  store::store& store_;
  const clock& clock_;
};

// The console stands in for a workspace: channel names, and the console user in both groups so
// every command can be tried.
constexpr const char* console_responders_group = "S0RESPONDERS";
constexpr const char* console_security_group = "S0SECURITY";

constexpr const char* console_store_path = "data/console.db";

// How often a replica on a shared store looks for due reminders (see register_handlers).
constexpr std::chrono::seconds shared_reminder_look{2};

// The console prints posts to the terminal and marks them sent; Slack posts them to Slack. Either
// one draining the other's pending posts loses them (they never reach their audience) or sends
// them where they make no sense, so a store with pending posts stays with the kind of bot that
// made them.
std::optional<std::string> store_mode_refusal(store::store& s, const std::optional<std::string>& previous,
                                              const std::string& name, std::string_view mode) {
  if (!previous || *previous == mode) return std::nullopt;
  const auto pending = s.pending_outbox(1);
  if (pending.empty()) return std::nullopt;
  if (mode == "console")
    return "the store " + name +
           " belongs to the Slack bot and has Slack posts still to send; the console would print them here "
           "and "
           "they would never reach Slack. Run the console on its own store (the default data/console.db: "
           "leave "
           "store.path unset) or run the Slack bot to send them.";
  return "the store " + name +
         " was last used by the console and has console posts still pending; the Slack bot would send them "
         "to "
         "Slack. Use another store.path for the Slack bot.";
}

dispatcher_options observed_by(metrics& m, delivery_log* inbox) {
  dispatcher_options o;
  o.inbox = inbox;
  o.on_ack = [&m](const std::string& type, std::chrono::steady_clock::duration latency) {
    m.envelope_acked(type, latency);
  };
  return o;
}

// The security channel's lane never waits behind public posts (outbox.hpp).
outbox_options outbox_options_for(const config& c, bool console, store::outbox_claims* claims) {
  outbox_options o;
  if (!console && !c.store_url.empty()) {
    // Several replicas: look for posts another replica enqueued or left behind every half claim
    // lease (at least every 5 s), and renew the claims of this replica's sends every third of it,
    // so a dead replica's post goes out about one lease after its last renewal while a live one
    // keeps its post through any wait (docs/postgresql.md).
    o.shared_store = true;
    o.look_every = std::chrono::seconds(std::clamp(c.store_outbox_lease_seconds / 2, 1, 5));
    o.claims = claims;
    o.claim_renew_every = std::chrono::milliseconds(c.store_outbox_lease_seconds * 1000 / 3);
  }
  for (const auto& channel : {c.security_channel, c.console_security_channel})
    if (!channel.empty()) o.private_channels.insert(channel);
  return o;
}

struct runtime {
  runtime(const config& c, asio::io_context& io, store::store& s, slack::slack_api& api, metrics& m,
          bool console, store::delivery_claims* claims, store::outbox_claims* post_claims)
      : cfg(c),
        ioc(io),
        store(s),
        slack(api),
        counters(m),
        calendar(c.policy_tables.calendar),
        events(s, wall_clock),
        deliveries(io.get_executor(), s, wall_clock, inbox_settings(m, claims)),
        dispatch(io.get_executor(), api, events, observed_by(m, console ? nullptr : &deliveries)),
        outbox(io.get_executor(), s, api, wall_clock, outbox_options_for(c, console, post_claims)),
        pruner(io.get_executor(), s, wall_clock,
               prune_options{
                   parse_retention(c.store_processed_retention).value_or(std::chrono::hours(24 * 7))}) {}

  inbox_options inbox_settings(metrics& m, store::delivery_claims* claims) {
    inbox_options o;
    o.claims = claims;
    o.on_write = [&m](bool ok, const std::string&) {
      if (!ok) m.store_write_failed();
    };
    o.on_parked = [&m](const store::delivery&) { m.delivery_parked(); };
    return o;
  }

  // Readiness: a real write (the heartbeat row) and an inbox that took its last batch. A full or
  // read-only disk turns /readyz red instead of acking envelopes it cannot keep.
  bool store_ready() {
    if (!deliveries.writable()) return false;
    try {
      store.heartbeat(wall_clock.now());
      return true;
    } catch (const std::exception& e) {
      counters.store_write_failed();
      spdlog::warn("readiness: the store does not take writes: {}", e.what());
      return false;
    }
  }

  // Deliveries a crash (or a failed handler) left unfinished are handled now, before new ones.
  // Several replicas: the inbox's claim loop does this (start_background_work), taking only
  // deliveries whose replica is gone: another replica's running handler is not replayed here.
  void replay_unfinished() {
    if (shared_inbox) return;
    std::size_t replayed = 0;
    for (auto& [id, envelope] : deliveries.unfinished(100000)) {
      dispatch.replay(std::move(envelope), id);
      ++replayed;
    }
    if (replayed > 0)
      spdlog::info("inbox: handling {} delivery(ies) left unfinished by the last run", replayed);
  }

  const config& cfg;
  asio::io_context& ioc;
  store::store& store;
  slack::slack_api& slack;
  metrics& counters;
  // The Socket Mode link, while run_slack has one (readiness and reconnect metrics).
  const slack::socket_mode_client* socket = nullptr;
  bool socket_up = false;
  system_clock wall_clock;
  policy::business_calendar calendar;
  store_event_log events;
  inbox deliveries;           // Slack mode only: the console has no redeliveries
  bool shared_inbox = false;  // several replicas: unfinished deliveries are claimed, not just replayed
  dispatcher dispatch;
  outbox_sender outbox;
  inbox_pruner pruner;
  std::unique_ptr<reminder_scheduler> reminders;
  std::unique_ptr<commands::incident_commands> incident_commands;
  std::unique_ptr<commands::report_intake> intake;
  slack::slack_files* files = nullptr;  // issue 12: file uploads and App Home (none on the console)
  std::unique_ptr<commands::incident_export> exporter;
  std::unique_ptr<app_home_publisher> home;  // issue 12: the App Home tab
  std::unique_ptr<digest_scheduler> digest;  // issue 12: the weekly digest (none when off)
  // Aborts Slack calls still running when shutdown's time is up (the Web API client's cancel()).
  std::function<void()> cancel_slack_calls;

  void register_handlers(const commands::command_settings& settings) {
    reminder_settings ladder;
    ladder.security_team_group = settings.security_team_group;
    ladder.obligations.hours_before = cfg.reminder_hours_before;
    ladder.obligations.overdue_backoff_hours = {cfg.overdue_every_hours, 2 * cfg.overdue_every_hours};
    ladder.obligations.overdue_then_every_hours = cfg.overdue_then_every_hours;
    ladder.obligations.quiet = cfg.quiet_hours;
    ladder.untriaged_after = std::chrono::seconds(cfg.untriaged_after_seconds);
    ladder.responders_group = settings.responders_group;
    ladder.command_name = settings.command_name;
    ladder.on_sent = [this](bool late, bool overdue) { counters.reminder_sent(late, overdue); };
    // Several replicas: a reminder another replica scheduled (or one whose replica died) is not
    // announced here, so the one next-due query runs every few seconds instead of every few
    // minutes: a reminder fires within seconds from any replica, at the cost of one indexed
    // query per replica per look (no poll per incident). Firing stays exactly once: the
    // transaction that marks it sent (docs/postgresql.md).
    if (shared_inbox) ladder.max_wait = shared_reminder_look;
    reminders = std::make_unique<reminder_scheduler>(ioc.get_executor(), store, wall_clock, cfg.policy_tables,
                                                     calendar, ladder, [this] { outbox.wake(); });
    commands::command_context ctx{store,
                                  slack,
                                  wall_clock,
                                  cfg.policy_tables,
                                  calendar,
                                  settings,
                                  [this] { outbox.wake(); },
                                  [this](std::int64_t id) {
                                    reminders->incident_changed(id);
                                    if (home) home->incident_changed();
                                  }};
    incident_commands = std::make_unique<commands::incident_commands>(std::move(ctx));
    exporter = std::make_unique<commands::incident_export>(
        store, files != nullptr, wall_clock, cfg.policy_tables, calendar, *incident_commands,
        settings.security_channel, settings.command_name, [this] { outbox.wake(); });
    // `export` (issue 12) is answered by its own handler; everything else by the grammar.
    dispatch.on_command(
        settings.command_name,
        [this](slash_command cmd) {
          if (commands::incident_export::is_export(cmd.text)) return exporter->handle(std::move(cmd));
          return incident_commands->handle(std::move(cmd));
        },
        [this](const slash_command& cmd) { return incident_commands->static_reply(cmd); });
    if (files) {
      app_home_options home_options;
      home_options.command_name = settings.command_name;
      home = std::make_unique<app_home_publisher>(
          ioc.get_executor(), store, slack, *files, wall_clock, cfg.policy_tables, calendar,
          [this](std::string user) { return incident_commands->is_security_team(std::move(user)); },
          home_options);
    }
    if (auto schedule = configured_digest_schedule(); schedule && !settings.security_channel.empty()) {
      digest = std::make_unique<digest_scheduler>(ioc.get_executor(), store, files != nullptr, wall_clock,
                                                  cfg.policy_tables, calendar, *schedule,
                                                  settings.security_channel, [this] { outbox.wake(); });
    }
    // Slack sends app_home_opened for the Messages tab too; only the Home tab is published.
    dispatch.on_event("app_home_opened", [this](nlohmann::json event) -> asio::awaitable<void> {
      const auto text = [&](const char* key) {
        auto it = event.find(key);
        return it != event.end() && it->is_string() ? it->get<std::string>() : std::string{};
      };
      if (text("tab") != "home" || !home) co_return;
      co_await home->opened(text("user"));
    });

    commands::intake_settings intake_settings{
        .incidents_channel = settings.incidents_channel,
        .security_channel = settings.security_channel,
        .security_team_group = settings.security_team_group,
        .head_of_finance_ops = cfg.head_of_finance_ops,
        .command_name = settings.command_name,
        .signals = cfg.signals,
        .sensitive_categories = cfg.sensitive_categories,
        .report_threshold = cfg.intake_threshold,
        .responders_group = settings.responders_group,
        .page_responders = cfg.page_responders,
        .head_of_finance_ops_categories = cfg.head_of_finance_ops_categories,
    };
    intake = std::make_unique<commands::report_intake>(store, slack, wall_clock, *incident_commands,
                                                       std::move(intake_settings), [this] { outbox.wake(); });
    dispatch.on_message([this](message_event e) { return intake->on_message(std::move(e)); });
    dispatch.on_action("open_incident",
                       [this](block_action a) { return intake->on_open_incident(std::move(a)); });
    dispatch.on_action("report_sensitive",
                       [this](block_action a) { return intake->on_mark_sensitive(std::move(a)); });
    dispatch.on_action("dm_report_privately",
                       [this](block_action a) { return intake->on_dm_report(std::move(a)); });
    dispatch.on_action("dm_just_a_question",
                       [this](block_action a) { return intake->on_dm_question(std::move(a)); });
    dispatch.on_action("mark_notified",
                       [this](block_action a) { return intake->on_mark_notified(std::move(a)); });
    dispatch.on_action("post_update",
                       [this](block_action a) { return intake->on_post_update(std::move(a)); });
    dispatch.on_view_submission(
        "post_update", [this](view_submission v) { return intake->on_post_update_submission(std::move(v)); });
    // The checklist on the card (issue 9): Mark done (a modal), record a call, confirm a move.
    dispatch.on_action(std::string{messages::mark_done_action},
                       [this](block_action a) { return incident_commands->on_mark_done(std::move(a)); });
    dispatch.on_view_submission(std::string{messages::mark_done_callback}, [this](view_submission v) {
      return incident_commands->on_mark_done_submission(std::move(v));
    });
    dispatch.on_action(std::string{messages::record_call_action},
                       [this](block_action a) { return incident_commands->on_record_call(std::move(a)); });
    dispatch.on_action(std::string{messages::confirm_move_action},
                       [this](block_action a) { return incident_commands->on_confirm_move(std::move(a)); });
  }

  // digest.day/time/timezone (validated by the config loader); nullopt when "off".
  std::optional<digest_schedule> configured_digest_schedule() const {
    static const std::map<std::string, date::weekday> days = {
        {"monday", date::Monday},     {"tuesday", date::Tuesday}, {"wednesday", date::Wednesday},
        {"thursday", date::Thursday}, {"friday", date::Friday},   {"saturday", date::Saturday},
        {"sunday", date::Sunday}};
    std::string day = cfg.digest_day;
    std::transform(day.begin(), day.end(), day.begin(), [](unsigned char c) { return std::tolower(c); });
    auto it = days.find(day);
    if (it == days.end()) return std::nullopt;
    digest_schedule s;
    s.day = it->second;
    s.time_of_day = std::chrono::minutes(std::stoi(cfg.digest_time.substr(0, 2)) * 60 +
                                         std::stoi(cfg.digest_time.substr(3, 2)));
    s.zone = date::locate_zone(cfg.digest_timezone.empty() ? cfg.policy_tables.calendar.zone
                                                           : cfg.digest_timezone);
    return s;
  }

  bool background_started = false;

  // The outbox and the reminder timer run for the life of the bot.
  void start_background_work() {
    asio::co_spawn(ioc, outbox.run(), asio::detached);
    asio::co_spawn(ioc, reminders->run(), asio::detached);
    asio::co_spawn(ioc, pruner.run(), asio::detached);
    if (digest) asio::co_spawn(ioc, digest->run(), asio::detached);
    if (shared_inbox) {
      asio::co_spawn(ioc, deliveries.run_claims([this](std::int64_t id, slack::envelope envelope) {
        dispatch.replay(std::move(envelope), id);
      }),
                     asio::detached);
    }
    background_started = true;
  }

  // The one shutdown path, whatever ended the receiver (a signal, the end of the console's input,
  // Slack closing the link for good): in-flight handlers finish, then the outbox gets a bounded
  // chance to send what they decided; whatever is left stays in the store and is sent after the
  // next start.
  asio::awaitable<void> shut_down() {
    const auto limit = std::chrono::seconds(cfg.shutdown_drain_seconds);
    if (!co_await dispatch.drain(limit))
      spdlog::warn("shutdown: {} handler(s) still running after {}s", dispatch.in_flight(), limit.count());
    if (background_started) {
      reminders->stop();
      pruner.stop();
      if (digest) digest->stop();
      deliveries.stop();   // claims of handlers still running expire; another replica replays them
      deliveries.flush();  // the done marks of the handlers that just finished
      outbox.stop();
      // A last pass over the outbox, bounded: a Slack call still running when time is up is
      // cancelled and its post stays pending for the next start.
      if (!co_await slack::finished_within(drain_outbox_once(), limit) && cancel_slack_calls)
        cancel_slack_calls();
      const auto left = outbox.pending();
      if (left > 0)
        spdlog::warn("shutdown: {} Slack post(s) still pending; they will be sent after restart", left);
    }
    if (cancel_slack_calls) cancel_slack_calls();
  }

  asio::awaitable<void> drain_outbox_once() { co_await outbox.drain_once(); }
};

// Runs a receiver (the console or the Socket Mode session) until it ends, turning SIGINT/SIGTERM
// into its stop(); then the one shutdown path. Returns the receiver's exit code.
template <class Receiver>
asio::awaitable<int> run_until_stopped(runtime& rt, Receiver& receiver) {
  asio::signal_set signals(rt.ioc, SIGINT, SIGTERM);
  signals.async_wait([&receiver](const boost::system::error_code& ec, int signal) {
    if (ec) return;  // the receiver ended first
    spdlog::info("received signal {}; finishing in-flight work", signal);
    receiver.stop();
  });
  const int result = co_await receiver.run();
  signals.cancel();
  co_await rt.shut_down();
  co_return result;
}

// The terminal as a receiver: typed lines go through the same dispatcher as Slack's envelopes.
class console_receiver {
 public:
  explicit console_receiver(runtime& rt)
      : rt_(rt),
        slack_(dynamic_cast<console_slack&>(rt.slack)),
        adapter_(rt.dispatch, slack_, std::cout,
                 console_options{rt.cfg.console_user, rt.cfg.console_channel}) {}

  asio::awaitable<int> run() {
    const auto identity = co_await slack_.auth_test();
    rt_.intake->set_bot_identity(identity->user_id, identity->bot_id);
    rt_.start_background_work();
    std::cout << "flare console: you are " << rt_.cfg.console_user
              << " in #incidents. Type /incident help, a report, or !help. Ctrl-D quits.\n"
              << std::flush;
    co_await adapter_.run_stdin(rt_.ioc.get_executor());
    spdlog::info("console closed");
    co_return exit_ok;
  }

  void stop() { adapter_.stop(); }

 private:
  runtime& rt_;
  console_slack& slack_;
  console_adapter adapter_;
};

// Slack as a receiver: auth.test until Slack answers, then the Socket Mode link until stop() or
// a refusal.
class slack_receiver {
 public:
  slack_receiver(runtime& rt, slack::web_api_client& web)
      : rt_(rt), web_(web), stop_wake_(rt.ioc.get_executor()) {
    rt_.cancel_slack_calls = [&web] { web.cancel(); };
  }

  asio::awaitable<int> run() {
    auto identity = co_await authenticate();
    if (!identity) co_return stopping_ ? exit_ok : start_up_failure_;
    rt_.intake->set_bot_identity(identity->user_id, identity->bot_id);
    spdlog::info("connected to Slack team {} as bot user {}", identity->team_id, identity->user_id);
    // Before taking any report: the channels and groups it is routed by exist and are usable
    // (issue 8; startup_checks.hpp).
    const auto checked = co_await check_slack_setup(rt_.slack, rt_.cfg);
    if (checked.unreachable) {
      spdlog::critical("could not check the Slack setup ({}). Check the network and SLACK_API_URL.",
                       *checked.unreachable);
      co_return exit_failure;
    }
    if (!checked.problems.empty()) {
      spdlog::critical("{}",
                       config_error(rt_.cfg.source + ", checked against Slack", checked.problems).what());
      co_return exit_bad_config;
    }
    const int result = co_await serve_socket();
    if (result == exit_ok) spdlog::info("stopped cleanly");
    co_return result;
  }

  // Before the link is up: ends the auth.test retries. After: in-flight handlers finish (they may
  // need the socket for their acks), then the link closes.
  void stop() {
    if (stopping_) return;
    stopping_ = true;
    stop_wake_.notify();
    if (!socket_) {
      web_.cancel();
      return;
    }
    asio::co_spawn(rt_.ioc, close_link_after_handlers(), asio::detached);
  }

 private:
  asio::awaitable<void> close_link_after_handlers() {
    co_await rt_.dispatch.drain(std::chrono::seconds(rt_.cfg.shutdown_drain_seconds));
    if (socket_) socket_->stop();
  }

  // auth.test, again and again until Slack answers (issue 13 item 5): only a refusal of the token
  // (exit 4) or a certificate that does not verify (exit 1) stops the bot; an outage, a rate
  // limit or an unreachable Slack is waited out with capped backoff. /readyz stays down
  // meanwhile: there is no link yet.
  asio::awaitable<std::optional<slack::auth_identity>> authenticate() {
    slack::backoff pause(
        slack::backoff_policy{std::chrono::seconds(1), std::chrono::seconds(60), slack::jitter::equal});
    while (!stopping_) {
      auto identity = co_await web_.auth_test();
      if (identity) co_return identity.value();
      const auto& e = identity.error();
      switch (slack::classify(e)) {
        case slack::error_kind::refused:
          spdlog::critical("Slack rejected the bot token (auth.test: {}{}). Check SLACK_BOT_TOKEN.", e.code,
                           e.detail.empty() ? "" : ", " + e.detail);
          start_up_failure_ = exit_slack_refused;
          co_return std::nullopt;
        case slack::error_kind::untrusted:
          spdlog::critical(
              "could not reach Slack at {} (auth.test: {}{}). Check SLACK_API_URL and SLACK_CA_FILE.",
              rt_.cfg.api_url, e.code, e.detail.empty() ? "" : ", " + e.detail);
          start_up_failure_ = exit_failure;
          co_return std::nullopt;
        case slack::error_kind::cancelled: co_return std::nullopt;
        default: break;
      }
      const auto delay = pause.next();
      if (e.transport)
        spdlog::error(
            "could not reach Slack at {} (auth.test: {}{}); trying again in {} ms. Check the network, "
            "SLACK_API_URL and SLACK_CA_FILE.",
            rt_.cfg.api_url, e.code, e.detail.empty() ? "" : ", " + e.detail, delay.count());
      else
        spdlog::error("Slack is not answering auth.test yet ({}{}); trying again in {} ms", e.code,
                      e.detail.empty() ? "" : ", " + e.detail, delay.count());
      co_await stop_wake_.wait_until(std::chrono::steady_clock::now() + delay);
    }
    co_return std::nullopt;
  }

  asio::awaitable<int> serve_socket() {
    slack::socket_mode_options socket_options;
    socket_options.extra_ca_file = rt_.cfg.ca_file;
    const std::string app_token = rt_.cfg.app_token;
    runtime& rt = rt_;
    slack::web_api_client& web = web_;
    slack::socket_mode_client socket(
        rt.ioc.get_executor(), socket_options,
        [&web, app_token]() { return web.apps_connections_open(app_token); },
        [&rt](slack::envelope env, slack::ack_fn ack) {
          rt.counters.envelope_received(env.type);
          rt.dispatch.dispatch(std::move(env), std::move(ack));
        });
    socket.on_connected_changed = [&rt](bool up) { rt.socket_up = up; };
    // /incident help and other kept replies: answered from the frame, no envelope built (issue 11).
    socket.quick_reply = [&rt](const slack::slash_frame& command) {
      auto reply = rt.dispatch.answer_at_once(command);
      if (reply) rt.counters.envelope_received("slash_commands");
      return reply;
    };
    socket_ = &socket;
    rt.socket = &socket;
    rt.start_background_work();
    rt.replay_unfinished();

    auto fatal = co_await socket.run();
    rt.socket_up = false;
    rt.socket = nullptr;
    socket_ = nullptr;
    if (fatal && !stopping_) {
      spdlog::critical("Slack closed the Socket Mode link for good: {} ({}). {}", fatal->code, fatal->detail,
                       fatal->code == "link_disabled"
                           ? "Socket Mode was switched off in the app settings."
                           : "Check SLACK_APP_TOKEN (xapp-..., connections:write).");
      co_return exit_slack_refused;
    }
    co_return exit_ok;
  }

  runtime& rt_;
  slack::web_api_client& web_;
  slack::socket_mode_client* socket_ = nullptr;
  slack::wakeup stop_wake_;
  bool stopping_ = false;
  int start_up_failure_ = exit_failure;
};

}  // namespace

int check_slack_online(const config& cfg, std::ostream& out, std::ostream& err) {
  if (auto problems = slack_mode_problems(cfg); !problems.empty()) {
    err << config_error(cfg.source, problems).what() << "\n";
    return exit_bad_config;
  }
  asio::io_context ioc(1);
  slack::web_api_options options;
  options.api_url = cfg.api_url;
  options.bot_token = cfg.bot_token;
  options.extra_ca_file = cfg.ca_file;
  options.request_timeout = std::chrono::seconds(cfg.request_timeout_seconds);
  slack::web_api_client web(ioc.get_executor(), options);
  int result = exit_failure;
  asio::co_spawn(
      ioc,
      [&]() -> asio::awaitable<void> {
        auto identity = co_await web.auth_test();
        if (!identity) {
          const auto& e = identity.error();
          err << (e.transport
                      ? "could not reach Slack at " + cfg.api_url + " (auth.test: " + e.code + ")"
                      : "Slack rejected the bot token (auth.test: " + e.code + "). Check SLACK_BOT_TOKEN.")
              << "\n";
          result = e.transport ? exit_failure : exit_slack_refused;
          co_return;
        }
        const auto checked = co_await check_slack_setup(web, cfg);
        if (checked.unreachable) {
          err << "could not check the Slack setup (" << *checked.unreachable << ")\n";
          result = exit_failure;
        } else if (!checked.problems.empty()) {
          err << config_error(cfg.source + ", checked against Slack", checked.problems).what() << "\n";
          result = exit_bad_config;
        } else {
          out << "Slack setup OK: team " << identity->team_id << ", bot user " << identity->user_id
              << "; security channel private with the bot in it, #incidents with the bot in it, groups "
                 "found\n";
          result = exit_ok;
        }
      },
      [&](const std::exception_ptr& e) {
        if (!e) return;
        try {
          std::rethrow_exception(e);
        } catch (const std::exception& x) {
          err << "check failed: " << x.what() << "\n";
        }
        result = exit_failure;
      });
  ioc.run();
  return result;
}

int run_bot(const config& cfg, run_mode mode) {
  const bool console = mode == run_mode::console || (mode == run_mode::automatic && !cfg.has_slack_tokens());
  if (!console) {
    if (auto problems = slack_mode_problems(cfg); !problems.empty()) {
      std::cerr << config_error(cfg.source, problems).what() << "\n";
      return exit_bad_config;
    }
  }

  // The console keeps its own store unless one is configured: trying commands out must never
  // touch (or drain) the Slack bot's store. It never uses the shared PostgreSQL store either.
  const bool shared = !console && !cfg.store_url.empty();
  const std::string store_path =
      console && cfg.store_path == config{}.store_path ? console_store_path : cfg.store_path;
  std::unique_ptr<store::store_lock> lock;
  std::unique_ptr<store::store> store;
  store::delivery_claims* claims = nullptr;
  store::outbox_claims* post_claims = nullptr;
  std::string store_name;
  if (shared) {
    // Several replicas share this store by design: no lock file. The password comes from
    // PGPASSWORD (libpq reads it) or store.password_file; both are masked in every log line.
    store::pg_options pg;
    pg.outbox_lease = std::chrono::seconds(cfg.store_outbox_lease_seconds);
    pg.inbox_lease = std::chrono::seconds(cfg.store_inbox_lease_seconds);
    try {
      if (!cfg.store_password_file.empty()) pg.password = store::read_password_file(cfg.store_password_file);
      auto opened = store::pg_store::open(cfg.store_url, pg);
      store_name = opened->display_url();
      if (auto refusal = store_mode_refusal(*opened, opened->used_by(), store_name, "slack")) {
        std::cerr << *refusal << "\n";
        return exit_bad_config;
      }
      opened->set_used_by("slack");
      claims = opened.get();
      post_claims = opened.get();
      store = std::move(opened);
    } catch (const store::store_error& e) {
      std::cerr << e.what() << "\n";
      return exit_failure;
    }
  } else {
    try {
      lock = store::store_lock::acquire(store_path);
    } catch (const store::store_locked& e) {
      std::cerr << e.what() << "\n";
      return exit_bad_config;
    }
    store::sqlite_options store_options;
    store_options.synchronous =
        cfg.store_synchronous == "normal" ? store::synchronous_mode::normal : store::synchronous_mode::full;
    store_options.check_integrity = true;
    std::unique_ptr<store::sqlite_store> opened;
    try {
      opened = store::sqlite_store::open(store_path, store_options);
    } catch (const store::store_corrupt& e) {
      std::cerr << e.what() << "\n";
      return exit_failure;
    }
    store_name = store_path;
    if (auto refusal =
            store_mode_refusal(*opened, opened->used_by(), store_name, console ? "console" : "slack")) {
      std::cerr << *refusal << "\n";
      return exit_bad_config;
    }
    opened->set_used_by(console ? "console" : "slack");
    store = std::move(opened);
  }
  spdlog::info("store {} (schema version {})", store_name, store->schema_version());

  asio::io_context ioc(1);
  metrics counters;
  std::unique_ptr<slack::slack_api> slack;
  slack::web_api_client* web = nullptr;
  std::unique_ptr<slack::slack_files> files;
  commands::command_settings settings;
  settings.command_name = cfg.command;
  if (console) {
    auto printer = std::make_unique<console_slack>(std::cout);
    printer->name_channel(cfg.console_channel, "incidents");
    printer->name_channel(cfg.console_security_channel, "security-private");
    printer->add_usergroup_member(console_responders_group, cfg.console_user);
    printer->add_usergroup_member(console_security_group, cfg.console_user);
    settings.incidents_channel = cfg.console_channel;
    settings.security_channel = cfg.console_security_channel;
    settings.responders_group = console_responders_group;
    settings.security_team_group = console_security_group;
    slack = std::move(printer);
  } else {
    slack::web_api_options options;
    options.api_url = cfg.api_url;
    options.bot_token = cfg.bot_token;
    options.extra_ca_file = cfg.ca_file;
    options.request_timeout = std::chrono::seconds(cfg.request_timeout_seconds);
    options.channel_posts_per_second = cfg.posts_per_second;
    options.channel_burst = cfg.post_burst;
    options.on_call_done = [&counters](const std::string& method, const std::string& error) {
      counters.web_api_call(method, error);
    };
    options.on_rate_limited = [&counters](const std::string& method, std::chrono::seconds wait) {
      counters.web_api_rate_limited(method, wait);
    };
    auto client = std::make_unique<slack::web_api_client>(ioc.get_executor(), options);
    web = client.get();
    files = std::make_unique<slack::web_slack_files>(ioc.get_executor(), *client, cfg.ca_file,
                                                     std::chrono::seconds(cfg.request_timeout_seconds));
    slack = std::move(client);
    settings.incidents_channel = cfg.incidents_channel;
    settings.security_channel = cfg.security_channel;
    settings.responders_group = cfg.responders_group;
    settings.security_team_group = cfg.security_team_group;
  }

  runtime rt(cfg, ioc, *store, *slack, counters, console, claims, post_claims);
  rt.shared_inbox = claims != nullptr;
  rt.files = files.get();
  rt.outbox.use_files(rt.files);  // "upload" items: the record export, the digest's chart
  rt.register_handlers(settings);

  counters.set_sources(scrape_sources{
      [&rt] {
        return rt.socket ? rt.socket->stats().reconnects_by_reason : std::map<std::string, std::uint64_t>{};
      },
      [&rt] { return rt.socket_up; },
      [&rt] { return open_incidents_by_severity(rt.store); },
      [&rt] { return rt.outbox.pending(); },
      [&rt] { return rt.outbox.stats().failed; },
  });
  std::unique_ptr<health_server> health;
  if (cfg.health_port != 0) {
    health_options options;
    options.address = cfg.health_address;
    options.port = static_cast<std::uint16_t>(cfg.health_port);
    // Console: there is no link to wait for, so ready means the store takes writes.
    health_handlers handlers{[&rt, console] { return (console || rt.socket_up) && rt.store_ready(); },
                             [&counters] { return counters.scrape(); }};
    try {
      health = std::make_unique<health_server>(ioc.get_executor(), options, std::move(handlers));
      asio::co_spawn(ioc, health->run(), asio::detached);
    } catch (const std::system_error& e) {
      // In production the probes depend on it: refuse to start. On the console it is a
      // convenience, and a busy port (another flare) must not stop a try-out.
      if (!console) {
        std::cerr << "health.address/health.port: cannot listen on " << cfg.health_address << ":"
                  << cfg.health_port << " (" << e.what() << ")\n";
        return exit_bad_config;
      }
      spdlog::warn("health endpoint off: cannot listen on {}:{} ({})", cfg.health_address, cfg.health_port,
                   e.what());
    }
  }

  int result = exit_failure;
  asio::co_spawn(
      ioc,
      [&]() -> asio::awaitable<void> {
        if (console) {
          console_receiver receiver(rt);
          result = co_await run_until_stopped(rt, receiver);
        } else {
          slack_receiver receiver(rt, *web);
          result = co_await run_until_stopped(rt, receiver);
        }
        if (health) health->stop();
        ioc.stop();
      },
      [&](const std::exception_ptr& error) {
        if (!error) return;
        try {
          std::rethrow_exception(error);
        } catch (const std::exception& e) {
          spdlog::critical("flare stopped on an unexpected error: {}", e.what());
        }
        result = exit_failure;
        ioc.stop();
      });
  ioc.run();
  return result;
}

}  // namespace flare
