// Estimate of the nominal molecular mass of an unknown from its EI spectrum.
//
// Contract:
//  - Input: a nominal spectrum (sorted by increasing m/z, one peak per m/z, intensities > 0);
//    the base peak need not be 999, every threshold is relative to the largest peak.
//  - Returns the m/z taken for the molecular ion M+, or nullopt when no peak reaches the floor.
//  - Pure function: no state, safe from any thread.
//
// The estimate is the highest peak at or above a relative-intensity floor, stepped down past
// peaks that look like isotope peaks of the peak below them: M+1 when its intensity is within
// what carbon-13 (and N, O, S, Si) can explain for that mass, M+2 when it is at most about as
// large as the peak two below with a valley in between (Cl, Br, S, Si). It is exact only when
// the molecular ion is visible. Many drugs (amphetamines, cathinones, fentanyls, phenethylamine
// amines) show no M+ at all, and then the estimate is a fragment (M-1, M-15, an iminium ion);
// docs/analogues.md gives the measured accuracy per class on SWGDRUG 3.4.
#pragma once

#include <optional>
#include <span>

#include "core/spectra/spectrum.h"

namespace sentinel::spectra {

// Thresholds of the estimate, each relative to the base peak (base = 1). The defaults were
// tuned on SWGDRUG 3.4 (docs/analogues.md); they are not meant to be changed per query.
struct MolecularIonOptions {
  // Peaks below this fraction of the base peak are noise. 0.001 is 1 on the 0..999 scale, the
  // resolution of most library spectra.
  double floor = 0.001;
  // An M+1 peak is taken for an isotope peak when I(m) <= (m1_per_da * m + m1_offset) * I(m-1)
  // + slack: about 1.1% per carbon at ~10 Da per carbon, plus room for N, O, S and Si.
  double m1_per_da = 0.0011;
  double m1_offset = 0.05;
  // An M+2 peak is taken for an isotope peak when I(m) <= m2_max_ratio * I(m-2) + slack and
  // I(m-1) <= m2_valley * I(m-2) + slack (Br gives about 1:1, Cl 1:3, S and Si less).
  double m2_max_ratio = 1.1;
  double m2_valley = 0.7;
  // Half a unit of the 0..999 scale: library intensities are rounded integers.
  double slack = 0.0005;
};

std::optional<int> EstimateNominalMass(std::span<const NominalPeak> spectrum,
                                       const MolecularIonOptions& options = {});

}  // namespace sentinel::spectra
