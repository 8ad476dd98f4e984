#include "core/spectra/spectrum.h"

#include <algorithm>
#include <cmath>
#include <map>

namespace sentinel::spectra {

NominalSpectrum ToNominal(std::span<const Peak> peaks) {
  std::map<int, double> bins;
  for (const Peak& p : peaks) {
    if (!(p.intensity > 0) || !std::isfinite(p.intensity) || !std::isfinite(p.mz)) continue;
    const double rounded = std::floor(p.mz + 0.5);
    if (rounded < 1 || rounded > kMaxNominalMz) continue;
    bins[static_cast<int>(rounded)] += p.intensity;
  }
  double base = 0;
  for (const auto& [mz, intensity] : bins) base = std::max(base, intensity);
  NominalSpectrum out;
  if (base <= 0 || !std::isfinite(base)) return out;
  out.reserve(bins.size());
  for (const auto& [mz, intensity] : bins) {
    const auto scaled = static_cast<float>(intensity / base * 999.0);
    if (scaled > 0) out.push_back({static_cast<std::uint16_t>(mz), scaled});
  }
  return out;
}

}  // namespace sentinel::spectra
