// A load generator for the real `flare` binary (issue 11): it starts `flare run` as a child
// process and sends slash commands that get a reply on their ack, keeping a fixed number in
// flight. It reports, for the flare process alone, CPU per ack (user and kernel, from
// /proc/<pid>/stat), p50/p99 ack latency and RSS, and its own CPU per ack, so a result where the
// generator is the bottleneck shows as one.
//
//   build/bench/ack_load --command help --total 20000 --in-flight 50
//   build/bench/ack_load --command list --incidents 50 --total 5000
//   build/bench/ack_load --command show --incidents 50 --total 5000
//   build/bench/ack_load --command help --scrape-every-ms 100     (a /metrics scrape every 100 ms)
//   build/bench/ack_load --command help --max-batch 1             (one TLS write per envelope)
//   build/bench/ack_load --command help --callgrind out.cg        (flare under callgrind; out.cg.1
//                                                                  holds the measured acks: Ir/ack)
//   build/bench/ack_load --binary /path/to/other/flare ...        (compare two builds)
//   build/bench/ack_load --preload 100000 --total 0               (idle RSS and start-up with 100,000
//                                                                  open incidents already stored)
//
// Several replicas (issue 10): --replicas N starts N flare processes, each with its own Socket
// Mode link (Slack gives each envelope to one link: here each link carries an even share of the
// load, in parallel); --store postgresql puts them on a fresh database of the throwaway cluster
// (scripts/pg-test-cluster.sh, started durable unless --pg-fsync off). --opens N then opens N
// incidents at once and counts their posts as the Web API receives them (posts/s), and
// --failover N runs N fail-over drills instead of the load: a replica holding a due reminder's post
// is killed (SIGKILL) and the time until another replica posts it is measured.
//
//   build/bench/ack_load --total 20000 --opens 200 --posts-per-second 20
//   build/bench/ack_load --store postgresql --total 20000 --opens 200 --posts-per-second 20
//   build/bench/ack_load --store postgresql --replicas 3 --total 20000 --opens 200 --posts-per-second 20
//   build/bench/ack_load --store postgresql --replicas 3 --failover 3
//
// The Web API (auth.test, apps.connections.open, chat.postMessage, ...) is the fake Slack's, on
// its own thread. The Socket Mode link is served here instead, on the generator's thread, with
// OpenSSL and a few lines of WebSocket framing: the fake's Beast and nlohmann::json cost 100-240 us
// per ack, more than flare itself, so a run through it measured the fake. Here every envelope is
// serialised and framed once before the run (a template whose envelope id and trigger id digits
// are patched in place), the envelopes that one read frees up go out in one TLS write, and an ack
// is recognised from its first 26 bytes (its envelope id) without unmasking or parsing the rest,
// except for a sample whose reply is checked in full. The link's certificate comes from a CA of
// the generator's own; SLACK_CA_FILE names a bundle of both CAs.
#include "bot/store/sqlite_store.hpp"
#include "tests/fake_slack/fake_slack.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/pg_test_cluster.hpp"
#include "tests/support/post_identity.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <stdexcept>
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
using flare::testing::marked_resent;
using flare::testing::post_identity;

struct options {
  std::string binary = FLARE_BINARY;
  std::string command = "help";  // help | show | list
  int total = 20000;
  int in_flight = 50;
  int incidents = 50;  // opened first, for show and list
  int warmup = 1000;
  int max_batch = 0;  // envelopes per TLS write; 0: all that the last read freed up
  std::string synchronous = "full";
  int scrape_every_ms = 0;       // 0: no scraping
  int preload = 0;               // open incidents written to the store before flare starts
  std::string callgrind;         // non-empty: run flare under callgrind, writing this file
  int replicas = 1;              // flare processes, each with its own Socket Mode link
  std::string store = "sqlite";  // sqlite | postgresql (the throwaway cluster)
  bool pg_fsync = true;          // start the throwaway cluster durable (fsync and synchronous_commit on)
  int opens = 0;                 // after the acks: incidents opened at once, their posts counted
  int failover = 0;              // fail-over drills instead of the load (PostgreSQL, 2+ replicas)
  int outbox_lease = 0;          // store.outbox_lease_seconds; 0: flare's default
  int posts_per_second = 0;      // slack.posts_per_second; 0: flare's default
  int post_burst = 50;           // slack.post_burst, with posts_per_second
};

void usage() {
  std::cerr << "usage: ack_load [--binary PATH] [--command help|show|list] [--total N] [--in-flight N]\n"
               "                [--incidents N] [--warmup N] [--max-batch N] [--synchronous full|normal]\n"
               "                [--scrape-every-ms N] [--preload N] [--callgrind OUT]\n"
               "                [--replicas N] [--store sqlite|postgresql] [--pg-fsync on|off] [--opens N]\n"
               "                [--failover N] [--outbox-lease S] [--posts-per-second N] [--post-burst N]\n"
               "                (--total 0: start, idle for 2 s, report RSS and start-up)\n";
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
      else if (arg == "--max-batch") o.max_batch = std::stoi(value);
      else if (arg == "--synchronous") o.synchronous = value;
      else if (arg == "--scrape-every-ms") o.scrape_every_ms = std::stoi(value);
      else if (arg == "--preload") o.preload = std::stoi(value);
      else if (arg == "--callgrind") o.callgrind = value;
      else if (arg == "--replicas") o.replicas = std::stoi(value);
      else if (arg == "--store") o.store = value;
      else if (arg == "--pg-fsync" && (value == "on" || value == "off")) o.pg_fsync = value == "on";
      else if (arg == "--opens") o.opens = std::stoi(value);
      else if (arg == "--failover") o.failover = std::stoi(value);
      else if (arg == "--outbox-lease") o.outbox_lease = std::stoi(value);
      else if (arg == "--posts-per-second") o.posts_per_second = std::stoi(value);
      else if (arg == "--post-burst") o.post_burst = std::stoi(value);
      else return false;
    } catch (const std::exception&) {
      return false;
    }
  }
  const bool one_sqlite_process = o.replicas == 1 && o.store == "sqlite";
  return (o.command == "help" || o.command == "show" || o.command == "list") && o.total >= 0 &&
         o.in_flight > 0 && o.preload >= 0 && o.max_batch >= 0 && o.warmup >= 0 && o.replicas >= 1 &&
         o.replicas <= 9 && (o.store == "sqlite" || o.store == "postgresql") && o.opens >= 0 &&
         o.failover >= 0 && (o.failover == 0 || (o.store == "postgresql" && o.replicas >= 2)) &&
         (o.preload == 0 || one_sqlite_process) && (o.callgrind.empty() || o.replicas == 1) &&
         (o.replicas == 1 || o.command == "help") && o.outbox_lease >= 0 && o.posts_per_second >= 0 &&
         o.post_burst >= 1;
}

