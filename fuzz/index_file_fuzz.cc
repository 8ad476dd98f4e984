// Fuzzes the library index decoder: arbitrary bytes must give a Status, never a crash, and a
// decoded library must be internally consistent. Most inputs stop at the checksum, so the
// fuzzer also sees a variant with the checksum recomputed, to reach the section parsers.
#include <xxhash.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "adapters/index_file/index_file.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  for (int pass = 0; pass < 2; ++pass) {
    auto decoded = sentinel::index_file::DecodeIndex(bytes, "fuzz");
    if (decoded.ok()) {
      const auto& lib = *decoded->library;
      if (lib.store().size() != lib.size()) __builtin_trap();
      for (std::uint32_t i = 0; i < lib.size(); ++i)
        (void)lib.fragments().TopK(lib.store().Get(i), 3);
    }
    constexpr std::size_t kHeader = 32;
    if (pass == 0 && bytes.size() >= kHeader) {
      const std::uint64_t payload = bytes.size() - kHeader;
      const std::uint64_t sum = XXH64(bytes.data() + kHeader, payload, 0);
      std::memcpy(bytes.data() + 8, &sentinel::index_file::kFormatVersion, 4);
      std::memcpy(bytes.data() + 16, &payload, 8);
      std::memcpy(bytes.data() + 24, &sum, 8);
      std::memcpy(bytes.data(), "SNTLIDX1", 8);
    } else {
      break;
    }
  }
  return 0;
}
