// Substance resolution for reports: a mention (name, SMILES, InChI or spectrum reference)
// becomes a substance record — the knowledge base's entry when it has one, otherwise a new
// substance with its structure and classification (the case early warning exists for).
//
// Thread-safe. Results are cached by mention text: reports name the same few hundred
// substances over and over, and classification costs about a millisecond.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "core/classify/classifier.h"
#include "core/reports/report.h"
#include "core/reports/store.h"
#include "core/spectra/compound_class.h"

namespace sentinel::app {

class SubstanceResolver {
 public:
  SubstanceResolver(std::shared_ptr<const classify::Classifier> classifier,
                    std::optional<spectra::CompoundClasses> classes);

  // InvalidArgument (naming the mention's JSON path) when a structure does not parse.
  Result<reports::ResolvedMention> Resolve(const reports::SubstanceMention& mention) const;

  const classify::Classifier& classifier() const { return *classifier_; }

 private:
  Result<reports::SubstanceRecord> Lookup(const reports::SubstanceMention& mention,
                                          std::string* resolved_by) const;
  reports::SubstanceRecord FromKnowledgeBase(const classify::Substance& s) const;
  std::vector<std::string> ClassesOf(const std::string& name,
                                     const std::vector<std::string>& synonyms,
                                     const classify::Classification& c) const;

  std::shared_ptr<const classify::Classifier> classifier_;
  std::optional<spectra::CompoundClasses> classes_;
  mutable std::mutex mu_;
  mutable std::unordered_map<
      std::string, std::pair<std::shared_ptr<const reports::SubstanceRecord>, std::string>>
      cache_;
};

}  // namespace sentinel::app
