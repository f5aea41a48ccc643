// What flare counts for operators, in the Prometheus text format (served by bot/health_server on
// /metrics). Every metric is described in docs/operations.md ("Health and metrics").
//
// The runtime tells this object about events as they happen (envelope received and acked, Web
// API call finished, 429, reminder sent); state that other objects already keep (Socket Mode
// reconnect counts, open incidents) is read through `scrape_sources` when Prometheus scrapes, so
// nothing has to remember to push it. prometheus-cpp is kept out of this header.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

namespace flare::store {
class store;
}

namespace flare {

struct scrape_sources {
  // Cumulative reconnects by reason (socket_mode_stats::reconnects_by_reason).
  std::function<std::map<std::string, std::uint64_t>()> reconnects_by_reason;
  // Whether the Socket Mode link is up now.
  std::function<bool()> socket_connected;
  // Open incidents by severity ("unclassified" for none yet).
  std::function<std::map<std::string, std::size_t>()> open_incidents_by_severity;
  // Slack posts waiting in the outbox, and posts given up for good (cumulative).
  std::function<std::size_t()> outbox_pending;
  std::function<std::uint64_t()> outbox_failed;
};

class metrics {
 public:
  metrics();
  ~metrics();
  metrics(const metrics&) = delete;
  metrics& operator=(const metrics&) = delete;

  // Socket Mode: an envelope arrived; its ack went out `latency` after it arrived (the
  // dispatcher's on_ack observer).
  void envelope_received(const std::string& type);
  void envelope_acked(const std::string& type, std::chrono::steady_clock::duration latency);

  // Web API: a call finished (after its retries) with Slack's error code, "" on success
  // (web_api_options::on_call_done); a 429 imposed `wait` on `method` (on_rate_limited).
  void web_api_call(const std::string& method, const std::string& error);
  void web_api_rate_limited(const std::string& method, std::chrono::seconds wait);

  // Reminders: one was posted. late: later than its scheduled time (the bot was down or busy);
  // overdue: it is about a deadline that has already passed.
  void reminder_sent(bool late, bool overdue);

  // Store: a write failed (inbox group commit, readiness heartbeat): disk full, read-only, ...
  // No label: the error text could carry anything.
  void store_write_failed();
  // Inbox: a delivery was parked as a dead letter after failing every replay. Alert on any.
  void delivery_parked();

  void set_sources(scrape_sources sources);

  // The text Prometheus scrapes: refreshes the values read from the sources, then serializes.
  std::string scrape();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

// Label values, each from a closed set ("other" for anything not on it): a Slack error code, a
// Web API method, an envelope type, a Socket Mode reconnect reason. Nothing from outside reaches a
// label verbatim, so no token or message text can, and the number of series stays bounded.
std::string metric_label_for_error(std::string_view code);
std::string metric_label_for_method(std::string_view method);
std::string metric_label_for_envelope_type(std::string_view type);
std::string metric_label_for_reconnect_reason(std::string_view reason);

// Open incidents counted by severity, for scrape_sources::open_incidents_by_severity. Every known
// severity appears (with 0) so a gauge drops to 0 instead of vanishing.
std::map<std::string, std::size_t> open_incidents_by_severity(store::store& s);

}  // namespace flare
