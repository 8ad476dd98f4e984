// Fuzzes the knowledge-base list and isomer-exception parsers: arbitrary text must give rows or
// a Status naming the line and field, never a crash; accepted rows must be well formed.
#include <cstddef>
#include <cstdint>
#include <string>

#include "adapters/kb_files/kb_files.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto rows = sentinel::kb_files::ParseList(text, "fuzz.tsv");
  if (rows.ok()) {
    for (const auto& r : *rows) {
      if (r.name.empty() || r.smiles.empty() || !(r.mono_mass > 0) || !r.control.in_force.ok()) {
        __builtin_trap();
      }
    }
  }
  (void)sentinel::kb_files::ParseExceptions(text, "fuzz.tsv");
  return 0;
}
