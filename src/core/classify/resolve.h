// From what a user typed to a standardised structure: InChI, molfile, CAS number, a name or
// synonym in the knowledge base, or SMILES (tried in that order; a name is tried before SMILES
// because the knowledge base's names are exact, while short names can be valid SMILES).
#pragma once

#include <GraphMol/ROMol.h>

#include <memory>
#include <string>
#include <vector>

#include "core/classify/knowledge_base.h"
#include "core/common/status.h"

namespace sentinel::classify {

struct ResolvedStructure {
  std::shared_ptr<const RDKit::ROMol> mol;  // the standardised parent
  std::string smiles;                       // its canonical isomeric SMILES
  std::vector<std::string> standardisation;
  std::string read_as;  // "SMILES", "InChI", "molfile", "CAS", "name"
};

Result<ResolvedStructure> ResolveStructure(const std::string& text, bool molfile,
                                           const KnowledgeBase& kb);

}  // namespace sentinel::classify