// utime and stime of a process, in seconds (/proc/<pid>/stat fields 14 and 15).
struct cpu_times {
  double user = 0;
  double system = 0;
  double total() const { return user + system; }
};

cpu_times process_cpu(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto close = stat.rfind(')');  // the command name may hold spaces
  if (close == std::string::npos) return {};
  std::istringstream fields(stat.substr(close + 2));
  std::string field;
  unsigned long long utime = 0;
  unsigned long long stime = 0;
  for (int n = 3; fields >> field; ++n) {
    if (n == 14) utime = std::stoull(field);
    if (n == 15) {
      stime = std::stoull(field);
      break;
    }
  }
  const auto tick = static_cast<double>(::sysconf(_SC_CLK_TCK));
  return {static_cast<double>(utime) / tick, static_cast<double>(stime) / tick};
}

double seconds_of(const timeval& t) {
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
}

cpu_times own_cpu(int who) {
  rusage r{};
  ::getrusage(who, &r);
  return {seconds_of(r.ru_utime), seconds_of(r.ru_stime)};
}

double status_mib(int pid, const std::string& key) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind(key + ":", 0) == 0) return std::stod(line.substr(key.size() + 1)) / 1024.0;
  return 0;
}

double load_average() {
  std::ifstream in("/proc/loadavg");
  double one = 0;
  in >> one;
  return one;
}

// A free loopback port for the health endpoint (bound, read, released).
int free_port() {
  asio::io_context io;
  asio::ip::tcp::acceptor a(io, {asio::ip::make_address("127.0.0.1"), 0});
  return a.local_endpoint().port();
}

[[noreturn]] void fail_with(const std::string& what) {
  std::string detail;
  while (const unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    detail += std::string(" ") + buf;
  }
  throw std::runtime_error(what + detail);
}

// ---- the Socket Mode link, served on the generator's thread ----

constexpr std::size_t id_digits = 9;
// An ack frame's text starts with this (flare writes the envelope id first), then the id's digits.
constexpr std::string_view ack_prefix = R"({"envelope_id":"e)";

