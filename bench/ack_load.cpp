// A load generator for the real `flare` binary (issue 11): it plays Slack (the fake Slack on
// loopback, real TLS and WebSocket), starts `flare run` as a child process, and sends slash
// commands that get a reply on their ack, keeping a fixed number in flight. It reports, for the
// flare process alone, CPU per ack (utime+stime from /proc/<pid>/stat), p50/p99 ack latency and
// RSS, and its own CPU per ack, so a result where the generator is the bottleneck shows as one.
//
//   build/bench/ack_load --command help --total 20000 --in-flight 50
//   build/bench/ack_load --command list --incidents 50 --total 5000
//   build/bench/ack_load --command show --incidents 50 --total 5000
//   build/bench/ack_load --command help --scrape-every-ms 100     (a /metrics scrape every 100 ms)
//   build/bench/ack_load --binary /path/to/other/flare ...        (compare two builds)
//   build/bench/ack_load --preload 100000 --total 0               (idle RSS and start-up with 100,000
//                                                                  open incidents already stored)
//
// Waiting is O(1) per ack: acks are counted as they arrive (fake_slack::observe_acks), never
// searched for. Also reported: exec-to-connected time and the CPU flare spent starting up.
#include "bot/store/sqlite_store.hpp"
#include "tests/fake_slack/fake_slack.hpp"
#include "tests/support/child_process.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using namespace std::chrono_literals;
using json = nlohmann::json;
using steady = std::chrono::steady_clock;

struct options {
  std::string binary = FLARE_BINARY;
  std::string command = "help";  // help | show | list
  int total = 20000;
  int in_flight = 50;
  int incidents = 50;  // opened first, for show and list
  int warmup = 1000;
  std::string synchronous = "full";
  int scrape_every_ms = 0;  // 0: no scraping
  int preload = 0;          // open incidents written to the store before flare starts
};

void usage() {
  std::cerr
      << "usage: ack_load [--binary PATH] [--command help|show|list] [--total N] [--in-flight N]\n"
         "                [--incidents N] [--warmup N] [--synchronous full|normal] [--scrape-every-ms N]\n"
         "                [--preload N]   (--total 0: start, idle for 2 s, report RSS and start-up)\n";
}

bool parse(int argc, char** argv, options& o) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (i + 1 >= argc) return false;
    const std::string value = argv[++i];
    try {
      if (arg == "--binary") o.binary = value;
      else if (arg == "--command") o.command = value;
      else if (arg == "--total") o.total = std::stoi(value);
      else if (arg == "--in-flight") o.in_flight = std::stoi(value);
      else if (arg == "--incidents") o.incidents = std::stoi(value);
      else if (arg == "--warmup") o.warmup = std::stoi(value);
      else if (arg == "--synchronous") o.synchronous = value;
      else if (arg == "--scrape-every-ms") o.scrape_every_ms = std::stoi(value);
      else if (arg == "--preload") o.preload = std::stoi(value);
      else return false;
    } catch (const std::exception&) {
      return false;
    }
  }
  return (o.command == "help" || o.command == "show" || o.command == "list") && o.total >= 0 &&
         o.in_flight > 0 && o.preload >= 0;
}

// utime + stime of a process, in seconds (/proc/<pid>/stat fields 14 and 15).
double process_cpu_seconds(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto close = stat.rfind(')');  // the command name may hold spaces
  if (close == std::string::npos) return 0;
  std::istringstream fields(stat.substr(close + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int n = 3; fields >> field; ++n) {
    if (n == 14) utime = std::stoull(field);
    if (n == 15) {
      stime = std::stoull(field);
      break;
    }
  }
  return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

double self_cpu_seconds() {
  rusage r{};
  ::getrusage(RUSAGE_SELF, &r);
  auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return seconds(r.ru_utime) + seconds(r.ru_stime);
}

double status_mib(int pid, const std::string& key) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind(key + ":", 0) == 0) return std::stod(line.substr(key.size() + 1)) / 1024.0;
  return 0;
}

// A free loopback port for the health endpoint (bound, read, released).
int free_port() {
  asio::io_context io;
  asio::ip::tcp::acceptor a(io, {asio::ip::make_address("127.0.0.1"), 0});
  return a.local_endpoint().port();
}

json slash(const std::string& text) {
  static std::atomic<int> invocations{0};
  return {{"command", "/incident"},
          {"text", text},
          {"user_id", "U0ALICE"},
          {"channel_id", "C0INC"},
          {"trigger_id", "1.2." + std::to_string(++invocations)},
          {"response_url", "https://hooks.invalid/x"},
          {"team_id", "T0001"}};
}

