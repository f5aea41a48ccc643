// Socket Mode frame parsing (docs/slack.md §1.2). Never throws: whatever Slack (or
// a broken proxy) sends, the read loop gets a value back, and an envelope it cannot use still
// yields its envelope_id when one is readable, so it can be acked instead of redelivered forever.
#include "bot/slack/envelope.hpp"

#include <algorithm>
#include <cstdint>
#include <limits>

namespace flare::slack {
namespace {

using nlohmann::json;

constexpr std::size_t max_reported_type_length = 40;

std::optional<std::string> string_field(const json& object, const char* name) {
  auto it = object.find(name);
  if (it == object.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

int int_field(const json& object, const char* name) {
  auto it = object.find(name);
  if (it == object.end() || !it->is_number_integer()) return 0;
  auto value = it->get<std::int64_t>();
  return static_cast<int>(std::clamp<std::int64_t>(value, std::numeric_limits<int>::min(),
                                                   std::numeric_limits<int>::max()));
}

std::optional<std::string> envelope_id_of(const json& object) {
  auto id = string_field(object, "envelope_id");
  if (!id || id->empty()) return std::nullopt;
  return id;
}

bool is_id_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.';
}

// For text that is not valid JSON: finds `"envelope_id" : "<id>"` by hand. Only ids made of the
// characters Slack uses (UUID-like) are accepted, so a half-read string never becomes an ack.
std::optional<std::string> scan_envelope_id(std::string_view text) {
  constexpr std::string_view key = "\"envelope_id\"";
  auto at = text.find(key);
  if (at == std::string_view::npos) return std::nullopt;
  auto i = at + key.size();
  auto skip_space = [&] {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' ||
                               text[i] == '\r')) {
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
  while (i < text.size() && is_id_char(text[i])) ++i;
  if (i >= text.size() || text[i] != '"' || i == start) return std::nullopt;
  return std::string(text.substr(start, i - start));
}

frame parse_object(const json& object) {
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
    if (!id) return malformed_frame{"missing envelope_id in " + *type, std::nullopt};
    auto payload = object.find("payload");
    if (payload == object.end()) return malformed_frame{"missing payload in " + *type, id};
    if (!payload->is_object()) return malformed_frame{"payload is not an object in " + *type, id};
    envelope e;
    e.envelope_id = std::move(*id);
    e.type = *type;
    e.payload = *payload;
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

frame parse_frame(std::string_view text) {
  try {
    auto parsed = json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (parsed.is_discarded()) return malformed_frame{"invalid JSON", scan_envelope_id(text)};
    if (!parsed.is_object()) return malformed_frame{"not a JSON object", std::nullopt};
    return parse_object(parsed);
  } catch (const std::exception&) {
    // Only allocation failures can land here; the frame is lost either way.
    return malformed_frame{"unparseable frame", std::nullopt};
  }
}

}  // namespace flare::slack
