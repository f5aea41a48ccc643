#include "bot/slack/quick_slash.hpp"

#include "input/fast_json.hpp"
#include "input/utf8.hpp"

// Declarations only: Boost.JSON's implementation is compiled once, in input/fast_json.cpp.
#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <array>

namespace flare::slack {
namespace {

namespace bj = boost::json;

const bj::value* member(const bj::object& object, std::string_view key) {
  return object.if_contains(bj::string_view(key.data(), key.size()));
}

// A floating-point number anywhere: parse_untrusted_json reads such a document with nlohmann's
// parser, which refuses some numbers Boost.JSON takes (1e999), so the quick read stands aside.
bool holds_a_double(const bj::value& v) {
  switch (v.kind()) {
    case bj::kind::double_: return true;
    case bj::kind::array:
      for (const bj::value& element : v.get_array())
        if (holds_a_double(element)) return true;
      return false;
    case bj::kind::object:
      for (const bj::key_value_pair& member : v.get_object())
        if (holds_a_double(member.value())) return true;
      return false;
    default: return false;
  }
}

std::string string_member(const bj::object& object, std::string_view key) {
  const bj::value* v = member(object, key);
  if (v == nullptr || !v->is_string()) return {};
  const bj::string& s = v->get_string();
  return {s.data(), s.size()};
}

}  // namespace

std::optional<slash_frame> peek_slash_command(std::string_view frame, const input::json_limits& limits) {
  if (frame.size() > limits.max_bytes || frame.find("\"slash_commands\"") == std::string_view::npos)
    return std::nullopt;
  // What parse_untrusted_json would repair (invalid UTF-8, surrogate escapes) goes its way.
  if (input::detail::may_hold_surrogate_escapes(frame) || !input::is_valid_utf8(frame)) return std::nullopt;

  std::array<unsigned char, 4096> buffer{};
  bj::monotonic_resource arena(buffer.data(), buffer.size());
  bj::parse_options options;  // strict, as the fast path of parse_untrusted_json
  options.max_depth = limits.max_depth;
  bj::error_code ec;
  const bj::value parsed = bj::parse(bj::string_view(frame.data(), frame.size()), ec, &arena, options);
  if (ec || !parsed.is_object() || holds_a_double(parsed)) return std::nullopt;
  const bj::object& envelope = parsed.get_object();

  if (string_member(envelope, "type") != "slash_commands") return std::nullopt;
  const bj::value* accepts = member(envelope, "accepts_response_payload");
  if (accepts == nullptr || !accepts->is_bool() || !accepts->get_bool()) return std::nullopt;
  const bj::value* payload = member(envelope, "payload");
  if (payload == nullptr || !payload->is_object()) return std::nullopt;
  const bj::object& fields = payload->get_object();

  slash_frame out;
  out.envelope_id = string_member(envelope, "envelope_id");
  out.command = string_member(fields, "command");
  out.user_id = string_member(fields, "user_id");
  if (out.envelope_id.empty() || out.command.empty() || out.user_id.empty()) return std::nullopt;
  out.text = string_member(fields, "text");
  out.channel_id = string_member(fields, "channel_id");
  out.trigger_id = string_member(fields, "trigger_id");
  out.response_url = string_member(fields, "response_url");
  return out;
}

}  // namespace flare::slack
