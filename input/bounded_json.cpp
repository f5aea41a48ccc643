#include "input/bounded_json.hpp"

#include "input/fast_json.hpp"
#include "input/utf8.hpp"

namespace flare::input {
namespace {

using json = nlohmann::json;

// nlohmann's DOM builder, with a depth count in front: returning false from start_object or
// start_array stops the parse there, so the deep part is never built.
class depth_limited_sax {
 public:
  depth_limited_sax(json& result, std::size_t max_depth) : dom_(result, false), max_depth_(max_depth) {}

  bool null() { return dom_.null(); }
  bool boolean(bool v) { return dom_.boolean(v); }
  bool number_integer(json::number_integer_t v) { return dom_.number_integer(v); }
  bool number_unsigned(json::number_unsigned_t v) { return dom_.number_unsigned(v); }
  bool number_float(json::number_float_t v, const json::string_t& s) { return dom_.number_float(v, s); }
  bool string(json::string_t& v) { return dom_.string(v); }
  bool binary(json::binary_t& v) { return dom_.binary(v); }
  bool key(json::string_t& v) { return dom_.key(v); }
  bool start_object(std::size_t n) { return deeper() && dom_.start_object(n); }
  bool end_object() {
    --depth_;
    return dom_.end_object();
  }
  bool start_array(std::size_t n) { return deeper() && dom_.start_array(n); }
  bool end_array() {
    --depth_;
    return dom_.end_array();
  }
  bool parse_error(std::size_t position, const std::string& token, const nlohmann::detail::exception& e) {
    error = "invalid JSON at byte " + std::to_string(position);
    (void)token;  // may hold input text: not for logs
    (void)e;
    return dom_.parse_error(position, token, e);
  }

  bool too_deep = false;
  std::string error;

 private:
  bool deeper() {
    if (++depth_ > max_depth_) {
      too_deep = true;
      return false;
    }
    return true;
  }

  nlohmann::detail::json_sax_dom_parser<json> dom_;
  std::size_t max_depth_;
  std::size_t depth_ = 0;
};

}  // namespace

parsed_json parse_untrusted_json(std::string_view text, const json_limits& limits) {
  parsed_json out;
  out.value = json(json::value_t::discarded);
  if (text.size() > limits.max_bytes) {
    out.error = "too large (" + std::to_string(text.size()) + " bytes; the limit is " +
                std::to_string(limits.max_bytes) + ")";
    return out;
  }
  // The common case (valid UTF-8, no \uD800-\uDFFF escape that could be a lone surrogate) is
  // parsed in place: a Socket Mode frame is not copied before it is parsed (issue 11).
  const bool valid_utf8 = is_valid_utf8(text);
  const bool may_hold_surrogates = detail::may_hold_surrogate_escapes(text);
  if (valid_utf8 && !may_hold_surrogates) {
    if (auto value = detail::parse_fast(text, limits.max_depth)) {
      out.value = std::move(*value);
      return out;
    }
  }
  return detail::parse_untrusted_json_reference(text, limits, valid_utf8, may_hold_surrogates);
}

namespace detail {

parsed_json parse_untrusted_json_reference(std::string_view text, const json_limits& limits, bool valid_utf8,
                                           bool may_hold_surrogates) {
  parsed_json out;
  out.value = json(json::value_t::discarded);
  std::string repaired;
  if (!valid_utf8 || may_hold_surrogates) {
    if (!valid_utf8) {
      repaired = sanitize_utf8(text);
      out.repaired = true;
    } else {
      repaired = std::string(text);
    }
    if (replace_lone_surrogate_escapes(repaired)) out.repaired = true;
    text = repaired;
  }

  json result;
  depth_limited_sax sax(result, limits.max_depth);
  const bool ok =
      json::sax_parse(text.begin(), text.end(), &sax, json::input_format_t::json, /*strict=*/true);
  if (!ok) {
    if (sax.too_deep) out.error = "nested deeper than " + std::to_string(limits.max_depth) + " levels";
    else out.error = sax.error.empty() ? std::string{"invalid JSON"} : sax.error;
    return out;
  }
  out.value = std::move(result);
  return out;
}

parsed_json parse_untrusted_json_reference(std::string_view text, const json_limits& limits) {
  if (text.size() > limits.max_bytes) return parse_untrusted_json(text, limits);  // the size error
  return parse_untrusted_json_reference(text, limits, is_valid_utf8(text), may_hold_surrogate_escapes(text));
}

}  // namespace detail

std::string dump_replacing_invalid_utf8(const nlohmann::json& value, int indent) {
  return value.dump(indent, ' ', false, json::error_handler_t::replace);
}

}  // namespace flare::input
