// A slash command read straight from a Socket Mode frame, before the frame becomes an envelope
// (issue 11). A reply that depends on nothing but the command (/incident help) can then ride on
// the ack without the nlohmann tree of the whole frame being built and freed: that copy was a
// fifth of such an ack's CPU. No Beast and no Boost.JSON here.
#pragma once

#include "input/bounded_json.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace flare::slack {

// The fields of a slash_commands envelope a kept reply may depend on, as parse_frame followed by
// the dispatcher's parse_slash_command would read them (a field that is absent or not a string
// is empty).
struct slash_frame {
  std::string envelope_id;
  std::string command;
  std::string text;
  std::string user_id;
  std::string channel_id;
  std::string trigger_id;
  std::string response_url;
};

// The command in `frame` when the frame is a slash_commands envelope that accepts a response
// payload, with an envelope id, a payload object, a command and a user id, and reads exactly as
// parse_frame would read it (within `limits`, valid UTF-8, no surrogate escape, no floating-point
// number anywhere: the full path reads those with another parser). nullopt for
// anything else: the caller then takes parse_frame's path, which handles every frame. Frames
// without the text "slash_commands" are refused before any parse, so events cost one search.
// Never throws except std::bad_alloc.
std::optional<slash_frame> peek_slash_command(std::string_view frame, const input::json_limits& limits = {});

}  // namespace flare::slack
