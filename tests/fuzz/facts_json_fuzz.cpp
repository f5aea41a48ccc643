// Facts JSON (`flare decide`, stored facts): any text gives facts or a named error, and facts
// that parse serialise again.
#include "policy/facts_json.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto r = flare::policy::facts_from_json_text(text);
  if (!r.error) (void)flare::policy::to_json(r.value).dump();
  // set_fact with the same bytes as a value: what a terminal can type after "facts INC-1 key=".
  flare::policy::facts f;
  (void)flare::policy::set_fact(f, "severity", text);
  (void)flare::policy::set_fact(f, "customers", text);
  (void)flare::policy::set_fact(f, "notifications_sent", text);
  return 0;
}
