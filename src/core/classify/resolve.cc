#include "core/classify/resolve.h"

#include <GraphMol/RWMol.h>

#include <regex>

#include "core/chem/inchi.h"
#include "core/chem/molecule.h"

namespace sentinel::classify {
namespace {

bool LooksLikeCas(const std::string& s) {
  if (s.size() < 7 || s.size() > 12) return false;
  static const std::regex cas(R"(\d{2,7}-\d\d-\d)");
  return std::regex_match(s, cas);
}

Result<ResolvedStructure> Finish(Result<std::unique_ptr<RDKit::RWMol>> parsed,
                                 std::string read_as) {
  if (!parsed.ok()) return parsed.status();
  auto standard = chem::Standardise(std::move(parsed).value());
  if (!standard.ok()) return standard.status();
  ResolvedStructure r;
  r.smiles = standard->smiles;
  r.standardisation = std::move(standard->steps);
  r.mol = std::shared_ptr<const RDKit::ROMol>(std::move(standard->mol));
  r.read_as = std::move(read_as);
  return r;
}

Result<ResolvedStructure> FromSubstance(const Substance& s, std::string read_as) {
  ResolvedStructure r;
  r.mol = s.mol;
  r.smiles = s.smiles;
  r.read_as = std::move(read_as);
  return r;
}

}  // namespace

Result<ResolvedStructure> ResolveStructure(const std::string& text, bool molfile,
                                           const KnowledgeBase& kb) {
  if (text.empty()) return Status::InvalidArgument("empty structure");
  if (molfile) return Finish(chem::ParseMolBlock(text), "molfile");
  if (text.rfind("InChI=", 0) == 0) return Finish(chem::MolFromInchi(text), "InChI");
  if (LooksLikeCas(text)) {
    if (const Substance* s = kb.FindByName(text)) return FromSubstance(*s, "CAS");
    return Status::NotFound("CAS number " + text + " is not in the knowledge base");
  }
  if (const Substance* s = kb.FindByName(text)) return FromSubstance(*s, "name");
  auto parsed = chem::ParseSmiles(text);
  if (!parsed.ok()) {
    return Status::InvalidArgument("not a SMILES, InChI, CAS number or known name (" +
                                   parsed.status().message() + ")");
  }
  return Finish(std::move(parsed), "SMILES");
}

}  // namespace sentinel::classify
