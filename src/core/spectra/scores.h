// Spectral similarity scores for library search of unit-mass EI spectra.
//
// Contract shared by every function here:
//  - Inputs are nominal spectra as NominalSpectrum defines them: sorted by strictly increasing
//    m/z, one peak per m/z, every intensity finite and > 0. The base peak need not be 999: every
//    score is invariant to multiplying one spectrum's intensities by a positive constant.
//  - Peaks match when their nominal m/z is equal; there is no tolerance window.
//  - Pure functions: no state, no exceptions; safe to call from any thread. No heap
//    allocation, except EntropySimilarity on a spectrum of more than 512 peaks.
//  - An empty spectrum, or two spectra without a common m/z, scores 0.
//
// Scales: WeightedCosine and EntropySimilarity are in [0, 1]; the match factors are in
// [0, 999] like NIST MS Search. Exact formulas, edge cases and how to read a value are in
// docs/scores.md.
#pragma once

#include <cmath>
#include <cstdint>
#include <span>

#include "core/spectra/spectrum.h"

namespace sentinel::spectra {

// Peak weighting w = mz^mz_exponent * I^intensity_exponent. Weighting by m/z favours the
// heavier, more specific fragments; the intensity exponent < 1 keeps the base peak from
// dominating. Stein & Scott (1994) found square-root intensity nearly optimal; the defaults
// give sqrt(mz * I), the weighting the fragment index shares with these scores.
struct MatchFactorOptions {
  double mz_exponent = 0.5;
  double intensity_exponent = 0.5;
};

// The weight of one peak. The defaults and the exponents 0, 0.5, 1 and 2 avoid std::pow, which
// is an order of magnitude slower than a square root.
inline double PeakWeight(std::uint16_t mz, double intensity, const MatchFactorOptions& o = {}) {
  const auto power = [](double x, double e) {
    if (e == 0.5) return std::sqrt(x);
    if (e == 1.0) return x;
    if (e == 0.0) return 1.0;
    if (e == 2.0) return x * x;
    return std::pow(x, e);
  };
  if (o.mz_exponent == 0.5 && o.intensity_exponent == 0.5) {
    return std::sqrt(static_cast<double>(mz) * intensity);
  }
  return power(static_cast<double>(mz), o.mz_exponent) * power(intensity, o.intensity_exponent);
}

// Cosine of the weight vectors (PeakWeight per peak), each norm over all of its own
// spectrum's peaks, the dot product over the m/z both share. Symmetric, in [0, 1]. This is the
// stage-1 presearch score.
double WeightedCosine(std::span<const NominalPeak> a, std::span<const NominalPeak> b,
                      const MatchFactorOptions& o = {});

// NIST-style identity (forward) composite match factor of Stein & Scott (1994), in [0, 999]:
// 999 * (N_U * F_D + N_LU * F_R) / (N_U + N_LU), F_D the squared weighted cosine, F_R the
// mean agreement of adjacent weighted-intensity ratios over the N_LU - 1 adjacent pairs of
// peaks in common (0 when only one peak is shared). Peaks of either spectrum missing from the
// other lower the score. Not symmetric (N_U counts query peaks). Identical spectra of two or
// more peaks score 999, as NIST's search shows a self-match (docs/scores.md explains the two
// departures from the paper's 1/N_LU and raw ratios).
double IdentityMatchFactor(std::span<const NominalPeak> query, std::span<const NominalPeak> library,
                           const MatchFactorOptions& o = {});

// Reverse match factor: IdentityMatchFactor after dropping every query peak whose m/z is
// absent from the library spectrum, so co-eluting impurities in the query do not count
// against a candidate while library peaks missing from the query still do. In [0, 999].
double ReverseMatchFactor(std::span<const NominalPeak> query, std::span<const NominalPeak> library,
                          const MatchFactorOptions& o = {});

// Entropy similarity of Li et al. (2021) with their entropy-based intensity weighting,
// peaks matched by nominal m/z: 1 - (2 S_AB - S_A - S_B) / ln 4. Symmetric, in [0, 1]. No noise
// filtering is applied; callers that want Li et al.'s 1%-of-base cut-off apply it first.
double EntropySimilarity(std::span<const NominalPeak> a, std::span<const NominalPeak> b);

}  // namespace sentinel::spectra
