// Mass spectra as Sentinel holds them.
//
// SpectrumRecord is one spectrum as read from an input (MSP, JCAMP-DX, plain text): its
// metadata and its peaks exactly as given. NominalSpectrum is the unit-mass form every score
// works on: peaks binned to the nearest integer m/z (intensities of one bin summed), sorted
// by m/z, unique, scaled so the base peak is 999. Both are plain values, safe to share
// between threads once built.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace sentinel::spectra {

struct Peak {
  double mz = 0;
  double intensity = 0;
};

struct SpectrumRecord {
  std::string name;
  std::vector<std::string> synonyms;
  std::string inchikey;  // empty when unknown ("0" in MSP means unknown)
  std::string formula;
  std::optional<double> molecular_weight;  // nominal MW as given (MW:)
  std::optional<double> exact_mass;
  std::string cas;      // empty when unknown
  std::string id;       // ID: or DB#: as given
  std::string comment;  // Comment(s): joined
  std::optional<double> retention_index;
  std::vector<Peak> peaks;

  // Where it came from, for error messages and provenance.
  std::string source;      // file name as the user gave it
  std::size_t record = 0;  // 1-based record number within the source
  std::size_t line = 0;    // 1-based line where the record starts
};

struct NominalPeak {
  std::uint16_t mz = 0;
  float intensity = 0;  // relative, base peak = 999
  friend bool operator==(const NominalPeak&, const NominalPeak&) = default;
};

using NominalSpectrum = std::vector<NominalPeak>;

// Highest m/z a nominal spectrum may hold; EI spectra of seized drugs end far below.
inline constexpr int kMaxNominalMz = 2000;

// Bins peaks to nominal mass (round half up), sums each bin, drops non-positive intensities
// and m/z outside [1, kMaxNominalMz], and scales the base peak to 999. An input with no
// usable peak yields an empty spectrum.
NominalSpectrum ToNominal(std::span<const Peak> peaks);

}  // namespace sentinel::spectra
