// Honest identification accuracy on SWGDRUG, and the calibration of the verdict thresholds.
//
// Queries are spectra of compounds that SWGDRUG holds from two or more contributing
// laboratories (not isotope-labelled, not derivatised). Each query is searched against the
// library without its own spectrum ("present": the other laboratory's spectrum is the right
// answer) and against the library without any spectrum of its compound ("absent": every hit is
// wrong; this is the new-substance case). Prints top-1/top-5 per score, how often the two-stage
// top-10 equals an exhaustive re-scoring of the whole library, and the precision/recall of the
// verdict thresholds, from which the defaults in IdentifyOptions are chosen.
//
// Usage: accuracy_bench [--library FILE.msp] [--threads N]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "adapters/spectrum_formats/spectrum_formats.h"
#include "core/common/text.h"
#include "core/spectra/compound_class.h"
#include "core/spectra/identify.h"
#include "core/spectra/library.h"

using namespace sentinel;
using namespace sentinel::spectra;

namespace {

bool Derivatised(const LibraryEntry& e) {
  const std::string text = AsciiLower(e.name + " " + e.comment);
  for (const char* mark :
       {"derivative", " tms", "-tms", "tfa", "pfp", "hfb", "(tbdms)", "acetylated"}) {
    if (text.find(mark) != std::string::npos) return true;
  }
  return false;
}

// Electron ionisation cannot tell enantiomers apart, and SWGDRUG's contributors differ in
// whether they encode stereochemistry; so "the same compound" here means the same InChIKey
// skeleton (first block). Isotope-labelled standards share it too and are left out.
std::string Skeleton(const LibraryEntry& e) { return e.inchikey.substr(0, 14); }

struct Outcome {
  // present case, per score: rank (1-based) of the first hit of the right compound, 0 if absent
  std::map<RankScore, int> rank;
  std::map<RankScore, bool> top1_isomer;  // top hit has the query's formula (right or isomer)
  // default score, first hit right, by laboratory ridge (0: hits ordered by score alone)
  std::map<double, bool> top1_by_ridge;
  int unadjusted_rank = 0;  // default score, hits ordered by it alone
  bool unadjusted_isomer = false;
  double present_top_score = 0;
  bool present_top_correct = false;
  bool top10_equals_exhaustive = false;
  // default score: a wrong top hit contributed by the query's own laboratory
  bool wrong_from_own_laboratory = false;
  // default score, rank of the right compound when the library holds nothing from the query's
  // laboratory (a user's instrument is usually not among the library's contributors)
  int rank_other_laboratories = 0;
  // best default score of the right compound is below 500: its spectra disagree so much that
  // one of them is unlikely to be of the compound it names
  bool right_compound_disagrees = false;
  // absent case
  double absent_top_score = 0;
  double absent_best_hybrid = 0;
  std::string absent_top_analogue_class;
  std::optional<std::string> absent_voted_class;
  std::string truth_class;
  std::string name, absent_top_name;
  double present_margin = 0, absent_margin = 0;
};

// Laboratory ridges compared for the default score; 0 stands for no laboratory adjustment.
constexpr double kRidges[] = {0, 0.05, 0.1, 0.25, 0.5, 1, 2, 4};

}  // namespace