void put_digits(char* at, long value) {
  for (std::size_t i = id_digits; i-- > 0;) {
    at[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
}

// A server's text frame (not masked) around `text`.
std::string server_frame(const std::string& text) {
  std::string frame(1, static_cast<char>(0x81));  // FIN, text
  if (text.size() < 126) {
    frame.push_back(static_cast<char>(text.size()));
  } else if (text.size() < 65536) {
    frame.push_back(static_cast<char>(126));
    frame.push_back(static_cast<char>(text.size() >> 8));
    frame.push_back(static_cast<char>(text.size() & 0xff));
  } else {
    throw std::runtime_error("frame too large");
  }
  return frame + text;
}

// One slash command envelope, serialised and framed once (a server frame is not masked); send()
// patches the envelope id and the trigger id in place.
struct envelope_template {
  std::string frame;
  std::size_t id_at = 0;
  std::size_t trigger_at = 0;

  explicit envelope_template(const std::string& text) {
    const std::string digits(id_digits, '0');
    // The fields Slack sends with a slash command, so the envelope is as big as a real one.
    const json payload = {{"token", "gIkuvaNzQIHg97ATvDxqgjtO"},
                          {"team_id", "T0001"},
                          {"team_domain", "example"},
                          {"channel_id", "C0INC"},
                          {"channel_name", "incidents"},
                          {"user_id", "U0ALICE"},
                          {"user_name", "alice"},
                          {"command", "/incident"},
                          {"text", text},
                          {"api_app_id", "A0FLARE"},
                          {"is_enterprise_install", "false"},
                          {"response_url", "https://hooks.invalid/commands/T0001/1/x"},
                          {"trigger_id", "1.2." + digits}};
    const std::string body =
        json{{"envelope_id", "e" + digits},      {"type", "slash_commands"}, {"payload", payload},
             {"accepts_response_payload", true}, {"retry_attempt", 0},       {"retry_reason", ""}}
            .dump();
    frame = server_frame(body);
    const std::size_t header = frame.size() - body.size();
    id_at = header + body.find("\"e" + digits) + 2;
    trigger_at = header + body.find("1.2." + digits) + 4;
  }

  void append(std::string& out, long id) const {
    const std::size_t at = out.size();
    out += frame;
    put_digits(out.data() + at + id_at, id);
    put_digits(out.data() + at + trigger_at, id);
  }
};

std::string base64(const unsigned char* data, std::size_t n) {
  std::string out(4 * ((n + 2) / 3) + 1, '\0');
  const int written =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(n));
  out.resize(static_cast<std::size_t>(written));
  return out;
}

class link_server {
 public:
  link_server(const std::string& cert_pem, const std::string& key_pem) {
    ctx_ = SSL_CTX_new(TLS_server_method());
    if (!ctx_) fail_with("SSL_CTX_new");
    BIO* cert_bio = BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size()));
    X509* cert = PEM_read_bio_X509(cert_bio, nullptr, nullptr, nullptr);
    BIO_free(cert_bio);
    BIO* key_bio = BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size()));
    EVP_PKEY* key = PEM_read_bio_PrivateKey(key_bio, nullptr, nullptr, nullptr);
    BIO_free(key_bio);
    const bool ok =
        cert && key && SSL_CTX_use_certificate(ctx_, cert) == 1 && SSL_CTX_use_PrivateKey(ctx_, key) == 1;
    X509_free(cert);
    EVP_PKEY_free(key);
    if (!ok) fail_with("loading the link's certificate");
    // Read many records per read(2), not a header and a body per record.
    SSL_CTX_set_read_ahead(ctx_, 1);
    SSL_CTX_set_default_read_buffer_len(ctx_, std::size_t{64} * 1024);

    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
        ::listen(listen_fd_, 4) != 0 ||
        ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
      throw std::runtime_error("link: cannot listen on 127.0.0.1");
    port_ = ntohs(addr.sin_port);
  }
  ~link_server() {
    if (ssl_) SSL_free(ssl_);
    if (fd_ >= 0) ::close(fd_);
    if (listen_fd_ >= 0) ::close(listen_fd_);
    SSL_CTX_free(ctx_);
  }
  link_server(const link_server&) = delete;
  link_server& operator=(const link_server&) = delete;

  // Another link on the same port and certificate, for one more flare replica: the fake's
  // apps.connections.open hands every replica the same URL, and each accept() takes the next
  // replica's connection.
  struct on_port_of {
    const link_server& listener;
  };
  explicit link_server(on_port_of shared)
      : ctx_(shared.listener.ctx_),
        listen_fd_(::dup(shared.listener.listen_fd_)),
        port_(shared.listener.port_) {
    SSL_CTX_up_ref(ctx_);
    if (listen_fd_ < 0) throw std::runtime_error("link: dup failed");
  }

  int port() const { return port_; }

  // Takes flare's connection: TCP, TLS, the WebSocket upgrade, then hello. Bounded by `timeout`.
  void accept(std::chrono::milliseconds timeout) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) != 1)
      throw std::runtime_error("link: flare did not connect");
    fd_ = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd_ < 0) throw std::runtime_error("link: accept failed");
    const int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    // Blocking I/O, each wait bounded: a stuck peer fails the run instead of hanging it.
    timeval t{static_cast<time_t>(timeout.count() / 1000),
              static_cast<suseconds_t>(timeout.count() % 1000 * 1000)};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &t, sizeof t);
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &t, sizeof t);
    ssl_ = SSL_new(ctx_);
    SSL_set_fd(ssl_, fd_);
    if (SSL_accept(ssl_) != 1) fail_with("link: TLS handshake failed");

    std::string request;
    while (request.find("\r\n\r\n") == std::string::npos) {
      if (!read_some(timeout)) throw std::runtime_error("link: no WebSocket upgrade request");
      request += input_;
      input_.clear();
      if (request.size() > 16384) throw std::runtime_error("link: upgrade request too large");
    }
    const auto at = request.find("Sec-WebSocket-Key:");
    if (request.rfind("GET /link/", 0) != 0 || at == std::string::npos)
      throw std::runtime_error("link: not a WebSocket upgrade");
    auto key = request.substr(at + 18, request.find("\r\n", at) - at - 18);
    key.erase(0, key.find_first_not_of(' '));
    key.erase(key.find_last_not_of(' ') + 1);
    const std::string magic = key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    unsigned char digest[SHA_DIGEST_LENGTH];
    SHA1(reinterpret_cast<const unsigned char*>(magic.data()), magic.size(), digest);
    write(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Accept: " +
        base64(digest, sizeof digest) + "\r\n\r\n");
    const std::string hello =
        R"({"type":"hello","num_connections":1,"debug_info":{"host":"ack_load","approximate_connection_time":18060},)"
        R"("connection_info":{"app_id":"A0FLARE"}})";
    write(server_frame(hello));
  }

  void write(std::string_view bytes) {
    while (!bytes.empty()) {
      const int n = SSL_write(ssl_, bytes.data(), static_cast<int>(bytes.size()));
      if (n <= 0) fail_with("link: write failed");
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
  }

  // Appends to input() what arrives, waiting up to `timeout` for the first byte; false on a
  // closed link or the timeout.
  bool read_some(std::chrono::milliseconds timeout) {
    if (SSL_has_pending(ssl_) == 0) {  // decrypted or read-ahead bytes count
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(timeout.count())) != 1) return false;
    }
    char buf[65536];
    const int n = SSL_read(ssl_, buf, sizeof buf);
    if (n <= 0) return false;
    input_.append(buf, static_cast<std::size_t>(n));
    return true;
  }

  std::string& input() { return input_; }

 private:
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  int listen_fd_ = -1;
  int fd_ = -1;
  int port_ = 0;
  std::string input_;
};

// What the driver learnt from flare's frames.
struct ack_log {
  long base = 0;                            // the link's first envelope id (replica k: k * 10^8)
  std::vector<steady::time_point> sent_at;  // by envelope id - base
  std::vector<double> latencies_us;         // of the recorded acks
  bool recording = false;
  long acked = 0;
  long checked = 0;             // acks whose whole reply was read and checked
  std::size_t reply_bytes = 0;  // of the last checked ack
  std::string bad;              // the first thing wrong, if any
};

// Reads flare's frames (masked, as a client's are) off the front of the link's input. Only an
// ack's first bytes are unmasked (its envelope id); `check_every`-th acks are read whole.
class frame_reader {
 public:
  explicit frame_reader(std::string expect) : expect_(std::move(expect)) {}

  // Returns false when flare closed the link.
  bool consume(link_server& link, ack_log& log, steady::time_point now) {
    std::string& in = link.input();
    std::size_t pos = 0;
    for (;;) {
      const std::size_t avail = in.size() - pos;
      if (avail < 2) break;
      const auto* p = reinterpret_cast<const unsigned char*>(in.data() + pos);
      const bool fin = (p[0] & 0x80) != 0;
      const int opcode = p[0] & 0x0f;
      std::size_t header = 2;
      std::uint64_t len = p[1] & 0x7f;
      if (len == 126) {
        if (avail < 4) break;
        len = (std::uint64_t{p[2]} << 8) | p[3];
        header = 4;
      } else if (len == 127) {
        if (avail < 10) break;
        len = 0;
        for (int i = 0; i < 8; ++i) len = (len << 8) | p[2 + i];
        header = 10;
      }
      const bool masked = (p[1] & 0x80) != 0;
      if (masked) header += 4;
      if (avail < header + len) break;
      const unsigned char* mask = masked ? p + header - 4 : nullptr;
      const unsigned char* body = p + header;
      if (opcode == 0x8) return false;  // close
      if (opcode == 0x9) {              // ping: pong with the same payload
        std::string pong{static_cast<char>(0x8a), static_cast<char>(len)};
        for (std::uint64_t i = 0; i < len; ++i)
          pong.push_back(static_cast<char>(body[i] ^ (mask ? mask[i % 4] : 0)));
        link.write(pong);
      } else if (opcode == 0x1 || opcode == 0x0) {
        if (opcode == 0x1) start_message(body, mask, static_cast<std::size_t>(len), log);
        else if (whole_) append(body, mask, static_cast<std::size_t>(len));
        if (fin) finish_message(log, now);
      }
      pos += header + static_cast<std::size_t>(len);
    }
    in.erase(0, pos);
    return true;
  }

