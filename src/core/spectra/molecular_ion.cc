#include "core/spectra/molecular_ion.h"

#include <algorithm>

namespace sentinel::spectra {

std::optional<int> EstimateNominalMass(std::span<const NominalPeak> spectrum,
                                       const MolecularIonOptions& options) {
  double base = 0;
  for (const NominalPeak& p : spectrum) base = std::max(base, static_cast<double>(p.intensity));
  if (!(base > 0)) return std::nullopt;
  const double floor = options.floor * base;
  const double slack = options.slack * base;

  // Intensity at an m/z, 0 when absent. The spectrum is sorted, so a binary search suffices.
  const auto at = [&](int mz) -> double {
    if (mz < 1) return 0;
    const auto it = std::lower_bound(
        spectrum.begin(), spectrum.end(), mz,
        [](const NominalPeak& p, int value) { return static_cast<int>(p.mz) < value; });
    return (it != spectrum.end() && it->mz == mz) ? it->intensity : 0.0;
  };

  int m = -1;
  for (auto it = spectrum.rbegin(); it != spectrum.rend(); ++it) {
    if (it->intensity >= floor) {
      m = it->mz;
      break;
    }
  }
  if (m < 0) return std::nullopt;

  // Each step moves down, so the loop ends.
  while (true) {
    const double here = at(m);
    const double below1 = at(m - 1);
    const double m1_ratio = options.m1_per_da * m + options.m1_offset;
    if (below1 >= floor && here <= m1_ratio * below1 + slack) {
      m -= 1;
      continue;
    }
    const double below2 = at(m - 2);
    if (below2 >= floor && here <= options.m2_max_ratio * below2 + slack &&
        below1 <= options.m2_valley * below2 + slack) {
      m -= 2;
      continue;
    }
    return m;
  }
}

}  // namespace sentinel::spectra
