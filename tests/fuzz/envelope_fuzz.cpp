// Socket Mode frames: parse_frame must return a value for any bytes (never throw, never crash),
// and whatever envelope it returns must be safe to copy and serialise (the ack and the dispatcher
// do both). The JSON parse has a fast path (Boost.JSON, input/fast_json.hpp) and a reference
// path (nlohmann's parser): both must give the same result for any bytes. A slash command read
// straight from the frame (bot/slack/quick_slash.hpp) must be exactly the one parse_frame reads.
#include "bot/slack/envelope.hpp"
#include "bot/slack/quick_slash.hpp"
#include "input/bounded_json.hpp"
#include "input/fast_json.hpp"
#include "input/json_fields.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <variant>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto fast = flare::input::parse_untrusted_json(text);
  const auto reference = flare::input::detail::parse_untrusted_json_reference(text);
  if (fast.error != reference.error || fast.repaired != reference.repaired ||
      (fast.ok() && fast.value != reference.value))
    std::abort();  // the two paths disagree
  auto f = flare::slack::parse_frame(text);
  auto* e = std::get_if<flare::slack::envelope>(&f);
  if (e != nullptr) {
    const nlohmann::json copy = e->payload;  // a deep copy: bounded depth keeps it off the stack's end
    (void)copy.dump();                       // valid UTF-8 after repair: dump() must not throw
  }
  if (auto quick = flare::slack::peek_slash_command(text)) {
    using flare::input::string_at;
    if (e == nullptr || e->type != "slash_commands" || !e->accepts_response_payload ||
        quick->envelope_id != e->envelope_id || quick->command != string_at(e->payload, "command") ||
        quick->command.empty() || quick->user_id != string_at(e->payload, "user_id") ||
        quick->user_id.empty() || quick->text != string_at(e->payload, "text") ||
        quick->channel_id != string_at(e->payload, "channel_id") ||
        quick->trigger_id != string_at(e->payload, "trigger_id") ||
        quick->response_url != string_at(e->payload, "response_url"))
      std::abort();  // the quick read and the full path disagree
  }
  return 0;
}
