#include "core/chem/fingerprint.h"

#include <DataStructs/ExplicitBitVect.h>
#include <GraphMol/Fingerprints/MorganFingerprints.h>

#include <memory>

namespace sentinel::chem {

Fingerprint MorganFingerprint(const RDKit::ROMol& mol) {
  std::unique_ptr<ExplicitBitVect> bits(
      RDKit::MorganFingerprints::getFingerprintAsBitVect(mol, kMorganRadius, kFingerprintBits));
  Fingerprint fp;
  for (unsigned i = 0; i < kFingerprintBits; ++i) {
    if (bits->getBit(i)) {
      fp.words[i / 64] |= std::uint64_t{1} << (i % 64);
      ++fp.count;
    }
  }
  return fp;
}

}  // namespace sentinel::chem
