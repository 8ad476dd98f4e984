#include "core/spectra/library.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <string_view>
#include <utility>

#include "core/common/text.h"
#include "core/spectra/hybrid.h"

namespace sentinel::spectra {
namespace {

// Nominal masses of the most abundant isotope of the elements seized drugs, their
// precursors and derivatives contain (TMS/TFA derivatives bring Si and F).
std::optional<int> NominalMassOfElement(std::string_view symbol) {
  static constexpr std::pair<std::string_view, int> kMasses[] = {
      {"H", 1},   {"D", 2},   {"B", 11},   {"C", 12},   {"N", 14},   {"O", 16},
      {"F", 19},  {"Na", 23}, {"Mg", 24},  {"Al", 27},  {"Si", 28},  {"P", 31},
      {"S", 32},  {"Cl", 35}, {"K", 39},   {"Ca", 40},  {"Se", 80},  {"Br", 79},
      {"I", 127}, {"Li", 7},  {"Sn", 120}, {"Hg", 202}, {"Pt", 195}, {"As", 75}};
  for (const auto& [sym, mass] : kMasses) {
    if (sym == symbol) return mass;
  }
  return std::nullopt;
}

}  // namespace

std::optional<int> NominalMassOfFormula(std::string_view formula) {
  int total = 0;
  std::size_t i = 0;
  bool any = false;
  while (i < formula.size()) {
    const char c = formula[i];
    if (c == ' ') {
      ++i;
      continue;
    }
    if (!std::isupper(static_cast<unsigned char>(c))) return std::nullopt;
    std::size_t j = i + 1;
    while (j < formula.size() && std::islower(static_cast<unsigned char>(formula[j]))) ++j;
    const auto mass = NominalMassOfElement(formula.substr(i, j - i));
    if (!mass) return std::nullopt;
    long count = 0;
    std::size_t k = j;
    while (k < formula.size() && std::isdigit(static_cast<unsigned char>(formula[k])) &&
           count < 100000) {
      count = count * 10 + (formula[k] - '0');
      ++k;
    }
    if (k == j) count = 1;
    if (count >= 100000) return std::nullopt;
    total += *mass * static_cast<int>(count);
    any = true;
    i = k;
  }
  if (!any) return std::nullopt;
  return total;
}

std::string LaboratoryOf(std::string_view comment, std::string_view library_label) {
  std::string first(comment.substr(0, comment.find_first_of("/;(")));
  first = AsciiLower(first);
  if (first.find("caymanchem") != std::string::npos) return "cayman";
  const auto begin = first.find_first_not_of(" \t");
  if (begin == std::string::npos) return std::string(library_label);
  const auto end = first.find_last_not_of(" \t");
  return first.substr(begin, end - begin + 1);
}

std::unique_ptr<Library> Library::Build(std::string label, std::vector<SpectrumRecord> records,
                                        const CompoundClasses* classes) {
  std::unique_ptr<Library> lib(new Library());
  lib->label_ = std::move(label);
  lib->store_ = std::make_unique<SpectrumStore>();
  lib->entries_.reserve(records.size());
  for (SpectrumRecord& r : records) {
    NominalSpectrum nominal = ToNominal(r.peaks);
    if (nominal.empty()) continue;
    LibraryEntry e;
    if (r.molecular_weight && *r.molecular_weight > 0 && *r.molecular_weight < 100000) {
      e.nominal_mass = static_cast<int>(std::lround(*r.molecular_weight));
    } else {
      e.nominal_mass = NominalMassOfFormula(r.formula);
    }
    e.isotope_labelled = IsIsotopeLabelled(r);
    if (classes != nullptr) {
      if (auto cls = classes->Classify(r.name, r.synonyms)) e.compound_class = *cls;
    }
    e.compound_key = !r.inchikey.empty() ? r.inchikey : AsciiLower(r.name);
    e.name = std::move(r.name);
    e.synonyms = std::move(r.synonyms);
    e.inchikey = std::move(r.inchikey);
    e.formula = std::move(r.formula);
    e.cas = std::move(r.cas);
    e.id = std::move(r.id);
    e.comment = std::move(r.comment);
    e.laboratory = LaboratoryOf(e.comment, lib->label_);
    lib->store_->Add(nominal);
    lib->entries_.push_back(std::move(e));
  }
  lib->fragments_ = std::make_unique<FragmentIndex>(FragmentIndex::Build(*lib->store_));
  lib->BuildLossIndex();
  return lib;
}

std::unique_ptr<Library> Library::Assemble(std::string label, std::vector<LibraryEntry> entries,
                                           std::unique_ptr<SpectrumStore> store,
                                           std::unique_ptr<FragmentIndex> fragments) {
  std::unique_ptr<Library> lib(new Library());
  lib->label_ = std::move(label);
  lib->entries_ = std::move(entries);
  for (LibraryEntry& e : lib->entries_) e.laboratory = LaboratoryOf(e.comment, lib->label_);
  lib->store_ = std::move(store);
  lib->fragments_ = std::move(fragments);
  lib->BuildLossIndex();
  return lib;
}

void Library::BuildLossIndex() {
  loss_store_ = std::make_unique<SpectrumStore>();
  for (std::uint32_t id = 0; id < entries_.size(); ++id) {
    const auto& mass = entries_[id].nominal_mass;
    if (mass) {
      const NominalSpectrum spectrum = store_->Get(id);
      loss_store_->Add(NeutralLossSpectrum(spectrum, *mass));
    } else {
      loss_store_->Add({});
    }
  }
  losses_ = std::make_unique<FragmentIndex>(FragmentIndex::Build(*loss_store_));
}

}  // namespace sentinel::spectra
