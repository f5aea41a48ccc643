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
#include <iostream>
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

struct options {
  std::string binary = FLARE_BINARY;
  std::string command = "help";  // help | show | list
  int total = 20000;
  int in_flight = 50;
  int incidents = 50;  // opened first, for show and list
  int warmup = 1000;
  int max_batch = 0;  // envelopes per TLS write; 0: all that the last read freed up
  std::string synchronous = "full";
  int scrape_every_ms = 0;  // 0: no scraping
  int preload = 0;          // open incidents written to the store before flare starts
  std::string callgrind;    // non-empty: run flare under callgrind, writing this file
};

void usage() {
  std::cerr << "usage: ack_load [--binary PATH] [--command help|show|list] [--total N] [--in-flight N]\n"
               "                [--incidents N] [--warmup N] [--max-batch N] [--synchronous full|normal]\n"
               "                [--scrape-every-ms N] [--preload N] [--callgrind OUT]\n"
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
      else return false;
    } catch (const std::exception&) {
      return false;
    }
  }
  return (o.command == "help" || o.command == "show" || o.command == "list") && o.total >= 0 &&
         o.in_flight > 0 && o.preload >= 0 && o.max_batch >= 0 && o.warmup >= 0;
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
  std::vector<steady::time_point> sent_at;  // by envelope id
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
    if (id_ < 0 || static_cast<std::size_t>(id_) >= log.sent_at.size()) {
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
      log.latencies_us.push_back(std::chrono::duration<double, std::micro>(now - log.sent_at[id_]).count());
    id_ = -1;
  }

  std::string expect_;
  long id_ = -1;
  bool whole_ = false;
  std::string text_;
};