// Counts acks as the fake Slack sees them and keeps their latencies.
class ack_counter {
 public:
  void arrived(const flare::testing::ack& a) {
    {
      std::lock_guard lock(mu_);
      ++acked_;
      if (recording_) latencies_us_.push_back(std::chrono::duration<double, std::micro>(a.latency).count());
      if (a.payload && a.payload->contains("text")) reply_bytes_ = a.payload->dump().size();
    }
    cv_.notify_all();
  }
  // Blocks until fewer than `limit` sent envelopes are unacked; false after 10 s without progress.
  bool wait_below(long sent, long limit) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, 10s, [&] { return sent - acked_ < limit; });
  }
  void record(bool on) {
    std::lock_guard lock(mu_);
    recording_ = on;
    latencies_us_.clear();
  }
  std::vector<double> latencies() {
    std::lock_guard lock(mu_);
    return latencies_us_;
  }
  std::size_t reply_bytes() {
    std::lock_guard lock(mu_);
    return reply_bytes_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  long acked_ = 0;
  bool recording_ = false;
  std::vector<double> latencies_us_;
  std::size_t reply_bytes_ = 0;
};

// Sends `n` commands keeping at most `in_flight` unacked; false if the bot stopped acking.
bool drive(flare::testing::fake_slack& fake, ack_counter& acks, long& sent, int n, int in_flight,
           const std::function<std::string(int)>& text_for) {
  flare::testing::envelope_options accepts;
  accepts.accepts_response_payload = true;
  for (int i = 0; i < n; ++i) {
    if (!acks.wait_below(sent, in_flight)) return false;
    fake.send_envelope("slash_commands", slash(text_for(i)), accepts);
    ++sent;
  }
  return acks.wait_below(sent, 1);
}

// GET /metrics every `every` until `stop`; counts scrapes and keeps the slowest.
struct scraper {
  std::atomic<bool> stop{false};
  int scrapes = 0;
  int failures = 0;
  double slowest_ms = 0;
  double total_ms = 0;

  void run(int port, std::chrono::milliseconds every) {
    while (!stop) {
      const auto started = steady::now();
      try {
        asio::io_context io;
        beast::tcp_stream stream(io);
        stream.expires_after(5s);
        stream.connect(
            asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)));
        http::request<http::empty_body> req{http::verb::get, "/metrics", 11};
        req.set(http::field::host, "127.0.0.1");
        http::write(stream, req);
        beast::flat_buffer buffer;
        http::response<http::string_body> res;
        http::read(stream, buffer, res);
        if (res.result() != http::status::ok) ++failures;
        const double ms = std::chrono::duration<double, std::milli>(steady::now() - started).count();
        ++scrapes;
        total_ms += ms;
        slowest_ms = std::max(slowest_ms, ms);
      } catch (const std::exception&) {
        ++failures;
      }
      std::this_thread::sleep_until(started + every);
    }
  }
};

// Open incidents written straight into the store file before flare opens it, shaped like real ones.
void preload_incidents(const std::string& path, int n) {
  auto db = flare::store::sqlite_store::open(path, {flare::store::synchronous_mode::normal});
  const auto at = std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
  const char* severities[] = {"critical", "high", "medium", "low"};
  db->transaction([&] {
    for (int i = 0; i < n; ++i) {
      flare::store::new_incident f;
      f.title = "Preloaded incident number " + std::to_string(i + 1);
      f.reporter = "U0ALICE";
      f.severity = severities[i % 4];
      f.classification = "potential";
      f.facts = {{"customer_data_exposed", false}, {"user_action_needed", true}};
      f.channel = "C0INC";
      db->create_incident(f, "U0ALICE", at, {{"source", "ack_load"}});
    }
  });
}

}  // namespace

