#include "app/substance_resolver.h"

#include <fmt/format.h>

#include <set>

#include "app/classify_command.h"
#include "core/chem/inchi.h"
#include "core/classify/resolve.h"
#include "core/common/text.h"

namespace sentinel::app {
namespace {

constexpr std::size_t kCacheLimit = 100'000;

// The class-rule titles a classification found the structure inside, e.g. "Fentanyl-related
// substances" — the legal families, beside the chemical family from the name rules.
void AddRuleClasses(const classify::Classification& c, std::set<std::string>* out) {
  for (const auto& [jurisdiction, finding] : c.jurisdictions) {
    if (finding.basis == "class" && !finding.rule.empty()) out->insert(finding.rule);
  }
}

}  // namespace

SubstanceResolver::SubstanceResolver(std::shared_ptr<const classify::Classifier> classifier,
                                     std::optional<spectra::CompoundClasses> classes)
    : classifier_(std::move(classifier)), classes_(std::move(classes)) {}

std::vector<std::string> SubstanceResolver::ClassesOf(const std::string& name,
                                                      const std::vector<std::string>& synonyms,
                                                      const classify::Classification& c) const {
  std::set<std::string> out;
  if (classes_) {
    if (auto cls = classes_->Classify(name, synonyms)) out.insert(*cls);
    // A new structure takes the chemical family of its nearest controlled analogue.
    if (out.empty() && !c.analogue_of.empty()) {
      const classify::Substance* near = c.analogue_of.front().substance;
      if (auto cls = classes_->Classify(near->name, near->synonyms)) out.insert(*cls);
    }
  }
  AddRuleClasses(c, &out);
  return {out.begin(), out.end()};
}

reports::SubstanceRecord SubstanceResolver::FromKnowledgeBase(const classify::Substance& s) const {
  reports::SubstanceRecord r;
  r.key = s.smiles;
  r.name = s.name;
  r.smiles = s.smiles;
  r.in_knowledge_base = true;
  if (auto key = chem::StdInchiKey(*s.mol); key.ok()) r.inchikey = *key;
  const classify::Classification c = classifier_->Classify(*s.mol, s.smiles, {});
  classify::ResolvedStructure structure{s.mol, s.smiles, {}, "name"};
  r.classification = nlohmann::json::parse(
      ClassificationJson(s.name, Result<classify::ResolvedStructure>(structure), &c), nullptr,
      false);
  r.classes = ClassesOf(s.name, s.synonyms, c);
  return r;
}

Result<reports::SubstanceRecord> SubstanceResolver::Lookup(const reports::SubstanceMention& m,
                                                           std::string* resolved_by) const {
  const classify::KnowledgeBase& kb = classifier_->kb();
  std::string structure_text;
  if (!m.smiles.empty()) {
    structure_text = m.smiles;
    *resolved_by = "SMILES";
  } else if (!m.inchi.empty()) {
    structure_text = m.inchi;
    *resolved_by = "InChI";
  }
  if (structure_text.empty()) {
    // By name, or by the compound name a spectrum reference carries ("SWGDRUG:Fentanyl").
    std::string name = m.name;
    *resolved_by = "name";
    if (name.empty()) {
      const auto colon = m.spectrum.find(':');
      name = Trim(colon == std::string::npos ? m.spectrum : m.spectrum.substr(colon + 1));
      *resolved_by = "spectrum";
    }
    if (const classify::Substance* s = kb.FindByName(name)) return FromKnowledgeBase(*s);
    reports::SubstanceRecord r;
    r.key = "name:" + AsciiLower(name);
    r.name = name;
    if (classes_) {
      if (auto cls = classes_->Classify(name, {})) r.classes.push_back(*cls);
    }
    return r;
  }
  auto structure = classify::ResolveStructure(structure_text, false, kb);
  if (!structure.ok()) {
    return Status::InvalidArgument(structure.status().message());
  }
  if (const classify::Substance* s = kb.FindExact(structure->smiles)) return FromKnowledgeBase(*s);
  const classify::Classification c = classifier_->Classify(*structure->mol, structure->smiles, {});
  reports::SubstanceRecord r;
  r.key = structure->smiles;
  r.smiles = structure->smiles;
  r.name = m.name.empty() ? structure->smiles : m.name;
  if (auto key = chem::StdInchiKey(*structure->mol); key.ok()) r.inchikey = *key;
  r.classification =
      nlohmann::json::parse(ClassificationJson(structure_text, structure, &c), nullptr, false);
  r.classes = ClassesOf(r.name, {}, c);
  return r;
}

Result<reports::ResolvedMention> SubstanceResolver::Resolve(
    const reports::SubstanceMention& m) const {
  const std::string cache_key =
      fmt::format("{}\x1f{}\x1f{}\x1f{}", m.name, m.smiles, m.inchi, m.spectrum);
  reports::ResolvedMention out;
  out.role = m.role.empty() ? "main" : m.role;
  out.purity_percent = m.purity_percent;
  {
    std::lock_guard lock(mu_);
    if (auto it = cache_.find(cache_key); it != cache_.end()) {
      out.substance = it->second.first;
      out.resolved_by = it->second.second;
      return out;
    }
  }
  auto record = Lookup(m, &out.resolved_by);
  if (!record.ok()) return record.status();
  out.substance = std::make_shared<const reports::SubstanceRecord>(std::move(record).value());
  std::lock_guard lock(mu_);
  if (cache_.size() >= kCacheLimit) cache_.clear();
  cache_.emplace(cache_key, std::make_pair(out.substance, out.resolved_by));
  return out;
}

}  // namespace sentinel::app
