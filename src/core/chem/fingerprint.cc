#include "core/chem/fingerprint.h"

#include <DataStructs/ExplicitBitVect.h>
#include <GraphMol/Fingerprints/MorganFingerprints.h>

#include <memory>
#include <vector>

namespace sentinel::chem {

Fingerprint MorganFingerprint(const RDKit::ROMol& mol) {
  std::unique_ptr<ExplicitBitVect> bits(
      RDKit::MorganFingerprints::getFingerprintAsBitVect(mol, kMorganRadius, kFingerprintBits));
  Fingerprint fp;
  std::vector<int> on;
  bits->getOnBits(on);
  for (int i : on) {
    const auto bit = static_cast<unsigned>(i);
    fp.words[bit / 64] |= std::uint64_t{1} << (bit % 64);
  }
  fp.count = static_cast<unsigned>(on.size());
  return fp;
}

}  // namespace sentinel::chem
