#include "bot/ops/metrics.hpp"

#include "bot/store/store.hpp"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <cstdint>

namespace flare {

namespace {

using prometheus::Counter;
using prometheus::Family;
using prometheus::Gauge;
using prometheus::Histogram;

// Slack's ack budget is 3 s; the buckets are dense below it so a creeping latency shows early.
const Histogram::BucketBoundaries ack_latency_buckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                         0.5,   1.0,  1.5,   2.0,  2.5, 3.0, 5.0};

// Known severities always exported, so "open incidents of severity X" reads 0, not "no data".
const char* const known_severities[] = {"critical", "high", "medium", "low", "unclassified"};

// Brings a counter fed from a cumulative count (kept elsewhere) up to that count.
void catch_up(Counter& c, double total) {
  const double now = c.Value();
  if (total > now) c.Increment(total - now);
}

}  // namespace

struct metrics::impl {
  prometheus::Registry registry;
  Family<Counter>& envelopes_received =
      prometheus::BuildCounter()
          .Name("flare_envelopes_received_total")
          .Help("Socket Mode envelopes received from Slack, by envelope type")
          .Register(registry);
  Family<Counter>& envelopes_acked = prometheus::BuildCounter()
                                         .Name("flare_envelopes_acked_total")
                                         .Help("Socket Mode envelopes acknowledged, by envelope type")
                                         .Register(registry);
  Family<Histogram>& ack_latency =
      prometheus::BuildHistogram()
          .Name("flare_ack_latency_seconds")
          .Help("Time from receiving an envelope to sending its ack, by envelope type (Slack allows 3 s)")
          .Register(registry);
  Family<Counter>& api_calls = prometheus::BuildCounter()
                                   .Name("flare_slack_api_calls_total")
                                   .Help("Slack Web API calls finished (after retries), by method")
                                   .Register(registry);
  Family<Counter>& api_errors =
      prometheus::BuildCounter()
          .Name("flare_slack_api_errors_total")
          .Help("Slack Web API calls that failed for good, by method and Slack error code")
          .Register(registry);
  Family<Counter>& rate_limited = prometheus::BuildCounter()
                                      .Name("flare_slack_api_rate_limited_total")
                                      .Help("HTTP 429 answers from the Slack Web API, by method")
                                      .Register(registry);
  Family<Counter>& rate_limited_wait =
      prometheus::BuildCounter()
          .Name("flare_slack_api_rate_limited_wait_seconds_total")
          .Help("Seconds of Retry-After waits imposed by 429 answers, by method")
          .Register(registry);
  Family<Counter>& reconnects = prometheus::BuildCounter()
                                    .Name("flare_socket_reconnects_total")
                                    .Help("Socket Mode connections opened after the first, by reason")
                                    .Register(registry);
  Gauge& socket_connected = prometheus::BuildGauge()
                                .Name("flare_socket_connected")
                                .Help("1 while the Socket Mode link to Slack is up")
                                .Register(registry)
                                .Add({});
  Family<Counter>& reminders = prometheus::BuildCounter()
                                   .Name("flare_reminders_sent_total")
                                   .Help("Deadline reminders posted")
                                   .Register(registry);
  Counter& reminders_sent = reminders.Add({});
  Counter& reminders_late = prometheus::BuildCounter()
                                .Name("flare_reminders_late_total")
                                .Help("Deadline reminders posted later than scheduled")
                                .Register(registry)
                                .Add({});
  Counter& reminders_overdue = prometheus::BuildCounter()
                                   .Name("flare_reminders_overdue_total")
                                   .Help("Reminders posted about a deadline that had already passed")
                                   .Register(registry)
                                   .Add({});
  Family<Gauge>& open_incidents = prometheus::BuildGauge()
                                      .Name("flare_open_incidents")
                                      .Help("Incidents not yet resolved, by severity")
                                      .Register(registry);
  Gauge& outbox_pending = prometheus::BuildGauge()
                              .Name("flare_outbox_pending")
                              .Help("Slack posts decided but not yet sent")
                              .Register(registry)
                              .Add({});
  Counter& outbox_failed = prometheus::BuildCounter()
                               .Name("flare_outbox_failed_total")
                               .Help("Slack posts given up for good after their retries")
                               .Register(registry)
                               .Add({});
  Counter& store_write_failures = prometheus::BuildCounter()
                                      .Name("flare_store_write_failures_total")
                                      .Help("Store writes that failed (inbox, heartbeat): envelopes stay unacked")
                                      .Register(registry)
                                      .Add({});
  scrape_sources sources;
};

metrics::metrics() : impl_(std::make_unique<impl>()) {
  for (const char* severity : known_severities) impl_->open_incidents.Add({{"severity", severity}});
}

metrics::~metrics() = default;

void metrics::envelope_received(const std::string& type) {
  impl_->envelopes_received.Add({{"type", type}}).Increment();
}

void metrics::envelope_acked(const std::string& type, std::chrono::steady_clock::duration latency) {
  impl_->envelopes_acked.Add({{"type", type}}).Increment();
  impl_->ack_latency.Add({{"type", type}}, ack_latency_buckets)
      .Observe(std::chrono::duration<double>(latency).count());
}

void metrics::web_api_call(const std::string& method, const std::string& error) {
  impl_->api_calls.Add({{"method", method}}).Increment();
  if (!error.empty()) impl_->api_errors.Add({{"method", method}, {"error", error}}).Increment();
}

void metrics::web_api_rate_limited(const std::string& method, std::chrono::seconds wait) {
  impl_->rate_limited.Add({{"method", method}}).Increment();
  impl_->rate_limited_wait.Add({{"method", method}}).Increment(static_cast<double>(wait.count()));
}

void metrics::reminder_sent(bool late, bool overdue) {
  impl_->reminders_sent.Increment();
  if (late) impl_->reminders_late.Increment();
  if (overdue) impl_->reminders_overdue.Increment();
}

void metrics::store_write_failed() { impl_->store_write_failures.Increment(); }

void metrics::set_sources(scrape_sources sources) { impl_->sources = std::move(sources); }

std::string metrics::scrape() {
  auto& m = *impl_;
  if (m.sources.reconnects_by_reason) {
    for (const auto& [reason, count] : m.sources.reconnects_by_reason())
      catch_up(m.reconnects.Add({{"reason", reason}}), static_cast<double>(count));
  }
  if (m.sources.socket_connected) m.socket_connected.Set(m.sources.socket_connected() ? 1 : 0);
  if (m.sources.open_incidents_by_severity) {
    for (const auto& [severity, count] : m.sources.open_incidents_by_severity())
      m.open_incidents.Add({{"severity", severity}}).Set(static_cast<double>(count));
  }
  if (m.sources.outbox_pending) m.outbox_pending.Set(static_cast<double>(m.sources.outbox_pending()));
  if (m.sources.outbox_failed) catch_up(m.outbox_failed, static_cast<double>(m.sources.outbox_failed()));
  return prometheus::TextSerializer().Serialize(m.registry.Collect());
}

std::map<std::string, std::size_t> open_incidents_by_severity(store::store& s) {
  std::map<std::string, std::size_t> counts;
  for (const char* severity : known_severities) counts[severity] = 0;
  for (const auto& inc : s.list_incidents(true, SIZE_MAX)) ++counts[inc.severity.value_or("unclassified")];
  return counts;
}

}  // namespace flare
