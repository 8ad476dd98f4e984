// Morgan (ECFP4-like: radius 2, 2048 bits) fingerprints packed in words, and Tanimoto similarity.
// Contract: the packed form is bit-for-bit RDKit's getFingerprintAsBitVect(mol, 2, 2048), so
// similarities equal RDKit's TanimotoSimilarity; Tanimoto of two empty prints is 0.
#pragma once

#include <GraphMol/ROMol.h>

#include <array>
#include <bit>
#include <cstdint>

namespace sentinel::chem {

inline constexpr unsigned kFingerprintBits = 2048;
inline constexpr unsigned kMorganRadius = 2;

struct Fingerprint {
  std::array<std::uint64_t, kFingerprintBits / 64> words{};
  unsigned count = 0;  // bits set
};

Fingerprint MorganFingerprint(const RDKit::ROMol& mol);

inline double Tanimoto(const Fingerprint& a, const Fingerprint& b) {
  unsigned common = 0;
  for (std::size_t i = 0; i < a.words.size(); ++i) {
    common += static_cast<unsigned>(std::popcount(a.words[i] & b.words[i]));
  }
  const unsigned either = a.count + b.count - common;
  return either == 0 ? 0.0 : static_cast<double>(common) / either;
}

}  // namespace sentinel::chem
