// Report text as it arrives in #incidents or a DM: entity decoding, the report recogniser with the
// default lexicon (policy/report_lexicon.hpp) plus the config's phrase tables.
#include "bot/ops/config.hpp"
#include "commands/grammar.hpp"
#include "policy/report_signals.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace {
const flare::policy::report_matcher& matcher() {
  static const auto cfg = flare::default_config();
  static const flare::policy::report_matcher m(cfg.signals, cfg.sensitive_categories, cfg.intake_threshold);
  return m;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)matcher().match(text);
  (void)matcher().match(flare::commands::decode_slack_text(text));
  return 0;
}
