// Configuration TOML: any text loads or is refused with config_error, nothing else.
#include "bot/ops/config.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    (void)flare::load_config_text(text, "fuzz.toml", {});
  } catch (const flare::config_error&) {
  }
  return 0;
}
