// A small, honest Slack for tests: TLS (a throwaway CA made at test time), real HTTP for the
// Web API and apps.connections.open, a real WebSocket for Socket Mode, 127.0.0.1 only. It records
// every call and ack and has switches for faults. It runs on its own thread and io_context; every
// method here is thread-safe and every wait is bounded by its timeout.
//
// Web API: POST (or GET) /api/<method>, token in `Authorization: Bearer` (or a `token` form
// field). apps.connections.open takes only the app token, every other method only the bot token
// (else invalid_auth; none at all: not_authed). Unknown methods answer unknown_method. Bodies may
// be JSON or form-urlencoded (structured form fields such as `blocks` and `view` as JSON strings).
// Socket Mode: only URLs handed out by apps.connections.open open a link (other tickets: 401).
// Quiet by default (warnings only); FLARE_FAKE_SLACK_LOG=debug traces. Tokens are never logged.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace flare::testing {

using namespace std::chrono_literals;

// A certificate authority made for one test run, and a server certificate it signed.
// Files live in a fresh temporary directory removed by the destructor.
class test_ca {
 public:
  // `server_names` go into the server certificate's subjectAltName (DNS names; "127.0.0.1" is
  // added as an IP SAN when listed).
  explicit test_ca(std::vector<std::string> server_names = {"localhost", "127.0.0.1"});
  ~test_ca();
  test_ca(const test_ca&) = delete;
  test_ca& operator=(const test_ca&) = delete;

  const std::string& ca_file() const;  // PEM of the CA certificate: what SLACK_CA_FILE names
  const std::string& server_cert_pem() const;
  const std::string& server_key_pem() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

struct fake_slack_options {
  std::string app_token = "xapp-1-test-app-token";
  std::string bot_token = "xoxb-test-bot-token";
  // Names in the server certificate. Set to {"wrong.example"} to test host-name verification.
  std::vector<std::string> certificate_names = {"localhost", "127.0.0.1"};
  // The host the advertised URLs use (api_url(), the wss:// URL from apps.connections.open).
  std::string advertised_host = "localhost";
  // Bot identity returned by auth.test and used as message author.
  std::string bot_user_id = "U0BOT";
  std::string bot_id = "B0BOT";
  std::string team_id = "T0001";
};

// A Web API call as the fake received it.
struct api_call {
  std::string method;         // "chat.postMessage"
  std::string authorization;  // the Authorization header as sent
  std::string content_type;
  nlohmann::json body;  // JSON body, or form fields as an object of strings
  std::chrono::steady_clock::time_point at;
};

// An ack frame as the fake received it.
struct ack {
  std::string envelope_id;
  std::optional<nlohmann::json> payload;
  std::chrono::steady_clock::duration latency;  // from sending the envelope to receiving the ack
  int connection = 0;                           // which socket (1, 2, ... in order of opening)
};

// One injected fault for the next call(s) of a Web API method.
struct fault {
  int http_status = 200;                     // 429, 500, 503 ...
  std::optional<int> retry_after_seconds{};  // Retry-After header, with 429
  std::string slack_error{};                 // non-empty: answer {ok:false,error:slack_error}
  std::chrono::milliseconds delay{0};        // wait before answering
  int times = 1;                             // how many consecutive calls get this fault
};

struct envelope_options {
  bool accepts_response_payload = false;
  int retry_attempt = 0;
  std::string retry_reason{};
  std::optional<std::string> envelope_id{};  // default: a fresh id
  int connection = 0;                        // 0: the newest open connection
};

class fake_slack {
 public:
  explicit fake_slack(fake_slack_options options = {});
  ~fake_slack();  // NOLINT(bugprone-exception-escape): failing to stop ends the test run
  fake_slack(const fake_slack&) = delete;
  fake_slack& operator=(const fake_slack&) = delete;

  // "https://localhost:PORT/api/" — what SLACK_API_URL names.
  std::string api_url() const;
  const std::string& ca_file() const;
  std::uint16_t port() const;
  const fake_slack_options& options() const;

