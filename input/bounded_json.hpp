// JSON from outside flare, parsed with limits. nlohmann's parser itself is iterative, but the
// document it builds is copied and compared recursively: a payload nested a million levels deep
// parses and then overflows the stack on its first copy. So depth is checked while parsing (a SAX
// pass that stops at the first level too deep, before anything deep is built), size before
// parsing, and text that is not quite UTF-8 is repaired (U+FFFD) rather than refused.
#pragma once

#include <nlohmann/json.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace flare::input {

struct json_limits {
  // Slack's largest payloads are a modal view (views.open refuses more than 250 kB) and a message
  // (40,000 characters of text plus up to 50 blocks); 1 MiB leaves room for the envelope around
  // them and still bounds what one frame can cost.
  std::size_t max_bytes = 1024 * 1024;
  // Block Kit nests a handful of levels; Slack's deepest payloads stay well under 20.
  std::size_t max_depth = 128;
};

struct parsed_json {
  nlohmann::json value;   // discarded (is_discarded()) when `error` is set
  std::string error;      // empty on success; otherwise says why, for a log line (no input text)
  bool repaired = false;  // invalid UTF-8 or lone surrogates were replaced with U+FFFD
  bool ok() const { return error.empty(); }
};

// Never throws (except std::bad_alloc).
parsed_json parse_untrusted_json(std::string_view text, const json_limits& limits = {});

// dump() that never throws on invalid UTF-8 in a string (replaces it with U+FFFD): for JSON built
// from text that did not come through parse_untrusted_json (a terminal, a config file).
std::string dump_replacing_invalid_utf8(const nlohmann::json& value, int indent = -1);

}  // namespace flare::input
