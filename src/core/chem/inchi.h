// Standard InChI and InChIKey through the IUPAC InChI library (Debian's RDKit is built without
// it). Contract: StdInchi/StdInchiKey give the standard identifiers of a sanitised molecule,
// stereo from RDKit's tetrahedral tags and double-bond E/Z passed as 0D parities; MolFromInchi
// rebuilds a sanitised molecule (with its tetrahedral and double-bond stereo) from an InChI
// string. The InChI library keeps global state, so generation is serialised internally; an
// InChI string is parsed in a child process, because the library (1.03) crashes on some
// malformed ones: such an InChI is an InvalidArgument, never a crash of the caller.
#pragma once

#include <GraphMol/RWMol.h>

#include <memory>
#include <string>
#include <string_view>

#include "core/common/status.h"

namespace sentinel::chem {

Result<std::string> StdInchi(const RDKit::ROMol& mol);
Result<std::string> StdInchiKey(const RDKit::ROMol& mol);
Result<std::string> InchiKeyOfInchi(std::string_view inchi);
Result<std::unique_ptr<RDKit::RWMol>> MolFromInchi(std::string_view inchi);

}  // namespace sentinel::chem
