// /incident command text: the grammar returns a command or a usage error for any text, and its
// messages are valid UTF-8 (they go into a JSON ack).
#include "commands/grammar.hpp"
#include "input/utf8.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto r = flare::commands::parse_incident_command(text);
  if (const auto* e = std::get_if<flare::commands::usage_error>(&r)) {
    if (!flare::input::is_valid_utf8(e->problem) || !flare::input::is_valid_utf8(e->usage)) std::abort();
  }
  (void)flare::commands::decode_slack_text(text);
  return 0;
}
