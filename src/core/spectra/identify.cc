#include "core/spectra/identify.h"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <unordered_map>

#include "core/spectra/hybrid.h"
#include "core/spectra/laboratory_effects.h"
#include "core/spectra/molecular_ion.h"

namespace sentinel::spectra {

std::string_view VerdictName(Verdict v) {
  switch (v) {
    case Verdict::kIdentified:
      return "identified";
    case Verdict::kAnalogue:
      return "analogue";
    case Verdict::kUnknown:
      return "unknown";
  }
  return "unknown";
}

std::optional<RankScore> ParseRankScore(std::string_view name) {
  if (name == "match_factor" || name == "mf") return RankScore::kMatchFactor;
  if (name == "reverse_match_factor" || name == "rmf") return RankScore::kReverseMatchFactor;
  if (name == "entropy_similarity" || name == "entropy") return RankScore::kEntropy;
  if (name == "composite") return RankScore::kComposite;
  return std::nullopt;
}

std::string_view RankScoreName(RankScore s) {
  switch (s) {
    case RankScore::kMatchFactor:
      return "match_factor";
    case RankScore::kReverseMatchFactor:
      return "reverse_match_factor";
    case RankScore::kEntropy:
      return "entropy_similarity";
    case RankScore::kComposite:
      return "composite";
  }
  return "composite";
}

double RankValue(const Hit& hit, RankScore score) {
  switch (score) {
    case RankScore::kMatchFactor:
      return hit.match_factor;
    case RankScore::kReverseMatchFactor:
      return hit.reverse_match_factor;
    case RankScore::kEntropy:
      return hit.entropy_similarity * 999.0;
    case RankScore::kComposite:
      // Mean of the identity match factor (weighs heavy ions) and the entropy similarity
      // (weighs low-abundance peaks); measured beside the others in docs/identification.md.
      return 0.5 * hit.match_factor + 0.5 * hit.entropy_similarity * 999.0;
  }
  return hit.match_factor;
}

namespace {

// Keeps the best-scoring item per compound. `better(a, b)` orders items best first.
template <typename Item, typename KeyOf, typename Better>
std::vector<Item> BestPerCompound(std::vector<Item> items, KeyOf key_of, Better better) {
  std::sort(items.begin(), items.end(), better);
  std::vector<Item> kept;
  std::unordered_map<std::string_view, std::size_t> seen;
  for (Item& item : items) {
    auto [it, inserted] = seen.emplace(key_of(item), kept.size());
    if (inserted) kept.push_back(std::move(item));
  }
  return kept;
}

// Connectivity of a compound: the InChIKey's first block, which stereoisomers share and which
// EI spectra cannot tell apart; the compound key when there is no InChIKey.
std::string_view Skeleton(const LibraryEntry& e) {
  if (e.inchikey.size() >= 14) return std::string_view(e.inchikey).substr(0, 14);
  return e.compound_key;
}

bool HitBetter(const Hit& a, const Hit& b) {
  if (a.rank_score != b.rank_score) return a.rank_score > b.rank_score;
  if (a.match_factor != b.match_factor) return a.match_factor > b.match_factor;
  if (a.library != b.library) return std::less<const Library*>()(a.library, b.library);
  return a.entry < b.entry;
}

bool AnalogueBetter(const AnalogueHit& a, const AnalogueHit& b) {
  if (a.hybrid_match_factor != b.hybrid_match_factor)
    return a.hybrid_match_factor > b.hybrid_match_factor;
  if (std::abs(a.mass_difference) != std::abs(b.mass_difference))
    return std::abs(a.mass_difference) < std::abs(b.mass_difference);
  if (a.library != b.library) return std::less<const Library*>()(a.library, b.library);
  return a.entry < b.entry;
}

// Stage 1: the top presearch_k spectra of each library by weighted cosine, computed once per
// query and shared by the identification and the analogue search.
using Presearch = std::vector<std::vector<ScoredCandidate>>;

Presearch RunPresearch(std::span<const Library* const> libraries, const Query& query,
                       const IdentifyOptions& options) {
  Presearch out;
  out.reserve(libraries.size());
  for (const Library* lib : libraries) {
    out.push_back(lib->fragments().TopK(query.spectrum, options.presearch_k));
  }
  return out;
}

// Orders the leading hits (one per compound, best first) by the effect of their skeleton:
// the score with each laboratory's effect taken out, fitted on every candidate spectrum of
// those skeletons (laboratory_effects.h). Skeletons, not compounds: EI cannot tell
// stereoisomers apart, and laboratories differ in whether they record stereochemistry, so
// one compound from two laboratories often carries two InChIKeys of one skeleton. The other
// hits keep their place and their score.
void OrderLeadingHits(const std::vector<Hit>& spectra, const IdentifyOptions& options,
                      std::vector<Hit>* hits) {
  for (Hit& h : *hits) h.adjusted_score = h.rank_score;
  if (hits->size() < 2 || options.laboratory_window <= 0) return;
  std::size_t leading = 1;
  while (leading < hits->size() && leading < kLeadingHits &&
         (*hits)[leading].rank_score >= hits->front().rank_score - options.laboratory_window) {
    ++leading;
  }
  if (leading < 2) return;
  auto entry_of = [](const Hit& h) -> const LibraryEntry& { return h.library->entry(h.entry); };
  std::unordered_map<std::string_view, std::size_t> skeleton_of, laboratory_of;
  std::vector<std::size_t> skeleton_of_hit(leading);
  for (std::size_t i = 0; i < leading; ++i) {
    skeleton_of_hit[i] =
        skeleton_of.emplace(Skeleton(entry_of((*hits)[i])), skeleton_of.size()).first->second;
  }
  // The best spectrum of each skeleton from each laboratory.
  std::map<std::pair<std::size_t, std::size_t>, double> best;
  for (const Hit& s : spectra) {
    const LibraryEntry& e = entry_of(s);
    const auto skeleton = skeleton_of.find(Skeleton(e));
    if (skeleton == skeleton_of.end()) continue;
    const std::size_t laboratory =
        laboratory_of.emplace(e.laboratory, laboratory_of.size()).first->second;
    auto [it, inserted] = best.emplace(std::make_pair(skeleton->second, laboratory), s.rank_score);
    if (!inserted) it->second = std::max(it->second, s.rank_score);
  }
  std::vector<LaboratoryObservation> observations;
  observations.reserve(best.size());
  for (const auto& [key, score] : best) observations.push_back({key.first, key.second, score});
  const std::vector<double> theta =
      FitLaboratoryEffects(observations, skeleton_of.size(), laboratory_of.size(),
                           options.laboratory_ridge)
          .compound;
  for (std::size_t i = 0; i < leading; ++i) (*hits)[i].adjusted_score = theta[skeleton_of_hit[i]];
  std::stable_sort(hits->begin(), hits->begin() + static_cast<std::ptrdiff_t>(leading),
                   [](const Hit& a, const Hit& b) { return a.adjusted_score > b.adjusted_score; });
}

std::vector<Hit> ScoreCandidates(std::span<const Library* const> libraries,
                                 const Presearch& presearch, const Query& query,
                                 const IdentifyOptions& options) {
  std::vector<Hit> hits;
  for (std::size_t l = 0; l < libraries.size(); ++l) {
    const Library* lib = libraries[l];
    for (const ScoredCandidate& c : presearch[l]) {
      const LibraryEntry& e = lib->entry(c.id);
      if (e.isotope_labelled && !options.include_labelled) continue;
      if (c.cosine <= 0 || options.excluded_compounds.contains(e.compound_key)) continue;
      if (options.exclude_entry && options.exclude_entry(*lib, c.id)) continue;
      const NominalSpectrum reference = lib->store().Get(c.id);
      Hit h;
      h.library = lib;
      h.entry = c.id;
      h.presearch_cosine = c.cosine;
      h.match_factor = IdentityMatchFactor(query.spectrum, reference, options.match_factor);
      h.reverse_match_factor = ReverseMatchFactor(query.spectrum, reference, options.match_factor);
      h.entropy_similarity = EntropySimilarity(query.spectrum, reference);
      h.rank_score = RankValue(h, options.rank_by);
      hits.push_back(h);
    }
  }
  std::unordered_map<std::string_view, std::size_t> spectra_per_compound;
  for (const Hit& h : hits) ++spectra_per_compound[h.library->entry(h.entry).compound_key];
  auto key_of = [](const Hit& h) -> std::string_view {
    return h.library->entry(h.entry).compound_key;
  };
  std::vector<Hit> spectra = hits;
  hits = BestPerCompound(std::move(hits), key_of, HitBetter);
  for (Hit& h : hits) h.spectra_of_compound = spectra_per_compound[key_of(h)];
  OrderLeadingHits(spectra, options, &hits);
  return hits;
}

std::vector<AnalogueHit> FindAnalogues(std::span<const Library* const> libraries,
                                       const Presearch& presearch, const Query& query,
                                       int query_mass, const IdentifyOptions& options) {
  const NominalSpectrum query_losses = NeutralLossSpectrum(query.spectrum, query_mass);
  std::vector<AnalogueHit> analogues;
  for (std::size_t l = 0; l < libraries.size(); ++l) {
    const Library* lib = libraries[l];
    // Candidates share fragments with the query (modification outside those fragments) or
    // neutral losses (modification inside them); the hybrid score then credits both.
    std::vector<std::uint32_t> ids;
    for (const auto& c : presearch[l]) ids.push_back(c.id);
    if (!query_losses.empty()) {
      for (const auto& c : lib->losses().TopK(query_losses, options.presearch_k))
        ids.push_back(c.id);
    }
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    for (std::uint32_t id : ids) {
      const LibraryEntry& e = lib->entry(id);
      if (!e.nominal_mass || e.isotope_labelled) continue;
      if (options.excluded_compounds.contains(e.compound_key)) continue;
      if (options.exclude_entry && options.exclude_entry(*lib, id)) continue;
      const int shift = query_mass - *e.nominal_mass;
      if (std::abs(shift) > options.max_mass_shift) continue;
      const NominalSpectrum reference = lib->store().Get(id);
      AnalogueHit a;
      a.library = lib;
      a.entry = id;
      a.mass_difference = shift;
      a.hybrid_match_factor =
          HybridMatchFactor(query.spectrum, query_mass, reference, *e.nominal_mass);
      analogues.push_back(a);
    }
  }
  auto key_of = [](const AnalogueHit& a) -> std::string_view {
    return a.library->entry(a.entry).compound_key;
  };
  return BestPerCompound(std::move(analogues), key_of, AnalogueBetter);
}

std::optional<std::string> SharedClass(const std::vector<AnalogueHit>& analogues,
                                       const IdentifyOptions& options) {
  std::map<std::string, std::size_t> votes;
  const std::size_t n = std::min(options.class_vote_neighbours, analogues.size());
  for (std::size_t i = 0; i < n; ++i) {
    const std::string& cls = analogues[i].library->entry(analogues[i].entry).compound_class;
    if (!cls.empty()) ++votes[cls];
  }
  for (const auto& [cls, count] : votes) {
    if (count >= options.class_vote_min_agree) return cls;
  }
  return std::nullopt;
}

}  // namespace

Identification Identify(std::span<const Library* const> libraries, const Query& query,
                        const IdentifyOptions& options) {
  Identification result;
  if (query.spectrum.empty()) return result;
  const Presearch presearch = RunPresearch(libraries, query, options);
  std::vector<Hit> hits = ScoreCandidates(libraries, presearch, query, options);

  if (!hits.empty()) {
    // Against the best-scoring hit of another skeleton, wherever the laboratory adjustment
    // placed it: the verdict reads the scores themselves.
    const std::string_view top = Skeleton(hits.front().library->entry(hits.front().entry));
    result.margin = 999;
    for (const Hit& h : hits) {
      if (Skeleton(h.library->entry(h.entry)) != top) {
        result.margin = std::min(result.margin, hits.front().rank_score - h.rank_score);
      }
    }
  }
  if (!hits.empty() && hits.front().rank_score >= options.identified_threshold &&
      result.margin >= options.identified_margin) {
    result.verdict = Verdict::kIdentified;
    const std::string& cls = hits.front().library->entry(hits.front().entry).compound_class;
    if (!cls.empty()) result.compound_class = cls;
  } else {
    result.query_mass = query.nominal_mass;
    if (!result.query_mass) {
      result.query_mass = EstimateNominalMass(query.spectrum);
      result.query_mass_estimated = result.query_mass.has_value();
    }
    if (result.query_mass) {
      std::vector<AnalogueHit> analogues =
          FindAnalogues(libraries, presearch, query, *result.query_mass, options);
      if (!analogues.empty() &&
          analogues.front().hybrid_match_factor >= options.analogue_threshold) {
        result.verdict = Verdict::kAnalogue;
        result.compound_class = SharedClass(analogues, options);
      }
      if (analogues.size() > options.top) analogues.resize(options.top);
      result.analogues = std::move(analogues);
    }
  }
  if (hits.size() > options.top) hits.resize(options.top);
  result.hits = std::move(hits);
  return result;
}

}  // namespace sentinel::spectra
