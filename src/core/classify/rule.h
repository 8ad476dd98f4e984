// Class-wide (generic) legal definitions as data: a scaffold with named, modifiable parts.
//
// A RuleSpec is what a rule file says (data/rules/*.json, read by the kb_files adapter); a
// CompiledRule is it compiled against the substituent vocabulary, with SMARTS parsed once.
//
// How a structure is judged against a rule:
//  1. Screen: element counts the skeleton needs (cheap) before any substructure search.
//  2. Match a skeleton SMARTS. Its atom map numbers name the atoms of each part; unmapped
//     matched atoms are the fixed core.
//  3. Grow each part: a `ring` part is the whole ring system of its anchor atom (which must
//     satisfy the part's ring constraints: monocycle, aromatic, an allowed ring system, a
//     heteroatom in a replacement); a
//     `group` part is everything reachable from its anchor without crossing the skeleton (which
//     must be one of the part's allowed substituent types); an `atoms` part is just its atoms.
//  4. Every atom left over belongs to a substituent (a connected piece) hanging on one part;
//     that part must allow the substituent's type. A piece on the core, on two parts, or of a
//     type the part does not allow is an unlisted modification: the structure is outside the
//     class (unless the rule's `unlisted_modifications` option says otherwise).
//  5. Exclusions (named compounds) are checked; a rule that `requires_modification` does not
//     take its own reference compound.
// The result names each modification against the reference compound, the matched atoms, the
// exclusions checked and the interpretation options used.
#pragma once

#include <array>
#include <bitset>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/classify/knowledge_base.h"
#include "core/common/status.h"

namespace RDKit {
class ROMol;
}

namespace sentinel::classify {

// ---- The substituent vocabulary ("alkyl", "halo", "acyl" ...), shared by all rules. ----
struct SubstituentTypeSpec {
  std::string name;
  std::string description;
  std::string attach;               // SMARTS (one atom) the attachment atom must match
  std::string atoms;                // SMARTS (one atom) every atom must match; empty = any
  std::string require;              // SMARTS that must match inside the piece; empty = none
  std::string rings = "forbidden";  // forbidden | allowed | required
  int min_atoms = 1;
  int max_atoms = 0;    // 0 = unbounded
  int attachments = 1;  // bonds to the part: 1 (univalent) or 2 (bivalent, e.g. alkylenedioxy)
};

struct OptionSpec {
  std::string name;
  std::string question;  // the ambiguity in the legal text this option answers
  std::string default_value;
  // value -> its meaning; and the substituent-type list each value stands for when a part's
  // allowed list says "$name".
  std::map<std::string, std::string> meanings;
  std::map<std::string, std::vector<std::string>> types;
};

struct PartSpec {
  std::string label;        // "A", "B" ... as the legal text letters them, or a short name
  std::string description;  // "the phenyl of the phenethyl group"
  std::string kind;         // ring | group | atoms
  std::vector<int> maps;    // skeleton atom map numbers; ring/group parts: the anchor first
  std::string reference;    // reference compound's part as SMILES ("c1ccccc1", "*C(=O)CC")
  // ring parts
  bool monocycle = false;
  std::string aromatic = "any";            // required | forbidden | any
  std::vector<std::string> allowed_rings;  // SMILES of allowed ring systems; empty = any
  // A ring system other than the reference's must hold a non-carbon atom (UK fentanyls: the
  // phenyl "replaced by any heteromonocycle").
  bool hetero_replacement = false;
  // group parts: allowed types; every part: allowed substituent types ("any" = anything;
  // "$option" = the types the option's value stands for)
  std::vector<std::string> allowed;
  std::vector<std::string> substituents;
  // Allowed only alongside at least one substituent of a `substituents` type ("... with alkyl
  // or halide substituents, whether or not further substituted by other univalent groups").
  std::vector<std::string> further_substituents;
};

struct ExclusionSpec {
  std::string name;
  std::string smiles;
};

struct RuleSpec {
  std::string where;  // file, for errors
  std::string id;
  std::string jurisdiction;
  std::string title;
  std::string instrument;
  std::string schedule;
  std::string status = "controlled";
  std::string in_force;
  std::string repealed;  // empty = still in force
  std::string citation;
  std::string reference_name;
  std::string reference_smiles;
  bool requires_modification = true;
  bool only_if_not_listed = true;
  std::vector<std::string> skeletons;
  std::vector<PartSpec> parts;
  std::vector<ExclusionSpec> exclusions;
  std::vector<OptionSpec> options;
};

// ---- Results ----
struct Modification {
  std::string part;         // label
  std::string description;  // "phenyl of the phenethyl group → thiophene"
};

struct RuleMatch {
  bool in_class = false;
  std::string reason;  // why not, when !in_class and the skeleton matched
  std::vector<Modification> modifications;
  std::vector<int> matched_atoms;                     // skeleton atoms (query atom indices)
  std::vector<std::string> excluded;                  // exclusions checked (names)
  std::map<std::string, std::string> interpretation;  // option -> value used
  bool skeleton_matched = false;
};

class CompiledRule;

// What the screens look at, computed once per structure: heavy-atom counts per element, heavy
// atoms, and the cycle rank (rings). A rule whose every skeleton needs more of something than
// the structure has cannot match, and is skipped without a substructure search.
struct MolProfile {
  std::array<std::uint16_t, 64> element_count{};
  int heavy_atoms = 0;
  int cycle_rank = 0;
  // Bonded pairs of atom kinds (element + aromatic or not), hashed into bits.
  std::bitset<1024> bond_kinds;
};
MolProfile ProfileOf(const RDKit::ROMol& mol);

// What rules compute about one structure and can share: substituent-pattern matches, ring
// systems and fragment SMILES. Make one per structure and pass it to every Evaluate on it.
class EvaluationCache {
 public:
  explicit EvaluationCache(const RDKit::ROMol& mol);
  ~EvaluationCache();
  EvaluationCache(const EvaluationCache&) = delete;
  EvaluationCache& operator=(const EvaluationCache&) = delete;
  struct Impl;
  Impl& impl() { return *impl_; }

 private:
  std::unique_ptr<Impl> impl_;
};

using Options = std::map<std::string, std::string>;  // option name -> value (overrides)

class RuleSet {
 public:
  static Result<RuleSet> Compile(const std::vector<SubstituentTypeSpec>& vocabulary,
                                 const std::vector<RuleSpec>& rules);
  RuleSet(RuleSet&&) noexcept;
  RuleSet& operator=(RuleSet&&) noexcept;
  ~RuleSet();

  std::size_t size() const;
  const RuleSpec& spec(std::size_t i) const;
  Date in_force(std::size_t i) const;
  std::optional<Date> repealed(std::size_t i) const;
  // Validates option overrides ("acyl=carboxylic"): each name must be an option of some rule and
  // the value one that rule knows. Rules whose option of that name lacks the value keep their
  // default (the result's interpretation says which value each rule used).
  Status CheckOptions(const Options& options) const;
  // False when rule i certainly cannot take the structure (see MolProfile).
  bool MayMatch(std::size_t i, const MolProfile& profile) const;
  // `skeleton` is the structure's canonical SMILES without stereo (for exclusions by name).
  RuleMatch Evaluate(std::size_t i, const RDKit::ROMol& mol, const std::string& skeleton,
                     const Options& options, EvaluationCache* cache = nullptr,
                     const MolProfile* profile = nullptr) const;

 private:
  RuleSet();
  std::vector<std::unique_ptr<CompiledRule>> rules_;
  struct Vocabulary;
  std::unique_ptr<Vocabulary> vocabulary_;
};

}  // namespace sentinel::classify