  long check_every = 1000;
  bool check = false;  // off while incidents are opened (their acks carry no reply)

 private:
  void append(const unsigned char* body, const unsigned char* mask, std::size_t len) {
    // The mask restarts with each frame.
    for (std::size_t i = 0; i < len; ++i)
      text_.push_back(static_cast<char>(body[i] ^ (mask ? mask[i % 4] : 0)));
  }

  void start_message(const unsigned char* body, const unsigned char* mask, std::size_t len, ack_log& log) {
    id_ = -1;
    char head[ack_prefix.size() + id_digits];
    if (len < sizeof head) return;
    for (std::size_t i = 0; i < sizeof head; ++i)
      head[i] = static_cast<char>(body[i] ^ (mask ? mask[i % 4] : 0));
    if (std::string_view(head, ack_prefix.size()) != ack_prefix) return;
    long id = 0;
    for (std::size_t i = ack_prefix.size(); i < sizeof head; ++i) {
      if (head[i] < '0' || head[i] > '9') return;
      id = id * 10 + (head[i] - '0');
    }
    id_ = id;
    whole_ = check && log.acked % check_every == 0;
    text_.clear();
    if (whole_) append(body, mask, len);
  }

  void finish_message(ack_log& log, steady::time_point now) {
    if (id_ < log.base || static_cast<std::size_t>(id_ - log.base) >= log.sent_at.size()) {
      if (log.bad.empty()) log.bad = "a frame that is not an ack of ours";
      return;
    }
    if (whole_) {
      ++log.checked;
      log.reply_bytes = text_.size();
      // The reply must be on the ack: {"envelope_id":"e…","payload":{… "text": …}}.
      const bool ok = text_.size() > 40 && text_[27] == ',' && text_.compare(28, 10, "\"payload\":") == 0 &&
                      text_.find("\"text\":") != std::string::npos && text_.back() == '}' &&
                      (expect_.empty() || text_.find(expect_) != std::string::npos);
      if (!ok && log.bad.empty()) log.bad = "an ack without the expected reply: " + text_.substr(0, 300);
      whole_ = false;
    }
    ++log.acked;
    if (log.recording)
      log.latencies_us.push_back(std::chrono::duration<double, std::micro>(
                                     now - log.sent_at[static_cast<std::size_t>(id_ - log.base)])
                                     .count());
    id_ = -1;
  }

  std::string expect_;
  long id_ = -1;
  bool whole_ = false;
  std::string text_;
};

// Sends envelopes ids [first, first + n) (templates[pick(i - log.base)] for id i) keeping at most
// `in_flight` unacked, the ones each read frees up in one write (at most `max_batch`, 0: all).
// False with a reason when flare stopped acking.
bool drive(link_server& link, frame_reader& reader, ack_log& log, long& next_id, long n, int in_flight,
           int max_batch, bool check, const std::vector<envelope_template>& templates,
           const std::function<std::size_t(long)>& pick, std::string& why) {
  reader.check = check;
  const long end = next_id + n;
  const long acked_at_end = log.acked + n;
  std::string out;
  while (log.acked < acked_at_end) {
    out.clear();
    const auto now = steady::now();
    int batch = 0;
    while (next_id < end && next_id - log.base - log.acked < in_flight) {
      if (max_batch > 0 && batch == max_batch) {
        link.write(out);
        out.clear();
        batch = 0;
      }
      templates[pick(next_id - log.base)].append(out, next_id);
      log.sent_at[static_cast<std::size_t>(next_id - log.base)] = now;
      ++next_id;
      ++batch;
    }
    if (!out.empty()) link.write(out);
    if (!link.read_some(10s)) {
      why = "no ack for 10 s (" + std::to_string(acked_at_end - log.acked) + " missing)";
      return false;
    }
    if (!reader.consume(link, log, steady::now())) {
      why = "flare closed the link";
      return false;
    }
    if (!log.bad.empty()) {
      why = log.bad;
      return false;
    }
  }
  return true;
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

// After flare was asked to stop: answers its close frame (reading for at most `timeout`), so its
// shutdown is a clean close rather than a close timeout.
void answer_close(link_server& link, std::chrono::milliseconds timeout) {
  frame_reader reader("");
  ack_log ignored;
  const auto deadline = steady::now() + timeout;
  try {
    while (steady::now() < deadline) {
      if (!reader.consume(link, ignored, steady::now())) {
        link.write(std::string{static_cast<char>(0x88), 2, 0x03, static_cast<char>(0xe8)});
        return;
      }
      if (!link.read_some(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady::now())))
        return;
    }
  } catch (const std::exception&) {  // flare already gone: nothing to answer
  }
}

// Runs callgrind_control on flare (under valgrind its pid is valgrind's).
void callgrind_control(const std::string& args, int pid) {
  const std::string command = "callgrind_control " + args + " " + std::to_string(pid) + " >/dev/null 2>&1";
  if (std::system(command.c_str()) != 0) std::cerr << "ack_load: '" << command << "' failed\n";
}

// One flare process and its Socket Mode link. Replica k sends envelope ids from k * 10^8 (trigger
// ids too: they are the inbox keys, shared by all replicas on PostgreSQL).
struct replica {
  std::unique_ptr<flare::testing::child_process> bot;
  std::unique_ptr<link_server> link;
  frame_reader reader{""};
  ack_log log;
  long next_id = 0;
  int health_port = 0;
  double connected_ms = 0;
  double startup_cpu_ms = 0;
  bool alive = false;
};

constexpr long ids_per_replica = 100'000'000;