int main(int argc, char** argv) {
  options o;
  if (!parse(argc, argv, o)) {
    usage();
    return 2;
  }
  flare::testing::fake_slack fake;
  fake.set_usergroup_members("S0RESP", {"U0ALICE"});
  fake.set_usergroup_members("S0SEC", {"U0SEC"});
  ack_counter acks;
  fake.observe_acks([&acks](const flare::testing::ack& a) { acks.arrived(a); }, /*keep=*/false);

  const auto dir = std::filesystem::temp_directory_path() / ("flare-ack-load-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const int health_port = free_port();
  if (o.preload > 0) preload_incidents((dir / "flare.db").string(), o.preload);
  const auto exec_at = steady::now();
  flare::testing::child_process bot(o.binary, {"run"},
                                    {{"SLACK_APP_TOKEN", fake.options().app_token},
                                     {"SLACK_BOT_TOKEN", fake.options().bot_token},
                                     {"SLACK_API_URL", fake.api_url()},
                                     {"SLACK_CA_FILE", fake.ca_file()},
                                     {"FLARE_SLACK_INCIDENTS_CHANNEL", "C0INC"},
                                     {"FLARE_SLACK_SECURITY_CHANNEL", "G0SEC"},
                                     {"FLARE_SLACK_SECURITY_TEAM_GROUP", "S0SEC"},
                                     {"FLARE_SLACK_RESPONDERS_GROUP", "S0RESP"},
                                     {"FLARE_STORE_PATH", (dir / "flare.db").string()},
                                     {"FLARE_STORE_SYNCHRONOUS", o.synchronous},
                                     {"FLARE_HEALTH_PORT", std::to_string(health_port)},
                                     {"FLARE_LOG_LEVEL", "warn"}});
  int exit_code = 0;
  auto fail = [&](const std::string& why) {
    std::cerr << "ack_load: " << why << "\n" << bot.output() << "\n";
    exit_code = 1;
  };
  if (!fake.wait_for_open_connections(1, 20s)) {
    fail("flare did not connect within 20 s");
  } else {
    const double connected_ms = std::chrono::duration<double, std::milli>(steady::now() - exec_at).count();
    const double startup_cpu_ms = process_cpu_seconds(bot.pid()) * 1000.0;
    // The link is ready once Slack's hello is read; the first commands would otherwise wait.
    std::this_thread::sleep_for(200ms);
    if (o.total == 0) {
      std::this_thread::sleep_for(2s);
      std::printf("idle             %d open incidents preloaded\n", o.preload);
      std::printf("flare RSS        %.1f MiB now, %.1f MiB peak\n", status_mib(bot.pid(), "VmRSS"),
                  status_mib(bot.pid(), "VmHWM"));
      std::printf("start-up         exec to connected %.0f ms, %.0f ms CPU\n", connected_ms, startup_cpu_ms);
    }
    long sent = 0;
    const int incidents = o.command == "help" ? 0 : o.incidents;
    auto text_for = [&](int i) {
      if (o.command == "show") return "show INC-" + std::to_string(1 + i % std::max(1, incidents));
      if (o.command == "list") return std::string("list");
      return std::string("help");
    };
    if (o.total == 0) {
      // idle run: reported above
    } else if (!drive(fake, acks, sent, incidents, std::min(o.in_flight, 10),
                      [](int i) { return "open Seeded incident number " + std::to_string(i + 1); })) {
      fail("the incidents were not all acked");
    } else if (!drive(fake, acks, sent, o.warmup, o.in_flight, text_for)) {
      fail("the warm-up was not all acked");
    } else {
      scraper scrapes;
      std::thread scrape_thread;
      if (o.scrape_every_ms > 0)
        scrape_thread =
            std::thread([&] { scrapes.run(health_port, std::chrono::milliseconds(o.scrape_every_ms)); });
      acks.record(true);
      const double bot_cpu0 = process_cpu_seconds(bot.pid());
      const double self_cpu0 = self_cpu_seconds();
      const auto started = steady::now();
      const bool ok = drive(fake, acks, sent, o.total, o.in_flight, text_for);
      const double seconds = std::chrono::duration<double>(steady::now() - started).count();
      const double bot_cpu = process_cpu_seconds(bot.pid()) - bot_cpu0;
      const double self_cpu = self_cpu_seconds() - self_cpu0;
      scrapes.stop = true;
      if (scrape_thread.joinable()) scrape_thread.join();
      auto latencies = acks.latencies();
      if (!ok || latencies.size() != static_cast<std::size_t>(o.total)) {
        fail("acks went missing: " + std::to_string(latencies.size()) + " of " + std::to_string(o.total));
      } else {
        std::sort(latencies.begin(), latencies.end());
        auto pct = [&](double p) { return latencies[static_cast<std::size_t>(p * (latencies.size() - 1))]; };
        std::printf(
            "command          /incident %s (%d open incidents), %d acks, %d in flight, synchronous=%s\n",
            o.command.c_str(), incidents, o.total, o.in_flight, o.synchronous.c_str());
        std::printf("reply            %zu bytes\n", acks.reply_bytes());
        std::printf("flare CPU/ack    %.1f us\n", bot_cpu / o.total * 1e6);
        std::printf("ack latency      p50 %.2f ms, p99 %.2f ms, max %.2f ms\n", pct(0.50) / 1000,
                    pct(0.99) / 1000, latencies.back() / 1000);
        std::printf("throughput       %.0f acks/s\n", o.total / seconds);
        std::printf("generator CPU    %.1f us/ack (fake Slack included)\n", self_cpu / o.total * 1e6);
        std::printf("flare RSS        %.1f MiB now, %.1f MiB peak\n", status_mib(bot.pid(), "VmRSS"),
                    status_mib(bot.pid(), "VmHWM"));
        std::printf("start-up         exec to connected %.0f ms, %.0f ms CPU\n", connected_ms,
                    startup_cpu_ms);
        if (o.scrape_every_ms > 0)
          std::printf("scrapes          %d every %d ms, mean %.2f ms, slowest %.2f ms, %d failed\n",
                      scrapes.scrapes, o.scrape_every_ms,
                      scrapes.scrapes ? scrapes.total_ms / scrapes.scrapes : 0.0, scrapes.slowest_ms,
                      scrapes.failures);
      }
    }
  }
  bot.signal(SIGTERM);
  if (bot.wait(15s) != 0 && exit_code == 0) fail("flare did not stop cleanly");
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
  return exit_code;
}