int main(int argc, char** argv) {
  std::string library_path = std::string(SENTINEL_DATA_DIR) + "/spectra/swgdrug-3.4.msp";
  unsigned threads = std::max(1u, std::thread::hardware_concurrency());
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--library") == 0)
      library_path = argv[++i];
    else if (std::strcmp(argv[i], "--threads") == 0)
      threads = static_cast<unsigned>(std::stoi(argv[++i]));
  }
  auto parsed = formats::ReadSpectrumFile(library_path);
  if (!parsed.ok()) {
    std::fprintf(stderr, "%s\n", parsed.status().ToString().c_str());
    return 2;
  }
  std::ifstream rules_in(std::string(SENTINEL_DATA_DIR) + "/spectra/compound_classes.tsv");
  std::stringstream rules_text;
  rules_text << rules_in.rdbuf();
  auto classes = CompoundClasses::Parse(rules_text.str(), "compound_classes.tsv");
  if (!classes.ok()) {
    std::fprintf(stderr, "%s\n", classes.status().ToString().c_str());
    return 2;
  }
  auto lib = Library::Build("swgdrug-3.4", std::move(parsed->spectra), &*classes);

  std::map<std::string, std::vector<std::uint32_t>> by_compound;
  for (std::uint32_t id = 0; id < lib->size(); ++id) {
    const LibraryEntry& e = lib->entry(id);
    if (e.isotope_labelled || Derivatised(e) || e.inchikey.empty()) continue;
    by_compound[Skeleton(e)].push_back(id);
  }
  std::vector<std::uint32_t> queries;
  std::size_t compounds = 0;
  for (const auto& [key, ids] : by_compound) {
    std::set<std::string> labs;
    for (auto id : ids) labs.insert(lib->entry(id).laboratory);
    if (labs.size() < 2) continue;
    ++compounds;
    for (auto id : ids) queries.push_back(id);
  }
  std::fprintf(stderr, "accuracy: %zu query spectra of %zu compounds held by >= 2 laboratories\n",
               queries.size(), compounds);

  const std::vector<RankScore> scores = {RankScore::kMatchFactor, RankScore::kReverseMatchFactor,
                                         RankScore::kEntropy, RankScore::kComposite};
  const Library* libs[] = {lib.get()};
  std::vector<Outcome> outcomes(queries.size());
  std::atomic<std::size_t> next{0}, done{0};
  const auto start = std::chrono::steady_clock::now();
  auto work = [&] {
    for (std::size_t i = next++; i < queries.size(); i = next++) {
      const std::uint32_t qid = queries[i];
      const LibraryEntry& qe = lib->entry(qid);
      Query q;
      q.spectrum = lib->store().Get(qid);
      q.nominal_mass = qe.nominal_mass;
      Outcome& o = outcomes[i];
      o.truth_class = qe.compound_class;
      IdentifyOptions options;
      options.top = 10;
      if (const char* a = std::getenv("BENCH_MZ_EXP"))
        options.match_factor.mz_exponent = std::atof(a);
      if (const char* b = std::getenv("BENCH_INT_EXP"))
        options.match_factor.intensity_exponent = std::atof(b);
      options.exclude_entry = [qid](const Library&, std::uint32_t id) { return id == qid; };
      for (double ridge : kRidges) {
        IdentifyOptions with_ridge = options;
        if (ridge == 0) {
          with_ridge.laboratory_window = 0;
        } else {
          with_ridge.laboratory_ridge = ridge;
        }
        const Identification r = Identify(libs, q, with_ridge);
        o.top1_by_ridge[ridge] =
            !r.hits.empty() && Skeleton(lib->entry(r.hits.front().entry)) == Skeleton(qe);
        if (ridge != 0) continue;
        o.unadjusted_isomer =
            !r.hits.empty() && lib->entry(r.hits.front().entry).formula == qe.formula;
        for (std::size_t k = 0; k < r.hits.size(); ++k) {
          if (Skeleton(lib->entry(r.hits[k].entry)) == Skeleton(qe)) {
            o.unadjusted_rank = static_cast<int>(k + 1);
            break;
          }
        }
      }
      for (RankScore s : scores) {
        options.rank_by = s;
        const Identification r = Identify(libs, q, options);
        o.rank[s] = 0;
        o.top1_isomer[s] =
            !r.hits.empty() && lib->entry(r.hits.front().entry).formula == qe.formula;
        for (std::size_t k = 0; k < r.hits.size(); ++k) {
          if (Skeleton(lib->entry(r.hits[k].entry)) == Skeleton(qe)) {
            o.rank[s] = static_cast<int>(k + 1);
            break;
          }
        }
        if (s == IdentifyOptions().rank_by && !r.hits.empty()) {
          o.present_top_score = r.hits.front().rank_score;
          o.present_margin = r.margin;
          o.present_top_correct = o.rank[s] == 1;
          o.wrong_from_own_laboratory =
              !o.present_top_correct &&
              lib->entry(r.hits.front().entry).laboratory == qe.laboratory;
          IdentifyOptions all = options;
          all.presearch_k = lib->size();
          const Identification full = Identify(libs, q, all);
          o.top10_equals_exhaustive = full.hits.size() == r.hits.size();
          for (std::size_t k = 0; o.top10_equals_exhaustive && k < r.hits.size(); ++k) {
            o.top10_equals_exhaustive = full.hits[k].entry == r.hits[k].entry;
          }
        }
      }
      {
        IdentifyOptions other_labs;
        other_labs.top = 10;
        other_labs.presearch_k = lib->size();
        const std::string& own = qe.laboratory;
        other_labs.exclude_entry = [&lib, &own](const Library&, std::uint32_t id) {
          return lib->entry(id).laboratory == own;
        };
        const Identification r = Identify(libs, q, other_labs);
        for (std::size_t k = 0; k < r.hits.size(); ++k) {
          if (Skeleton(lib->entry(r.hits[k].entry)) == Skeleton(qe)) {
            o.rank_other_laboratories = static_cast<int>(k + 1);
            break;
          }
        }
        IdentifyOptions right_only;
        right_only.top = 1;
        right_only.presearch_k = lib->size();
        right_only.exclude_entry = [&lib, &qe, qid](const Library&, std::uint32_t id) {
          return id == qid || Skeleton(lib->entry(id)) != Skeleton(qe);
        };
        const Identification best_right = Identify(libs, q, right_only);
        o.right_compound_disagrees =
            best_right.hits.empty() ||
            RankValue(best_right.hits.front(), IdentifyOptions().rank_by) < 500;
      }
      IdentifyOptions absent;
      absent.top = 10;
      absent.identified_threshold = 1000;  // force the analogue search to run
      absent.analogue_threshold = 0;
      absent.exclude_entry = [&lib, &qe](const Library&, std::uint32_t id) {
        return Skeleton(lib->entry(id)) == Skeleton(qe);
      };
      const Identification r = Identify(libs, q, absent);
      if (!r.hits.empty()) {
        o.absent_top_score = r.hits.front().rank_score;
        o.absent_margin = r.margin;
        o.absent_top_name = lib->entry(r.hits.front().entry).name;
      }
      o.name = qe.name;
      if (!r.analogues.empty()) {
        o.absent_best_hybrid = r.analogues.front().hybrid_match_factor;
        o.absent_top_analogue_class = lib->entry(r.analogues.front().entry).compound_class;
      }
      o.absent_voted_class = r.compound_class;
      const std::size_t d = ++done;
      if (d % 200 == 0) std::fprintf(stderr, "accuracy: %zu/%zu queries\n", d, queries.size());
    }
  };
  std::vector<std::thread> pool;
  for (unsigned t = 0; t < threads; ++t) pool.emplace_back(work);
  for (auto& t : pool) t.join();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  const double n = static_cast<double>(queries.size());
  std::printf("## Identification accuracy on SWGDRUG 3.4 (cross-laboratory pairs)\n\n");
  std::printf(
      "%zu query spectra of %zu compounds; each searched against the library without its "
      "own spectrum.\n\n",
      queries.size(), compounds);
  std::printf(
      "| ranking score | top-1 | top-5 | top-1 right or a positional isomer (same formula) "
      "|\n|---|---|---|---|\n");
  for (RankScore s : scores) {
    std::size_t top1 = 0, top5 = 0, isomer = 0;
    for (const Outcome& o : outcomes) {
      isomer += o.top1_isomer.at(s);
      top1 += o.rank.at(s) == 1;
      top5 += o.rank.at(s) >= 1 && o.rank.at(s) <= 5;
    }
    std::printf("| %s%s | %.1f%% | %.1f%% | %.1f%% |\n", std::string(RankScoreName(s)).c_str(),
                s == IdentifyOptions().rank_by ? " (default)" : "",
                100.0 * static_cast<double>(top1) / n, 100.0 * static_cast<double>(top5) / n,
                100.0 * static_cast<double>(isomer) / n);
  }
  {
    std::size_t top1 = 0, top5 = 0, isomer = 0;
    for (const Outcome& o : outcomes) {
      isomer += o.unadjusted_isomer;
      top1 += o.unadjusted_rank == 1;
      top5 += o.unadjusted_rank >= 1 && o.unadjusted_rank <= 5;
    }
    std::printf(
        "| %s, hits ordered by the score alone (as NIST's search orders them) | %.1f%% | "
        "%.1f%% | %.1f%% |\n",
        std::string(RankScoreName(IdentifyOptions().rank_by)).c_str(),
        100.0 * static_cast<double>(top1) / n, 100.0 * static_cast<double>(top5) / n,
        100.0 * static_cast<double>(isomer) / n);
  }
  std::printf(
      "\nThe default score's top-1 by laboratory ridge (the leading hits within %.0f of the "
      "best ordered with each laboratory's effect taken out; docs/identification.md):\n\n"
      "| laboratory ridge | top-1 |\n|---|---|\n",
      IdentifyOptions().laboratory_window);
  for (double ridge : kRidges) {
    std::size_t top1 = 0;
    for (const Outcome& o : outcomes) top1 += o.top1_by_ridge.at(ridge);
    std::printf("| %s%s | %.1f%% |\n",
                ridge == 0 ? "none (score alone, as NIST's search orders)"
                           : std::to_string(ridge).substr(0, 4).c_str(),
                ridge == IdentifyOptions().laboratory_ridge ? " (default)" : "",
                100.0 * static_cast<double>(top1) / n);
  }
  {
    std::size_t wrong = 0, own = 0, disagree = 0, top1 = 0, top5 = 0;
    for (const Outcome& o : outcomes) {
      wrong += !o.present_top_correct;
      own += o.wrong_from_own_laboratory;
      disagree += o.right_compound_disagrees;
      top1 += o.rank_other_laboratories == 1;
      top5 += o.rank_other_laboratories >= 1 && o.rank_other_laboratories <= 5;
    }
    std::printf(
        "\nWhere the default ranking errs (%zu queries): the wrong top hit comes from the query's "
        "own laboratory in %zu; for %zu queries the right compound's other spectra score below "
        "500 (a spectrum that is probably not of the compound it names).\n",
        wrong, own, disagree);
    std::printf(
        "Against the library without any spectrum from the query's laboratory (an instrument "
        "the library has never seen): top-1 %.1f%%, top-5 %.1f%%.\n",
        100.0 * static_cast<double>(top1) / n, 100.0 * static_cast<double>(top5) / n);
  }
  std::size_t same10 = 0;
  for (const Outcome& o : outcomes) same10 += o.top10_equals_exhaustive;
  std::printf("\nTwo-stage top-10 identical to re-scoring the whole library: %.1f%% of queries.\n",
              100.0 * static_cast<double>(same10) / n);

  // Verdict threshold: the same query, once with its compound present, once absent (every
  // hit then wrong), so precision assumes equal odds of a known and a new substance.
  std::printf("\n## Identification threshold (score: %s)\n\n",
              std::string(RankScoreName(IdentifyOptions().rank_by)).c_str());
  std::printf(
      "| threshold | margin | precision | recall (present) | false identifications (absent) "
      "|\n|---|---|---|---|---|\n");
  // The precision the verdict must reach, on a population where a known and a new substance
  // are equally likely and the library is dense with isomers (SWGDRUG is).
  constexpr double kTargetPrecision = 0.90;
  double chosen = -1, chosen_margin = -1, best_recall = -1;
  for (int margin : {0, 25, 50, 75, 100, 150}) {
    for (int t = 600; t <= 950; t += 25) {
      std::size_t tp = 0, fp = 0, fp_absent = 0;
      for (const Outcome& o : outcomes) {
        if (o.present_top_score >= t && o.present_margin >= margin)
          (o.present_top_correct ? tp : fp)++;
        if (o.absent_top_score >= t && o.absent_margin >= margin) ++fp_absent;
      }
      const double precision =
          tp + fp + fp_absent > 0
              ? static_cast<double>(tp) / static_cast<double>(tp + fp + fp_absent)
              : 1.0;
      const double recall = static_cast<double>(tp) / n;
      if (precision >= kTargetPrecision && recall > best_recall) {
        chosen = t;
        chosen_margin = margin;
        best_recall = recall;
      }
      if (t % 50 == 0 || margin == 0) {
        std::printf("| %d | %d | %.1f%% | %.1f%% | %.1f%% |\n", t, margin, 100 * precision,
                    100.0 * recall, 100.0 * static_cast<double>(fp_absent) / n);
      }
    }
  }
  std::printf(
      "\nHighest recall with precision >= 90%%: threshold %.0f, margin %.0f (recall %.1f%%)\n",
      chosen, chosen_margin, 100 * best_recall);
  {
    const IdentifyOptions d;
    std::size_t tp = 0, fp = 0, fp_absent = 0;
    for (const Outcome& o : outcomes) {
      if (o.present_top_score >= d.identified_threshold && o.present_margin >= d.identified_margin)
        (o.present_top_correct ? tp : fp)++;
      if (o.absent_top_score >= d.identified_threshold && o.absent_margin >= d.identified_margin)
        ++fp_absent;
    }
    std::printf(
        "At the defaults (threshold %.0f, margin %.0f): precision %.1f%%, recall %.1f%%, "
        "false identifications of absent compounds %.1f%%\n",
        d.identified_threshold, d.identified_margin,
        100.0 * static_cast<double>(tp) /
            static_cast<double>(std::max<std::size_t>(1, tp + fp + fp_absent)),
        100.0 * static_cast<double>(tp) / n, 100.0 * static_cast<double>(fp_absent) / n);
  }
  if (std::getenv("ACCURACY_VERBOSE") != nullptr) {
    for (const Outcome& o : outcomes) {
      std::fprintf(
          stderr, "absent %-40s top %.0f margin %.0f %s | present top %.0f margin %.0f %s\n",
          o.name.c_str(), o.absent_top_score, o.absent_margin, o.absent_top_name.c_str(),
          o.present_top_score, o.present_margin, o.present_top_correct ? "right" : "WRONG");
    }
  }

  std::printf(
      "\n## Analogue threshold (absent case: does the nearest analogue share the class?)\n\n");
  std::printf(
      "| threshold | analogue verdicts | nearest analogue in the right class | voted class right / "
      "stated |\n|---|---|---|---|\n");
  for (int t = 300; t <= 900; t += 50) {
    std::size_t verdicts = 0, right = 0, voted = 0, voted_right = 0;
    for (const Outcome& o : outcomes) {
      if (o.truth_class.empty() || o.absent_best_hybrid < t) continue;
      ++verdicts;
      right += o.absent_top_analogue_class == o.truth_class;
      if (o.absent_voted_class) {
        ++voted;
        voted_right += *o.absent_voted_class == o.truth_class;
      }
    }
    std::printf("| %d | %zu | %.1f%% | %zu / %zu |\n", t, verdicts,
                verdicts ? 100.0 * static_cast<double>(right) / static_cast<double>(verdicts) : 0.0,
                voted_right, voted);
  }
  std::fprintf(stderr, "accuracy: %.1f s, %.2f ms per query and score\n", seconds,
               1000.0 * seconds / n / static_cast<double>(scores.size() + 2));
  return 0;
}