// Drives every live replica's link at once (one thread each), `n` envelopes and `in_flight` in all,
// shared evenly. False with the first reason when one stopped acking.
bool drive_all(std::vector<replica*> links, long n, int in_flight, int max_batch, bool check,
               const std::vector<envelope_template>& templates, const std::function<std::size_t(long)>& pick,
               std::string& why) {
  const auto count = static_cast<long>(links.size());
  if (count == 1)
    return drive(*links[0]->link, links[0]->reader, links[0]->log, links[0]->next_id, n, in_flight, max_batch,
                 check, templates, pick, why);
  std::vector<std::string> whys(links.size());
  std::vector<char> ok(links.size(), 0);
  std::vector<std::thread> threads;
  for (long k = 0; k < count; ++k) {
    const long share = n / count + (k < n % count ? 1 : 0);
    const int flight = std::max(1, in_flight / static_cast<int>(count));
    threads.emplace_back([&, k, share, flight] {
      auto& r = *links[static_cast<std::size_t>(k)];
      try {
        ok[static_cast<std::size_t>(k)] = drive(*r.link, r.reader, r.log, r.next_id, share, flight, max_batch,
                                                check, templates, pick, whys[static_cast<std::size_t>(k)])
                                              ? 1
                                              : 0;
      } catch (const std::exception& e) {
        whys[static_cast<std::size_t>(k)] = e.what();
      }
    });
  }
  for (auto& t : threads) t.join();
  for (std::size_t k = 0; k < links.size(); ++k)
    if (!ok[k]) {
      why = "replica " + std::to_string(k) + ": " + whys[k];
      return false;
    }
  return true;
}

// Reads what the links bring for about `for_how_long`, answering flare's pings: a link left unread
// through a long wait would be given up by flare (no pong) and reconnected.
void pump(const std::vector<replica*>& links, std::chrono::milliseconds for_how_long) {
  const auto until = steady::now() + for_how_long;
  do {
    for (auto* r : links) {
      try {
        if (r->link->read_some(5ms)) r->reader.consume(*r->link, r->log, steady::now());
      } catch (const std::exception&) {  // a killed replica's link: nothing to answer
      }
    }
  } while (steady::now() < until);
}

