#include "core/chem/molecule.h"

#include <GraphMol/Descriptors/MolDescriptors.h>
#include <GraphMol/FileParsers/FileParsers.h>
#include <GraphMol/MolOps.h>
#include <GraphMol/MolStandardize/Charge.h>
#include <GraphMol/MolStandardize/MolStandardize.h>
#include <GraphMol/SmilesParse/SmilesParse.h>
#include <GraphMol/SmilesParse/SmilesWrite.h>
#include <RDGeneral/RDLog.h>

#include <exception>
#include <tuple>

namespace sentinel::chem {
namespace {

Status TooLarge(std::string_view what, std::size_t size) {
  return Status::InvalidArgument(std::string(what) + " of " + std::to_string(size) +
                                 " bytes is larger than the " +
                                 std::to_string(kMaxStructureTextBytes) + "-byte limit");
}

Status CheckSize(const RDKit::ROMol& mol) {
  if (mol.getNumHeavyAtoms() > kMaxHeavyAtoms) {
    return Status::InvalidArgument("structure has " + std::to_string(mol.getNumHeavyAtoms()) +
                                   " heavy atoms, more than the " + std::to_string(kMaxHeavyAtoms) +
                                   " accepted");
  }
  if (mol.getNumAtoms() == 0) return Status::InvalidArgument("structure has no atoms");
  return Status::Ok();
}

// RDKit 2022.09 checks valences before kekulising, and lets an atom written aromatic through
// even when its final bonds exceed any valence (`CC(c1#C)CccC1` comes out with a five-bonded
// carbon, and a SMILES RDKit itself then refuses). Checking again on the final bonds catches it.
Status CheckFinalValences(RDKit::RWMol& mol) {
  try {
    mol.updatePropertyCache(/*strict=*/true);
  } catch (const std::exception& e) {
    return Status::InvalidArgument(std::string("impossible valence: ") + e.what());
  }
  return Status::Ok();
}

// Sanitisation without conjugation and hybridisation: a fifth of its time, and nothing
// downstream reads them (matching, canonical SMILES, fingerprints, formula and mass do not;
// depiction sets hybridisation on its own copy).
constexpr unsigned kSanitizeSteps = RDKit::MolOps::SANITIZE_ALL ^
                                    RDKit::MolOps::SANITIZE_SETCONJUGATION ^
                                    RDKit::MolOps::SANITIZE_SETHYBRIDIZATION;

}  // namespace

Result<std::unique_ptr<RDKit::RWMol>> ParseSmiles(std::string_view smiles) {
  if (smiles.size() > kMaxStructureTextBytes) return TooLarge("SMILES", smiles.size());
  if (smiles.empty()) return Status::InvalidArgument("empty SMILES");
  std::unique_ptr<RDKit::RWMol> mol;
  try {
    RDKit::SmilesParserParams params;
    params.allowCXSMILES = true;
    // RDKit's parser perceives stereochemistry with every possible centre flagged: a fifth of
    // its time. A SMILES without stereo marks and without a CXSMILES extension has nothing to
    // perceive: it is read unsanitised and then sanitised and stripped of hydrogens as the
    // parser would, and canonical SMILES later finds no stereo at once.
    const bool stereo_possible = smiles.find_first_of("@/\\|") != std::string_view::npos;
    if (!stereo_possible) {
      params.sanitize = false;
      params.removeHs = false;
    }
    mol.reset(RDKit::SmilesToMol(std::string(smiles), params));
    if (mol && !stereo_possible) {
      RDKit::MolOps::removeHs(*mol, /*implicitOnly=*/false, /*updateExplicitCount=*/true,
                              /*sanitize=*/false);
      unsigned failed_step = 0;
      RDKit::MolOps::sanitizeMol(*mol, failed_step, kSanitizeSteps);
      // What the parser's stereo perception would have recorded: there is none to find.
      mol->setProp(RDKit::common_properties::_StereochemDone, 1, /*computed=*/true);
    }
  } catch (const std::exception& e) {
    return Status::InvalidArgument(std::string("SMILES not understood: ") + e.what());
  }
  if (!mol) return Status::InvalidArgument("SMILES not understood (syntax or valence error)");
  if (Status s = CheckSize(*mol); !s.ok()) return s;
  if (Status s = CheckFinalValences(*mol); !s.ok()) return s;
  return mol;
}

Result<std::unique_ptr<RDKit::RWMol>> ParseMolBlock(std::string_view molblock) {
  if (molblock.size() > kMaxStructureTextBytes) return TooLarge("molfile", molblock.size());
  std::unique_ptr<RDKit::RWMol> mol;
  try {
    mol.reset(RDKit::MolBlockToMol(std::string(molblock), /*sanitize=*/true, /*removeHs=*/true));
  } catch (const std::exception& e) {
    return Status::InvalidArgument(std::string("molfile not understood: ") + e.what());
  }
  if (!mol) return Status::InvalidArgument("molfile not understood");
  if (Status s = CheckSize(*mol); !s.ok()) return s;
  if (Status s = CheckFinalValences(*mol); !s.ok()) return s;
  return mol;
}

namespace {

// Metals need RDKit's metal disconnector and the full cleanup; everything else Sentinel
// standardises with targeted steps.
bool IsMetal(int z) {
  return (z >= 3 && z <= 4) || (z >= 11 && z <= 13) || (z >= 19 && z <= 32) ||
         (z >= 37 && z <= 51) || (z >= 55 && z <= 84) || z >= 87;
}

// A charge the uncharger would change: a protonated centre ([NH+], [NH3+]) or an anion with no
// cationic neighbour (carboxylate, phenolate). Zwitterionic groups such as nitro, N-oxides and
// quaternary ammonium stay as they are, as RDKit writes them.
bool NeedsUncharging(const RDKit::ROMol& mol) {
  for (const RDKit::Atom* atom : mol.atoms()) {
    const int q = atom->getFormalCharge();
    if (q > 0 && atom->getTotalNumHs() > 0) return true;
    if (q < 0) {
      bool paired = false;
      for (const RDKit::Atom* n : mol.atomNeighbors(atom)) paired |= n->getFormalCharge() > 0;
      if (!paired) return true;
    }
  }
  return false;
}

// The parent fragment, as RDKit's LargestFragmentChooser picks it: organic (has carbon) first,
// then most atoms (hydrogens included), then greatest mass, then the SMILES that sorts first.
// `smiles` holds each fragment's SMILES once computed (empty until then): only ties need them.
std::size_t ParentFragment(const std::vector<RDKit::ROMOL_SPTR>& fragments,
                           std::vector<std::string>* smiles) {
  smiles->assign(fragments.size(), std::string());
  auto smiles_of = [&](std::size_t i) -> const std::string& {
    if ((*smiles)[i].empty()) (*smiles)[i] = RDKit::MolToSmiles(*fragments[i]);
    return (*smiles)[i];
  };
  auto key = [&](std::size_t i) {
    const RDKit::ROMol& f = *fragments[i];
    bool organic = false;
    unsigned atoms = 0;
    for (const RDKit::Atom* a : f.atoms()) {
      organic |= a->getAtomicNum() == 6;
      atoms += 1 + a->getTotalNumHs();
    }
    return std::make_tuple(organic, atoms, RDKit::Descriptors::calcAMW(f));
  };
  std::size_t best = 0;
  auto best_key = key(0);
  for (std::size_t i = 1; i < fragments.size(); ++i) {
    const auto k = key(i);
    if (k > best_key || (k == best_key && smiles_of(i) < smiles_of(best))) {
      best = i;
      best_key = k;
    }
  }
  return best;
}

Result<Standardised> FullStandardise(std::unique_ptr<RDKit::RWMol> mol) {
  Standardised out;
  std::unique_ptr<RDKit::RWMol> parent(RDKit::MolStandardize::chargeParent(*mol));
  if (!parent) return Status::InvalidArgument("standardisation found no parent fragment");
  out.steps.emplace_back(
      "metal-containing structure: RDKit's full standardisation (metals "
      "disconnected, parent fragment, charges neutralised)");
  for (RDKit::Atom* atom : parent->atoms()) atom->setIsotope(0);
  RDKit::MolOps::removeHs(*parent);
  out.smiles = CanonicalSmiles(*parent);
  out.mol = std::move(parent);
  return out;
}

}  // namespace

bool NeedsStandardising(const RDKit::ROMol& mol) {
  for (const RDKit::Atom* atom : mol.atoms()) {
    if (atom->getIsotope() != 0 || atom->getAtomicNum() == 1 || IsMetal(atom->getAtomicNum())) {
      return true;
    }
  }
  std::vector<int> fragment_of;
  return RDKit::MolOps::getMolFrags(mol, fragment_of) > 1 || NeedsUncharging(mol);
}

Result<Standardised> Standardise(std::unique_ptr<RDKit::RWMol> mol) {
  Standardised out;
  if (!NeedsStandardising(*mol)) {
    out.smiles = CanonicalSmiles(*mol);
    out.mol = std::move(mol);
    return out;
  }
  try {
    bool labelled = false, explicit_h = false, metal = false;
    for (RDKit::Atom* atom : mol->atoms()) {
      labelled |= atom->getIsotope() != 0;
      explicit_h |= atom->getAtomicNum() == 1;
      metal |= IsMetal(atom->getAtomicNum());
    }
    if (metal) return FullStandardise(std::move(mol));
    if (labelled || explicit_h) {
      for (RDKit::Atom* atom : mol->atoms()) atom->setIsotope(0);
      RDKit::MolOps::removeHs(*mol);  // deuterium and explicit H become implicit hydrogens
      if (labelled) out.steps.emplace_back("removed isotope labels");
    }
    std::unique_ptr<RDKit::RWMol> parent;
    // Passing our own fragment map matters: without one RDKit allocates it and leaks it when
    // sanitising a fragment throws.
    std::vector<int> fragment_of;
    // The molecule is sanitised as a whole, and sanitisation never crosses from one fragment
    // to another: the fragments are copied as they are, and only the parent gets its rings.
    auto fragments = RDKit::MolOps::getMolFrags(*mol, /*sanitizeFrags=*/false, &fragment_of);
    if (fragments.size() > 1) {
      std::vector<std::string> smiles;
      const std::size_t kept = ParentFragment(fragments, &smiles);
      std::string removed;
      for (std::size_t i = 0; i < fragments.size(); ++i) {
        if (i == kept) continue;
        if (smiles[i].empty()) smiles[i] = RDKit::MolToSmiles(*fragments[i]);
        removed += " " + smiles[i];
      }
      out.steps.push_back("kept the parent of " + std::to_string(fragments.size()) +
                          " fragments (removed" + removed + ")");
      parent = std::make_unique<RDKit::RWMol>(*fragments[kept]);
      RDKit::MolOps::symmetrizeSSSR(*parent);
    } else {
      parent = std::move(mol);
    }
    if (NeedsUncharging(*parent)) {
      // The uncharger compiles its patterns when made: one per thread, reused.
      static thread_local RDKit::MolStandardize::Uncharger uncharger;
      std::unique_ptr<RDKit::ROMol> neutral(uncharger.uncharge(*parent));
      parent = std::make_unique<RDKit::RWMol>(*neutral);
      out.steps.emplace_back("neutralised charges");
      // New charges and hydrogens: valences, aromaticity and rings are perceived afresh. A
      // parent that was only cut from its salt or stripped of labels is sanitised already.
      unsigned failed_step = 0;
      RDKit::MolOps::sanitizeMol(*parent, failed_step, kSanitizeSteps);
    }
    out.smiles = CanonicalSmiles(*parent);
    out.mol = std::move(parent);
  } catch (const std::exception& e) {
    return Status::InvalidArgument(std::string("standardisation failed: ") + e.what());
  }
  return out;
}

void SilenceRdkitLogs() { boost::logging::disable_logs("rdApp.*"); }

std::string CanonicalSmiles(const RDKit::ROMol& mol, bool with_stereo) {
  return RDKit::MolToSmiles(mol, with_stereo);
}

std::string HillFormula(const RDKit::ROMol& mol) { return RDKit::Descriptors::calcMolFormula(mol); }

double MonoisotopicMass(const RDKit::ROMol& mol) { return RDKit::Descriptors::calcExactMW(mol); }

}  // namespace sentinel::chem
