// Legal classification of one structure in each jurisdiction, with the explanation.
//
// Contract. For each jurisdiction (UN, US, CN, GB, or any other that the data names), on a given
// date: (1) a substance the knowledge base lists, exactly or as a stereoisomer not expressly
// excepted, is controlled (or a precursor) on that basis — "listed"; (2) otherwise the first
// class rule of that jurisdiction in force on the date that takes the structure decides —
// "class"; (3) otherwise it is not controlled there. Class rules that apply only to substances
// "not otherwise controlled" never take a listed substance, and the explanation says so. For a
// structure controlled nowhere, the most similar controlled substances above a threshold are
// reported as an analogue warning, which is not a legal finding.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/classify/knowledge_base.h"
#include "core/classify/rule.h"

namespace RDKit {
class ROMol;
}

namespace sentinel::classify {

struct Finding {
  std::string status = "not_controlled";  // controlled | precursor | not_controlled
  std::string schedule;
  std::string basis;  // listed | class | "" (not controlled)
  std::string rule;   // list entry ("Single Convention 1961: fentanyl") or rule id
  std::string instrument;
  std::string in_force;
  std::string citation;
  std::string explanation;
  std::vector<Modification> modifications;
  std::vector<int> matched_atoms;
  std::vector<std::string> exclusions_checked;
  std::map<std::string, std::string> interpretation;
  std::vector<std::string> notes;  // e.g. "also fits US-FRS but is listed on its own"
};

struct Classification {
  const Substance* substance = nullptr;  // the knowledge-base entry, when listed
  std::map<std::string, Finding> jurisdictions;
  std::vector<KnowledgeBase::Neighbour> analogue_of;  // only when controlled nowhere
};

struct ClassifyOptions {
  std::optional<Date> as_of;               // default: today
  std::vector<std::string> jurisdictions;  // empty = all known
  Options interpretation;                  // rule option overrides
  double analogue_threshold = 0.45;        // Tanimoto, Morgan radius 2
  std::size_t analogue_count = 5;
  bool screen_rules = true;  // false only to measure what the screens save
};

class Classifier {
 public:
  Classifier(std::shared_ptr<const KnowledgeBase> kb, std::shared_ptr<const RuleSet> rules);

  // Every jurisdiction that the lists or rules name, sorted.
  const std::vector<std::string>& jurisdictions() const { return jurisdictions_; }
  const KnowledgeBase& kb() const { return *kb_; }
  const RuleSet& rules() const { return *rules_; }

  // `mol` is the standardised parent; `smiles` its canonical isomeric SMILES.
  Classification Classify(const RDKit::ROMol& mol, const std::string& smiles,
                          const ClassifyOptions& options) const;

 private:
  std::shared_ptr<const KnowledgeBase> kb_;
  std::shared_ptr<const RuleSet> rules_;
  std::vector<std::string> jurisdictions_;
};

Date Today();

}  // namespace sentinel::classify
