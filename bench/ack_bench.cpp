// Ack latency and throughput through the fake Slack on loopback: the real Socket Mode client and
// dispatcher on one io_context thread, the fake Slack on its own, 50 envelopes in flight.
// Targets (docs/operations.md, "Benchmarks"): p99 under 5 ms, at least 5,000 acks/s, peak RSS under 20 MB.
//
// Two variants: the dispatcher de-duplicating events in memory (the transport's own cost), and
// with the durable store behind it (what the running bot does after each ack).
#include "bot/runtime/console_adapter.hpp"
#include "bot/runtime/dispatcher.hpp"
#include "bot/slack/socket_mode_client.hpp"
#include "bot/slack/web_api_client.hpp"
#include "bot/store/sqlite_store.hpp"
#include "tests/fake_slack/fake_slack.hpp"
#include "tests/support/bot_env.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/temp_dir.hpp"

#include <benchmark/benchmark.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <algorithm>
#include <csignal>
#include <deque>
#include <fstream>
#include <sstream>
#include <thread>

namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using json = nlohmann::json;

// Peak resident set size of a process ("self" or a pid) from /proc, in KiB.
long peak_rss_kib(const std::string& process = "self") {
  std::ifstream status("/proc/" + process + "/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
  return 0;
}

// Sends `total` envelopes keeping `in_flight` unacked; returns sorted ack latencies in
// microseconds (empty if an ack went missing) and sets `seconds` to the elapsed time.
std::vector<double> drive(flare::testing::fake_slack& fake, int total, int in_flight, const std::string& tag,
                          double& seconds) {
  std::vector<double> latencies_us;
  latencies_us.reserve(static_cast<std::size_t>(total));
  std::deque<std::string> window;
  int sent = 0;
  auto send_one = [&] {
    const json payload = {{"type", "event_callback"},
                          {"event_id", "Ev" + tag + "-" + std::to_string(sent)},
                          {"event", {{"type", "reaction_added"}, {"user", "U1"}}}};
    window.push_back(fake.send_envelope("events_api", payload));
    ++sent;
  };
  const auto started = std::chrono::steady_clock::now();
  while (sent < std::min(in_flight, total)) send_one();
  while (!window.empty()) {
    const auto ack = fake.wait_for_ack(window.front(), 5s);
    window.pop_front();
    if (!ack) return {};
    latencies_us.push_back(std::chrono::duration<double, std::micro>(ack->latency).count());
    if (sent < total) send_one();
  }
  seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::sort(latencies_us.begin(), latencies_us.end());
  return latencies_us;
}

// p50, p99 and acks/s of one drive() run.
void report(benchmark::State& state, const std::vector<double>& latencies_us, double seconds) {
  auto percentile = [&](double p) {
    return latencies_us[static_cast<std::size_t>(p * static_cast<double>(latencies_us.size() - 1))];
  };
  state.counters["p50_us"] = percentile(0.50);
  state.counters["p99_us"] = percentile(0.99);
  state.counters["max_us"] = latencies_us.back();
  state.counters["acks_per_s"] = static_cast<double>(latencies_us.size()) / seconds;
}

class durable_events final : public flare::event_log {
 public:
  explicit durable_events(flare::store::store& s) : store_(s) {}
  bool first_time(const std::string& id) override {
    return store_.mark_event_processed(
        id, std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now()));
  }

 private:
  flare::store::store& store_;
};

