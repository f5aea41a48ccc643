// Socket Mode frames: parse_frame must return a value for any bytes (never throw, never crash),
// and whatever envelope it returns must be safe to copy and serialise (the ack and the dispatcher
// do both).
#include "bot/slack/envelope.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <variant>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto f = flare::slack::parse_frame(text);
  if (auto* e = std::get_if<flare::slack::envelope>(&f)) {
    const nlohmann::json copy = e->payload;  // a deep copy: bounded depth keeps it off the stack's end
    (void)copy.dump();                       // valid UTF-8 after repair: dump() must not throw
  }
  return 0;
}
