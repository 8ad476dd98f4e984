// libFuzzer target for the peak-text parser and for format detection (ParseSpectra on a name
// without a telling extension, so the content decides); see fuzz_invariants.h.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "adapters/spectrum_formats/spectrum_formats.h"
#include "fuzz_invariants.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  sentinel::fuzz::CheckOutcome(sentinel::formats::ParsePeakText(text, "fuzz.txt"), "fuzz.txt");
  sentinel::fuzz::CheckOutcome(sentinel::formats::ParseSpectra(text, "fuzz"), "fuzz");
  return 0;
}
