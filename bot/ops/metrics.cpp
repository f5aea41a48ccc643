#include "bot/ops/metrics.hpp"

#include "bot/store/store.hpp"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <cstdint>
#include <map>
#include <set>

namespace flare {

namespace {

using prometheus::Counter;
using prometheus::Family;
using prometheus::Gauge;
using prometheus::Histogram;

// Slack's ack budget is 3 s; the buckets are dense below it so a creeping latency shows early.
const Histogram::BucketBoundaries ack_latency_buckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                                                         1.0,   1.5,  2.0,   2.5,  3.0, 5.0};

// Known severities always exported, so "open incidents of severity X" reads 0, not "no data".
const char* const known_severities[] = {"critical", "high", "medium", "low", "unclassified"};

// Every label value comes from a closed set: a label is a new time series for ever (unbounded
// cardinality), and it is published without redaction, so text from outside (a Slack error
// string, a disconnect reason) must never reach one verbatim. Anything not on a list is "other".
// Slack's error codes (docs/slack.md; Slack's method pages) and flare's own transport codes.
const std::set<std::string, std::less<>> known_error_codes = {
    // flare's transport codes (slack_api.hpp)
    "timeout", "connection_failed", "tls_handshake_failed", "invalid_response", "cancelled", "http_4xx",
    "http_5xx",
    // retryable
    "ratelimited", "rate_limited", "internal_error", "fatal_error", "service_unavailable", "request_timeout",
    // token and app
    "invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired", "no_permission",
    "missing_scope", "not_allowed_token_type", "team_access_not_granted", "org_login_required",
    "ekm_access_denied", "access_denied", "accesslimited", "link_disabled", "team_disabled",
    "user_removed_from_team", "forbidden_team", "missing_args", "two_factor_setup_required",
    "enterprise_is_restricted", "deprecated_endpoint",
    // request shape
    "invalid_arguments", "invalid_arg_name", "invalid_array_arg", "invalid_charset", "invalid_form_data",
    "invalid_post_type", "missing_post_type", "invalid_json", "json_not_object", "request_too_large",
    "superfluous_charset", "method_deprecated",
    // posting
    "channel_not_found", "not_in_channel", "is_archived", "msg_too_long", "no_text", "invalid_blocks",
    "invalid_blocks_format", "too_many_attachments", "msg_blocks_too_long", "restricted_action",
    "restricted_action_read_only_channel", "restricted_action_thread_only_channel",
    "restricted_action_non_threadable_channel", "cannot_reply_to_message", "message_limit_exceeded",
    "markdown_text_conflict", "message_not_found", "cant_update_message", "edit_window_closed",
    "user_not_in_channel", "duplicate_channel_not_found", "duplicate_message_not_found",
    "as_user_not_supported",
    // people, groups, views
    "user_not_found", "users_not_found", "user_not_visible", "no_such_subteam", "subteam_not_found",
    "expired_trigger_id", "invalid_trigger_id", "exchanged_trigger_id", "view_too_large",
    "duplicate_external_id", "not_found", "hash_conflict", "push_limit_reached", "cannot_dm_bot",
    "user_disabled"};

// The Web API methods flare calls (bot/slack/web_api_client.cpp).
const std::set<std::string, std::less<>> known_methods = {
    "apps.connections.open", "auth.test",          "chat.postEphemeral",    "chat.postMessage", "chat.update",
    "conversations.info",    "conversations.open", "usergroups.users.list", "users.info",       "views.open",
    "views.update"};

// Socket Mode envelope types (bot/slack/envelope.hpp).
const std::set<std::string, std::less<>> known_envelope_types = {"events_api", "slash_commands",
                                                                 "interactive"};

// Why a Socket Mode link was replaced: Slack's disconnect reasons and the transport's own
// (bot/slack/socket_mode_client.cpp), first word only.
const std::set<std::string, std::less<>> known_reconnect_reasons = {"warning",
                                                                    "refresh_requested",
                                                                    "too_many_websockets",
                                                                    "disconnect",
                                                                    "closed_by_slack",
                                                                    "idle_timeout",
                                                                    "eof",
                                                                    "connection_reset",
                                                                    "aborted",
                                                                    "read_error",
                                                                    "write_timeout",
                                                                    "write_error",
                                                                    "internal_error",
                                                                    "link_disabled"};

std::string from_closed_set(const std::set<std::string, std::less<>>& known, std::string_view value) {
  if (auto it = known.find(value); it != known.end()) return *it;
  return "other";
}

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
  Counter& store_write_failures =
      prometheus::BuildCounter()
          .Name("flare_store_write_failures_total")
          .Help("Store writes that failed (inbox, heartbeat): envelopes stay unacked")
          .Register(registry)
          .Add({});
  Counter& deliveries_parked = prometheus::BuildCounter()
                                   .Name("flare_inbox_parked_total")
                                   .Help("Slack deliveries parked as dead letters after failing every replay")
                                   .Register(registry)
                                   .Add({});
  scrape_sources sources;

