#include "messages/mentions.hpp"

#include "messages/slack_message.hpp"

namespace flare::messages {
namespace {

bool is_id_char(char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'; }

// The length of a user id at the start of `text` (U or W, then capitals, digits and underscores),
// or 0.
std::size_t user_id_length(std::string_view text) {
  if (text.empty() || (text[0] != 'U' && text[0] != 'W')) return 0;
  std::size_t n = 1;
  while (n < text.size() && is_id_char(text[n])) ++n;
  return n >= 3 ? n : 0;
}

}  // namespace

std::string escape_keeping_user_mentions(std::string_view text) {
  const std::string escaped = escape(text);
  constexpr std::string_view open = "&lt;@";
  constexpr std::string_view close = "&gt;";
  std::string out;
  out.reserve(escaped.size());
  std::string_view rest = escaped;
  for (auto at = rest.find(open); at != std::string_view::npos; at = rest.find(open)) {
    out.append(rest.substr(0, at));
    const std::string_view after = rest.substr(at + open.size());
    const std::size_t id = user_id_length(after);
    if (id > 0 && after.substr(id).starts_with(close)) {
      out.append("<@").append(after.substr(0, id)).append(">");
      rest = after.substr(id + close.size());
    } else {
      out.append(open);
      rest = after;
    }
  }
  out.append(rest);
  return out;
}

}  // namespace flare::messages