// Waits until `fake` has received no chat.postMessage for `quiet` (at most `limit`), meanwhile
// answering the links; the calls.
std::vector<flare::testing::api_call> settled_posts(const flare::testing::fake_slack& fake,
                                                    const std::vector<replica*>& links,
                                                    std::chrono::milliseconds quiet,
                                                    std::chrono::seconds limit, std::size_t at_least = 0) {
  const auto deadline = steady::now() + limit;
  auto posts = fake.calls("chat.postMessage");
  auto changed = steady::now();
  while (steady::now() < deadline) {
    pump(links, std::min<std::chrono::milliseconds>(quiet / 4, 250ms));
    auto now_posts = fake.calls("chat.postMessage");
    if (now_posts.size() != posts.size()) {
      posts = std::move(now_posts);
      changed = steady::now();
    } else if (posts.size() >= at_least && steady::now() - changed >= quiet) {
      break;
    }
  }
  return posts;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

int run(const options& o) {
  flare::testing::fake_slack fake;
  fake.set_usergroup_members("S0RESP", {"U0ALICE"});
  fake.set_usergroup_members("S0SEC", {"U0SEC"});
  flare::testing::test_ca link_ca;
  link_server listener(link_ca.server_cert_pem(), link_ca.server_key_pem());
  ::setenv("FLARE_FAKE_SLACK_SOCKET_MODE_URL",
           ("wss://localhost:" + std::to_string(listener.port()) + "/link/").c_str(), 1);

  const auto dir = std::filesystem::temp_directory_path() / ("flare-ack-load-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  struct remove_dir {
    std::filesystem::path dir;
    ~remove_dir() {
      std::error_code ignored;
      std::filesystem::remove_all(dir, ignored);
    }
  } cleanup{dir};
  {
    std::ofstream bundle(dir / "ca.pem");
    bundle << std::ifstream(fake.ca_file()).rdbuf() << std::ifstream(link_ca.ca_file()).rdbuf();
  }
  if (o.preload > 0) preload_incidents((dir / "flare.db").string(), o.preload);

  // PostgreSQL: a fresh database on the throwaway cluster (scripts/pg-test-cluster.sh; with
  // FLARE_TEST_PG_DIR unset, started here and stopped at exit). --pg-fsync on (the default)
  // starts it durable, as a production server is: each commit waits for its disk sync, like
  // SQLite's synchronous=full.
  std::unique_ptr<flare::testing::pg_test_database> database;
  std::string pg_settings;
  if (o.store == "postgresql") {
    if (o.pg_fsync) ::setenv("FLARE_PG_TEST_DURABLE", "1", 1);
    std::string why_not;
    const auto server = flare::testing::test_pg_server(&why_not);
    if (!server) {
      std::cerr << "ack_load: " << why_not << "\n";
      return 1;
    }
    database = std::make_unique<flare::testing::pg_test_database>(*server);
    std::string fsync;
    std::string commit;
    database->exec("SHOW fsync", &fsync);
    database->exec("SHOW synchronous_commit", &commit);
    pg_settings = "fsync=" + fsync + ", synchronous_commit=" + commit;
  }

  std::map<std::string, std::string> env = {{"SLACK_APP_TOKEN", fake.options().app_token},
                                            {"SLACK_BOT_TOKEN", fake.options().bot_token},
                                            {"SLACK_API_URL", fake.api_url()},
                                            {"SLACK_CA_FILE", (dir / "ca.pem").string()},
                                            {"FLARE_SLACK_INCIDENTS_CHANNEL", "C0INC"},
                                            {"FLARE_SLACK_SECURITY_CHANNEL", "G0SEC"},
                                            {"FLARE_SLACK_SECURITY_TEAM_GROUP", "S0SEC"},
                                            {"FLARE_SLACK_RESPONDERS_GROUP", "S0RESP"},
                                            {"FLARE_STORE_PATH", (dir / "flare.db").string()},
                                            {"FLARE_STORE_SYNCHRONOUS", o.synchronous},
                                            {"FLARE_LOG_LEVEL", "warn"}};
  if (database) {
    env["FLARE_STORE_URL"] = database->url();
    env["PGPASSWORD"] = database->password();
  }
  if (o.posts_per_second > 0) {
    env["FLARE_SLACK_POSTS_PER_SECOND"] = std::to_string(o.posts_per_second);
    env["FLARE_SLACK_POST_BURST"] = std::to_string(o.post_burst);
  }
  if (o.outbox_lease > 0) env["FLARE_STORE_OUTBOX_LEASE_SECONDS"] = std::to_string(o.outbox_lease);
  constexpr int untriaged_after = 5;  // the fail-over drill's reminder: the untriaged nudge
  if (o.failover > 0) env["FLARE_INTAKE_UNTRIAGED_AFTER_SECONDS"] = std::to_string(untriaged_after);

  const auto connect_timeout = o.callgrind.empty() ? 20s : 120s;
  const long per_replica_ids = (o.command == "help" ? 0 : o.incidents) + o.warmup + o.total + o.opens + 1000;
  std::vector<std::unique_ptr<replica>> replicas;
  // Starts replica k (again, after a kill) and takes its link. One at a time: the first migrates
  // the schema, and accept() takes the connection of the one just started.
  const auto start_replica = [&](std::size_t k) {
    if (replicas.size() <= k) replicas.resize(k + 1);
    auto r = std::make_unique<replica>();
    r->reader = frame_reader(o.command == "help" ? "/incident" : "");
    r->log.base = static_cast<long>(k) * ids_per_replica;
    r->log.sent_at.resize(static_cast<std::size_t>(per_replica_ids));
    r->next_id = r->log.base;
    r->health_port = free_port();
    auto replica_env = env;
    replica_env["FLARE_HEALTH_PORT"] = std::to_string(r->health_port);
    std::string program = o.binary;
    std::vector<std::string> args = {"run"};
    if (!o.callgrind.empty()) {
      program = "/usr/bin/valgrind";
      args = {"--tool=callgrind", "--callgrind-out-file=" + o.callgrind, o.binary, "run"};
    }
    r->link = std::make_unique<link_server>(link_server::on_port_of{listener});
    const auto exec_at = steady::now();
    r->bot = std::make_unique<flare::testing::child_process>(program, args, replica_env);
    replicas[k] = std::move(r);
    auto& started = *replicas[k];
    started.link->accept(connect_timeout);
    started.connected_ms = std::chrono::duration<double, std::milli>(steady::now() - exec_at).count();
    started.startup_cpu_ms = process_cpu(started.bot->pid()).total() * 1000.0;
    started.alive = true;
  };
  const auto live = [&] {
    std::vector<replica*> out;
    for (auto& r : replicas)
      if (r && r->alive) out.push_back(r.get());
    return out;
  };
  const auto flare_cpu = [&] {
    cpu_times sum;
    for (auto* r : live()) {
      const auto c = process_cpu(r->bot->pid());
      sum.user += c.user;
      sum.system += c.system;
    }
    return sum;
  };

  int exit_code = 0;
  auto fail = [&](const std::string& why) {
    std::cerr << "ack_load: " << why << "\n";
    for (std::size_t k = 0; k < replicas.size(); ++k)
      if (replicas[k] && replicas[k]->bot)
        std::cerr << "replica " << k << ":\n" << replicas[k]->bot->output() << "\n";
    exit_code = 1;
  };
  const auto stop_all = [&] {
    for (auto* r : live()) r->bot->signal(SIGTERM);
    for (auto* r : live()) answer_close(*r->link, 5s);
    for (auto* r : live())
      if (r->bot->wait(o.callgrind.empty() ? 15s : 60s) != 0 && exit_code == 0)
        fail("flare did not stop cleanly");
  };
  try {
    for (int k = 0; k < o.replicas; ++k) start_replica(static_cast<std::size_t>(k));
  } catch (const std::exception& e) {
    fail(e.what());
    for (auto& r : replicas)
      if (r && r->bot) r->bot->signal(SIGTERM);
    for (auto& r : replicas)
      if (r && r->bot) r->bot->wait(15s);
    return 1;
  }
  auto& first = *replicas[0];
  const std::string setup =
      std::to_string(o.replicas) + (o.replicas == 1 ? " replica" : " replicas") + " on " +
      (database ? "PostgreSQL (" + pg_settings + ")" : "SQLite (synchronous=" + o.synchronous + ")");

  if (o.failover > 0) {
    // The fail-over drill, `failover` times: an incident is opened and left untriaged, so its
    // untriaged nudge (a reminder) falls due after `untriaged_after`. Slack holds that post's
    // chat.postMessage unanswered, so the replica that fired the reminder holds its outbox claim
    // mid-call; it is killed (SIGKILL) and the time until another replica's chat.postMessage of the
    // same post reaches Slack is the fail-over time. The killed replica is started again for the
    // next drill.
    std::vector<double> times;
    std::printf("fail-over        %s, outbox lease %s, untriaged nudge after %d s\n", setup.c_str(),
                o.outbox_lease > 0 ? (std::to_string(o.outbox_lease) + " s").c_str() : "flare's default",
                untriaged_after);
    for (int trial = 0; trial < o.failover && exit_code == 0; ++trial) {
      auto links = live();
      auto* opener = links[static_cast<std::size_t>(trial) % links.size()];
      const std::vector<envelope_template> open{
          envelope_template("open Fail-over drill " + std::to_string(trial + 1))};
      std::string why;
      const auto opened_at = steady::now();
      if (!drive(
              *opener->link, opener->reader, opener->log, opener->next_id, 1, 1, 0, false, open,
              [](long) { return std::size_t{0}; }, why)) {
        fail("the drill's open was not acked: " + why);
        break;
      }
      // The incident's own posts (card, Security Team ping) first, all answered.
      const auto before = settled_posts(fake, live(), 1000ms, 20s);
      if (steady::now() - opened_at > std::chrono::seconds(untriaged_after - 1)) {
        fail("the incident's posts took too long to settle before its nudge fell due");
        break;
      }
      flare::testing::fault hold;
      hold.delay = 600s;
      fake.inject("chat.postMessage", hold);
      if (!fake.wait_for_calls("chat.postMessage", before.size() + 1,
                               std::chrono::seconds(untriaged_after + 15))) {
        fail("the untriaged nudge was not posted");
        break;
      }
      const auto held = fake.calls("chat.postMessage").at(before.size());
      std::string holder;
      for (int i = 0; i < 100 && holder.empty(); ++i) {
        database->exec(
            "SELECT claimed_by FROM outbox WHERE state = 'pending' AND idempotency_key LIKE 'reminder:%' AND "
            "claimed_by "
            "IS NOT "
            "NULL LIMIT 1",
            &holder);
        if (holder.empty()) pump(live(), 20ms);
      }
      // owner: host:pid:random
      const auto colon = holder.find(':');
      const int pid = colon == std::string::npos ? -1 : std::atoi(holder.c_str() + colon + 1);
      replica* victim = nullptr;
      for (auto* r : live())
        if (r->bot->pid() == pid) victim = r;
      if (!victim) {
        std::string rows;
        rows = database->exec(
            "SELECT string_agg(idempotency_key || ' ' || state || ' ' || coalesce(claimed_by, '-'), '; ' "
            "ORDER BY id) FROM "
            "outbox",
            &rows);
        std::string message = "no live replica holds the nudge's outbox claim (claimed_by '" + holder;
        message += "'); the held post: ";
        message += held.body.value("text", "").substr(0, 200);
        message += "; the outbox: ";
        message += rows;
        fail(message);
        break;
      }
      victim->bot->signal(SIGKILL);
      const auto killed_at = steady::now();
      victim->alive = false;
      victim->bot->wait(5s);
      const auto wanted = post_identity(held.body);
      bool posted = false;
      for (const auto deadline = killed_at + 300s; steady::now() < deadline && !posted;) {
        for (const auto& c : fake.calls("chat.postMessage"))
          if (c.at > killed_at && post_identity(c.body) == wanted) {
            const double s = std::chrono::duration<double>(c.at - killed_at).count();
            times.push_back(s);
            std::printf(
                "drill %d          SIGKILL of the holder to the post by another replica: %.2f s (%s)\n",
                trial + 1, s, marked_resent(c.body) ? "marked re-sent" : "unmarked");
            posted = true;
            break;
          }
        if (!posted) pump(live(), 50ms);
      }
      if (!posted) {
        fail("the held reminder was not posted by another replica within 300 s");
        break;
      }
      for (std::size_t k = 0; k < replicas.size(); ++k)
        if (replicas[k].get() == victim) start_replica(k);
      // The drill's Security Team nudge (twice as late) goes out before the next drill holds a post.
      const auto settle_at = opened_at + std::chrono::seconds(2 * untriaged_after + 2);
      if (steady::now() < settle_at)
        pump(live(), std::chrono::duration_cast<std::chrono::milliseconds>(settle_at - steady::now()));
      settled_posts(fake, live(), 1000ms, 30s);
    }
    if (!times.empty())
      std::printf("fail-over time   min %.2f s, median %.2f s, max %.2f s over %zu drills\n",
                  *std::min_element(times.begin(), times.end()), median(times),
                  *std::max_element(times.begin(), times.end()), times.size());
    std::printf("load average     %.2f at the end (2 cores, shared with other engineers' builds)\n",
                load_average());
    stop_all();
    return exit_code;
  }

  if (o.total == 0) {
    std::this_thread::sleep_for(2s);
    std::printf("idle             %d open incidents preloaded\n", o.preload);
    std::printf("flare RSS        %.1f MiB now, %.1f MiB peak\n", status_mib(first.bot->pid(), "VmRSS"),
                status_mib(first.bot->pid(), "VmHWM"));
    std::printf("start-up         exec to connected %.0f ms, %.0f ms CPU\n", first.connected_ms,
                first.startup_cpu_ms);
  } else {
    const int incidents = o.command == "help" ? 0 : o.incidents;
    std::vector<envelope_template> seeds;
    seeds.reserve(static_cast<std::size_t>(incidents));
    for (int i = 0; i < incidents; ++i)
      seeds.emplace_back("open Seeded incident number " + std::to_string(i + 1));
    std::vector<envelope_template> commands;
    if (o.command == "show") {
      for (int i = 0; i < std::max(1, incidents); ++i)
        commands.emplace_back("show INC-" + std::to_string(i + 1));
    } else {
      commands.emplace_back(o.command);
    }
    std::string why;
    const auto seed_pick = [](long rel) { return static_cast<std::size_t>(rel); };
    const auto command_pick = [&](long rel) { return static_cast<std::size_t>(rel) % commands.size(); };
    if (!drive(*first.link, first.reader, first.log, first.next_id, incidents, std::min(o.in_flight, 10), 0,
               false, seeds, seed_pick, why)) {
      fail("the incidents were not all acked: " + why);
    } else if (!drive_all(live(), o.warmup, o.in_flight, o.max_batch, true, commands, command_pick, why)) {
      fail("the warm-up was not all acked: " + why);
    } else {
      scraper scrapes;
      std::thread scrape_thread;
      if (o.scrape_every_ms > 0)
        scrape_thread = std::thread(
            [&] { scrapes.run(first.health_port, std::chrono::milliseconds(o.scrape_every_ms)); });
      if (!o.callgrind.empty()) callgrind_control("-z", first.bot->pid());  // count from here
      for (auto* r : live()) r->log.recording = true;
      const auto bot_cpu0 = flare_cpu();
      const auto self_cpu0 = own_cpu(RUSAGE_SELF);
      const auto driver_cpu0 = own_cpu(RUSAGE_THREAD);
      const double load0 = load_average();
      const auto started = steady::now();
      const bool ok = drive_all(live(), o.total, o.in_flight, o.max_batch, true, commands, command_pick, why);
      const double seconds = std::chrono::duration<double>(steady::now() - started).count();
      const auto bot_cpu1 = flare_cpu();
      const auto driver_cpu1 = own_cpu(RUSAGE_THREAD);
      const double self_cpu = own_cpu(RUSAGE_SELF).total() - self_cpu0.total();
      if (!o.callgrind.empty()) {
        callgrind_control("-d", first.bot->pid());  // the measured acks alone: <out>.1
      }
      scrapes.stop = true;
      if (scrape_thread.joinable()) scrape_thread.join();
      std::vector<double> latencies;
      for (auto* r : live()) {
        latencies.insert(latencies.end(), r->log.latencies_us.begin(), r->log.latencies_us.end());
        r->log.recording = false;
      }
      if (!ok || latencies.size() != static_cast<std::size_t>(o.total)) {
        fail("acks went missing: " + std::to_string(latencies.size()) + " of " + std::to_string(o.total) +
             ": " + why);
      } else {
        std::sort(latencies.begin(), latencies.end());
        auto pct = [&](double p) {
          return latencies[static_cast<std::size_t>(p * static_cast<double>(latencies.size() - 1))];
        };
        const double per_ack = 1e6 / o.total;
        std::printf("setup            %s\n", setup.c_str());
        std::printf(
            "command          /incident %s (%d open incidents), %d acks, %d in flight, synchronous=%s%s\n",
            o.command.c_str(), incidents, o.total, o.in_flight, o.synchronous.c_str(),
            o.max_batch > 0 ? (", at most " + std::to_string(o.max_batch) + " envelopes per write").c_str()
                            : "");
        std::printf("reply            %zu bytes on the ack (%ld acks checked in full)\n",
                    first.log.reply_bytes, first.log.checked);
        std::printf("flare CPU/ack    %.1f us (%.1f user, %.1f kernel)%s%s\n",
                    (bot_cpu1.total() - bot_cpu0.total()) * per_ack,
                    (bot_cpu1.user - bot_cpu0.user) * per_ack, (bot_cpu1.system - bot_cpu0.system) * per_ack,
                    o.replicas > 1 ? ", all replicas" : "", o.callgrind.empty() ? "" : " under callgrind");
        std::printf("ack latency      p50 %.2f ms, p99 %.2f ms, max %.2f ms\n", pct(0.50) / 1000,
                    pct(0.99) / 1000, latencies.back() / 1000);
        std::printf("throughput       %.0f acks/s\n", o.total / seconds);
        std::printf(
            "generator CPU    %.1f us/ack on the link's thread (%.1f user, %.1f kernel), %.1f us/ack in all "
            "(the "
            "fake's Web API included)\n",
            (driver_cpu1.total() - driver_cpu0.total()) * per_ack,
            (driver_cpu1.user - driver_cpu0.user) * per_ack,
            (driver_cpu1.system - driver_cpu0.system) * per_ack, self_cpu * per_ack);
        std::printf(
            "load average     %.2f at the start, %.2f at the end (2 cores; timings are upper bounds)\n",
            load0, load_average());
        std::printf("flare RSS        %.1f MiB now, %.1f MiB peak%s\n", status_mib(first.bot->pid(), "VmRSS"),
                    status_mib(first.bot->pid(), "VmHWM"), o.replicas > 1 ? " (replica 0)" : "");
        std::printf("start-up         exec to connected %.0f ms, %.0f ms CPU\n", first.connected_ms,
                    first.startup_cpu_ms);
        if (o.scrape_every_ms > 0)
          std::printf("scrapes          %d every %d ms, mean %.2f ms, slowest %.2f ms, %d failed\n",
                      scrapes.scrapes, o.scrape_every_ms,
                      scrapes.scrapes ? scrapes.total_ms / scrapes.scrapes : 0.0, scrapes.slowest_ms,
                      scrapes.failures);
        if (!o.callgrind.empty())
          std::printf(
              "callgrind        %s.1 holds the measured acks (callgrind_annotate it; Ir / %d = instructions "
              "per ack)\n",
              o.callgrind.c_str(), o.total);
      }
    }
    if (exit_code == 0 && o.opens > 0) {
      // Posts: `opens` incidents opened through the links at once (each a card in C0INC and a ping
      // in the security channel, sent by the outbox), and the posts counted as Slack receives them,
      // from the first open sent to the last post, once no post has come for 3 s.
      std::vector<envelope_template> opens;
      opens.reserve(static_cast<std::size_t>(o.opens));
      for (int i = 0; i < o.opens; ++i)
        opens.emplace_back("open Bench incident number " + std::to_string(i + 1));
      const auto posts_before = fake.calls("chat.postMessage").size();
      const double load0 = load_average();
      const auto started = steady::now();
      if (!drive_all(
              live(), o.opens, std::min(o.in_flight, 10 * o.replicas), 0, false, opens,
              [&](long rel) { return static_cast<std::size_t>(rel) % opens.size(); }, why)) {
        fail("the opens were not all acked: " + why);
      } else {
        const double acked_s = std::chrono::duration<double>(steady::now() - started).count();
        const auto posts =
            settled_posts(fake, live(), 3000ms, 300s, posts_before + static_cast<std::size_t>(o.opens));
        std::map<std::string, int> seen;
        int resent = 0;
        int doubled = 0;
        steady::time_point last = started;
        for (std::size_t i = posts_before; i < posts.size(); ++i) {
          last = std::max(last, posts[i].at);
          if (marked_resent(posts[i].body)) ++resent;
          if (++seen[post_identity(posts[i].body)] == 2) ++doubled;
        }
        const auto n = posts.size() - posts_before;
        const double s = std::chrono::duration<double>(last - started).count();
        std::printf(
            "posts            %zu chat.postMessage for %d opens (acked in %.2f s) in %.2f s: %.1f posts/s; "
            "%d doubled, %d marked re-sent; pacing %s\n",
            n, o.opens, acked_s, s, s > 0 ? static_cast<double>(n) / s : 0.0, doubled, resent,
            o.posts_per_second > 0 ? (std::to_string(o.posts_per_second) +
                                      "/s per channel per replica, burst " + std::to_string(o.post_burst))
                                         .c_str()
                                   : "flare's default");
        std::printf("load average     %.2f at the start of the posts, %.2f at the end\n", load0,
                    load_average());
      }
    }
  }
  stop_all();
  return exit_code;
}

}  // namespace

int main(int argc, char** argv) {
  // A link whose replica was killed fails its writes (EPIPE) instead of killing the generator.
  std::signal(SIGPIPE, SIG_IGN);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // each figure as it is measured
  options o;
  if (!parse(argc, argv, o)) {
    usage();
    return 2;
  }
  try {
    return run(o);
  } catch (const std::exception& e) {
    std::cerr << "ack_load: " << e.what() << "\n";
    return 1;
  }
}
