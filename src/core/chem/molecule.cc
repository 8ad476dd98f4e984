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

}  // namespace

Result<std::unique_ptr<RDKit::RWMol>> ParseSmiles(std::string_view smiles) {
  if (smiles.size() > kMaxStructureTextBytes) return TooLarge("SMILES", smiles.size());
  if (smiles.empty()) return Status::InvalidArgument("empty SMILES");
  std::unique_ptr<RDKit::RWMol> mol;
  try {
    RDKit::SmilesParserParams params;
    params.allowCXSMILES = true;
    mol.reset(RDKit::SmilesToMol(std::string(smiles), params));
  } catch (const std::exception& e) {
    return Status::InvalidArgument(std::string("SMILES not understood: ") + e.what());
  }
  if (!mol) return Status::InvalidArgument("SMILES not understood (syntax or valence error)");
  if (Status s = CheckSize(*mol); !s.ok()) return s;
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
  return mol;
}

bool NeedsStandardising(const RDKit::ROMol& mol) {
  for (const RDKit::Atom* atom : mol.atoms()) {
    if (atom->getFormalCharge() != 0 || atom->getIsotope() != 0 || atom->getAtomicNum() == 1) {
      return true;
    }
  }
  std::vector<int> fragment_of;
  return RDKit::MolOps::getMolFrags(mol, fragment_of) > 1;
}

Result<Standardised> Standardise(std::unique_ptr<RDKit::RWMol> mol) {
  Standardised out;
  if (!NeedsStandardising(*mol)) {
    out.smiles = CanonicalSmiles(*mol);
    out.mol = std::move(mol);
    return out;
  }
  try {
    std::vector<std::vector<int>> fragments;
    RDKit::MolOps::getMolFrags(*mol, fragments);
    bool charged = false, labelled = false;
    for (const RDKit::Atom* atom : mol->atoms()) {
      charged |= atom->getFormalCharge() != 0;
      labelled |= atom->getIsotope() != 0;
    }
    std::unique_ptr<RDKit::RWMol> parent(RDKit::MolStandardize::fragmentParent(*mol));
    if (!parent) return Status::InvalidArgument("standardisation found no parent fragment");
    if (fragments.size() > 1) {
      // The fragment SMILES are recomputed on the parent's own terms so the kept one is found
      // by equality; the others are what the report lists as removed.
      const std::string kept = CanonicalSmiles(*parent);
      std::string removed;
      bool skipped_kept = false;
      for (const auto& f : fragments) {
        std::string s = RDKit::MolFragmentToSmiles(*mol, f);
        std::unique_ptr<RDKit::RWMol> piece(RDKit::SmilesToMol(s));
        if (!skipped_kept && piece && CanonicalSmiles(*piece) == kept) {
          skipped_kept = true;
          continue;
        }
        removed += " " + s;
      }
      out.steps.push_back("kept the parent of " + std::to_string(fragments.size()) +
                          " fragments (removed" + removed + ")");
    }
    bool parent_charged = false;
    for (const RDKit::Atom* atom : parent->atoms()) parent_charged |= atom->getFormalCharge() != 0;
    if (parent_charged) {
      RDKit::MolStandardize::Uncharger uncharger;
      std::unique_ptr<RDKit::ROMol> neutral(uncharger.uncharge(*parent));
      parent = std::make_unique<RDKit::RWMol>(*neutral);
      out.steps.push_back("neutralised charges");
    } else if (charged && fragments.size() == 1) {
      out.steps.push_back("normalised charge-separated groups");
    }
    if (labelled) {
      bool changed = false;
      for (RDKit::Atom* atom : parent->atoms()) {
        if (atom->getIsotope() != 0) {
          atom->setIsotope(0);
          changed = true;
        }
      }
      if (changed) {
        RDKit::MolOps::removeHs(*parent);  // former deuterium atoms become implicit hydrogens
        out.steps.push_back("removed isotope labels");
      }
    }
    RDKit::MolOps::sanitizeMol(*parent);
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
