#include "core/classify/rule.h"

// RDConfig.h first: it says whether RDKit was built thread-safe, which changes the layout of
// its query classes (RecursiveStructureQuery holds a mutex then), and QueryOps.h does not
// include it.
#include <RDGeneral/RDConfig.h>

#include <GraphMol/MolOps.h>
#include <GraphMol/QueryAtom.h>
#include <GraphMol/QueryOps.h>
#include <GraphMol/RWMol.h>
#include <GraphMol/RingInfo.h>
#include <GraphMol/SmilesParse/SmartsWrite.h>
#include <GraphMol/SmilesParse/SmilesParse.h>
#include <GraphMol/SmilesParse/SmilesWrite.h>
#include <GraphMol/Substruct/SubstructMatch.h>
#include <Query/EqualityQuery.h>

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <exception>
#include <optional>
#include <set>
#include <unordered_map>

#include "core/chem/molecule.h"
#include "core/chem/substructure.h"

namespace sentinel::classify {
namespace {

enum class PartKind { kRing, kGroup, kAtoms };

using AtomQuery = RDKit::QueryAtom::QUERYATOM_QUERY;

using chem::HasRecursion;

// An empty AND or OR node like `q` (same kind, negation and description), or null for a node
// of another kind.
AtomQuery* EmptyLike(const AtomQuery& q) {
  AtomQuery* node = nullptr;
  if (q.getDescription() == "AtomAnd") node = new RDKit::ATOM_AND_QUERY;
  if (q.getDescription() == "AtomOr") node = new RDKit::ATOM_OR_QUERY;
  if (node) {
    node->setDescription(q.getDescription());
    node->setNegation(q.getNegation());
  }
  return node;
}

// `q` with each recursive SMARTS of a single atom, such as $([cH1]), replaced by that atom's
// own query: the same test, but RDKit evaluates every recursive SMARTS over the whole molecule
// before a match starts, and a plain atom query costs nothing until it is reached.
AtomQuery* FlattenSingleAtomRecursion(const AtomQuery& q) {
  if (q.getDescription() == "RecursiveStructure") {
    const auto& recursive = dynamic_cast<const RDKit::RecursiveStructureQuery&>(q);
    const RDKit::ROMol* inner = recursive.getQueryMol();
    const auto* atom = inner && inner->getNumAtoms() == 1 && inner->getNumBonds() == 0
                           ? dynamic_cast<const RDKit::QueryAtom*>(inner->getAtomWithIdx(0))
                           : nullptr;
    if (!atom || !atom->getQuery()) return q.copy();
    AtomQuery* flat = FlattenSingleAtomRecursion(*atom->getQuery());
    if (q.getNegation()) flat->setNegation(!flat->getNegation());
    return flat;
  }
  AtomQuery* node = HasRecursion(&q) ? EmptyLike(q) : nullptr;
  if (!node) return q.copy();
  for (auto child = q.beginChildren(); child != q.endChildren(); ++child) {
    node->addChild(AtomQuery::CHILD_TYPE(FlattenSingleAtomRecursion(**child)));
  }
  return node;
}

// `q` without its recursive SMARTS, as a test every atom matching `q` passes: a recursive
// part of an AND is dropped, an OR or a negation holding one accepts everything. Null means
// "any atom".
AtomQuery* WithoutRecursion(const AtomQuery& q) {
  if (!HasRecursion(&q)) return q.copy();
  if (q.getDescription() != "AtomAnd" || q.getNegation()) return nullptr;
  AtomQuery* node = EmptyLike(q);
  int kept = 0;
  for (auto child = q.beginChildren(); child != q.endChildren(); ++child) {
    if (AtomQuery* relaxed = WithoutRecursion(**child)) {
      node->addChild(AtomQuery::CHILD_TYPE(relaxed));
      ++kept;
    }
  }
  if (kept == 0) {
    delete node;
    return nullptr;
  }
  return node;
}

Result<std::unique_ptr<RDKit::ROMol>> CompileSmarts(const std::string& smarts,
                                                    const std::string& where) {
  std::unique_ptr<RDKit::ROMol> q;
  try {
    q.reset(RDKit::SmartsToMol(smarts));
  } catch (const std::exception& e) {
    return Status::InvalidArgument(where + ": SMARTS '" + smarts + "': " + e.what());
  }
  if (!q) return Status::InvalidArgument(where + ": SMARTS '" + smarts + "' does not parse");
  for (RDKit::Atom* a : q->atoms()) {
    auto* qa = dynamic_cast<RDKit::QueryAtom*>(a);
    if (qa && HasRecursion(qa->getQuery())) {
      qa->setQuery(FlattenSingleAtomRecursion(*qa->getQuery()));
    }
  }
  return q;
}

// The skeleton with its recursive SMARTS taken out (WithoutRecursion): a pattern every match
// of the skeleton also matches. RDKit evaluates recursive SMARTS over the whole molecule
// before it starts matching, so a cheap failed match of this pattern saves that cost for the
// many structures that lack the skeleton's frame. Null when the skeleton has no recursion.
std::unique_ptr<RDKit::ROMol> FrameOf(const RDKit::ROMol& query) {
  std::unique_ptr<RDKit::RWMol> frame;
  for (const RDKit::Atom* a : query.atoms()) {
    const auto* qa = dynamic_cast<const RDKit::QueryAtom*>(a);
    if (!qa || !HasRecursion(qa->getQuery())) continue;
    if (!frame) frame = std::make_unique<RDKit::RWMol>(query);
    AtomQuery* relaxed = WithoutRecursion(*qa->getQuery());
    auto* target = dynamic_cast<RDKit::QueryAtom*>(frame->getAtomWithIdx(a->getIdx()));
    target->setQuery(relaxed ? relaxed : RDKit::makeAtomNullQuery());
  }
  return frame;
}

// A copy of `atoms` (with their hydrogen counts) as a molecule of its own, each bond leaving
// the set ending in a dummy atom '*'. With `bare`, hydrogens and dummies are left out, which
// makes a key that ignores where and how a ring system is substituted.
std::string BuildFragmentSmiles(const RDKit::ROMol& mol, const std::vector<int>& atoms, bool bare);

// A piece's SMILES is a function of the piece as BuildFragmentSmiles copies it: each atom's
// element, aromaticity, charge and hydrogens, its bonds inside the piece and, unless bare, the
// kinds of the bonds leaving it. Those, listed in the structure's own atom order, are an exact
// key; analogues of one family list their common pieces (a phenyl, a propionyl, a methoxy)
// alike, so each thread writes those once instead of once per structure. The cache is
// emptied when it grows large.
std::string FragmentSmiles(const RDKit::ROMol& mol, const std::vector<int>& atoms, bool bare) {
  if (!std::is_sorted(atoms.begin(), atoms.end())) return BuildFragmentSmiles(mol, atoms, bare);
  std::string key(1, bare ? 'b' : 'f');
  for (std::size_t i = 0; i < atoms.size(); ++i) {
    const RDKit::Atom* atom = mol.getAtomWithIdx(static_cast<unsigned>(atoms[i]));
    key += fmt::format("|{},{},{},{}", atom->getAtomicNum(), atom->getIsAromatic() ? 1 : 0,
                       atom->getFormalCharge(), bare ? 0U : atom->getTotalNumHs());
    for (const RDKit::Bond* bond : mol.atomBonds(atom)) {
      const auto other = static_cast<int>(bond->getOtherAtomIdx(atom->getIdx()));
      const auto at = std::lower_bound(atoms.begin(), atoms.end(), other);
      const bool inside = at != atoms.end() && *at == other;
      if (inside && other < atoms[i]) continue;  // written from its other end
      if (!inside && bare) continue;
      key += fmt::format(";{}:{}{}", inside ? at - atoms.begin() : -1,
                         static_cast<int>(bond->getBondType()), bond->getIsAromatic() ? "a" : "");
    }
  }
  static thread_local std::unordered_map<std::string, std::string> written;
  auto it = written.find(key);
  if (it == written.end()) {
    if (written.size() > 100'000) written.clear();
    it = written.emplace(std::move(key), BuildFragmentSmiles(mol, atoms, bare)).first;
  }
  return it->second;
}

std::string BuildFragmentSmiles(const RDKit::ROMol& mol, const std::vector<int>& atoms, bool bare) {
  RDKit::RWMol frag;
  std::unordered_map<int, unsigned> index;
  for (int a : atoms) {
    const RDKit::Atom* src = mol.getAtomWithIdx(static_cast<unsigned>(a));
    auto* atom = new RDKit::Atom(src->getAtomicNum());
    atom->setIsAromatic(src->getIsAromatic());
    atom->setFormalCharge(src->getFormalCharge());
    atom->setNoImplicit(true);
    atom->setNumExplicitHs(bare ? 0 : src->getTotalNumHs());
    index[a] = frag.addAtom(atom, false, true);
  }
  for (int a : atoms) {
    for (const RDKit::Bond* bond : mol.atomBonds(mol.getAtomWithIdx(static_cast<unsigned>(a)))) {
      const int other = static_cast<int>(bond->getOtherAtomIdx(static_cast<unsigned>(a)));
      auto it = index.find(other);
      if (it != index.end()) {
        if (a < other) {
          const unsigned b = frag.addBond(index[a], it->second, bond->getBondType()) - 1;
          frag.getBondWithIdx(b)->setIsAromatic(bond->getIsAromatic());
        }
      } else if (!bare) {
        auto* dummy = new RDKit::Atom(0);
        dummy->setNoImplicit(true);
        const unsigned d = frag.addAtom(dummy, false, true);
        const unsigned b = frag.addBond(index[a], d, bond->getBondType()) - 1;
        frag.getBondWithIdx(b)->setIsAromatic(bond->getIsAromatic());
      }
    }
  }
  frag.updatePropertyCache(false);
  RDKit::MolOps::findSSSR(frag);
  return RDKit::MolToSmiles(frag, /*doIsomericSmiles=*/false);
}

std::vector<int> AllAtoms(const RDKit::ROMol& mol) {
  std::vector<int> out;
  for (const RDKit::Atom* a : mol.atoms()) {
    if (a->getAtomicNum() > 0) out.push_back(static_cast<int>(a->getIdx()));
  }
  return out;
}

Result<std::string> ReferenceKey(const std::string& smiles, bool bare, const std::string& where) {
  auto mol = chem::ParseSmiles(smiles);
  if (!mol.ok()) {
    return Status::InvalidArgument(where + ": SMILES '" + smiles + "': " + mol.status().message());
  }
  return FragmentSmiles(**mol, AllAtoms(**mol), bare);
}

// The ring systems (rings sharing a bond, fused or bridged), as sorted atom lists.
std::vector<std::vector<int>> RingSystems(const RDKit::ROMol& mol) {
  const auto& rings = mol.getRingInfo()->atomRings();
  std::vector<std::set<int>> systems;
  for (const auto& ring : rings) {
    std::set<int> merged(ring.begin(), ring.end());
    for (auto it = systems.begin(); it != systems.end();) {
      int shared = 0;
      for (int a : ring) shared += static_cast<int>(it->count(a));
      if (shared >= 2) {
        merged.insert(it->begin(), it->end());
        it = systems.erase(it);
      } else {
        ++it;
      }
    }
    systems.push_back(std::move(merged));
  }
  std::vector<std::vector<int>> out;
  out.reserve(systems.size());
  for (const auto& s : systems) out.emplace_back(s.begin(), s.end());
  return out;
}

int RingCount(const RDKit::ROMol& mol, const std::vector<int>& system) {
  int n = 0;
  for (const auto& ring : mol.getRingInfo()->atomRings()) {
    if (std::all_of(ring.begin(), ring.end(),
                    [&](int a) { return std::binary_search(system.begin(), system.end(), a); })) {
      ++n;
    }
  }
  return n;
}

struct CompiledType {
  SubstituentTypeSpec spec;
  std::unique_ptr<RDKit::ROMol> attach, atoms, require;
};

struct CompiledPart {
  PartSpec spec;
  PartKind kind;
  std::string reference_key;  // ring key or group SMILES of the reference's part
  std::set<std::string> allowed_ring_keys;
};

}  // namespace

namespace {

// A smallest ring of a skeleton as a pattern of its own (RingCoreOf): every match of the
// skeleton contains a match of it. The skeletons of a family (the linking groups of a synthetic-
// cannabinoid definition) share it, and many structures lack it, so one search of it rules the
// whole family out.
struct RingCore {
  std::string smarts;
  std::unique_ptr<RDKit::ROMol> pattern;
  std::size_t size = 0;  // atoms in the ring
  std::size_t id = 0;    // the same for equal SMARTS across the rule set
};

}  // namespace

// Lazily computed facts about one structure, shared by every rule evaluated on it.
struct EvaluationCache::Impl {
  explicit Impl(const RDKit::ROMol& m) : mol(m) {}
  // Whether a match of `pattern` starts at `atom`: a small search around the atom
  // (chem::MatchesAt), asked only about the atoms a substituent holds.
  bool AtomMatches(const RDKit::ROMol& pattern, int atom) {
    constexpr char kUnknown = 2;
    auto& known = atom_sets[&pattern];
    if (known.empty()) known.assign(mol.getNumAtoms(), kUnknown);
    char& k = known[static_cast<std::size_t>(atom)];
    if (k == kUnknown) k = chem::MatchesAt(pattern, mol, static_cast<unsigned>(atom)) ? 1 : 0;
    return k != 0;
  }
  const std::vector<RDKit::MatchVectType>& Matches(const RDKit::ROMol& pattern) {
    auto it = matches.find(&pattern);
    if (it == matches.end()) {
      std::vector<RDKit::MatchVectType> found;
      RDKit::SubstructMatch(mol, pattern, found, /*uniquify=*/false);
      it = matches.emplace(&pattern, std::move(found)).first;
    }
    return it->second;
  }
  // The size of the structure's smallest ring (of its SSSR), or SIZE_MAX without rings. A
  // ring of k atoms is a sum of SSSR rings of at most k atoms each (the SSSR is a minimum
  // cycle basis), so a structure whose smallest ring is larger holds no k-membered ring.
  std::size_t SmallestRing() {
    if (!smallest_ring) {
      smallest_ring = SIZE_MAX;
      for (const auto& ring : mol.getRingInfo()->atomRings()) {
        smallest_ring = std::min(*smallest_ring, ring.size());
      }
    }
    return *smallest_ring;
  }
  const std::vector<std::vector<int>>& Systems() {
    if (!systems) systems = RingSystems(mol);
    return *systems;
  }
  // Skeleton matches, shared by rules with the same skeleton SMARTS: `id` numbers the
  // SMARTS across the rule set. `frame`, when given, is a cheaper pattern that every match of
  // `query` also matches. `core`, when given, is a ring of the skeleton (RingCore): shared by
  // the skeletons of a family, searched once for all of them, and rarer than any of them.
  const std::vector<RDKit::MatchVectType>& SkeletonMatches(std::size_t id,
                                                           const RDKit::ROMol& query,
                                                           const RDKit::ROMol* frame,
                                                           const RingCore* core) {
    if (id >= skeletons.size()) skeletons.resize(id + 1);
    auto& found = skeletons[id];
    if (found) return *found;
    found.emplace();
    RDKit::MatchVectType one;
    if (core && !CorePresent(*core)) return *found;
    if (frame && !RDKit::SubstructMatch(mol, *frame, one, /*recursionPossible=*/false)) {
      return *found;
    }
    RDKit::SubstructMatch(mol, query, *found, /*uniquify=*/true, /*recursionPossible=*/true,
                          /*useChirality=*/false, /*useQueryQueryMatches=*/false,
                          /*maxMatches=*/64);
    return *found;
  }
  bool CorePresent(const RingCore& core) {
    constexpr char kUnknown = 2;
    if (core.id >= cores.size()) cores.resize(core.id + 1, kUnknown);
    char& present = cores[core.id];
    if (present == kUnknown) {
      RDKit::MatchVectType one;
      present = SmallestRing() <= core.size && RDKit::SubstructMatch(mol, *core.pattern, one);
    }
    return present != 0;
  }
  const std::string& Fragment(const std::vector<int>& atoms, bool bare) {
    auto key = std::make_pair(atoms, bare);
    auto it = fragments.find(key);
    if (it == fragments.end()) {
      it = fragments.emplace(std::move(key), FragmentSmiles(mol, atoms, bare)).first;
    }
    return it->second;
  }

