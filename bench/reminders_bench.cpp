// What deadline reminders cost with 10,000 open incidents: rescheduling one incident after a
// change, the single timer's lookup of the earliest reminder, fire_due() when nothing is due,
// and the idle loop's CPU over a wall-clock second. Memory is reported as resident set size.
#include "bot/runtime/reminder_scheduler.hpp"
#include "bot/store/sqlite_store.hpp"
#include "policy/facts_json.hpp"

#include <stdlib.h>  // NOLINT(modernize-deprecated-headers): mkdtemp is POSIX, declared here
#include <sys/resource.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include <benchmark/benchmark.h>

namespace {

namespace fs = std::filesystem;
namespace asio = boost::asio;
using namespace std::chrono_literals;
using flare::sys_seconds;

constexpr int open_incidents = 10000;
const sys_seconds t0{std::chrono::seconds{1795338000}};

double rss_mib() {
  std::ifstream statm("/proc/self/statm");
  long pages = 0, resident = 0;
  statm >> pages >> resident;
  return static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE)) / (1024.0 * 1024.0);
}

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// 10,000 open, classified incidents (a mix of severities, confirmed over the last days), each
// with its reminder ladder in the store. Built once, shared by every benchmark.
struct world {
  fs::path dir;
  std::unique_ptr<flare::store::sqlite_store> store;
  flare::manual_clock clock{t0};
  flare::policy::tables tables;
  flare::policy::business_calendar calendar{tables.calendar};
  asio::io_context io;
  std::unique_ptr<flare::reminder_scheduler> scheduler;
  double rss_before = 0, rss_after = 0;

  world() {
    std::string pattern = (fs::temp_directory_path() / "flare-reminders-bench-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir = pattern;
    store = flare::store::sqlite_store::open(
        (dir / "flare.db").string(),
        flare::store::sqlite_options{flare::store::synchronous_mode::normal, 5000ms});
    rss_before = rss_mib();
    scheduler = std::make_unique<flare::reminder_scheduler>(io.get_executor(), *store, clock, tables,
                                                            calendar, flare::reminder_settings{}, [] {});
    const flare::policy::severity severities[] = {
        flare::policy::severity::critical, flare::policy::severity::high, flare::policy::severity::medium};
    store->transaction([&] {
      for (int i = 0; i < open_incidents; ++i) {
        flare::policy::facts f;
        f.severity = severities[i % 3];
        f.classification = flare::policy::classification::confirmed;
        f.impact_confirmed_at = t0 - std::chrono::minutes{i % 2000};
        flare::store::new_incident n;
        n.title = "Incident " + std::to_string(i);
        n.reporter = "U0REPORTER";
        n.channel = "C0INCIDENTS";
        n.thread_ts = "1700000000." + std::to_string(i);
        n.facts = flare::policy::to_json(f);
        const auto inc = store->create_incident(n, "U0REPORTER", t0, nlohmann::json::object());
        scheduler->incident_changed(inc.id);
      }
    });
    rss_after = rss_mib();
  }
  ~world() {
    scheduler.reset();
    store.reset();
    std::error_code ignored;
    fs::remove_all(dir, ignored);
  }
};

world& shared_world() {
  static world w;
  return w;
}

// Recomputing one incident's ladder after a change (notified, reclassified, new facts).
void reschedule_one_incident(benchmark::State& state) {
  auto& w = shared_world();
  std::int64_t id = 1;
  for (auto _ : state) {
    w.scheduler->incident_changed(id);
    id = id % open_incidents + 1;
  }
  state.counters["rss_mib"] = rss_mib();
  state.counters["rss_growth_for_10k_mib"] = w.rss_after - w.rss_before;
}
BENCHMARK(reschedule_one_incident);

// What the single timer asks the store each time it re-arms.
void next_pending_reminder(benchmark::State& state) {
  auto& w = shared_world();
  for (auto _ : state) benchmark::DoNotOptimize(w.store->next_pending_reminder());
}
BENCHMARK(next_pending_reminder);

// A timer wake with nothing due (e.g. the periodic re-read).
void fire_due_with_nothing_due(benchmark::State& state) {
  auto& w = shared_world();
  for (auto _ : state) benchmark::DoNotOptimize(w.scheduler->fire_due());
}
BENCHMARK(fire_due_with_nothing_due);

// The run() loop idle for one wall-clock second with 10,000 open incidents: CPU seconds used.
void idle_second_cpu(benchmark::State& state) {
  auto& w = shared_world();
  double cpu = 0;
  for (auto _ : state) {
    asio::io_context io;
    flare::system_clock wall;  // nothing is due: the earliest reminder is hours away
    flare::reminder_scheduler idle(io.get_executor(), *w.store, w.clock, w.tables, w.calendar,
                                   flare::reminder_settings{}, [] {});
    asio::co_spawn(io, idle.run(), asio::detached);
    io.run_for(10ms);  // the first pass
    const double before = cpu_seconds();
    io.run_for(1s);
    cpu += cpu_seconds() - before;
    idle.stop();
    io.run_for(100ms);
  }
  state.counters["idle_cpu_seconds_per_second"] = cpu / static_cast<double>(state.iterations());
}
BENCHMARK(idle_second_cpu)->Iterations(2)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
