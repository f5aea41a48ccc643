// Text from outside (Slack payloads, command text typed in a terminal, config) may carry bytes that
// are not UTF-8 or JSON escapes of lone UTF-16 surrogates. Neither is worth refusing a report for:
// both are replaced with U+FFFD, the Unicode replacement character, so the rest of the text is
// kept and nothing downstream (the JSON parser, dump(), Slack) chokes on it.
#pragma once

#include <string>
#include <string_view>

namespace flare::input {

// True when `text` is well-formed UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF).
bool is_valid_utf8(std::string_view text);

// `text` with every ill-formed UTF-8 sequence replaced by U+FFFD (one per maximal ill-formed
// subpart, as Unicode recommends). Valid text comes back unchanged.
std::string sanitize_utf8(std::string_view text);

// JSON text with every `\uXXXX` escape of a lone surrogate (a high one not followed by a low one,
// or a low one on its own) rewritten to `\uFFFD`, in place (same length); true if any was. nlohmann's parser
// refuses the whole document for one lone surrogate; Slack's own clients can produce them when a
// message is cut in the middle of an emoji.
bool replace_lone_surrogate_escapes(std::string& json_text);

}  // namespace flare::input