  const RDKit::ROMol& mol;
  std::unordered_map<const RDKit::ROMol*, std::vector<char>> atom_sets;
  std::unordered_map<const RDKit::ROMol*, std::vector<RDKit::MatchVectType>> matches;
  std::optional<std::vector<std::vector<int>>> systems;
  std::optional<std::size_t> smallest_ring;
  std::vector<std::optional<std::vector<RDKit::MatchVectType>>> skeletons;  // by skeleton id
  std::vector<char> cores;  // by RingCore::id: 1 present, 0 absent, 2 not searched yet
  std::map<std::pair<std::vector<int>, bool>, std::string> fragments;
};

EvaluationCache::EvaluationCache(const RDKit::ROMol& mol) : impl_(std::make_unique<Impl>(mol)) {}
EvaluationCache::~EvaluationCache() = default;

namespace {
using MatchCache = EvaluationCache::Impl;
}  // namespace

struct RuleSet::Vocabulary {
  std::map<std::string, CompiledType> types;
  // Skeleton and ring-core SMARTS numbered across the rule set: an evaluation caches its
  // searches by these numbers.
  std::map<std::string, std::size_t> skeleton_ids;
  std::map<std::string, std::size_t> core_ids;
};

class CompiledRule {
 public:
  struct SkeletonNeeds {
    MolProfile least;  // element counts, heavy atoms and cycle rank any match needs
  };
  RuleSpec spec;
  std::vector<SkeletonNeeds> needs;
  Date in_force{};
  std::optional<Date> repealed;
  std::vector<std::unique_ptr<RDKit::ROMol>> skeletons;
  std::vector<std::size_t> skeleton_ids;              // Vocabulary::skeleton_ids
  std::vector<std::unique_ptr<RDKit::ROMol>> frames;  // FrameOf(skeleton), or null
  std::vector<std::optional<RingCore>> cores;         // RingCoreOf(skeleton)
  std::vector<CompiledPart> parts;
  std::set<std::string> exclusion_skeletons;
  std::map<std::string, std::string> exclusion_names;  // skeleton -> name
  std::string reference_skeleton;
};

namespace {

// An atom kind a query atom certainly has: element and aromaticity, both known, or nothing.
struct Kind {
  int z = 0;          // 0 unknown
  int aromatic = -1;  // -1 unknown, 0 aliphatic, 1 aromatic
};

Kind QueryKind(const RDKit::QueryAtom::QUERYATOM_QUERY* q) {
  Kind k;
  if (!q || q->getNegation()) return k;
  const std::string& d = q->getDescription();
  const auto* eq = dynamic_cast<const Queries::EqualityQuery<int, const RDKit::Atom*, true>*>(q);
  if (d == "AtomType" && eq) {
    const int v = eq->getVal();
    k.z = v > 1000 ? v - 1000 : v;
    k.aromatic = v > 1000 ? 1 : 0;
  } else if (d == "AtomAtomicNum" && eq) {
    k.z = eq->getVal();
  } else if (d == "AtomIsAromatic") {
    k.aromatic = 1;
  } else if (d == "AtomIsAliphatic") {
    k.aromatic = 0;
  } else if (d == "AtomAnd") {
    for (auto it = q->beginChildren(); it != q->endChildren(); ++it) {
      const Kind c = QueryKind(it->get());
      if (c.z) k.z = c.z;
      if (c.aromatic >= 0) k.aromatic = c.aromatic;
    }
  } else if (d == "AtomOr") {
    bool first = true;
    for (auto it = q->beginChildren(); it != q->endChildren(); ++it) {
      const Kind c = QueryKind(it->get());
      if (first) {
        k = c;
        first = false;
        continue;
      }
      if (c.z != k.z) k.z = 0;
      if (c.aromatic != k.aromatic) k.aromatic = -1;
    }
  }
  return k;
}

// `skeleton` is the skeleton's frame when it has one: a core without recursive SMARTS is
// still implied by the skeleton, and RDKit's search does not evaluate recursion up front.
// Of the smallest rings, the one with fewest aromatic carbons is taken (a hetero or saturated
// ring is rarer than a benzene ring); a ring of aromatic carbons only is no core at all, since
// nearly every structure has one and the search would cost more than it saves.
std::optional<RingCore> RingCoreOf(const RDKit::ROMol& skeleton) {
  // Ring information is the pattern's own cache (RDKit keeps it mutable): finding it changes
  // nothing a match reads.
  RDKit::MolOps::fastFindRings(skeleton);
  const auto& rings = skeleton.getRingInfo()->atomRings();
  auto aromatic_carbons = [&](const std::vector<int>& ring) {
    return std::count_if(ring.begin(), ring.end(), [&](int a) {
      const auto* qa =
          dynamic_cast<const RDKit::QueryAtom*>(skeleton.getAtomWithIdx(static_cast<unsigned>(a)));
      const Kind k = qa ? QueryKind(qa->getQuery()) : Kind{};
      return k.z == 6 && k.aromatic == 1;
    });
  };
  const auto best = std::min_element(rings.begin(), rings.end(), [&](const auto& a, const auto& b) {
    return std::make_pair(a.size(), aromatic_carbons(a)) <
           std::make_pair(b.size(), aromatic_carbons(b));
  });
  if (best == rings.end() || aromatic_carbons(*best) == static_cast<long>(best->size())) {
    return std::nullopt;
  }
  RingCore core;
  core.size = best->size();
  core.smarts = RDKit::MolFragmentToSmarts(skeleton, *best);
  core.pattern.reset(RDKit::SmartsToMol(core.smarts));
  if (!core.pattern) return std::nullopt;
  return core;
}

std::size_t BondKindBit(int z1, bool a1, int z2, bool a2) {
  int x = z1 * 2 + (a1 ? 1 : 0), y = z2 * 2 + (a2 ? 1 : 0);
  if (x > y) std::swap(x, y);
  return static_cast<std::size_t>((x * 131 + y) % 1024);
}

int CycleRank(const RDKit::ROMol& mol) {
  std::vector<int> component;
  const unsigned parts = RDKit::MolOps::getMolFrags(mol, component);
  return static_cast<int>(mol.getNumBonds()) - static_cast<int>(mol.getNumAtoms()) +
         static_cast<int>(parts);
}

// Resolves "$option" against the rule's interpretation.
std::string Resolve(const std::string& value, const std::map<std::string, std::string>& chosen) {
  if (value.empty() || value[0] != '$') return value;
  auto it = chosen.find(value.substr(1));
  return it == chosen.end() ? value : it->second;
}

std::vector<std::string> ResolveList(const std::vector<std::string>& list, const RuleSpec& spec,
                                     const std::map<std::string, std::string>& chosen) {
  std::vector<std::string> out;
  for (const auto& item : list) {
    if (item.empty() || item[0] != '$') {
      out.push_back(item);
      continue;
    }
    const std::string name = item.substr(1);
    for (const auto& o : spec.options) {
      if (o.name != name) continue;
      auto value = chosen.find(name);
      auto types = o.types.find(value == chosen.end() ? o.default_value : value->second);
      if (types != o.types.end()) out.insert(out.end(), types->second.begin(), types->second.end());
    }
  }
  return out;
}

struct Piece {
  std::vector<int> atoms;  // sorted
  std::vector<int> attach_atoms;
  int attach_bonds = 0;
};

bool TypeAccepts(const CompiledType& type, const RDKit::ROMol& mol, const Piece& piece,
                 MatchCache& cache) {
  const auto& spec = type.spec;
  const int n = static_cast<int>(piece.atoms.size());
  if (n < spec.min_atoms || (spec.max_atoms > 0 && n > spec.max_atoms)) return false;
  if (piece.attach_bonds != spec.attachments) return false;
  for (int a : piece.attach_atoms) {
    if (type.attach && !cache.AtomMatches(*type.attach, a)) return false;
  }
  if (type.atoms) {
    for (int a : piece.atoms) {
      if (!cache.AtomMatches(*type.atoms, a)) return false;
    }
  }
  // Rings lying wholly inside the piece (a bivalent piece closing a ring with its part does
  // not count: that ring includes atoms of the part).
  bool has_ring = false;
  for (const auto& ring : mol.getRingInfo()->atomRings()) {
    if (std::all_of(ring.begin(), ring.end(), [&](int a) {
          return std::binary_search(piece.atoms.begin(), piece.atoms.end(), a);
        })) {
      has_ring = true;
      break;
    }
  }
  if (spec.rings == "forbidden" && has_ring) return false;
  if (spec.rings == "required" && !has_ring) return false;
  if (type.require) {
    bool found = false;
    for (const auto& match : cache.Matches(*type.require)) {
      if (std::all_of(match.begin(), match.end(), [&](const std::pair<int, int>& p) {
            return std::binary_search(piece.atoms.begin(), piece.atoms.end(), p.second);
          })) {
        found = true;
        break;
      }
    }
    if (!found) return false;
  }
  return true;
}

// The first allowed type that accepts the piece, or empty. "any" accepts everything.
std::string AcceptingType(const std::vector<std::string>& allowed,
                          const std::map<std::string, CompiledType>& types, const RDKit::ROMol& mol,
                          const Piece& piece, MatchCache& cache) {
  for (const auto& name : allowed) {
    if (name == "any") return "any";
    auto it = types.find(name);
    if (it != types.end() && TypeAccepts(it->second, mol, piece, cache)) return name;
  }
  return "";
}

std::string Join(const std::vector<std::string>& items, const char* sep) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : sep) + s;
  return out;
}

}  // namespace

