// Test support: reading test data, and the shipped SWGDRUG 3.4 library parsed once per test
// binary by the real MSP parser. Tests of the core use it as realistic data; the parser's own tests
// live beside it.
#pragma once

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "adapters/spectrum_formats/spectrum_formats.h"
#include "core/spectra/spectrum.h"

namespace sentinel::testing {

// The whole file, or an empty string when it cannot be read (the test's checks then fail).
inline std::string ReadTextFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

inline const std::vector<spectra::SpectrumRecord>& SwgdrugRecords() {
  static const auto* records = [] {
    auto parsed =
        formats::ReadSpectrumFile(std::string(SENTINEL_DATA_DIR) + "/spectra/swgdrug-3.4.msp");
    EXPECT_TRUE(parsed.ok()) << parsed.status().ToString();
    auto* out = new std::vector<spectra::SpectrumRecord>();
    if (parsed.ok()) *out = std::move(parsed->spectra);
    return out;
  }();
  return *records;
}

}  // namespace sentinel::testing
