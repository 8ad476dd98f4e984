// Test support: small nominal spectra written inline as {m/z, intensity} pairs.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "core/spectra/spectrum.h"

namespace sentinel::testing {

inline spectra::NominalSpectrum Spectrum(std::vector<std::pair<int, float>> peaks) {
  spectra::NominalSpectrum s;
  for (const auto& [mz, intensity] : peaks) {
    s.push_back({static_cast<std::uint16_t>(mz), intensity});
  }
  return s;
}

}  // namespace sentinel::testing