RuleSet::RuleSet() : vocabulary_(std::make_unique<Vocabulary>()) {}
RuleSet::RuleSet(RuleSet&&) noexcept = default;
RuleSet& RuleSet::operator=(RuleSet&&) noexcept = default;
RuleSet::~RuleSet() = default;

Result<RuleSet> RuleSet::Compile(const std::vector<SubstituentTypeSpec>& vocabulary,
                                 const std::vector<RuleSpec>& rules) {
  RuleSet set;
  for (const auto& t : vocabulary) {
    const std::string where = "substituent type " + t.name;
    CompiledType c;
    c.spec = t;
    if (t.rings != "forbidden" && t.rings != "allowed" && t.rings != "required") {
      return Status::InvalidArgument(where + ": field rings: '" + t.rings +
                                     "' is not forbidden, allowed or required");
    }
    for (auto [text, slot] : {std::pair{&t.attach, &c.attach}, std::pair{&t.atoms, &c.atoms},
                              std::pair{&t.require, &c.require}}) {
      if (text->empty()) continue;
      auto q = CompileSmarts(*text, where);
      if (!q.ok()) return q.status();
      *slot = std::move(q).value();
    }
    if (!set.vocabulary_->types.emplace(t.name, std::move(c)).second) {
      return Status::InvalidArgument(where + ": defined twice");
    }
  }
  for (const auto& r : rules) {
    const std::string where = r.where + ": rule " + r.id;
    auto rule = std::make_unique<CompiledRule>();
    rule->spec = r;
    auto in_force = ParseDate(r.in_force);
    if (!in_force.ok()) {
      return Status::InvalidArgument(where + ": field in_force: " + in_force.status().message());
    }
    rule->in_force = *in_force;
    if (!r.repealed.empty()) {
      auto repealed = ParseDate(r.repealed);
      if (!repealed.ok()) {
        return Status::InvalidArgument(where + ": field repealed: " + repealed.status().message());
      }
      rule->repealed = *repealed;
    }
    if (r.status != "controlled" && r.status != "precursor") {
      return Status::InvalidArgument(where + ": field status: must be controlled or precursor");
    }
    if (r.skeletons.empty()) return Status::InvalidArgument(where + ": no skeleton");
    std::set<int> skeleton_maps;
    for (const auto& s : r.skeletons) {
      auto q = CompileSmarts(s, where + ": field skeletons");
      if (!q.ok()) return q.status();
      CompiledRule::SkeletonNeeds needs;
      for (const RDKit::Atom* a : (*q)->atoms()) {
        if (a->getAtomMapNum() > 0) skeleton_maps.insert(a->getAtomMapNum());
        const auto* qa = dynamic_cast<const RDKit::QueryAtom*>(a);
        const int z = qa ? QueryKind(qa->getQuery()).z : a->getAtomicNum();
        if (z > 1 && z < 64) ++needs.least.element_count[static_cast<std::size_t>(z)];
        if (z != 1) ++needs.least.heavy_atoms;
      }
      needs.least.cycle_rank = CycleRank(**q);
      for (const RDKit::Bond* b : (*q)->bonds()) {
        const auto* qa = dynamic_cast<const RDKit::QueryAtom*>(b->getBeginAtom());
        const auto* qb = dynamic_cast<const RDKit::QueryAtom*>(b->getEndAtom());
        if (!qa || !qb) continue;
        const Kind ka = QueryKind(qa->getQuery()), kb = QueryKind(qb->getQuery());
        if (ka.z > 1 && kb.z > 1 && ka.aromatic >= 0 && kb.aromatic >= 0) {
          needs.least.bond_kinds.set(BondKindBit(ka.z, ka.aromatic == 1, kb.z, kb.aromatic == 1));
        }
      }
      rule->needs.push_back(needs);
      rule->frames.push_back(FrameOf(**q));
      rule->cores.push_back(RingCoreOf(rule->frames.back() ? *rule->frames.back() : **q));
      auto& ids = *set.vocabulary_;
      rule->skeleton_ids.push_back(
          ids.skeleton_ids.emplace(s, ids.skeleton_ids.size()).first->second);
      if (auto& core = rule->cores.back()) {
        core->id = ids.core_ids.emplace(core->smarts, ids.core_ids.size()).first->second;
      }
      rule->skeletons.push_back(std::move(q).value());
    }
    std::set<std::string> option_names;
    for (const auto& o : r.options) {
      option_names.insert(o.name);
      if (!o.meanings.count(o.default_value)) {
        return Status::InvalidArgument(where + ": option " + o.name + ": default '" +
                                       o.default_value + "' is not one of its values");
      }
    }
    auto check_types = [&](const std::vector<std::string>& list,
                           const std::string& field) -> Status {
      for (const auto& name : list) {
        if (name == "any") continue;
        if (!name.empty() && name[0] == '$') {
          if (!option_names.count(name.substr(1))) {
            return Status::InvalidArgument(fmt::format("{}: {}: no option {}", where, field, name));
          }
          continue;
        }
        if (!set.vocabulary_->types.count(name)) {
          return Status::InvalidArgument(
              fmt::format("{}: {}: unknown substituent type '{}'", where, field, name));
        }
      }
      return Status::Ok();
    };
    for (const auto& o : r.options) {
      for (const auto& [value, types] : o.types) {
        if (Status s = check_types(types, "option " + o.name); !s.ok()) return s;
      }
    }
    for (const auto& p : r.parts) {
      const std::string pwhere = where + ": part " + p.label;
      CompiledPart part;
      part.spec = p;
      if (p.kind == "ring") {
        part.kind = PartKind::kRing;
      } else if (p.kind == "group") {
        part.kind = PartKind::kGroup;
      } else if (p.kind == "atoms") {
        part.kind = PartKind::kAtoms;
      } else {
        return Status::InvalidArgument(pwhere + ": field kind: '" + p.kind +
                                       "' is not ring, group or atoms");
      }
      if (p.maps.empty()) return Status::InvalidArgument(pwhere + ": field maps: empty");
      for (int m : p.maps) {
        if (!skeleton_maps.count(m) ||
            !std::all_of(rule->skeletons.begin(), rule->skeletons.end(), [m](const auto& q) {
              for (const RDKit::Atom* a : q->atoms()) {
                if (a->getAtomMapNum() == m) return true;
              }
              return false;
            })) {
          return Status::InvalidArgument(
              pwhere + ": field maps: some skeleton has no atom with map " + std::to_string(m));
        }
      }
      if (Status s = check_types(p.allowed, pwhere + ": field allowed"); !s.ok()) return s;
      if (Status s = check_types(p.substituents, pwhere + ": field substituents"); !s.ok()) {
        return s;
      }
      if (Status s = check_types(p.further_substituents, pwhere + ": field further_substituents");
          !s.ok()) {
        return s;
      }
      if (!p.reference.empty()) {
        auto key = ReferenceKey(p.reference, part.kind == PartKind::kRing, pwhere);
        if (!key.ok()) return key.status();
        part.reference_key = *key;
      }
      for (const auto& ring : p.allowed_rings) {
        auto key = ReferenceKey(ring, true, pwhere + ": field allowed_rings");
        if (!key.ok()) return key.status();
        part.allowed_ring_keys.insert(*key);
      }
      rule->parts.push_back(std::move(part));
    }
    for (const auto& e : r.exclusions) {
      auto mol = chem::ParseSmiles(e.smiles);
      if (!mol.ok()) {
        return Status::InvalidArgument(where + ": exclusion " + e.name +
                                       ": field smiles: " + mol.status().message());
      }
      const std::string skeleton = chem::CanonicalSmiles(**mol, false);
      rule->exclusion_skeletons.insert(skeleton);
      rule->exclusion_names[skeleton] = e.name;
    }
    if (!r.reference_smiles.empty()) {
      auto mol = chem::ParseSmiles(r.reference_smiles);
      if (!mol.ok()) {
        return Status::InvalidArgument(where +
                                       ": field reference_smiles: " + mol.status().message());
      }
      rule->reference_skeleton = chem::CanonicalSmiles(**mol, false);
    }
    set.rules_.push_back(std::move(rule));
  }
  return set;
}

