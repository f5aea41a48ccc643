// What the store costs the single-threaded bot: every call below runs on the io_context thread.
// The figure that matters is create_incident under synchronous=FULL, the production setting.
#include "bot/store/sqlite_store.hpp"

#include <stdlib.h>  // NOLINT(modernize-deprecated-headers): mkdtemp is POSIX, declared here

#include <filesystem>
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
    std::string pattern = (fs::temp_directory_path() / "flare-store-bench-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path = pattern;
  }
  ~scratch_dir() {
    std::error_code ignored;
    fs::remove_all(path, ignored);
  }
};

new_incident sample() {
  new_incident f;
  f.title = "Leaked key in a public repository";
  f.reporter = "U0REPORTER";
  f.severity = "high";
  f.classification = "potential";
  f.facts = {{"customer_data_exposed", false}, {"user_action_needed", true}};
  f.channel = "C0INCIDENTS";
  return f;
}

// One intake: incident + 'open' audit row + card post in the outbox + three reminders.
void create_incident_transaction(benchmark::State& state) {
  scratch_dir dir;
  auto mode = state.range(0) != 0 ? synchronous_mode::full : synchronous_mode::normal;
  auto db = sqlite_store::open((dir.path / "flare.db").string(), {mode, 5000ms});
  for (auto _ : state) {
    db->transaction([&] {
      auto a = db->create_incident(sample(), "U0REPORTER", t0, {{"source", "bench"}});
      db->enqueue({"card:" + a.reference(), a.id, "post", {{"text", "card"}}}, t0);
      db->replace_pending_reminders(a.id, {{deadline_kind::initial, t0 + 72h, t0 + 48h, "24h-before", ""},
                                           {deadline_kind::initial, t0 + 72h, t0 + 72h, "at-deadline", ""},
                                           {deadline_kind::initial, t0 + 72h, t0 + 76h, "overdue+4h", ""}});
    });
  }
  state.SetLabel(mode == synchronous_mode::full ? "synchronous=FULL" : "synchronous=NORMAL");
}
BENCHMARK(create_incident_transaction)->Arg(1)->Arg(0)->Unit(benchmark::kMicrosecond);

// The duplicate check every Socket Mode envelope goes through.
void mark_event_processed(benchmark::State& state) {
  scratch_dir dir;
  auto db = sqlite_store::open((dir.path / "flare.db").string());
  std::int64_t n = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(db->mark_event_processed("Ev" + std::to_string(n++), t0));
  }
}
BENCHMARK(mark_event_processed)->Unit(benchmark::kMicrosecond);

// Finding the next reminder among many (the (state, fire_at) index).
void next_pending_reminder(benchmark::State& state) {
  scratch_dir dir;
  auto db = sqlite_store::open((dir.path / "flare.db").string(), {synchronous_mode::normal, 5000ms});
  db->transaction([&] {
    for (int i = 0; i < state.range(0); ++i) {
      auto a = db->create_incident(sample(), "U0REPORTER", t0, {});
      db->replace_pending_reminders(
          a.id, {{deadline_kind::update, t0 + 24h, t0 + std::chrono::minutes(i * 7 % 10000), "x", ""}});
    }
  });
  for (auto _ : state) benchmark::DoNotOptimize(db->next_pending_reminder());
}
BENCHMARK(next_pending_reminder)->Arg(10000)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
