// Identification of one EI spectrum against one or more reference libraries.
//
// The search runs in two stages, as NIST's presearch does: stage 1 takes the top
// `presearch_k` spectra of each library by weighted cosine through the fragment index (exact:
// the same set an exhaustive scan gives); stage 2 re-scores those candidates with the identity
// match factor, the reverse match factor and the entropy similarity, collapses several spectra
// of one compound into one hit, keeps isotope-labelled internal standards out unless asked,
// and orders the leading hits with each contributing laboratory's effect taken out.
// When no hit reaches the identification threshold, a hybrid (fragment + neutral-loss) search
// looks for the nearest library compounds of a different mass: the new-analogue case.
//
// Identify() is a pure function of its inputs and is safe to call from many threads at once.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "core/spectra/library.h"
#include "core/spectra/scores.h"
#include "core/spectra/spectrum.h"

namespace sentinel::spectra {

enum class Verdict { kIdentified, kAnalogue, kUnknown };

// How many of the best hits the laboratory adjustment may reorder.
inline constexpr std::size_t kLeadingHits = 10;
std::string_view VerdictName(Verdict v);

// The score hits are ranked by and the identification threshold applies to.
enum class RankScore { kMatchFactor, kReverseMatchFactor, kEntropy, kComposite };
std::optional<RankScore> ParseRankScore(std::string_view name);
std::string_view RankScoreName(RankScore s);

struct IdentifyOptions {
  std::size_t top = 10;           // hits and analogues reported
  std::size_t presearch_k = 100;  // stage-1 candidates per library
  RankScore rank_by = RankScore::kMatchFactor;
  // Verdict thresholds on the 0..999 scale; defaults calibrated in bench/accuracy_bench
  // (docs/identification.md).
  double identified_threshold = 875;
  // ... and the best hit must lead the best hit of a different skeleton (InChIKey first
  // block) by this much: when an isomer or homologue scores as well, EI alone cannot tell
  // them apart and the verdict falls to the analogue search.
  double identified_margin = 75;
  double analogue_threshold = 500;
  // Analogue search: largest |query mass - library mass| considered, and how many of the best
  // analogue neighbours must agree on a class before it is reported.
  int max_mass_shift = 200;
  std::size_t class_vote_neighbours = 5;
  std::size_t class_vote_min_agree = 3;
  // Leading hits, those within laboratory_window of the best (at most kLeadingHits of them),
  // are ordered by their score with each contributing laboratory's effect taken out
  // (core/spectra/laboratory_effects.h; ridge: laboratory_ridge). 0 orders every hit by its
  // score alone. Defaults measured in bench/accuracy_bench (docs/identification.md).
  double laboratory_window = 100;
  double laboratory_ridge = 0.25;
  bool include_labelled = false;  // let deuterated standards appear as hits
  // Compound keys (LibraryEntry::compound_key) left out of the search, as if no library held
  // them: for leave-one-out validation and for asking "what would this look like if new?".
  // Stage 1 still draws presearch_k candidates, so excluded ones reduce what stage 2 sees.
  std::unordered_set<std::string> excluded_compounds;
  // Single spectra left out (e.g. the query's own entry in a leave-one-out benchmark).
  std::function<bool(const Library&, std::uint32_t)> exclude_entry;
  MatchFactorOptions match_factor;
};

struct Hit {
  const Library* library = nullptr;
  std::uint32_t entry = 0;
  double match_factor = 0;          // identity MF, 0..999
  double reverse_match_factor = 0;  // 0..999
  double entropy_similarity = 0;    // 0..1
  double presearch_cosine = 0;      // stage-1 score, 0..1
  double rank_score = 0;            // the score selected by rank_by, 0..999
  // The order of hits: rank_score with the contributing laboratories' effects taken out for
  // the leading hits, rank_score itself for the others.
  double adjusted_score = 0;
  std::size_t spectra_of_compound = 1;  // spectra of this compound among the candidates
};

struct AnalogueHit {
  const Library* library = nullptr;
  std::uint32_t entry = 0;
  int mass_difference = 0;         // query mass - library mass
  double hybrid_match_factor = 0;  // 0..999
};

struct Identification {
  Verdict verdict = Verdict::kUnknown;
  // Lead of the first hit's score over the best score of another skeleton's hit (999 when
  // there is none; negative when the laboratory adjustment put a lower score first).
  double margin = 0;
  std::vector<Hit> hits;
  std::vector<AnalogueHit> analogues;
  std::optional<std::string> compound_class;
  std::optional<int> query_mass;      // nominal mass used for the analogue search
  bool query_mass_estimated = false;  // true when estimated from the spectrum
};

struct Query {
  NominalSpectrum spectrum;
  std::optional<int> nominal_mass;  // from the input's MW, when it has one
};

Identification Identify(std::span<const Library* const> libraries, const Query& query,
                        const IdentifyOptions& options);

// The score of `hit` that options.rank_by selects, on the 0..999 scale.
double RankValue(const Hit& hit, RankScore score);

}  // namespace sentinel::spectra