MolProfile ProfileOf(const RDKit::ROMol& mol) {
  MolProfile p;
  for (const RDKit::Atom* a : mol.atoms()) {
    const int z = a->getAtomicNum();
    if (z <= 1) continue;
    ++p.heavy_atoms;
    if (z < 64) ++p.element_count[static_cast<std::size_t>(z)];
  }
  p.cycle_rank = CycleRank(mol);
  for (const RDKit::Bond* b : mol.bonds()) {
    const RDKit::Atom* a = b->getBeginAtom();
    const RDKit::Atom* c = b->getEndAtom();
    p.bond_kinds.set(
        BondKindBit(a->getAtomicNum(), a->getIsAromatic(), c->getAtomicNum(), c->getIsAromatic()));
  }
  return p;
}

namespace {
bool Covers(const MolProfile& have, const MolProfile& least) {
  if (have.heavy_atoms < least.heavy_atoms || have.cycle_rank < least.cycle_rank) return false;
  if ((least.bond_kinds & ~have.bond_kinds).any()) return false;
  for (std::size_t z = 0; z < least.element_count.size(); ++z) {
    if (have.element_count[z] < least.element_count[z]) return false;
  }
  return true;
}
}  // namespace

bool RuleSet::MayMatch(std::size_t i, const MolProfile& profile) const {
  for (const auto& needs : rules_[i]->needs) {
    if (Covers(profile, needs.least)) return true;
  }
  return false;
}