  // ---- Socket Mode ----
  // Connections that completed the WebSocket handshake and are still open.
  int open_connections() const;
  // Total connections ever opened (1-based ids are handed out in this order).
  int connections_opened() const;
  bool wait_for_open_connections(int n, std::chrono::milliseconds timeout = 5s) const;
  // Sends an envelope; returns its envelope_id. Remembered until acked, for redelivery.
  // With no open link (or no link with that id) nothing is sent, but redelivery still applies.
  std::string send_envelope(const std::string& type, const nlohmann::json& payload,
                            envelope_options options = {});
  // Sends a text frame verbatim (for malformed-input tests).
  void send_raw(const std::string& text, int connection = 0);
  // Sends {"type":"disconnect","reason":reason} on a connection (0: newest).
  void send_disconnect(const std::string& reason, int connection = 0);
  // Drops every Socket Mode link at the TCP level: no close frame, no TLS close_notify.
  void close_abruptly();
  // When on, envelopes not acked within `after` are re-sent (same payload and event_id, a new
  // envelope_id, retry_attempt + 1, retry_reason "timeout") on the newest open connection, up to
  // 3 times — as Slack does.
  void set_redelivery(bool on, std::chrono::milliseconds after = 3000ms);
  // Redelivery on, with the wait before each redelivery given separately (each counted from the
  // attempt before it; as many redeliveries as waits). Slack's own schedule for events is about
  // {immediately, 1 min, 5 min}; a test that restarts the bot uses a compressed copy of that shape
  // so that a redelivery still comes after a slow restart, as Slack's would.
  void set_redelivery_schedule(std::vector<std::chrono::milliseconds> waits);
  // Several Socket Mode connections (replicas of one app): when on, an envelope sent to
  // connection 0 and every redelivery go to the open links in turn (round-robin), as Slack spreads
  // envelopes over an app's connections; off (the default), to the newest link. A redelivery
  // thus reaches another replica than the one that left it unacked.
  void set_spread(bool on);
  // Whether `hello` is sent after the handshake (default true). Off: test the hello timeout.
  void set_send_hello(bool on);
  // Whether the fake answers the client's pings (default true). Off: test dead-link detection.
  // Beast answers pings inside any pending read, so "off" holds back everything the client sends
  // on every open (and newly opened) link — pings, acks and close frames alike — until switched
  // back on, when the held-back frames are processed (and the pings answered, late).
  void set_answer_pings(bool on);

  std::optional<ack> wait_for_ack(const std::string& envelope_id,
                                  std::chrono::milliseconds timeout = 5s) const;
  std::vector<ack> acks() const;
  // Envelopes (by the id they were first sent with) that neither they nor any redelivery of them
  // has been acked.
  std::vector<std::string> unacked() const;
  // Calls `observer` with every ack as it arrives (on the fake's thread, lock not held), so a load
  // generator can count acks in O(1) instead of searching them; keep=false stops recording acks
  // (acks() and wait_for_ack() then see none), which keeps a long run's memory flat.
  void observe_acks(std::function<void(const ack&)> observer, bool keep = true);

  // ---- Web API ----
  std::vector<api_call> calls(const std::string& method = "") const;
  // Waits until at least n calls of `method` (any method when empty) have been recorded.
  bool wait_for_calls(const std::string& method, std::size_t n, std::chrono::milliseconds timeout = 5s) const;
  // Faults queue per method and are used in order. Each call is recorded first; then the delay,
  // then a non-200 status (429: body {"ok":false,"error":"ratelimited"} and Retry-After only when
  // retry_after_seconds is set; others: a short text body), then slack_error.
  void inject(const std::string& method, fault f);
  // Drops the faults still queued for `method`: Slack is healthy again.
  void clear_faults(const std::string& method);
  // While on, new TCP connections are accepted and closed at once (as near to "refused" as a
  // listening socket gets); existing connections are dropped.
  void refuse_connections(bool on);
  // conversations.info answers for any id: C… public, G… private, D… a DM, the bot a member.
  // `fields` replace those for one id ({"is_member": false}, {"is_private": false}); a field
  // "error" makes it answer {ok:false,error:<it>} instead ("channel_not_found").
  void set_conversation(const std::string& id, nlohmann::json fields);
  // Members returned by usergroups.users.list for a group id (others: no_such_subteam).
  void set_usergroup_members(const std::string& usergroup, std::vector<std::string> users);
  // Waits until the fake is drained: no connection open (so every request a client sent has been
  // read and answered, or found cut off), none waiting to be accepted, and no connection opened
  // or closed and no call received for `quiet`. For after the bot exited or was killed: what the
  // dead process had written to its sockets is then all recorded in calls(). False at `timeout`
  // (a live client keeps its connections open, so it never drains).
  bool wait_until_drained(std::chrono::milliseconds quiet = 100ms,
                          std::chrono::milliseconds timeout = 10s) const;
  // Messages posted so far (chat.postMessage), in order, as Slack stored them (with ts), plus a
  // "channel" field. chat.update edits the stored message in place (text, blocks, "edited").
  std::vector<nlohmann::json> posted_messages() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace flare::testing
