// What arrives on a Socket Mode connection, parsed but not yet dispatched
// (docs/slack.md §1.2). No Beast here: this header is included widely.
#pragma once

#include "input/bounded_json.hpp"

#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace flare::slack {

// events_api | slash_commands | interactive
struct envelope {  // NOLINT(bugprone-exception-escape): json's destructor may allocate
  std::string envelope_id;
  std::string type;
  nlohmann::json payload;
  bool accepts_response_payload = false;
  int retry_attempt = 0;
  std::string retry_reason;
};

struct hello {
  int num_connections = 0;
  int approximate_connection_time = 0;  // seconds until Slack recycles the link; 0 if absent
};

// reason: warning | refresh_requested | link_disabled | too_many_websockets | anything else
struct disconnect {
  std::string reason;
};

// A frame that could not be understood. `envelope_id` is set when one could still be read, so
// the frame can be acked anyway (an unacked envelope is redelivered forever).
// `type` is the envelope type when one could be read ("events_api", ...), else "unknown": with the
// id it goes into the log line, never the frame's text (it may hold a sensitive report).
struct malformed_frame {
  std::string reason;
  std::optional<std::string> envelope_id;
  std::string type = "unknown";
};

using frame = std::variant<hello, disconnect, envelope, malformed_frame>;

// Parses one text frame from Slack. Never throws. A frame over the size or depth limit, or one
// that is not JSON, is a malformed_frame (with its envelope id when readable, so it is acked and
// not redelivered forever); invalid UTF-8 and lone surrogate escapes become U+FFFD.
frame parse_frame(std::string_view text, const input::json_limits& limits = {});

// An ack's response payload: none, a JSON value, or JSON text serialised once and kept (a static
// reply such as /incident help: rebuilding and re-serialising it for every command was most of an
// ack's CPU, issue 11). Converts implicitly from std::nullopt and from a JSON value, so callers
// write ack(std::nullopt) or ack(reply); and to std::optional<nlohmann::json>, for receivers that
// read the payload (the console, tests).
class ack_payload {
 public:
  ack_payload() = default;
  ack_payload(std::nullopt_t) {}                                   // NOLINT: implicit by design
  ack_payload(nlohmann::json value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  ack_payload(std::optional<nlohmann::json> value)
      : value_(std::move(value)) {}  // NOLINT: implicit by design
  // `json_text` is one JSON object as nlohmann::json::dump() writes it.
  static ack_payload serialized(std::shared_ptr<const std::string> json_text);

  bool has_value() const { return value_.has_value() || text_ != nullptr; }
  explicit operator bool() const { return has_value(); }
  // See withheld_ack() below (checked without parsing kept text).
  bool withheld() const { return value_ && value_->is_discarded(); }
  // Appends the payload's JSON text to `out` (nothing when there is none).
  void append_json_to(std::string& out) const;
  // The payload as a value (kept text is parsed).
  std::optional<nlohmann::json> value() const;
  operator std::optional<nlohmann::json>() const { return value(); }  // NOLINT: implicit by design

 private:
  std::optional<nlohmann::json> value_;
  std::shared_ptr<const std::string> text_;
};

// Acknowledges one envelope, with the response payload when the envelope accepts one. The first
// call wins; later calls (for instance the transport's own safety ack) do nothing.
using ack_fn = std::function<void(ack_payload payload)>;

// Passed to an ack_fn instead of a payload, it withholds the ack for good: the envelope could not
// be kept (the inbox write failed, e.g. a full disk), so Slack must redeliver it, and not even the
// transport's safety ack may answer it. (A discarded JSON value is never a real payload.)
inline ack_payload withheld_ack() { return nlohmann::json(nlohmann::json::value_t::discarded); }
inline bool is_withheld(const ack_payload& payload) { return payload.withheld(); }

// Receives each envelope once it is parsed; must not block.
using envelope_sink = std::function<void(envelope, ack_fn)>;

}  // namespace flare::slack
