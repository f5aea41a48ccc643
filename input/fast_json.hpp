// The fast path of parse_untrusted_json (bounded_json.hpp): Boost.JSON's parser, whose lexer
// costs a sixth of nlohmann's, builds the document, which is then copied into an nlohmann value
// (what the rest of flare reads). Internal to input/; tests and the fuzz target compare it with
// the reference path.
#pragma once

#include "input/bounded_json.hpp"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <optional>
#include <string_view>

namespace flare::input::detail {

// True when `text` holds a \uD… escape, which could be a lone UTF-16 surrogate: only the
// reference path repairs those (U+FFFD), so such text never takes a Boost.JSON path.
inline bool may_hold_surrogate_escapes(std::string_view text) {
  return text.find("\\ud") != std::string_view::npos || text.find("\\uD") != std::string_view::npos;
}

// The value of `text`, or nullopt whenever the fast path cannot promise the reference path's
// exact result: text that is not strict JSON, nested deeper than `max_depth`, or holding a
// floating-point number (Boost.JSON 1.81 may round one differently from nlohmann). Valid UTF-8
// without surrogate escapes is the caller's precondition. Never throws except std::bad_alloc.
std::optional<nlohmann::json> parse_fast(std::string_view text, std::size_t max_depth);

// parse_untrusted_json without its fast path (nlohmann's own parser throughout): for tests and the
// fuzz target, which check that both paths give the same result. The second overload is the
// reference path proper, called by parse_untrusted_json after its size and UTF-8 checks.
parsed_json parse_untrusted_json_reference(std::string_view text, const json_limits& limits = {});
parsed_json parse_untrusted_json_reference(std::string_view text, const json_limits& limits, bool valid_utf8,
                                           bool may_hold_surrogates);

}  // namespace flare::input::detail
