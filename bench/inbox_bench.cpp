// Message events through the durable inbox (issue 11/13): envelopes recorded before their ack by
// the real group commit (bot/runtime/inbox.cpp) with synchronous=FULL, then marked done; and the
// table sizes after 1,000,000 events with and without pruning.
//
//   build/bench/inbox_bench [events=100000] [in_flight=256]
//   build/bench/inbox_bench prune [batch=100] [full|normal]
//
// Prints events/s, the ack wait (record() until its batch committed) p50/p99, the mean batch
// size, and then rows and file size after 1M simulated events over 14 days with the default
// retention (7 days) pruned every 10 minutes, against no pruning. `prune` runs only the pruned
// store, with that many rows per prune batch and that synchronous mode (default: what the bot
// runs, 100 and full), and prints the time each batch took (p50, p99, slowest): how long an ack
// can wait behind one.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "bot/runtime/clock.hpp"
#include "bot/runtime/inbox.hpp"
#include "bot/runtime/inbox_pruner.hpp"
#include "bot/store/sqlite_store.hpp"

namespace {

namespace fs = std::filesystem;
namespace asio = boost::asio;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

constexpr flare::sys_seconds t0{std::chrono::seconds{1795338000}};

struct scratch_dir {
  fs::path path;
  scratch_dir() {
    std::string pattern = (fs::temp_directory_path() / "flare-inbox-bench-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path = pattern;
  }
  ~scratch_dir() {
    std::error_code ignored;
    fs::remove_all(path, ignored);
  }
};

flare::slack::envelope message(long n) {
  flare::slack::envelope e;
  e.envelope_id = "env-" + std::to_string(n);
  e.type = "events_api";
  e.payload = {{"type", "event_callback"},
               {"event_id", "Ev" + std::to_string(n)},
               {"event",
                {{"type", "message"},
                 {"channel", "C0OTHER"},
                 {"user", "U0BOB"},
                 {"text", "lunch at noon?"},
                 {"ts", std::to_string(1700000000 + n) + ".000100"}}}};
  return e;
}

void throughput(long events, int in_flight) {
  scratch_dir dir;
  auto store = flare::store::sqlite_store::open((dir.path / "flare.db").string(),
                                                {flare::store::synchronous_mode::full, 5000ms});
  flare::system_clock clock;
  asio::io_context ioc(1);
  flare::inbox inbox(ioc.get_executor(), *store, clock);
  std::vector<double> waits;
  waits.reserve(static_cast<std::size_t>(events));
  long next = 0, finished = 0;
  int running = 0;
  std::function<void()> top_up;
  top_up = [&] {
    while (running < in_flight && next < events) {
      ++running;
      asio::co_spawn(
          ioc,
          [&, n = next++]() -> asio::awaitable<void> {
            const auto started = steady::now();
            auto id = co_await inbox.record(message(n));
            waits.push_back(std::chrono::duration<double, std::micro>(steady::now() - started).count());
            if (id) inbox.handled(*id);  // the handler finished
            ++finished;
            --running;
            asio::post(ioc, top_up);
          },
          asio::detached);
    }
  };
  const auto start = steady::now();
  top_up();
  ioc.run_for(600s);
  inbox.flush();
  const double seconds = std::chrono::duration<double>(steady::now() - start).count();
  std::sort(waits.begin(), waits.end());
  auto pct = [&](double p) {
    return waits.empty() ? 0.0 : waits[static_cast<std::size_t>(p * static_cast<double>(waits.size() - 1))];
  };
  std::printf(
      "inbox group commit, synchronous=FULL: %ld events in %.2f s = %.0f events/s (%d in flight); "
      "record-to-commit p50 %.0f us, p99 %.0f us; unfinished rows left %zu\n",
      finished, seconds, static_cast<double>(finished) / seconds, in_flight, pct(0.5), pct(0.99),
      store->unfinished_deliveries(10).size());
}

void table_sizes(bool prune, std::size_t prune_batch = flare::prune_options{}.batch,
                 flare::store::synchronous_mode mode = flare::store::synchronous_mode::normal) {
  scratch_dir dir;
  const auto path = (dir.path / "flare.db").string();
  auto store = flare::store::sqlite_store::open(path, {mode, 5000ms});
  flare::manual_clock clock(t0);
  asio::io_context ioc(1);
  flare::prune_options options;
  options.batch = prune_batch;
  flare::inbox_pruner pruner(ioc.get_executor(), *store, clock, options);
  constexpr long total = 1'000'000;
  constexpr long batch = 500;
  // 1M events over 14 days: one batch of 500 every ~6 minutes of simulated time.
  const auto step = std::chrono::seconds(14L * 24 * 3600 * batch / total);
  auto last_prune = clock.now();
  std::vector<double> prune_ms;  // every batch that deleted something
  for (long n = 0; n < total; n += batch) {
    std::vector<flare::store::new_delivery> deliveries;
    for (long i = n; i < n + batch; ++i) {
      auto e = message(i);
      deliveries.push_back({flare::inbox_key(e), e.envelope_id, e.type, e.payload});
    }
    auto ids = store->record_deliveries(deliveries, clock.now());
    std::vector<std::int64_t> done;
    for (auto& id : ids)
      if (id) done.push_back(*id);
    store->mark_deliveries_done(done, clock.now());
    clock.advance(step);
    if (prune && clock.now() - last_prune >= 10min) {
      last_prune = clock.now();
      for (;;) {  // what the timer does: batch after batch while full ones come back
        const auto started = steady::now();
        const auto removed = pruner.prune_once();
        const double ms = std::chrono::duration<double, std::milli>(steady::now() - started).count();
        if (removed > 0) prune_ms.push_back(ms);
        if (removed < prune_batch) break;
      }
    }
  }
  std::string pruned = "never pruned";
  if (prune) {
    std::sort(prune_ms.begin(), prune_ms.end());
    auto pct = [&](double p) {
      return prune_ms.empty()
                 ? 0.0
                 : prune_ms[static_cast<std::size_t>(p * static_cast<double>(prune_ms.size() - 1))];
    };
    char line[256];
    std::snprintf(line, sizeof line,
                  "pruned (7d retention, every 10 min, %zu-row batches, synchronous=%s; %zu batches took "
                  "p50 %.1f ms, p99 %.1f ms, slowest %.1f ms)",
                  prune_batch, mode == flare::store::synchronous_mode::full ? "full" : "normal",
                  prune_ms.size(), pct(0.5), pct(0.99), prune_ms.empty() ? 0.0 : prune_ms.back());
    pruned = line;
  }
  std::printf("after 1,000,000 events over 14 days, %s: inbox %lld rows, file %.1f MB (%lld pages)\n",
              pruned.c_str(), static_cast<long long>(store->row_count("inbox")),
              static_cast<double>(store->page_count()) * 4096.0 / 1e6,
              static_cast<long long>(store->page_count()));
}

}  // namespace

int main(int argc, char** argv) {  // NOLINT(bugprone-exception-escape): a failed bench ends with the error
  if (argc > 1 && std::string(argv[1]) == "prune") {
    const std::size_t batch = argc > 2 ? std::strtoul(argv[2], nullptr, 10) : flare::prune_options{}.batch;
    const bool normal = argc > 3 && std::string(argv[3]) == "normal";
    table_sizes(true, batch > 0 ? batch : 1,
                normal ? flare::store::synchronous_mode::normal : flare::store::synchronous_mode::full);
    return 0;
  }
  const long events = argc > 1 ? std::atol(argv[1]) : 100000;
  const int in_flight = argc > 2 ? std::atoi(argv[2]) : 256;
  throughput(events, in_flight);
  table_sizes(true);
  table_sizes(false);
}
