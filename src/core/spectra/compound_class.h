// Chemical classes of library compounds, assigned by name from a rule table, and detection of
// isotope-labelled internal standards.
//
// Contract:
//  - The rules are data (data/spectra/compound_classes.tsv); its header documents the format.
//    Each rule line is  class <TAB> match|exclude <TAB> ECMAScript regex [<TAB> note].
//    Patterns are matched case-insensitively (ASCII letters) anywhere in a text.
//  - A text (the name or one synonym) belongs to a class when it matches a "match" pattern of
//    the class and no "exclude" pattern of the class. Classes are tried in the order of their
//    first line; Classify returns the first class any text of the entry belongs to.
//  - Parse rejects malformed tables with InvalidArgument naming the source and line.
//  - A parsed CompoundClasses is immutable; Classify is const and safe to call from many
//    threads at once. Copying is allowed but not cheap (it copies compiled regexes).
//  - Cost: every pattern is split into its top-level alternatives, and each alternative is
//    tried only when a literal it cannot match without (found at parse time) occurs in the
//    text, so a library of thousands of entries classifies in milliseconds.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <regex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/common/status.h"
#include "core/spectra/spectrum.h"

namespace sentinel::spectra {

class CompoundClasses {
 public:
  // Parses a rule table. `source` names the table in error messages ("compound_classes.tsv").
  static Result<CompoundClasses> Parse(std::string_view tsv_text, std::string_view source);

  // The class of an entry with this name and these synonyms, or nullopt when no rule applies.
  std::optional<std::string> Classify(std::string_view name,
                                      std::span<const std::string> synonyms) const;

  // Class names in priority order (the order of their first rule line).
  std::vector<std::string> ClassNames() const;

  // Number of rule lines read (match and exclude).
  std::size_t rule_count() const { return rule_count_; }

 private:
  // One top-level alternative of a pattern, compiled on its own (case-folded, matched against
  // lower-cased text). It is tried on a text only when one of the literals found for it occurs
  // there, or when none was found.
  struct Branch {
    std::regex re;
    bool anchored = false;  // starts with '^'
    bool exclude = false;
    std::uint32_t cls = 0;  // index into classes_
  };
  struct Class {
    std::string name;
    std::size_t match_branches = 0;
    std::size_t exclude_branches = 0;
  };

  CompoundClasses() = default;

  // The branches (ids, sorted, unique) worth trying on the lower-cased text `lower`.
  void FindCandidates(std::string_view lower, std::vector<std::uint32_t>& ids) const;

  std::vector<Class> classes_;
  std::vector<Branch> branches_;
  // The prefilter: distinct lower-case literals, the branches needing each, and the literals
  // bucketed by their first two (two-byte literals) or three bytes (bucket_start_ holds the
  // offsets of each bucket in bucket_items_).
  std::vector<std::string> literals_;
  std::vector<std::vector<std::uint32_t>> literal_branches_;
  std::vector<std::uint32_t> unfiltered_branches_;
  std::vector<std::uint32_t> bucket_start_;
  std::vector<std::uint32_t> bucket_items_;
  std::size_t rule_count_ = 0;
};

// True for isotope-labelled internal standards: a formula containing deuterium (element D),
// or a name/synonym with a label suffix or prefix such as "-d3", "-D5", "-d11", "-13C6",
// "13C6-", "-15N2", "[13C]". A leading stereo descriptor ("d-Amphetamine") and names that
// merely contain a d ("Dimethyltryptamine") are not labels.
bool IsIsotopeLabelled(const SpectrumRecord& r);

}  // namespace sentinel::spectra
