// Report text as it arrives in #incidents or a DM: entity decoding, the report recogniser with the
// default phrase tables, and the words split out of it.
#include "bot/ops/config.hpp"
#include "commands/grammar.hpp"
#include "policy/report_signals.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace {
const flare::policy::report_matcher& matcher() {
  static const auto cfg = flare::default_config();
  static const flare::policy::report_matcher m(cfg.signals, cfg.sensitive_categories);
  return m;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)matcher().match(text);
  (void)matcher().match(flare::commands::decode_slack_text(text));
  (void)flare::policy::report_words(text);
  return 0;
}