void run_acks(benchmark::State& state, bool durable) {
  const int total = static_cast<int>(state.range(0));
  constexpr int in_flight = 50;
  flare::testing::fake_slack fake;
  asio::io_context io(1);
  std::ostringstream sink;
  flare::console_slack quiet(sink);
  const flare::testing::temp_dir dir{"flare-ack-bench"};
  std::unique_ptr<flare::store::sqlite_store> store;
  std::unique_ptr<flare::event_log> events;
  if (durable) {
    store = flare::store::sqlite_store::open(dir.file("bench.db"));
    events = std::make_unique<durable_events>(*store);
  } else {
    events = std::make_unique<flare::remember_recent_events>(100000);
  }
  flare::dispatcher dispatch(io.get_executor(), quiet, *events);

  flare::slack::web_api_options web_options;
  web_options.api_url = fake.api_url();
  web_options.bot_token = fake.options().bot_token;
  web_options.extra_ca_file = fake.ca_file();
  flare::slack::web_api_client web(io.get_executor(), web_options);
  flare::slack::socket_mode_options socket_options;
  socket_options.extra_ca_file = fake.ca_file();
  const std::string app_token = fake.options().app_token;
  flare::slack::socket_mode_client socket(
      io.get_executor(), socket_options, [&] { return web.apps_connections_open(app_token); },
      [&](flare::slack::envelope e, flare::slack::ack_fn ack) {
        dispatch.dispatch(std::move(e), std::move(ack));
      });
  asio::co_spawn(
      io, [&]() -> asio::awaitable<void> { co_await socket.run(); }, asio::detached);
  std::thread bot([&] { io.run(); });

  if (!fake.wait_for_open_connections(1, 10s)) {
    state.SkipWithError("the client did not connect");
  } else {
    int iteration = 0;
    for (auto _ : state) {
      double seconds = 0;
      // Event ids unique across iterations, so the de-duplication never drops one.
      const std::string tag = "Bench" + std::to_string(durable) + "." + std::to_string(iteration++);
      const auto latencies = drive(fake, total, in_flight, tag, seconds);
      if (latencies.empty()) {
        state.SkipWithError("an ack did not arrive within 5 s");
        break;
      }
      report(state, latencies, seconds);
    }
  }
  state.counters["peak_rss_MiB"] = static_cast<double>(peak_rss_kib()) / 1024.0;
  asio::post(io, [&] { socket.stop(); });
  bot.join();
}

// The real bot binary in its own process, durable store and all: what production acks cost, and
// the bot's own peak RSS (the in-process variants above also count the fake Slack's memory). Its
// environment is the end-to-end tests' (tests/support/bot_env.hpp).
void BM_acks_flare_process(benchmark::State& state) {
  const bool full = state.range(1) == 1;
  flare::testing::fake_slack fake;
  fake.set_usergroup_members("S0SEC", {"U0SEC"});  // the start-up checks look both groups up
  fake.set_usergroup_members("S0RESP", {"U0ALICE"});
  const flare::testing::temp_dir dir{"flare-ack-bench-proc"};
  flare::testing::child_process bot(
      FLARE_BINARY, {"run"},
      flare::testing::bot_env(
          fake, dir, {{"FLARE_STORE_SYNCHRONOUS", full ? "full" : "normal"}, {"FLARE_LOG_LEVEL", "warn"}}));
  if (!fake.wait_for_open_connections(1, 15s)) {
    state.SkipWithError("the bot did not connect");
  } else {
    for (auto _ : state) {
      double seconds = 0;
      const auto latencies =
          drive(fake, static_cast<int>(state.range(0)), 50, full ? "full" : "normal", seconds);
      if (latencies.empty()) {
        state.SkipWithError("an ack did not arrive within 5 s");
        break;
      }
      report(state, latencies, seconds);
    }
    state.counters["bot_peak_rss_MiB"] =
        static_cast<double>(peak_rss_kib(std::to_string(bot.pid()))) / 1024.0;
  }
  bot.signal(SIGTERM);
  bot.wait(15s);
}
BENCHMARK(BM_acks_flare_process)
    ->Args({5000, 0})
    ->Args({2000, 1})
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

void BM_acks_in_memory_dedup(benchmark::State& state) { run_acks(state, false); }
void BM_acks_durable_dedup(benchmark::State& state) { run_acks(state, true); }

BENCHMARK(BM_acks_in_memory_dedup)->Arg(20000)->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_acks_durable_dedup)->Arg(2000)->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