std::size_t RuleSet::size() const { return rules_.size(); }
const RuleSpec& RuleSet::spec(std::size_t i) const { return rules_[i]->spec; }
Date RuleSet::in_force(std::size_t i) const { return rules_[i]->in_force; }
std::optional<Date> RuleSet::repealed(std::size_t i) const { return rules_[i]->repealed; }

Status RuleSet::CheckOptions(const Options& options) const {
  for (const auto& [name, value] : options) {
    bool known = false, accepted = false;
    std::set<std::string> values;
    for (const auto& rule : rules_) {
      for (const auto& o : rule->spec.options) {
        if (o.name != name) continue;
        known = true;
        accepted |= o.meanings.count(value) > 0;
        for (const auto& [v, meaning] : o.meanings) values.insert(v);
      }
    }
    if (!known) return Status::InvalidArgument("no rule has an option named '" + name + "'");
    if (!accepted) {
      return Status::InvalidArgument(
          fmt::format("option {}: '{}' is not one of: {}", name, value,
                      Join(std::vector<std::string>(values.begin(), values.end()), ", ")));
    }
  }
  return Status::Ok();
}

RuleMatch RuleSet::Evaluate(std::size_t i, const RDKit::ROMol& mol,
                            const std::string& skeleton_smiles, const Options& overrides,
                            EvaluationCache* shared_cache, const MolProfile* profile) const {
  const CompiledRule& rule = *rules_[i];
  const RuleSpec& spec = rule.spec;
  const auto& types = vocabulary_->types;
  RuleMatch result;
  for (const auto& o : spec.options) {
    auto it = overrides.find(o.name);
    const bool valid = it != overrides.end() && o.meanings.count(it->second);
    result.interpretation[o.name] = valid ? it->second : o.default_value;
  }
  const auto& chosen = result.interpretation;
  const bool unlisted_allowed = Resolve("$unlisted_modifications", chosen) == "allowed";

  for (const auto& e : spec.exclusions) result.excluded.push_back(e.name);
  if (rule.exclusion_skeletons.count(skeleton_smiles)) {
    result.skeleton_matched = true;
    result.reason = "excluded by name: " + rule.exclusion_names.at(skeleton_smiles);
    return result;
  }

  std::optional<EvaluationCache> own_cache;
  if (!shared_cache) own_cache.emplace(mol);
  MatchCache& cache = (shared_cache ? *shared_cache : *own_cache).impl();
  std::string best_reason;
  for (std::size_t k = 0; k < rule.skeletons.size(); ++k) {
    if (profile && !Covers(*profile, rule.needs[k].least)) continue;
    const auto& skeleton = rule.skeletons[k];
    const auto& core = rule.cores[k];
    const auto& matches = cache.SkeletonMatches(rule.skeleton_ids[k], *skeleton,
                                                profile ? rule.frames[k].get() : nullptr,
                                                profile && core ? &*core : nullptr);
    for (const auto& match : matches) {
      result.skeleton_matched = true;
      std::map<int, int> atom_of_map;
      std::vector<int> owner(mol.getNumAtoms(), -1);  // -1 free, -2 core, k = part k
      for (const auto& [q, a] : match) {
        const int map = skeleton->getAtomWithIdx(static_cast<unsigned>(q))->getAtomMapNum();
        if (map > 0) atom_of_map[map] = a;
        owner[static_cast<std::size_t>(a)] = -2;
      }
      std::string failure;
      std::vector<Modification> mods;
      // Parts claim their atoms: the mapped ones first, then ring systems and groups grow.
      for (std::size_t p = 0; p < rule.parts.size(); ++p) {
        for (int m : rule.parts[p].spec.maps) owner[atom_of_map[m]] = static_cast<int>(p);
      }
      std::vector<std::vector<int>> part_atoms(rule.parts.size());
      // Ring systems are claimed before groups grow, so a group never swallows a ring part.
      std::vector<std::size_t> order;
      for (PartKind kind : {PartKind::kRing, PartKind::kAtoms, PartKind::kGroup}) {
        for (std::size_t p = 0; p < rule.parts.size(); ++p) {
          if (rule.parts[p].kind == kind) order.push_back(p);
        }
      }
      for (std::size_t p : order) {
        if (!failure.empty()) break;
        const CompiledPart& part = rule.parts[p];
        const int anchor = atom_of_map[part.spec.maps[0]];
        std::vector<int>& atoms = part_atoms[p];
        if (part.kind == PartKind::kAtoms) {
          for (int m : part.spec.maps) atoms.push_back(atom_of_map[m]);
        } else if (part.kind == PartKind::kRing) {
          const std::vector<int>* system = nullptr;
          for (const auto& s : cache.Systems()) {
            if (std::binary_search(s.begin(), s.end(), anchor)) system = &s;
          }
          if (!system) {
            failure = part.spec.label + ": anchor atom is not in a ring";
            break;
          }
          for (int a : *system) {
            const int o = owner[static_cast<std::size_t>(a)];
            if (o != -1 && o != static_cast<int>(p)) {
              failure = part.spec.label + ": its ring system is fused into the scaffold";
              break;
            }
            owner[static_cast<std::size_t>(a)] = static_cast<int>(p);
            atoms.push_back(a);
          }
          if (!failure.empty()) break;
          const std::string& key = cache.Fragment(atoms, /*bare=*/true);
          const bool aromatic_all = std::all_of(atoms.begin(), atoms.end(), [&](int a) {
            return mol.getAtomWithIdx(static_cast<unsigned>(a))->getIsAromatic();
          });
          const bool aromatic_any = std::any_of(atoms.begin(), atoms.end(), [&](int a) {
            return mol.getAtomWithIdx(static_cast<unsigned>(a))->getIsAromatic();
          });
          const std::string aromatic = Resolve(part.spec.aromatic, chosen);
          const bool monocycle = part.spec.monocycle;
          if (monocycle && RingCount(mol, atoms) != 1) {
            failure = part.spec.label + ": " + part.spec.description + " is replaced by " + key +
                      ", not a monocycle";
          } else if (aromatic == "required" && !aromatic_all) {
            failure = part.spec.label + ": " + key + " is not aromatic";
          } else if (aromatic == "forbidden" && aromatic_any) {
            failure = part.spec.label + ": " + key + " is aromatic";
          } else if (!part.allowed_ring_keys.empty() && !part.allowed_ring_keys.count(key)) {
            failure = part.spec.label + ": ring system " + key + " is not one the rule allows";
          } else if (part.spec.hetero_replacement && key != part.reference_key &&
                     std::all_of(atoms.begin(), atoms.end(), [&](int a) {
                       return mol.getAtomWithIdx(static_cast<unsigned>(a))->getAtomicNum() == 6;
                     })) {
            failure = part.spec.label + ": " + part.spec.description + " is replaced by " + key +
                      ", which holds no heteroatom";
          } else if (!part.reference_key.empty() && key != part.reference_key) {
            mods.push_back(
                {part.spec.label, part.spec.description + " " + part.spec.reference + " → " + key});
          }
        } else {  // group
          for (int m : part.spec.maps) atoms.push_back(atom_of_map[m]);
          std::vector<int> stack = atoms;
          std::set<int> seen(atoms.begin(), atoms.end());
          while (!stack.empty()) {
            const int a = stack.back();
            stack.pop_back();
            for (const RDKit::Atom* nb : mol.atomNeighbors(mol.getAtomWithIdx(a))) {
              const int b = static_cast<int>(nb->getIdx());
              if (owner[static_cast<std::size_t>(b)] != -1 || seen.count(b)) continue;
              seen.insert(b);
              owner[static_cast<std::size_t>(b)] = static_cast<int>(p);
              atoms.push_back(b);
              stack.push_back(b);
            }
          }
          std::sort(atoms.begin(), atoms.end());
          Piece piece{atoms, {anchor}, 0};
          for (int a : atoms) {
            for (const RDKit::Atom* nb : mol.atomNeighbors(mol.getAtomWithIdx(a))) {
              if (!std::binary_search(atoms.begin(), atoms.end(), static_cast<int>(nb->getIdx()))) {
                ++piece.attach_bonds;
              }
            }
          }
          const auto allowed = ResolveList(part.spec.allowed, spec, chosen);
          const std::string type = AcceptingType(allowed, types, mol, piece, cache);
          const std::string& found = cache.Fragment(atoms, false);
          if (type.empty()) {
            failure = part.spec.label + ": " + part.spec.description + " replaced by " + found +
                      ", which is not " + Join(allowed, ", ");
          } else if (!part.reference_key.empty() && found != part.reference_key) {
            mods.push_back({part.spec.label, fmt::format("{} {} → {} ({})", part.spec.description,
                                                         part.spec.reference, found, type)});
          }
        }
      }
      // Leftover atoms form substituents on exactly one part each.
      std::vector<char> has_primary(rule.parts.size(), 0);
      std::vector<std::string> further_used(rule.parts.size());
      if (failure.empty()) {
        std::vector<char> done(mol.getNumAtoms(), 0);
        for (const RDKit::Atom* start : mol.atoms()) {
          const int s = static_cast<int>(start->getIdx());
          if (owner[static_cast<std::size_t>(s)] != -1 || done[static_cast<std::size_t>(s)]) {
            continue;
          }
          Piece piece;
          std::set<int> hosts;
          std::vector<int> stack = {s};
          done[static_cast<std::size_t>(s)] = 1;
          std::set<int> attach;
          while (!stack.empty()) {
            const int a = stack.back();
            stack.pop_back();
            piece.atoms.push_back(a);
            for (const RDKit::Atom* nb : mol.atomNeighbors(mol.getAtomWithIdx(a))) {
              const int b = static_cast<int>(nb->getIdx());
              const int o = owner[static_cast<std::size_t>(b)];
              if (o == -1) {
                if (!done[static_cast<std::size_t>(b)]) {
                  done[static_cast<std::size_t>(b)] = 1;
                  stack.push_back(b);
                }
              } else {
                hosts.insert(o);
                attach.insert(a);
                ++piece.attach_bonds;
              }
            }
          }
          std::sort(piece.atoms.begin(), piece.atoms.end());
          piece.attach_atoms.assign(attach.begin(), attach.end());
          const std::string& text = cache.Fragment(piece.atoms, false);
          if (hosts.size() != 1 || *hosts.begin() < 0) {
            if (unlisted_allowed) {
              mods.push_back({"unlisted", text + " bridging parts of the scaffold"});
              continue;
            }
            failure = "unlisted modification: " + text +
                      (hosts.count(-2) ? " on the fixed core" : " joining two parts");
            break;
          }
          const auto host_index = static_cast<std::size_t>(*hosts.begin());
          const CompiledPart& host = rule.parts[host_index];
          const auto allowed = ResolveList(host.spec.substituents, spec, chosen);
          std::string type = AcceptingType(allowed, types, mol, piece, cache);
          if (!type.empty()) {
            has_primary[host_index] = 1;
          } else if (!host.spec.further_substituents.empty()) {
            type = AcceptingType(ResolveList(host.spec.further_substituents, spec, chosen), types,
                                 mol, piece, cache);
            if (!type.empty() && further_used[host_index].empty()) further_used[host_index] = text;
          }
          if (type.empty()) {
            if (unlisted_allowed) {
              mods.push_back({"unlisted", text + " on " + host.spec.description});
              continue;
            }
            failure = "unlisted modification: " + text + " on " + host.spec.description +
                      (allowed.empty() ? " (no substitution allowed there)"
                                       : " (allowed: " + Join(allowed, ", ") + ")");
            break;
          }
          mods.push_back({host.spec.label, host.spec.description + " substituted with " + text +
                                               (type == "any" ? "" : " (" + type + ")")});
        }
      }
      for (std::size_t p = 0; p < rule.parts.size() && failure.empty(); ++p) {
        if (!further_used[p].empty() && !has_primary[p]) {
          failure = "unlisted modification: " + further_used[p] + " on " +
                    rule.parts[p].spec.description + " is allowed only alongside " +
                    Join(ResolveList(rule.parts[p].spec.substituents, spec, chosen), ", ");
        }
      }
      if (failure.empty() && spec.requires_modification && mods.empty()) {
        failure = "is " + spec.reference_name + " itself, not a modification of it";
      }
      if (failure.empty()) {
        result.in_class = true;
        result.modifications = std::move(mods);
        result.matched_atoms.clear();
        for (const auto& [q, a] : match) result.matched_atoms.push_back(a);
        std::sort(result.matched_atoms.begin(), result.matched_atoms.end());
        result.reason.clear();
        return result;
      }
      if (best_reason.empty()) best_reason = failure;
    }
  }
  result.reason = result.skeleton_matched ? best_reason : "scaffold not present";
  return result;
}

}  // namespace sentinel::classify
