#include "core/classify/knowledge_base.h"

#include <GraphMol/ROMol.h>

#include <algorithm>
#include <cstdio>

#include "core/chem/molecule.h"
#include "core/common/text.h"

namespace sentinel::classify {

Result<Date> ParseDate(std::string_view text) {
  int y = 0;
  unsigned m = 0, d = 0;
  char tail = 0;
  const std::string s(text);
  if (s.size() != 10 || std::sscanf(s.c_str(), "%4d-%2u-%2u%c", &y, &m, &d, &tail) != 3) {
    return Status::InvalidArgument("date '" + s + "' is not YYYY-MM-DD");
  }
  const Date date{std::chrono::year{y}, std::chrono::month{m}, std::chrono::day{d}};
  if (!date.ok()) return Status::InvalidArgument("date '" + s + "' does not exist");
  return date;
}

std::string FormatDate(const Date& date) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "%04d-%02u-%02u", static_cast<int>(date.year()),
                static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()));
  return buf;
}

std::string_view ToString(ControlStatus status) {
  return status == ControlStatus::kPrecursor ? "precursor" : "controlled";
}

Result<KnowledgeBase> KnowledgeBase::Build(const std::vector<ListRow>& rows,
                                           const std::vector<IsomerException>& exceptions) {
  KnowledgeBase kb;
  for (const ListRow& row : rows) {
    auto parsed = chem::ParseSmiles(row.smiles);
    if (!parsed.ok()) {
      return Status::InvalidArgument(row.where + ": " + row.name +
                                     ": field smiles: " + parsed.status().message());
    }
    auto standard = chem::Standardise(std::move(parsed).value());
    if (!standard.ok()) {
      return Status::InvalidArgument(row.where + ": " + row.name +
                                     ": field smiles: " + standard.status().message());
    }
    std::size_t index;
    auto it = kb.by_smiles_.find(standard->smiles);
    if (it == kb.by_smiles_.end()) {
      index = kb.substances_.size();
      Substance s;
      s.name = row.name;
      s.cas = row.cas;
      s.smiles = standard->smiles;
      s.skeleton = chem::CanonicalSmiles(*standard->mol, /*with_stereo=*/false);
      s.formula = row.formula;
      s.mono_mass = row.mono_mass;
      s.fingerprint = chem::MorganFingerprint(*standard->mol);
      s.mol = std::shared_ptr<const RDKit::ROMol>(std::move(standard->mol));
      kb.substances_.push_back(std::move(s));
      kb.by_smiles_.emplace(kb.substances_.back().smiles, index);
      kb.by_skeleton_.emplace(kb.substances_.back().skeleton, index);
    } else {
      index = it->second;
    }
    Substance& s = kb.substances_[index];
    auto add_name = [&](const std::string& n) {
      if (n.empty()) return;
      if (n != s.name && std::find(s.synonyms.begin(), s.synonyms.end(), n) == s.synonyms.end()) {
        s.synonyms.push_back(n);
      }
      kb.by_name_.emplace(AsciiLower(n), index);  // the first substance to claim a name keeps it
    };
    add_name(row.name);
    for (const auto& syn : row.synonyms) add_name(syn);
    if (!row.cas.empty()) {
      if (s.cas.empty()) s.cas = row.cas;
      kb.by_name_.emplace(row.cas, index);
    }
    Control c = row.control;
    c.listed_name = row.name;
    s.controls.push_back(std::move(c));
    s.rows.push_back(row.where);
  }
  for (const auto& e : exceptions) {
    auto parsed = chem::ParseSmiles(e.smiles);
    if (!parsed.ok()) {
      return Status::InvalidArgument("isomer exception " + e.name +
                                     ": field smiles: " + parsed.status().message());
    }
    IsomerException canonical = e;
    canonical.smiles = chem::CanonicalSmiles(**parsed);
    kb.exceptions_.push_back(std::move(canonical));
  }
  return kb;
}

const Substance* KnowledgeBase::FindByName(std::string_view name_or_cas) const {
  auto it = by_name_.find(AsciiLower(std::string(name_or_cas)));
  return it == by_name_.end() ? nullptr : &substances_[it->second];
}

const Substance* KnowledgeBase::FindExact(const std::string& smiles) const {
  auto it = by_smiles_.find(smiles);
  return it == by_smiles_.end() ? nullptr : &substances_[it->second];
}

std::vector<const Substance*> KnowledgeBase::FindStereoisomers(const std::string& skeleton,
                                                               const std::string& smiles) const {
  std::vector<const Substance*> out;
  auto [begin, end] = by_skeleton_.equal_range(skeleton);
  for (auto it = begin; it != end; ++it) {
    if (substances_[it->second].smiles != smiles) out.push_back(&substances_[it->second]);
  }
  std::sort(out.begin(), out.end(),
            [](const Substance* a, const Substance* b) { return a->name < b->name; });
  return out;
}

const IsomerException* KnowledgeBase::FindException(std::string_view jurisdiction,
                                                    const std::string& smiles) const {
  for (const auto& e : exceptions_) {
    if (e.jurisdiction == jurisdiction && e.smiles == smiles) return &e;
  }
  return nullptr;
}

std::vector<KnowledgeBase::Neighbour> KnowledgeBase::Similar(const chem::Fingerprint& fp,
                                                             double threshold,
                                                             std::size_t k) const {
  std::vector<Neighbour> out;
  for (const Substance& s : substances_) {
    // Tanimoto is at most the ratio of the two prints' bit counts: most substances are ruled
    // out by it without comparing a word.
    const auto [fewer, more] = std::minmax(fp.count, s.fingerprint.count);
    if (static_cast<double>(fewer) < threshold * static_cast<double>(more)) continue;
    const double t = chem::Tanimoto(fp, s.fingerprint);
    if (t >= threshold) out.push_back({&s, t});
  }
  std::sort(out.begin(), out.end(), [](const Neighbour& a, const Neighbour& b) {
    return a.similarity != b.similarity ? a.similarity > b.similarity
                                        : a.substance->name < b.substance->name;
  });
  if (out.size() > k) out.resize(k);
  return out;
}

}  // namespace sentinel::classify
