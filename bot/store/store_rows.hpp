// The column lists and row readers both store backends share: one spelling of every table's
// columns, read through any row type with int64/text/opt_text/time/opt_time/json_value/opt_json.
// Not for use outside bot/store/.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "bot/store/store.hpp"

namespace flare::store::store_rows {

inline constexpr std::string_view incident_columns =
    "id, title, reporter, severity, classification, facts, created_at, updated_at, resolved_at, "
    "state, sensitive, summary, channel, thread_ts, card_ts, report_channel, report_ts, "
    "last_decision, version";

inline constexpr std::string_view audit_columns = "id, incident_id, actor, action, at, details";

inline constexpr std::string_view outbox_columns =
    "id, idempotency_key, incident_id, kind, payload, created_at, state, attempts, "
    "attempt_started_at, last_error, last_attempt_at, sent_at, closed_at, result";

inline constexpr std::string_view outbox_file_columns = "filename, title, content_base64";

// outbox_files.content_base64: file bytes as text, so both backends (and `flare migrate-store`,
// which copies every column as text) hold them alike.
inline std::string to_base64(std::string_view bytes) {
  static constexpr char digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const auto n = (static_cast<unsigned>(static_cast<unsigned char>(bytes[i])) << 16) |
                   (static_cast<unsigned>(static_cast<unsigned char>(bytes[i + 1])) << 8) |
                   static_cast<unsigned>(static_cast<unsigned char>(bytes[i + 2]));
    out += digits[(n >> 18) & 63];
    out += digits[(n >> 12) & 63];
    out += digits[(n >> 6) & 63];
    out += digits[n & 63];
  }
  if (const std::size_t left = bytes.size() - i; left > 0) {
    auto n = static_cast<unsigned>(static_cast<unsigned char>(bytes[i])) << 16;
    if (left == 2) n |= static_cast<unsigned>(static_cast<unsigned char>(bytes[i + 1])) << 8;
    out += digits[(n >> 18) & 63];
    out += digits[(n >> 12) & 63];
    out += left == 2 ? digits[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

inline std::string from_base64(std::string_view text) {
  const auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string out;
  out.reserve(text.size() / 4 * 3);
  unsigned n = 0;
  int bits = 0;
  for (char c : text) {
    if (c == '=') break;
    const int v = value(c);
    if (v < 0) throw store_error("outbox_files: content_base64 is not base64");
    n = (n << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((n >> bits) & 0xFF);
    }
  }
  return out;
}

template <typename Row>
outbox_file read_outbox_file(const Row& q) {
  return outbox_file{q.text(0), q.text(1), from_base64(q.text(2))};
}

inline constexpr std::string_view reminder_columns =
    "id, incident_id, deadline_kind, deadline, fire_at, step, state, sent_at, late_by_seconds, obligation";

template <typename Enum>
Enum parse_or_throw(std::optional<Enum> parsed, std::string_view column, const std::string& text) {
  if (!parsed) throw store_error("unexpected " + std::string(column) + " '" + text + "' in store");
  return *parsed;
}

template <typename Row>
incident read_incident(const Row& q) {
  incident i;
  i.id = q.int64(0);
  i.title = q.text(1);
  i.reporter = q.text(2);
  i.severity = q.opt_text(3);
  i.classification = q.opt_text(4);
  i.facts = q.json_value(5);
  i.created_at = q.time(6);
  i.updated_at = q.time(7);
  i.resolved_at = q.opt_time(8);
  i.state = parse_or_throw(parse_incident_state(q.text(9)), "incident state", q.text(9));
  i.sensitive = q.int64(10) != 0;
  i.summary = q.opt_text(11);
  i.channel = q.text(12);
  i.thread_ts = q.opt_text(13);
  i.card_ts = q.opt_text(14);
  i.report_channel = q.opt_text(15);
  i.report_ts = q.opt_text(16);
  i.last_decision = q.opt_json(17);
  i.version = q.int64(18);
  return i;
}

template <typename Row>
audit_record read_audit(const Row& q) {
  return audit_record{q.int64(0), q.opt_int64(1), q.text(2), q.text(3), q.time(4), q.json_value(5)};
}

template <typename Row>
outbox_item read_outbox(const Row& q) {
  outbox_item o;
  o.id = q.int64(0);
  o.idempotency_key = q.text(1);
  o.incident_id = q.opt_int64(2);
  o.kind = q.text(3);
  o.payload = q.json_value(4);
  o.created_at = q.time(5);
  o.state = parse_or_throw(parse_outbox_state(q.text(6)), "outbox state", q.text(6));
  o.attempts = static_cast<int>(q.int64(7));
  o.attempt_started_at = q.opt_time(8);
  o.last_error = q.opt_text(9);
  o.last_attempt_at = q.opt_time(10);
  o.sent_at = q.opt_time(11);
  o.closed_at = q.opt_time(12);
  o.result = q.opt_json(13);
  return o;
}

template <typename Row>
reminder read_reminder(const Row& q) {
  reminder r;
  r.id = q.int64(0);
  r.incident_id = q.int64(1);
  r.kind = parse_or_throw(parse_deadline_kind(q.text(2)), "deadline kind", q.text(2));
  r.deadline = q.time(3);
  r.fire_at = q.time(4);
  r.step = q.text(5);
  r.state = parse_or_throw(parse_reminder_state(q.text(6)), "reminder state", q.text(6));
  r.sent_at = q.opt_time(7);
  if (auto late = q.opt_int64(8)) r.late_by = std::chrono::seconds{*late};
  r.obligation = q.text(9);
  return r;
}

}  // namespace flare::store::store_rows
