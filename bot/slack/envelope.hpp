// What arrives on a Socket Mode connection, parsed but not yet dispatched
// (docs/slack.md §1.2). No Beast here: this header is included widely.
#pragma once

#include "input/bounded_json.hpp"

#include <nlohmann/json.hpp>

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace flare::slack {

// events_api | slash_commands | interactive
struct envelope {
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

// Acknowledges one envelope, with the response payload when the envelope accepts one. The first
// call wins; later calls (for instance the transport's own safety ack) do nothing.
using ack_fn = std::function<void(std::optional<nlohmann::json> payload)>;

// Receives each envelope once it is parsed; must not block.
using envelope_sink = std::function<void(envelope, ack_fn)>;

}  // namespace flare::slack
