#include "core/chem/substructure.h"

// RDConfig.h first: it says whether RDKit was built thread-safe, which changes the layout of
// its query classes (RecursiveStructureQuery holds a mutex then), and QueryOps.h does not
// include it.
#include <RDGeneral/RDConfig.h>

#include <GraphMol/QueryAtom.h>
#include <GraphMol/QueryOps.h>
#include <GraphMol/Substruct/SubstructMatch.h>

#include <algorithm>
#include <string>
#include <vector>

namespace sentinel::chem {
namespace {

using AtomQuery = RDKit::QueryAtom::QUERYATOM_QUERY;

bool Accepts(const AtomQuery& q, const RDKit::Atom& atom);

bool AtomAccepts(const RDKit::Atom& pattern_atom, const RDKit::Atom& atom) {
  const auto* query = pattern_atom.hasQuery()
                          ? dynamic_cast<const RDKit::QueryAtom&>(pattern_atom).getQuery()
                          : nullptr;
  return query ? Accepts(*query, atom) : pattern_atom.Match(&atom);
}

// The pattern's atoms in the order the search places them: breadth-first from the first, each
// with an atom placed before it that it is bonded to. Empty when not every atom is reached.
struct Plan {
  std::vector<unsigned> order;
  std::vector<unsigned> parent;  // by pattern atom
};

Plan PlanOf(const RDKit::ROMol& pattern) {
  const unsigned n = pattern.getNumAtoms();
  Plan plan;
  plan.parent.assign(n, 0);
  std::vector<char> seen(n, 0);
  plan.order.push_back(0);
  seen[0] = 1;
  for (std::size_t i = 0; i < plan.order.size(); ++i) {
    const unsigned p = plan.order[i];
    for (const RDKit::Atom* nb : pattern.atomNeighbors(pattern.getAtomWithIdx(p))) {
      const unsigned q = nb->getIdx();
      if (seen[q]) continue;
      seen[q] = 1;
      plan.parent[q] = p;
      plan.order.push_back(q);
    }
  }
  if (plan.order.size() != n) plan.order.clear();
  return plan;
}

class Search {
 public:
  Search(const RDKit::ROMol& pattern, const RDKit::ROMol& mol, const Plan& plan)
      : pattern_(pattern), mol_(mol), plan_(plan), placed_(pattern.getNumAtoms(), -1) {}

  bool From(unsigned root) {
    if (!AtomAccepts(*pattern_.getAtomWithIdx(0), *mol_.getAtomWithIdx(root))) return false;
    placed_[0] = static_cast<int>(root);
    return Place(1);
  }

 private:
  bool Place(std::size_t k) {
    if (k == plan_.order.size()) return true;
    const unsigned p = plan_.order[k];
    const RDKit::Atom* pattern_atom = pattern_.getAtomWithIdx(p);
    const auto host = static_cast<unsigned>(placed_[plan_.parent[p]]);
    for (const RDKit::Atom* candidate : mol_.atomNeighbors(mol_.getAtomWithIdx(host))) {
      const auto a = static_cast<int>(candidate->getIdx());
      if (std::find(placed_.begin(), placed_.end(), a) != placed_.end()) continue;
      if (!AtomAccepts(*pattern_atom, *candidate) || !BondsAgree(p, candidate->getIdx())) {
        continue;
      }
      placed_[p] = a;
      if (Place(k + 1)) return true;
      placed_[p] = -1;
    }
    return false;
  }

  // Every pattern bond between `p` and an atom already placed has its counterpart at `a`.
  bool BondsAgree(unsigned p, unsigned a) const {
    for (const RDKit::Bond* bond : pattern_.atomBonds(pattern_.getAtomWithIdx(p))) {
      const int other = placed_[bond->getOtherAtomIdx(p)];
      if (other < 0) continue;
      const RDKit::Bond* counterpart = mol_.getBondBetweenAtoms(a, static_cast<unsigned>(other));
      if (!counterpart || !bond->Match(counterpart)) return false;
    }
    return true;
  }

  const RDKit::ROMol& pattern_;
  const RDKit::ROMol& mol_;
  const Plan& plan_;
  std::vector<int> placed_;  // by pattern atom: the molecule's atom, or -1
};

bool Rooted(const RDKit::ROMol& pattern, const RDKit::ROMol& mol, unsigned atom) {
  if (pattern.getNumAtoms() == 0) return false;
  const Plan plan = PlanOf(pattern);
  if (plan.order.empty()) {
    // A pattern in pieces: RDKit's own search over the whole molecule.
    std::vector<RDKit::MatchVectType> matches;
    RDKit::SubstructMatch(mol, pattern, matches, /*uniquify=*/false, /*recursionPossible=*/true,
                          /*useChirality=*/false, /*useQueryQueryMatches=*/false,
                          /*maxMatches=*/100000);
    for (const auto& m : matches) {
      if (static_cast<unsigned>(m[0].second) == atom) return true;
    }
    return false;
  }
  return Search(pattern, mol, plan).From(atom);
}

// An atom query evaluated as RDKit evaluates it, except that a recursive SMARTS is matched
// rooted at the atom instead of being looked up in the set RDKit's search precomputes.
bool Accepts(const AtomQuery& q, const RDKit::Atom& atom) {
  if (!HasRecursion(&q)) return q.Match(&atom);
  const std::string& kind = q.getDescription();
  bool result = false;
  if (kind == "RecursiveStructure") {
    const auto& recursive = dynamic_cast<const RDKit::RecursiveStructureQuery&>(q);
    result = Rooted(*recursive.getQueryMol(), atom.getOwningMol(), atom.getIdx());
  } else if (kind == "AtomAnd") {
    result = true;
    for (auto child = q.beginChildren(); child != q.endChildren() && result; ++child) {
      result = Accepts(**child, atom);
    }
  } else if (kind == "AtomOr") {
    for (auto child = q.beginChildren(); child != q.endChildren() && !result; ++child) {
      result = Accepts(**child, atom);
    }
  } else if (kind == "AtomXor") {
    int accepting = 0;
    for (auto child = q.beginChildren(); child != q.endChildren(); ++child) {
      accepting += Accepts(**child, atom) ? 1 : 0;
    }
    result = accepting == 1;
  } else {
    // A composite RDKit does not write from SMARTS: its own search decides.
    std::vector<RDKit::MatchVectType> matches;
    RDKit::RWMol single;
    single.addAtom(new RDKit::QueryAtom(), false, true);
    dynamic_cast<RDKit::QueryAtom*>(single.getAtomWithIdx(0))->setQuery(q.copy());
    RDKit::SubstructMatch(atom.getOwningMol(), single, matches, false, true);
    for (const auto& m : matches) {
      if (static_cast<unsigned>(m[0].second) == atom.getIdx()) return true;
    }
    return false;
  }
  return q.getNegation() ? !result : result;
}

}  // namespace

bool MatchesAt(const RDKit::ROMol& pattern, const RDKit::ROMol& mol, unsigned atom) {
  return Rooted(pattern, mol, atom);
}

bool HasRecursion(const RDKit::QueryAtom::QUERYATOM_QUERY* query) {
  if (!query) return false;
  if (query->getDescription() == "RecursiveStructure") return true;
  for (auto child = query->beginChildren(); child != query->endChildren(); ++child) {
    if (HasRecursion(child->get())) return true;
  }
  return false;
}

}  // namespace sentinel::chem
