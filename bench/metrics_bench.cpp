// What one /metrics scrape costs the bot's single thread with 1,000, 10,000 and 100,000 open
// incidents (issue 11: a scrape must not grow with open incidents, ≤ 2 ms at 100,000).
//   scrape:             the production path: the open-incident gauge read from the counts table
//                       the store's triggers keep current (O(1) in open incidents).
//   scrape_by_listing:  the earlier path, kept for comparison: every open incident loaded and
//                       parsed to count it (the store interface's O(n) default).
// Each reports the process's peak RSS after the run (VmHWM), which the listing path drives up.
#include "bot/ops/metrics.hpp"
#include "bot/store/sqlite_store.hpp"

#include <stdlib.h>  // NOLINT(modernize-deprecated-headers): mkdtemp is POSIX, declared here

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>

#include <benchmark/benchmark.h>

namespace {

namespace fs = std::filesystem;
using namespace flare::store;
using namespace std::chrono_literals;

constexpr sys_seconds t0{std::chrono::seconds{1795338000}};

struct scratch_dir {
  fs::path path;
  scratch_dir() {
    std::string pattern = (fs::temp_directory_path() / "flare-metrics-bench-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path = pattern;
  }
  ~scratch_dir() {
    std::error_code ignored;
    fs::remove_all(path, ignored);
  }
};

double peak_rss_mib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  }
  return 0;
}

// A store with `n` open incidents shaped like real ones (facts, a decision), spread over the
// severities, made once per size and shared by both benchmarks.
sqlite_store& store_with_open_incidents(std::int64_t n) {
  static std::map<std::int64_t, std::pair<std::unique_ptr<scratch_dir>, std::unique_ptr<sqlite_store>>> made;
  auto& entry = made[n];
  if (!entry.second) {
    entry.first = std::make_unique<scratch_dir>();
    entry.second = sqlite_store::open((entry.first->path / "flare.db").string(), {synchronous_mode::normal});
    const char* severities[] = {"critical", "high", "medium", "low"};
    auto& db = *entry.second;
    db.transaction([&] {
      for (std::int64_t i = 0; i < n; ++i) {
        new_incident f;
        f.title = "Leaked key in a public repository #" + std::to_string(i);
        f.reporter = "U0REPORTER";
        if (i % 5 != 4) f.severity = severities[i % 5];
        f.classification = "potential";
        f.facts = {{"customer_data_exposed", false},
                   {"user_action_needed", true},
                   {"affected_organisations", {"O1", "O2"}},
                   {"systems", {"saas-eu", "saas-us"}}};
        f.channel = "C0INCIDENTS";
        db.create_incident(f, "U0REPORTER", t0, {{"source", "bench"}});
      }
    });
  }
  return *entry.second;
}

void scrape(benchmark::State& state) {
  auto& db = store_with_open_incidents(state.range(0));
  flare::metrics m;
  flare::scrape_sources sources;
  sources.open_incidents_by_severity = [&db] { return flare::open_incidents_by_severity(db); };
  m.set_sources(std::move(sources));
  std::size_t bytes = 0;
  for (auto _ : state) bytes = m.scrape().size();
  state.counters["bytes"] = static_cast<double>(bytes);
  state.counters["peak_rss_MiB"] = peak_rss_mib();
}
BENCHMARK(scrape)->Arg(1000)->Arg(10000)->Arg(100000)->Unit(benchmark::kMicrosecond);

void scrape_by_listing(benchmark::State& state) {
  auto& db = store_with_open_incidents(state.range(0));
  flare::metrics m;
  flare::scrape_sources sources;
  sources.open_incidents_by_severity = [&db] {
    std::map<std::string, std::size_t> counts;
    for (const auto& [severity, n] : db.store::count_open_incidents_by_severity()) counts[severity] = n;
    return counts;
  };
  m.set_sources(std::move(sources));
  for (auto _ : state) benchmark::DoNotOptimize(m.scrape());
  state.counters["peak_rss_MiB"] = peak_rss_mib();
}
BENCHMARK(scrape_by_listing)
    ->Arg(1000)
    ->Arg(10000)
    ->Arg(100000)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(3);

}  // namespace

BENCHMARK_MAIN();
