// Hybrid similarity for analogue search, after NIST's hybrid search (Moorthy, Wallace, Stein et
// al., Anal. Chem. 2017, "Combining fragment-ion and neutral-loss matching during mass
// spectral library searching").
//
// Contract:
//  - Inputs are nominal spectra as NominalSpectrum defines them (sorted by strictly increasing
//    m/z, one peak per m/z, intensities > 0); the base peak need not be 999.
//  - Pure functions: no state, no exceptions; safe to call from any thread.
//
// An unknown that differs from a library compound by a modification of mass d = MQ - ML
// (MQ, ML: nominal molecular masses) shares with it the fragments that do not carry the
// modification (same m/z) and the neutral losses of those that do (m/z shifted by d). The
// hybrid score lets each library peak at m match the query peak at m or at m + d, uses every
// query and every library peak at most once, chooses the pairing that maximises the weighted
// dot product, and reports 999 * cos^2 of the two weight vectors (weight sqrt(m/z * I), each
// peak weighted at its own m/z). With d = 0 it is the plain weighted squared cosine. Exact
// rules, tie-breaking and the reasons for them are in docs/analogues.md.
#pragma once

#include <span>

#include "core/spectra/spectrum.h"

namespace sentinel::spectra {

// Hybrid match factor in [0, 999]. 0 when either spectrum is empty or nothing matches.
// Symmetric: HybridMatchFactor(a, ma, b, mb) == HybridMatchFactor(b, mb, a, ma).
double HybridMatchFactor(std::span<const NominalPeak> query, int query_mass,
                         std::span<const NominalPeak> library, int library_mass);

// The neutral-loss spectrum of `s` for molecular mass `mass`: one peak at mass - m/z for every
// peak with m/z < mass, sorted by loss, rescaled so its largest peak is 999. Empty when no peak
// lies below `mass`. Two compounds that differ by a modification inside the charged fragments
// share neutral losses where they do not share fragment m/z, so an index over these spectra
// finds hybrid candidates the fragment index misses.
NominalSpectrum NeutralLossSpectrum(std::span<const NominalPeak> s, int mass);

}  // namespace sentinel::spectra
