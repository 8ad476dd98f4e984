// Structures: parsing, standardisation to a canonical parent, and the identifiers derived from it.
//
// Contract. Parse* never throws: RDKit's exceptions and null results become a Status naming the
// reason. Standardise() returns the parent a chemist would report: the largest organic fragment
// (salts and solvents stripped), charges neutralised, isotope labels removed, as canonical
// isomeric SMILES, with the list of steps it took. It only runs RDKit's full MolStandardize
// pipeline (about a millisecond) when the structure needs it: several fragments, formal charges,
// isotopes or explicit hydrogens. Everything here is thread-safe for distinct molecules.
// A molecule from ParseSmiles may lack conjugation and hybridisation (nothing of Sentinel's
// reads them but depiction, which perceives them on its copy): call
// RDKit::MolOps::setConjugation / setHybridization before reading either.
#pragma once

#include <GraphMol/ROMol.h>
#include <GraphMol/RWMol.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/common/status.h"

namespace sentinel::chem {

// Bounds on what is accepted as one structure; a drug-sized molecule has 20-60 heavy atoms.
inline constexpr std::size_t kMaxStructureTextBytes = 1 << 20;
inline constexpr unsigned kMaxHeavyAtoms = 500;

Result<std::unique_ptr<RDKit::RWMol>> ParseSmiles(std::string_view smiles);
Result<std::unique_ptr<RDKit::RWMol>> ParseMolBlock(std::string_view molblock);

struct Standardised {
  std::unique_ptr<RDKit::ROMol> mol;
  std::string smiles;              // canonical isomeric SMILES of the parent
  std::vector<std::string> steps;  // what was changed, for the report; empty when nothing
};

// True when the structure is not already its own parent (see the contract above).
bool NeedsStandardising(const RDKit::ROMol& mol);
Result<Standardised> Standardise(std::unique_ptr<RDKit::RWMol> mol);

// RDKit reports every parse failure on stderr itself; Sentinel reports them as Status instead.
void SilenceRdkitLogs();

std::string CanonicalSmiles(const RDKit::ROMol& mol, bool with_stereo = true);
std::string HillFormula(const RDKit::ROMol& mol);
double MonoisotopicMass(const RDKit::ROMol& mol);

}  // namespace sentinel::chem
