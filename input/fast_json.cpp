#include "input/fast_json.hpp"

// Boost.JSON, header-only: its implementation is compiled here, once.
#include <boost/json/src.hpp>

#include <array>
#include <cstdint>
#include <string>

namespace flare::input::detail {
namespace {

namespace bj = boost::json;
using json = nlohmann::json;

// Copies a Boost.JSON value into `out`. Recursion is bounded by the parse's max_depth.
// Returns false on a floating-point number (see parse_fast).
bool copy_value(const bj::value& in, json& out) {
  switch (in.kind()) {
    case bj::kind::null: out = nullptr; return true;
    case bj::kind::bool_: out = in.get_bool(); return true;
    case bj::kind::int64: {
      // nlohmann reads a non-negative integer as unsigned and a negative one as signed.
      const std::int64_t v = in.get_int64();
      if (v >= 0) out = static_cast<std::uint64_t>(v);
      else out = v;
      return true;
    }
    case bj::kind::uint64: out = in.get_uint64(); return true;
    case bj::kind::double_: return false;
    case bj::kind::string: {
      const bj::string& s = in.get_string();
      out = std::string(s.data(), s.size());
      return true;
    }
    case bj::kind::array: {
      const bj::array& a = in.get_array();
      out = json::array();
      auto& items = out.get_ref<json::array_t&>();
      items.reserve(a.size());
      for (const bj::value& element : a) {
        items.emplace_back();
        if (!copy_value(element, items.back())) return false;
      }
      return true;
    }
    case bj::kind::object: {
      out = json::object();
      auto& members = out.get_ref<json::object_t&>();
      for (const bj::key_value_pair& member : in.get_object()) {
        // Boost.JSON already kept only the last of duplicate keys, as nlohmann does.
        auto [it, inserted] = members.emplace(std::string(member.key()), json());
        if (!copy_value(member.value(), it->second)) return false;
      }
      return true;
    }
  }
  return false;
}

}  // namespace

std::optional<json> parse_fast(std::string_view text, std::size_t max_depth) {
  // Most frames are a few hundred bytes: their whole Boost.JSON document fits on the stack.
  std::array<unsigned char, 4096> buffer{};
  bj::monotonic_resource arena(buffer.data(), buffer.size());
  bj::parse_options options;  // strict: no comments, no trailing commas, UTF-8 checked
  options.max_depth = max_depth;
  bj::error_code ec;
  const bj::value parsed = bj::parse(bj::string_view(text.data(), text.size()), ec, &arena, options);
  if (ec) return std::nullopt;
  json out;
  if (!copy_value(parsed, out)) return std::nullopt;
  return out;
}

}  // namespace flare::input::detail
