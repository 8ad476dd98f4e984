// libFuzzer target for the JCAMP-DX parser; see fuzz_invariants.h for what is checked.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "adapters/spectrum_formats/spectrum_formats.h"
#include "fuzz_invariants.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  sentinel::fuzz::CheckOutcome(sentinel::formats::ParseJcamp(text, "fuzz.jdx"), "fuzz.jdx");
  return 0;
}