  // The series each envelope type touches, looked up once (on first use, so a type still shows up
  // only once seen): Family::Add hashes the label set under a lock, a few µs every ack would
  // otherwise pay (issue 11).
  struct envelope_series {
    std::string label;
    Counter* received = nullptr;
    Counter* acked = nullptr;
    Histogram* latency = nullptr;
  };
  std::map<std::string, envelope_series, std::less<>> by_label;  // keys: the closed set of labels

  envelope_series& series_for(std::string_view type) {
    auto it = by_label.find(type);
    if (it != by_label.end()) return it->second;
    std::string label = metric_label_for_envelope_type(type);
    it = by_label.find(label);
    if (it != by_label.end()) return it->second;
    return by_label.emplace(label, envelope_series{label}).first->second;
  }
  Counter& received(std::string_view type) {
    auto& s = series_for(type);
    if (!s.received) s.received = &envelopes_received.Add({{"type", s.label}});
    return *s.received;
  }
  Counter& acked(std::string_view type) {
    auto& s = series_for(type);
    if (!s.acked) s.acked = &envelopes_acked.Add({{"type", s.label}});
    return *s.acked;
  }
  Histogram& latency(std::string_view type) {
    auto& s = series_for(type);
    if (!s.latency) s.latency = &ack_latency.Add({{"type", s.label}}, ack_latency_buckets);
    return *s.latency;
  }
};

metrics::metrics() : impl_(std::make_unique<impl>()) {
  for (const char* severity : known_severities) impl_->open_incidents.Add({{"severity", severity}});
}

metrics::~metrics() = default;

std::string metric_label_for_error(std::string_view code) {
  // "http_503" and friends: the class is what an operator acts on, and it keeps the set closed.
  if (code.size() == 8 && code.starts_with("http_") && (code[5] == '4' || code[5] == '5'))
    return code[5] == '4' ? "http_4xx" : "http_5xx";
  return from_closed_set(known_error_codes, code);
}

std::string metric_label_for_method(std::string_view method) {
  return from_closed_set(known_methods, method);
}

std::string metric_label_for_envelope_type(std::string_view type) {
  return from_closed_set(known_envelope_types, type);
}

std::string metric_label_for_reconnect_reason(std::string_view reason) {
  return from_closed_set(known_reconnect_reasons, reason.substr(0, reason.find(' ')));
}

void metrics::envelope_received(const std::string& type) { impl_->received(type).Increment(); }

void metrics::envelope_acked(const std::string& type, std::chrono::steady_clock::duration latency) {
  impl_->acked(type).Increment();
  impl_->latency(type).Observe(std::chrono::duration<double>(latency).count());
}

void metrics::web_api_call(const std::string& method, const std::string& error) {
  const auto m = metric_label_for_method(method);
  impl_->api_calls.Add({{"method", m}}).Increment();
  if (!error.empty())
    impl_->api_errors.Add({{"method", m}, {"error", metric_label_for_error(error)}}).Increment();
}

void metrics::web_api_rate_limited(const std::string& method, std::chrono::seconds wait) {
  const auto m = metric_label_for_method(method);
  impl_->rate_limited.Add({{"method", m}}).Increment();
  impl_->rate_limited_wait.Add({{"method", m}}).Increment(static_cast<double>(wait.count()));
}

void metrics::reminder_sent(bool late, bool overdue) {
  impl_->reminders_sent.Increment();
  if (late) impl_->reminders_late.Increment();
  if (overdue) impl_->reminders_overdue.Increment();
}

void metrics::store_write_failed() { impl_->store_write_failures.Increment(); }

void metrics::delivery_parked() { impl_->deliveries_parked.Increment(); }

void metrics::set_sources(scrape_sources sources) { impl_->sources = std::move(sources); }

std::string metrics::scrape() {
  auto& m = *impl_;
  if (m.sources.reconnects_by_reason) {
    // Several reasons may share a label ("other"): sum them before catching the counter up.
    std::map<std::string, std::uint64_t> by_label;
    for (const auto& [reason, count] : m.sources.reconnects_by_reason())
      by_label[metric_label_for_reconnect_reason(reason)] += count;
    for (const auto& [label, count] : by_label)
      catch_up(m.reconnects.Add({{"reason", label}}), static_cast<double>(count));
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
  for (const auto& [severity, n] : s.count_open_incidents_by_severity()) counts[severity] = n;
  return counts;
}

}  // namespace flare