// Sends envelopes ids [first, first + n) (templates[pick(i)] for the i-th) keeping at most
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
    while (next_id < end && next_id - log.acked < in_flight) {
      if (max_batch > 0 && batch == max_batch) {
        link.write(out);
        out.clear();
        batch = 0;
      }
      templates[pick(next_id)].append(out, next_id);
      log.sent_at[static_cast<std::size_t>(next_id)] = now;
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

int run(const options& o) {
  flare::testing::fake_slack fake;
  fake.set_usergroup_members("S0RESP", {"U0ALICE"});
  fake.set_usergroup_members("S0SEC", {"U0SEC"});
  flare::testing::test_ca link_ca;
  link_server link(link_ca.server_cert_pem(), link_ca.server_key_pem());
  ::setenv("FLARE_FAKE_SLACK_SOCKET_MODE_URL",
           ("wss://localhost:" + std::to_string(link.port()) + "/link/").c_str(), 1);

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
  const int health_port = free_port();
  if (o.preload > 0) preload_incidents((dir / "flare.db").string(), o.preload);

  std::string program = o.binary;
  std::vector<std::string> args = {"run"};
  if (!o.callgrind.empty()) {
    program = "/usr/bin/valgrind";
    args = {"--tool=callgrind", "--callgrind-out-file=" + o.callgrind, o.binary, "run"};
  }
  const auto connect_timeout = o.callgrind.empty() ? 20s : 120s;
  const auto exec_at = steady::now();
  flare::testing::child_process bot(program, args,
                                    {{"SLACK_APP_TOKEN", fake.options().app_token},
                                     {"SLACK_BOT_TOKEN", fake.options().bot_token},
                                     {"SLACK_API_URL", fake.api_url()},
                                     {"SLACK_CA_FILE", (dir / "ca.pem").string()},
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
  try {
    link.accept(connect_timeout);
  } catch (const std::exception& e) {
    fail(e.what());
    bot.signal(SIGTERM);
    bot.wait(15s);
    return 1;
  }
  const double connected_ms = std::chrono::duration<double, std::milli>(steady::now() - exec_at).count();
  const double startup_cpu_ms = process_cpu(bot.pid()).total() * 1000.0;
  if (o.total == 0) {
    std::this_thread::sleep_for(2s);
    std::printf("idle             %d open incidents preloaded\n", o.preload);
    std::printf("flare RSS        %.1f MiB now, %.1f MiB peak\n", status_mib(bot.pid(), "VmRSS"),
                status_mib(bot.pid(), "VmHWM"));
    std::printf("start-up         exec to connected %.0f ms, %.0f ms CPU\n", connected_ms, startup_cpu_ms);
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
    ack_log log;
    log.sent_at.resize(static_cast<std::size_t>(incidents) + o.warmup + o.total);
    frame_reader reader(o.command == "help" ? "/incident" : "");
    long next_id = 0;
    std::string why;
    const auto seed_pick = [](long id) { return static_cast<std::size_t>(id); };
    const long first_command = incidents + 0L;
    const auto command_pick = [&](long id) {
      return static_cast<std::size_t>(id - first_command) % commands.size();
    };
    if (!drive(link, reader, log, next_id, incidents, std::min(o.in_flight, 10), 0, false, seeds, seed_pick,
               why)) {
      fail("the incidents were not all acked: " + why);
    } else if (!drive(link, reader, log, next_id, o.warmup, o.in_flight, o.max_batch, true, commands,
                      command_pick, why)) {
      fail("the warm-up was not all acked: " + why);
    } else {
      scraper scrapes;
      std::thread scrape_thread;
      if (o.scrape_every_ms > 0)
        scrape_thread =
            std::thread([&] { scrapes.run(health_port, std::chrono::milliseconds(o.scrape_every_ms)); });
      if (!o.callgrind.empty()) callgrind_control("-z", bot.pid());  // count from here
      log.recording = true;
      const auto bot_cpu0 = process_cpu(bot.pid());
      const auto self_cpu0 = own_cpu(RUSAGE_SELF);
      const auto driver_cpu0 = own_cpu(RUSAGE_THREAD);
      const double load0 = load_average();
      const auto started = steady::now();
      const bool ok = drive(link, reader, log, next_id, o.total, o.in_flight, o.max_batch, true, commands,
                            command_pick, why);
      const double seconds = std::chrono::duration<double>(steady::now() - started).count();
      const auto bot_cpu1 = process_cpu(bot.pid());
      const auto driver_cpu1 = own_cpu(RUSAGE_THREAD);
      const double self_cpu = own_cpu(RUSAGE_SELF).total() - self_cpu0.total();
      if (!o.callgrind.empty()) {
        callgrind_control("-d", bot.pid());  // the measured acks alone: <out>.1
      }
      scrapes.stop = true;
      if (scrape_thread.joinable()) scrape_thread.join();
      auto& latencies = log.latencies_us;
      if (!ok || latencies.size() != static_cast<std::size_t>(o.total)) {
        fail("acks went missing: " + std::to_string(latencies.size()) + " of " + std::to_string(o.total) +
             ": " + why);
      } else {
        std::sort(latencies.begin(), latencies.end());
        auto pct = [&](double p) {
          return latencies[static_cast<std::size_t>(p * static_cast<double>(latencies.size() - 1))];
        };
        const double per_ack = 1e6 / o.total;
        std::printf(
            "command          /incident %s (%d open incidents), %d acks, %d in flight, synchronous=%s%s\n",
            o.command.c_str(), incidents, o.total, o.in_flight, o.synchronous.c_str(),
            o.max_batch > 0 ? (", at most " + std::to_string(o.max_batch) + " envelopes per write").c_str()
                            : "");
        std::printf("reply            %zu bytes on the ack (%ld acks checked in full)\n", log.reply_bytes,
                    log.checked);
        std::printf("flare CPU/ack    %.1f us (%.1f user, %.1f kernel)%s\n",
                    (bot_cpu1.total() - bot_cpu0.total()) * per_ack,
                    (bot_cpu1.user - bot_cpu0.user) * per_ack, (bot_cpu1.system - bot_cpu0.system) * per_ack,
                    o.callgrind.empty() ? "" : " under callgrind");
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
        std::printf("flare RSS        %.1f MiB now, %.1f MiB peak\n", status_mib(bot.pid(), "VmRSS"),
                    status_mib(bot.pid(), "VmHWM"));
        std::printf("start-up         exec to connected %.0f ms, %.0f ms CPU\n", connected_ms,
                    startup_cpu_ms);
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
  }
  bot.signal(SIGTERM);
  answer_close(link, 5s);
  if (bot.wait(o.callgrind.empty() ? 15s : 60s) != 0 && exit_code == 0) fail("flare did not stop cleanly");
  return exit_code;
}

}  // namespace

int main(int argc, char** argv) {
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
