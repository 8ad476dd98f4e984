// A searchable reference library: one source of spectra (e.g. SWGDRUG 3.4) with the metadata
// of each entry, its nominal spectra and the indexes the search needs.
//
// A Library is immutable once built and safe to search from many threads at once. Entries are
// numbered 0..size()-1 in the order of their source; the store, the fragment index and the
// neutral-loss index use the same numbering. The indexes point into the stores, so a Library
// is neither copyable nor movable; hold it by unique_ptr.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/spectra/compound_class.h"
#include "core/spectra/fragment_index.h"
#include "core/spectra/spectrum.h"
#include "core/spectra/spectrum_store.h"

namespace sentinel::spectra {

struct LibraryEntry {
  std::string name;
  std::vector<std::string> synonyms;
  std::string inchikey;
  std::string formula;
  std::optional<int> nominal_mass;  // from MW:, else from the formula's nominal mass
  std::string cas;
  std::string id;
  std::string comment;
  // The laboratory that measured the spectrum (LaboratoryOf): derived when the library is
  // built or loaded, not stored.
  std::string laboratory;
  std::string compound_class;     // empty when no class rule matched
  bool isotope_labelled = false;  // deuterated / 13C internal standards
  // Identity of the compound, for collapsing several spectra of one compound into one hit:
  // the full InChIKey when known (its second block tells labelled standards and
  // stereoisomers apart), else the case-folded name.
  std::string compound_key;
};

class Library {
 public:
  // Builds a library from parsed records. `label` names it in results (e.g. "swgdrug-3.4").
  // Records without peaks are skipped. `classes` may be null (no classes assigned).
  static std::unique_ptr<Library> Build(std::string label, std::vector<SpectrumRecord> records,
                                        const CompoundClasses* classes);

  // Assembles a library from deserialized parts (see adapters/index_file). The neutral-loss
  // index is rebuilt, as it costs little next to parsing.
  static std::unique_ptr<Library> Assemble(std::string label, std::vector<LibraryEntry> entries,
                                           std::unique_ptr<SpectrumStore> store,
                                           std::unique_ptr<FragmentIndex> fragments);

  Library(const Library&) = delete;
  Library& operator=(const Library&) = delete;

  const std::string& label() const { return label_; }
  std::size_t size() const { return entries_.size(); }
  const LibraryEntry& entry(std::uint32_t id) const { return entries_[id]; }
  const std::vector<LibraryEntry>& entries() const { return entries_; }
  const SpectrumStore& store() const { return *store_; }
  const FragmentIndex& fragments() const { return *fragments_; }
  // Index over neutral-loss spectra (nominal mass - m/z) of entries whose mass is known;
  // entries without a mass have an empty loss spectrum.
  const FragmentIndex& losses() const { return *losses_; }

 private:
  Library() = default;
  void BuildLossIndex();

  std::string label_;
  std::vector<LibraryEntry> entries_;
  std::unique_ptr<SpectrumStore> store_;
  std::unique_ptr<FragmentIndex> fragments_;
  std::unique_ptr<SpectrumStore> loss_store_;
  std::unique_ptr<FragmentIndex> losses_;
};

// The contributing laboratory of a library spectrum, as its comment names it first
// (SWGDRUG's "DEA SWL / SWGDRUG Monograph available" -> "dea swl"; Cayman Chemical's
// "Provided by www.caymanchem.com/..." -> "cayman"): the text before the first '/', ';' or '(',
// trimmed and case-folded. A spectrum whose comment names none counts as the library's own
// (`library_label`): a library file without such notes is taken as one laboratory's.
std::string LaboratoryOf(std::string_view comment, std::string_view library_label);

// Nominal (integer, most-abundant-isotope) mass of a formula such as "C22H28N2O" or
// "C22H23D5N2O"; nullopt for a formula it cannot read or an element it does not know.
std::optional<int> NominalMassOfFormula(std::string_view formula);

}  // namespace sentinel::spectra
