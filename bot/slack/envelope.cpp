// Socket Mode frame parsing (docs/slack.md §1.2). Never throws: whatever Slack (or
// a broken proxy) sends, the read loop gets a value back, and an envelope it cannot use still
// yields its envelope_id when one is readable, so it can be acked instead of redelivered forever.
#include "bot/slack/envelope.hpp"

#include "input/utf8.hpp"

#include <algorithm>
#include <cstdint>
#include <limits>

namespace flare::slack {
namespace {

using nlohmann::json;

constexpr std::size_t max_reported_type_length = 40;
constexpr std::size_t max_scanned_length = 128;

std::optional<std::string> string_field(const json& object, const char* name) {
  auto it = object.find(name);
  if (it == object.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

int int_field(const json& object, const char* name) {
  auto it = object.find(name);
  if (it == object.end() || !it->is_number_integer()) return 0;
  auto value = it->get<std::int64_t>();
  return static_cast<int>(
      std::clamp<std::int64_t>(value, std::numeric_limits<int>::min(), std::numeric_limits<int>::max()));
}

std::optional<std::string> envelope_id_of(const json& object) {
  auto id = string_field(object, "envelope_id");
  if (!id || id->empty()) return std::nullopt;
  return id;
}

bool is_id_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
         c == '.';
}

// The string value after the first `"<key>" : "` at or after `from`, when it is made only of the
// characters Slack uses in ids and type names (UUID-like), so a half-read string never becomes an
// ack. Returns the position after it in `next` so a caller can look further.
std::optional<std::string> scan_field(std::string_view text, std::string_view key, std::size_t from,
                                      std::size_t& next) {
  next = std::string_view::npos;
  const auto at = text.find(key, from);
  if (at == std::string_view::npos) return std::nullopt;
  auto i = at + key.size();
  next = i;
  auto skip_space = [&] {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r')) {
      ++i;
    }
  };
  skip_space();
  if (i >= text.size() || text[i] != ':') return std::nullopt;
  ++i;
  skip_space();
  if (i >= text.size() || text[i] != '"') return std::nullopt;
  ++i;
  auto start = i;
  while (i < text.size() && i - start <= max_scanned_length && is_id_char(text[i])) ++i;
  if (i >= text.size() || text[i] != '"' || i == start) return std::nullopt;
  return std::string(text.substr(start, i - start));
}

// For text that could not be parsed (not JSON, too large, too deep): finds the envelope id by
// hand, so the frame can still be acked instead of redelivered (and crashing nothing) forever.
std::optional<std::string> scan_envelope_id(std::string_view text) {
  std::size_t next = 0;
  return scan_field(text, "\"envelope_id\"", 0, next);
}

// The envelope's type for the log line, when one of Slack's envelope types can be read ("type"
// also appears inside payloads, so only these count).
std::string scan_envelope_type(std::string_view text) {
  std::size_t from = 0;
  for (int tries = 0; tries < 64 && from != std::string_view::npos; ++tries) {
    std::size_t next = 0;
    auto value = scan_field(text, "\"type\"", from, next);
    if (value && (*value == "events_api" || *value == "slash_commands" || *value == "interactive"))
      return *value;
    from = next;
  }
  return "unknown";
}

malformed_frame unparseable(std::string reason, std::string_view text) {
  malformed_frame m{std::move(reason), scan_envelope_id(text)};
  m.type = scan_envelope_type(text);
  return m;
}

frame parse_object(json object) {
  auto type = string_field(object, "type");
  if (!type) return malformed_frame{"missing type", envelope_id_of(object)};

  if (*type == "hello") {
    hello h;
    h.num_connections = int_field(object, "num_connections");
    if (auto debug = object.find("debug_info"); debug != object.end() && debug->is_object()) {
      h.approximate_connection_time = int_field(*debug, "approximate_connection_time");
    }
    return h;
  }
  if (*type == "disconnect") {
    return disconnect{string_field(object, "reason").value_or("")};
  }
  if (*type == "events_api" || *type == "slash_commands" || *type == "interactive") {
    auto id = envelope_id_of(object);
    if (!id) return malformed_frame{"missing envelope_id in " + *type, std::nullopt, *type};
    auto payload = object.find("payload");
    if (payload == object.end()) return malformed_frame{"missing payload in " + *type, id, *type};
    if (!payload->is_object()) return malformed_frame{"payload is not an object in " + *type, id, *type};
    envelope e;
    e.envelope_id = std::move(*id);
    e.type = *type;
    e.payload = std::move(*payload);  // a move: no second copy of a large payload
    if (auto it = object.find("accepts_response_payload"); it != object.end() && it->is_boolean()) {
      e.accepts_response_payload = it->get<bool>();
    }
    e.retry_attempt = int_field(object, "retry_attempt");
    e.retry_reason = string_field(object, "retry_reason").value_or("");
    return e;
  }
  auto shown = type->substr(0, max_reported_type_length);
  return malformed_frame{"unknown type \"" + shown + "\"", envelope_id_of(object)};
}

}  // namespace

ack_payload ack_payload::serialized(std::shared_ptr<const std::string> json_text) {
  ack_payload p;
  p.text_ = std::move(json_text);
  return p;
}

void ack_payload::append_json_to(std::string& out) const {
  if (text_) out += *text_;
  else if (value_) out += value_->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::optional<nlohmann::json> ack_payload::value() const {
  if (text_) return nlohmann::json::parse(*text_);
  return value_;
}

frame parse_frame(std::string_view text, const input::json_limits& limits) {
  try {
    auto parsed = input::parse_untrusted_json(text, limits);
    if (!parsed.ok()) return unparseable(parsed.error, text);
    if (!parsed.value.is_object()) return malformed_frame{"not a JSON object", std::nullopt, "unknown"};
    return parse_object(std::move(parsed.value));
  } catch (const std::exception&) {
    // Only allocation failures can land here; the frame is lost either way.
    return unparseable("unparseable frame", text);
  }
}

}  // namespace flare::slack
