#include "core/classify/classifier.h"

#include <GraphMol/ROMol.h>

#include <algorithm>
#include <set>

#include "core/chem/fingerprint.h"
#include "core/chem/molecule.h"

namespace sentinel::classify {
namespace {

// Among a substance's controls in one jurisdiction in force on the date, the strongest:
// a controlled entry outranks a precursor entry; ties go to the earliest in force.
const Control* BestControl(const Substance& s, const std::string& jurisdiction, const Date& date) {
  const Control* best = nullptr;
  for (const Control& c : s.controls) {
    if (c.jurisdiction != jurisdiction || !c.InForceOn(date)) continue;
    if (!best ||
        (best->status == ControlStatus::kPrecursor && c.status == ControlStatus::kControlled) ||
        (best->status == c.status && c.in_force < best->in_force)) {
      best = &c;
    }
  }
  return best;
}

std::string Schedules(const Substance& s, const std::string& jurisdiction, const Date& date,
                      const std::string& instrument) {
  std::string out;
  for (const Control& c : s.controls) {
    if (c.jurisdiction != jurisdiction || !c.InForceOn(date) || c.instrument != instrument) {
      continue;
    }
    if (out.find(c.schedule) == std::string::npos) out += (out.empty() ? "" : "|") + c.schedule;
  }
  return out;
}

Finding ListedFinding(const Substance& s, const Control& c, const std::string& jurisdiction,
                      const Date& date, const std::string& how) {
  Finding f;
  f.status = std::string(ToString(c.status));
  f.schedule = Schedules(s, jurisdiction, date, c.instrument);
  f.basis = "listed";
  f.rule = c.list + ": " + c.listed_name;
  f.instrument = c.instrument;
  f.in_force = FormatDate(c.in_force);
  f.citation = c.citation;
  f.explanation = how + " '" + c.listed_name + "' in the " + c.list + ", " +
                  (c.status == ControlStatus::kPrecursor ? "" : "schedule ") + f.schedule +
                  " (in force " + f.in_force + (c.citation.empty() ? "" : "; " + c.citation) + ")";
  return f;
}

}  // namespace

Date Today() {
  const auto now = std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now());
  return Date{now};
}

Classifier::Classifier(std::shared_ptr<const KnowledgeBase> kb,
                       std::shared_ptr<const RuleSet> rules)
    : kb_(std::move(kb)), rules_(std::move(rules)) {
  std::set<std::string> names;
  for (const Substance& s : kb_->substances()) {
    for (const Control& c : s.controls) names.insert(c.jurisdiction);
  }
  for (std::size_t i = 0; i < rules_->size(); ++i) names.insert(rules_->spec(i).jurisdiction);
  jurisdictions_.assign(names.begin(), names.end());
}

Classification Classifier::Classify(const RDKit::ROMol& mol, const std::string& smiles,
                                    const ClassifyOptions& options) const {
  Classification out;
  const Date date = options.as_of.value_or(Today());
  // Without stereo marks the structure is its own skeleton: skip a second canonicalisation.
  const bool has_stereo = smiles.find_first_of("@/\\") != std::string::npos;
  const std::string skeleton = has_stereo ? chem::CanonicalSmiles(mol, false) : smiles;
  const Substance* exact = kb_->FindExact(smiles);
  // Stereoisomers matter even when the structure itself is in the knowledge base: it may be
  // listed in one jurisdiction and only an isomer of a listed entry in another.
  const auto isomers = kb_->FindStereoisomers(skeleton, smiles);
  out.substance = exact;
  const MolProfile profile = ProfileOf(mol);
  EvaluationCache cache(mol);
  const auto& wanted = options.jurisdictions.empty() ? jurisdictions_ : options.jurisdictions;
  bool controlled_anywhere = false;
  for (const std::string& j : wanted) {
    Finding finding;
    bool listed = false;
    if (exact) {
      if (const Control* c = BestControl(*exact, j, date)) {
        finding = ListedFinding(*exact, *c, j, date, "listed as");
        listed = true;
      }
    }
    if (!listed) {
      const IsomerException* exception = kb_->FindException(j, smiles);
      for (const Substance* iso : isomers) {
        const Control* c = BestControl(*iso, j, date);
        if (!c) continue;
        if (exception) {
          finding.notes.push_back("a stereoisomer of listed " + iso->name +
                                  ", but expressly excepted: " + exception->citation);
          continue;
        }
        finding = ListedFinding(*iso, *c, j, date, "a stereoisomer of");
        listed = true;
        break;
      }
    }
    // Class rules: decide when nothing lists the substance; when something does, say which
    // rules it would otherwise fall under.
    for (std::size_t i = 0; i < rules_->size(); ++i) {
      const RuleSpec& spec = rules_->spec(i);
      if (spec.jurisdiction != j || rules_->in_force(i) > date) continue;
      if (auto repealed = rules_->repealed(i); repealed && *repealed <= date) continue;
      if (options.screen_rules && !rules_->MayMatch(i, profile)) continue;
      RuleMatch m = rules_->Evaluate(i, mol, skeleton, options.interpretation, &cache,
                                     options.screen_rules ? &profile : nullptr);
      if (listed) {
        if (m.in_class && spec.only_if_not_listed) {
          finding.notes.push_back("its structure fits " + spec.id + " (" + spec.title +
                                  "), but that class covers only substances not otherwise "
                                  "listed");
        }
        continue;
      }
      if (!m.in_class) {
        if (m.skeleton_matched) {
          finding.notes.push_back(spec.id + " (" + spec.title + ") does not apply: " + m.reason);
        }
        finding.exclusions_checked.insert(finding.exclusions_checked.end(), m.excluded.begin(),
                                          m.excluded.end());
        continue;
      }
      finding.status = spec.status;
      finding.schedule = spec.schedule;
      finding.basis = "class";
      finding.rule = spec.id;
      finding.instrument = spec.instrument;
      finding.in_force = spec.in_force;
      finding.citation = spec.citation;
      std::string mods;
      for (const auto& mod : m.modifications) {
        mods += (mods.empty() ? "" : "; ") + mod.part + ": " + mod.description;
      }
      finding.explanation = spec.title + " (" + spec.instrument + ", in force " + spec.in_force +
                            "): structurally related to " + spec.reference_name + " by " +
                            (mods.empty() ? "no listed modification" : mods);
      finding.modifications = std::move(m.modifications);
      finding.matched_atoms = std::move(m.matched_atoms);
      finding.exclusions_checked = std::move(m.excluded);
      finding.interpretation = std::move(m.interpretation);
      break;
    }
    if (finding.status == "not_controlled") {
      finding.explanation =
          "not listed, and no class definition in force on " + FormatDate(date) + " covers it";
    } else {
      controlled_anywhere = true;
    }
    out.jurisdictions[j] = std::move(finding);
  }
  if (!controlled_anywhere) {
    const chem::Fingerprint fp = chem::MorganFingerprint(mol);
    for (const auto& n : kb_->Similar(fp, options.analogue_threshold, options.analogue_count * 4)) {
      bool controlled = false;
      for (const Control& c : n.substance->controls) controlled |= c.InForceOn(date);
      if (controlled) out.analogue_of.push_back(n);
      if (out.analogue_of.size() == options.analogue_count) break;
    }
  }
  return out;
}

}  // namespace sentinel::classify
