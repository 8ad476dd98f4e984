#include "core/spectra/fragment_index.h"

#include <algorithm>
#include <atomic>
#include <bit>
#include <cassert>
#include <cfloat>
#include <cmath>
#include <cstring>
#include <limits>
#include <thread>
#include <utility>

#include "core/common/little_endian.h"

namespace sentinel::spectra {
namespace {

using little_endian::GetArray;
using little_endian::GetScalar;
using little_endian::PutArray;
using little_endian::PutScalar;

// Quantisation of unit-norm weights (each in (0, 1]) to uint16.
constexpr double kScale = 65535.0;
constexpr std::size_t kLists = kMaxNominalMz + 1;
constexpr char kMagic[8] = {'S', 'N', 'T', 'L', 'F', 'I', 'X', '1'};

// ---------------------------------------------------------------------------------------------
// Weights and the exact score.

// The quantised unit-norm weights of one stored spectrum, in peak order. Rounded up (and at
// least 1) so that weight / kScale >= the true unit-norm weight: every bound built from
// postings then overestimates, never underestimates.
void QuantisedWeights(const SpectrumStore& store, std::uint32_t id,
                      std::vector<std::uint16_t>* out) {
  const auto mz = store.mz(id);
  const auto in = store.intensity(id);
  out->resize(mz.size());
  double n2 = 0;
  for (std::size_t i = 0; i < mz.size(); ++i) n2 += static_cast<double>(mz[i]) * in[i];
  const double norm = std::sqrt(n2);
  for (std::size_t i = 0; i < mz.size(); ++i) {
    const double unit = std::sqrt(static_cast<double>(mz[i]) * in[i]) / norm;
    const double q = std::ceil(unit * kScale);
    (*out)[i] = static_cast<std::uint16_t>(std::clamp(q, 1.0, kScale));
  }
}

// The sketch of one stored spectrum (FragmentIndex::Sketch). Every byte is rounded up, so
// bounds built from it only overestimate; the factor 1 + 1e-12 covers the double rounding of
// the weights themselves.
void BuildSketch(const SpectrumStore& store, std::uint32_t id, FragmentIndex::Sketch* out,
                 std::vector<std::pair<double, std::uint16_t>>* tmp) {
  constexpr int kPeaks = FragmentIndex::Sketch::kPeaks;
  const auto mz = store.mz(id);
  const auto in = store.intensity(id);
  *out = FragmentIndex::Sketch{};
  double n2 = 0;
  for (std::size_t i = 0; i < mz.size(); ++i) n2 += static_cast<double>(mz[i]) * in[i];
  const double norm = std::sqrt(n2);
  tmp->clear();
  for (std::size_t i = 0; i < mz.size(); ++i) {
    tmp->emplace_back(std::sqrt(static_cast<double>(mz[i]) * in[i]) / norm, mz[i]);
  }
  const auto up = [](double x) {
    return static_cast<std::uint8_t>(std::clamp(std::ceil(x * 255.0 * (1.0 + 1e-12)), 0.0, 255.0));
  };
  const auto top = std::min<std::size_t>(kPeaks, tmp->size());
  // The largest weights (m/z breaks ties, so the set is well defined); their order is not used.
  std::nth_element(tmp->begin(), tmp->begin() + static_cast<std::ptrdiff_t>(top), tmp->end(),
                   [](const auto& a, const auto& b) {
                     return a.first > b.first || (a.first == b.first && a.second < b.second);
                   });
  for (std::size_t i = 0; i < top; ++i) {
    out->mz[i] = (*tmp)[i].second;
    out->weight[i] = std::max<std::uint8_t>(1, up((*tmp)[i].first));
  }
  double rest_max = 0;
  double rest_square[FragmentIndex::Sketch::kBands] = {};
  for (std::size_t i = top; i < tmp->size(); ++i) {
    rest_max = std::max(rest_max, (*tmp)[i].first);
    rest_square[FragmentIndex::BandOf((*tmp)[i].second)] += (*tmp)[i].first * (*tmp)[i].first;
  }
  out->rest_cap = up(rest_max);
  for (int b = 0; b < FragmentIndex::Sketch::kBands; ++b) out->rest_norm2[b] = up(rest_square[b]);
}

// The query as both the exact score and the index need it.
struct PreparedQuery {
  std::vector<double> weight;      // kLists entries: sqrt(mz * I), 0 where the query has none
  std::vector<std::uint16_t> mzs;  // m/z with weight > 0, ascending
  double norm = 0;                 // Euclidean norm of `weight`
};

PreparedQuery Prepare(std::span<const NominalPeak> query) {
  PreparedQuery pq;
  pq.weight.assign(kLists, 0.0);
  double base = 0;
  for (const NominalPeak& p : query) {
    if (p.mz < 1 || p.mz > kMaxNominalMz || !std::isfinite(p.intensity) || !(p.intensity > 0)) {
      continue;
    }
    pq.weight[p.mz] += p.intensity;
    base = std::max(base, pq.weight[p.mz]);
  }
  if (!(base > 0) || !std::isfinite(base)) return PreparedQuery{{}, {}, 0};
  // Cosine ignores the query's scale; dividing by the base peak keeps mz * I finite whatever
  // scale the caller used.
  double n2 = 0;
  for (std::size_t mz = 1; mz < kLists; ++mz) {
    if (pq.weight[mz] <= 0) continue;
    const double t = static_cast<double>(mz) * (pq.weight[mz] / base);
    n2 += t;
    pq.weight[mz] = std::sqrt(t);
    pq.mzs.push_back(static_cast<std::uint16_t>(mz));
  }
  pq.norm = std::sqrt(n2);
  return pq;
}

// The one exact score. TopK and TopKExhaustive both report its result, so their scores are
// bit-identical whatever the index did.
float ExactCosine(const PreparedQuery& pq, const SpectrumStore& store, std::uint32_t id) {
  const auto mz = store.mz(id);
  const auto in = store.intensity(id);
  const double* qw = pq.weight.data();
  double dot = 0;
  double n2 = 0;
  for (std::size_t i = 0; i < mz.size(); ++i) {
    const double t = static_cast<double>(mz[i]) * in[i];
    n2 += t;
    dot += qw[mz[i]] * std::sqrt(t);
  }
  if (!(dot > 0)) return 0;
  return static_cast<float>(std::min(1.0, dot / (pq.norm * std::sqrt(n2))));
}

// ---------------------------------------------------------------------------------------------
// Result collection.

bool Better(const ScoredCandidate& a, const ScoredCandidate& b) {
  return a.cosine > b.cosine || (a.cosine == b.cosine && a.id < b.id);
}

// The k best candidates offered so far. A heap ordered by Better keeps the worst on top.
class BestK {
 public:
  BestK(std::size_t k, std::size_t library_size) : k_(k) {
    heap_.reserve(std::min(k, library_size));
  }
  std::size_t k() const { return k_; }
  bool full() const { return heap_.size() >= k_; }
  // The k-th best score. REQUIRES: full().
  float threshold() const { return heap_.front().cosine; }
  void Offer(ScoredCandidate c) {
    if (!(c.cosine > 0)) return;
    if (!full()) {
      heap_.push_back(c);
      std::push_heap(heap_.begin(), heap_.end(), Better);
    } else if (Better(c, heap_.front())) {
      std::pop_heap(heap_.begin(), heap_.end(), Better);
      heap_.back() = c;
      std::push_heap(heap_.begin(), heap_.end(), Better);
    }
  }
  std::vector<ScoredCandidate> Sorted() && {
    std::sort(heap_.begin(), heap_.end(), Better);
    return std::move(heap_);
  }

 private:
  std::size_t k_;
  std::vector<ScoredCandidate> heap_;
};

// ---------------------------------------------------------------------------------------------
// The bound. For a query of unit weights q_j and caps f_j >= 0,
//   B(r) = max { sum_j q_j y_j : 0 <= y_j <= f_j, ||y|| <= r }
// bounds what a library spectrum can still add to its score from lists where every unread
// weight is <= f_j, given it has at most norm r left to spend (its vector has unit norm).
// The maximiser is y_j = min(f_j, lambda q_j) with lambda set by the norm, so B is a
// piecewise closed form over the items sorted by f_j / q_j. B is increasing in r.
class NormBound {
 public:
  // items: (q_j, f_j) with q_j > 0; items with f_j == 0 add nothing and may be included.
  void Reset(std::vector<std::pair<double, double>>* items) {
    auto& v = *items;
    v.erase(std::remove_if(v.begin(), v.end(), [](const auto& it) { return !(it.second > 0); }),
            v.end());
    std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) {
      return a.second * b.first < b.second * a.first;  // f/q ascending, without division
    });
    const std::size_t n = v.size();
    capped_f2_.assign(n + 1, 0.0);
    capped_qf_.assign(n + 1, 0.0);
    free_q2_.assign(n + 1, 0.0);
    knot_r2_.assign(n + 1, 0.0);
    for (std::size_t k = 0; k < n; ++k) {
      capped_f2_[k + 1] = capped_f2_[k] + v[k].second * v[k].second;
      capped_qf_[k + 1] = capped_qf_[k] + v[k].first * v[k].second;
    }
    for (std::size_t k = n; k-- > 0;) free_q2_[k] = free_q2_[k + 1] + v[k].first * v[k].first;
    for (std::size_t k = 1; k <= n; ++k) {
      const double t = v[k - 1].second / v[k - 1].first;  // lambda at which item k caps
      knot_r2_[k] = capped_f2_[k] + t * t * free_q2_[k];
    }
  }

  double At(double r) const {
    const double r2 = r * r;
    const std::size_t n = knot_r2_.size() - 1;
    // Segment k: items 1..k capped, the rest at lambda * q_j.
    std::size_t k = static_cast<std::size_t>(
        std::upper_bound(knot_r2_.begin() + 1, knot_r2_.end(), r2) - knot_r2_.begin() - 1);
    if (k >= n) return capped_qf_[n];
    const double lambda = std::sqrt(std::max(0.0, r2 - capped_f2_[k]) / free_q2_[k]);
    return capped_qf_[k] + lambda * free_q2_[k];
  }

  // The lambda of the maximiser at norm r; infinity when every cap binds.
  double Lambda(double r) const {
    const double r2 = r * r;
    const std::size_t n = knot_r2_.size() - 1;
    std::size_t k = static_cast<std::size_t>(
        std::upper_bound(knot_r2_.begin() + 1, knot_r2_.end(), r2) - knot_r2_.begin() - 1);
    if (k >= n) return std::numeric_limits<double>::infinity();
    return std::sqrt(std::max(0.0, r2 - capped_f2_[k]) / free_q2_[k]);
  }

 private:
  std::vector<double> capped_f2_, capped_qf_, free_q2_, knot_r2_;
};

// ---------------------------------------------------------------------------------------------
// Per-thread scratch, a sparse set: `slot_of` maps a spectrum id to its place in `candidates`,
// valid only when that place exists and holds the same id. Stale entries from earlier queries
// fail the check, so nothing is cleared between queries, and the candidates of one query sit
// together in memory for the passes over them.

struct Candidate {
  std::uint32_t id;
  std::uint32_t seen;  // bit i set: read in the list of query term i (terms 0..31)
  float partial;       // sum of q_j * posting weight / kScale: >= the true partial dot product
  float square;        // sum of ((posting weight - 1) / kScale)^2: <= the true partial norm^2
  float sketch_upper;  // bound from the spectrum's sketch, rounded up; kNoBound until computed
  bool open;           // false once scored exactly or excluded by a bound
};

constexpr float kNoBound = 4.0f;  // above any cosine bound

struct Scratch {
  std::vector<std::uint32_t> slot_of;
  std::vector<Candidate> candidates;
  std::vector<std::pair<double, std::uint32_t>> ranked;  // (upper bound, slot)
  std::vector<std::uint32_t> need_sketch;
  std::vector<double> unit;  // the query's unit weights by m/z

  void Begin(std::size_t n) {
    if (slot_of.size() < n) slot_of.resize(n, 0);
    candidates.clear();
    ranked.clear();
    unit.assign(kLists, 0.0);
  }
};

thread_local Scratch tls_scratch;

// Grid of the global bound B(r): entry i is B(i / kGrid); looking up ceil(r * kGrid) can only
// overestimate because B is increasing.
constexpr std::size_t kGrid = 256;
// Query terms 0..kMaskedTerms-1 (largest weights first) have a bit in Candidate::seen.
constexpr std::size_t kMaskedTerms = 32;
// The first target score; each later one halves the distance to 1 (docs/search.md).
constexpr double kFirstTarget = 0.99;
constexpr std::uint32_t kMaxGenerations = 64;
constexpr std::uint64_t kPrefetchAhead = 64;
constexpr std::size_t kScanWhenKTimes = 300;

float RoundUp(double x) {
  float f = static_cast<float>(x);
  if (static_cast<double>(f) < x) f = std::nextafter(f, kNoBound);
  return f;
}

// One exact top-k search (docs/search.md). Not thread-safe; one per TopK call.
class Searcher {
 public:
  Searcher(const SpectrumStore& store, std::span<const std::uint64_t> list_begin,
           std::span<const std::uint32_t> ids, std::span<const std::uint16_t> weights,
           std::span<const FragmentIndex::Sketch> sketches, const PreparedQuery& pq, std::size_t k,
           SearchPath path, TopKStats* stats)
      : path_(path),
        store_(store),
        ids_(ids),
        weights_(weights),
        sketches_(sketches),
        pq_(pq),
        best_(k, store.size()),
        st_(*stats) {
    for (std::uint16_t mz : pq.mzs) {
      const double q = pq.weight[mz] / pq.norm;
      if (list_begin[mz] == list_begin[mz + 1] || !(q > 0)) continue;
      terms_.push_back({q, static_cast<float>(q / kScale), list_begin[mz], list_begin[mz + 1], 0});
      band_sum_[FragmentIndex::BandOf(mz)] += q;
      band_square_[FragmentIndex::BandOf(mz)] += q * q;
    }
    // Largest query weights first; m/z order breaks ties, so the search is deterministic.
    std::stable_sort(terms_.begin(), terms_.end(),
                     [](const Term& a, const Term& b) { return a.q > b.q; });
    for (std::size_t i = 0; i < terms_.size() && i < kMaskedTerms; ++i) terms_[i].bit = 1u << i;
    // Rounding allowance for every pruning comparison (docs/search.md, "Rounding"): float
    // accumulation over at most terms_.size() postings per candidate, the float products and
    // the float rounding of the exact score, doubled, plus a floor for the double arithmetic.
    const double m = static_cast<double>(terms_.size());
    slack_ = 1e-6 + 2.0 * (m + 8.0) * FLT_EPSILON;
    square_slack_ = 2.0 * (m + 8.0) * FLT_EPSILON;
  }

  std::vector<ScoredCandidate> Run();

 private:
  struct Term {
    double q;           // unit-norm query weight
    float q_scaled;     // q / kScale: multiplies a quantised posting weight
    std::uint64_t pos;  // postings before pos have been read
    std::uint64_t end;
    std::uint32_t bit;          // in Candidate::seen; 0 for terms past kMaskedTerms
    std::uint64_t next_to = 0;  // cached end of the next rung (NextMove)
    double next_lambda = 0;     // the lambda it was computed for
    double score = -1;          // of that move: estimated drop of B(1) per posting
  };

  // Upper bound on the unit-norm weight of any posting of `t` at or after `at`.
  double Cap(const Term& t, std::uint64_t at) const {
    return at < t.end ? weights_[at] / kScale : 0.0;
  }

  void Read(Term& t, std::uint64_t to);
  double UnseenBound();
  bool NextMoves();
  double SketchBound(std::uint32_t id) const;
  std::size_t Evaluate(double target);
  void VerifyDown(double target);

  const SearchPath path_;
  const SpectrumStore& store_;
  std::span<const std::uint32_t> ids_;
  std::span<const std::uint16_t> weights_;
  std::span<const FragmentIndex::Sketch> sketches_;
  const PreparedQuery& pq_;
  BestK best_;
  TopKStats& st_;
  std::vector<Term> terms_;
  double band_sum_[FragmentIndex::Sketch::kBands] = {};     // unit query weights per band
  double band_square_[FragmentIndex::Sketch::kBands] = {};  // and their squares
  double slack_ = 0;
  double square_slack_ = 0;

  Scratch* scratch_ = nullptr;
  NormBound bound_;
  std::vector<std::pair<double, double>> items_;
  std::vector<double> grid_;
  std::vector<std::size_t> moves_;  // terms to read to their next rung (NextMoves)
  // Work done, in units of one peak of an exact scan; past work_budget_ the search falls back
  // to scanning (docs/search.md, "Small libraries").
  std::uint64_t work_ = 0;
  std::uint64_t work_budget_ = 0;
  bool OverBudget() const { return path_ == SearchPath::kAuto && work_ > work_budget_; }
};

void Searcher::Read(Term& t, std::uint64_t to) {
  std::uint32_t* slot_of = scratch_->slot_of.data();
  std::vector<Candidate>& cands = scratch_->candidates;
  const std::uint32_t* ids = ids_.data();
  const std::uint16_t* weights = weights_.data();
  const float qs = t.q_scaled;
  const std::uint32_t bit = t.bit;
  for (std::uint64_t p = t.pos; p < to; ++p) {
    if (p + kPrefetchAhead < to) __builtin_prefetch(&slot_of[ids[p + kPrefetchAhead]]);
    const std::uint32_t id = ids[p];
    const std::uint16_t w = weights[p];
    const float low = static_cast<float>(w - 1) * static_cast<float>(1.0 / kScale);
    const std::uint32_t slot = slot_of[id];
    if (slot < cands.size() && cands[slot].id == id) {
      Candidate& c = cands[slot];
      c.partial += qs * w;
      c.square += low * low;
      c.seen |= bit;
    } else {
      slot_of[id] = static_cast<std::uint32_t>(cands.size());
      cands.push_back({id, bit, qs * w, low * low, kNoBound, true});
      ++st_.candidates_seen;
    }
  }
  st_.postings_visited += to - t.pos;
  work_ += 8 * (to - t.pos);
  t.pos = to;
}

// B(1) over the current caps: no spectrum not yet a candidate can score above it.
double Searcher::UnseenBound() {
  items_.clear();
  for (const Term& t : terms_) items_.emplace_back(t.q, Cap(t, t.pos));
  bound_.Reset(&items_);
  return bound_.At(1.0);
}

// Picks the cheapest way to lower B(1) (docs/search.md, "Which postings to read"): for each
// list, the next rung of a ladder of cut-offs below lambda * q_j, scored by the first-order drop
// of B(1) per posting read. REQUIRES: bound_ fresh from UnseenBound(). False when every list is
// exhausted.
bool Searcher::NextMoves() {
  static constexpr double kLadder[] = {0.7, 0.4, 0.1, 0.0};
  const double lambda = bound_.Lambda(1.0);
  work_ += 8 * terms_.size();  // this and the UnseenBound before it
  double best_score = -1;
  for (std::size_t i = 0; i < terms_.size(); ++i) {
    Term& t = terms_[i];
    t.score = -1;
    if (t.pos >= t.end) continue;
    const double f = Cap(t, t.pos);
    // The rung's position needs a binary search; keep it while the list has not moved and
    // lambda has not changed much (which rung is taken only affects speed).
    const bool stale = t.next_to <= t.pos ||
                       std::isfinite(lambda) != std::isfinite(t.next_lambda) ||
                       (std::isfinite(lambda) && std::abs(lambda - t.next_lambda) > 0.1 * lambda);
    if (stale) {
      double cut = 0;
      if (std::isfinite(lambda)) {
        for (double rung : kLadder) {
          cut = rung * lambda * t.q;
          if (cut < f) break;
        }
      } else {
        cut = f > 1e-3 ? 0.6 * f : 0.0;
      }
      const double threshold = cut * kScale;
      const auto first = weights_.begin() + static_cast<std::ptrdiff_t>(t.pos);
      const auto last = weights_.begin() + static_cast<std::ptrdiff_t>(t.end);
      const auto stop =
          std::partition_point(first, last, [threshold](std::uint16_t w) { return w > threshold; });
      t.next_to = static_cast<std::uint64_t>(stop - weights_.begin());
      t.next_lambda = lambda;
    }
    const double f_new = Cap(t, t.next_to);
    double gain;
    if (std::isfinite(lambda)) {
      const double before = std::max(0.0, lambda * t.q - f);
      const double after = std::max(0.0, lambda * t.q - f_new);
      gain = after * after - before * before;
    } else {
      gain = t.q * (f - f_new);
    }
    t.score = gain / static_cast<double>(t.next_to - t.pos + 16);
    best_score = std::max(best_score, t.score);
  }
  if (best_score < 0) return false;
  // The best move, and any tied with it.
  moves_.clear();
  for (std::size_t i = 0; i < terms_.size(); ++i) {
    if (terms_[i].pos < terms_[i].end && terms_[i].score >= best_score) moves_.push_back(i);
  }
  return true;
}

// Upper bound on the cosine of spectrum `id` from its sketch (docs/search.md, "Sketches"):
// the sketched peaks at their rounded-up weights, plus the most the rest can add given their
// largest weight and their norm.
double Searcher::SketchBound(std::uint32_t id) const {
  constexpr int kBands = FragmentIndex::Sketch::kBands;
  const FragmentIndex::Sketch& s = sketches_[id];
  const double* unit = scratch_->unit.data();
  double sum[kBands], square[kBands];
  std::copy(band_sum_, band_sum_ + kBands, sum);
  std::copy(band_square_, band_square_ + kBands, square);
  double dot = 0;
  for (int i = 0; i < FragmentIndex::Sketch::kPeaks; ++i) {
    const double q = unit[s.mz[i]];  // unit[0] == 0 for unused entries
    dot += q * s.weight[i];
    const int b = FragmentIndex::BandOf(s.mz[i]);
    sum[b] -= q;
    square[b] -= q * q;
  }
  // Per band, the unsketched peaks add at most (their largest weight) * (the query weight left
  // in the band) and (their norm) * (the query norm left in the band).
  const double cap = s.rest_cap / 255.0;
  double rest = 0;
  for (int b = 0; b < kBands; ++b) {
    rest += std::min(cap * std::max(0.0, sum[b]),
                     std::sqrt(s.rest_norm2[b] / 255.0 * std::max(0.0, square[b])));
  }
  return dot / 255.0 + rest;
}

// Bounds every open candidate, closes those that cannot reach the k-th best score, and leaves
// (bound, slot) of the rest in scratch.ranked. Returns how many have bound >= target.
std::size_t Searcher::Evaluate(double target) {
  // Per-byte tables of the masked terms: sum of q_j * cap_j and of q_j^2 over lists not yet
  // exhausted, for the terms whose bit is set in the byte.
  double cap_table[4][256];
  double q2_table[4][256];
  double cap_masked = 0, q2_masked = 0, cap_rest = 0, q2_rest = 0;
  double byte_cap[4][8] = {}, byte_q2[4][8] = {};
  for (std::size_t i = 0; i < terms_.size(); ++i) {
    const Term& t = terms_[i];
    const double cap = Cap(t, t.pos);
    const double q2 = cap > 0 ? t.q * t.q : 0.0;
    if (i < kMaskedTerms) {
      cap_masked += t.q * cap;
      q2_masked += q2;
      byte_cap[i / 8][i % 8] = t.q * cap;
      byte_q2[i / 8][i % 8] = q2;
    } else {
      cap_rest += t.q * cap;
      q2_rest += q2;
    }
  }
  for (std::size_t b = 0; b < 4; ++b) {
    cap_table[b][0] = q2_table[b][0] = 0;
    for (unsigned v = 1; v < 256; ++v) {
      const int low = std::countr_zero(v);
      cap_table[b][v] = cap_table[b][v & (v - 1)] + byte_cap[b][low];
      q2_table[b][v] = q2_table[b][v & (v - 1)] + byte_q2[b][low];
    }
  }
  const double root_rest = std::sqrt(q2_rest);
  grid_.clear();  // B(r) on the grid, built on first need

  const bool full = best_.full();
  const double floor = full ? best_.threshold() : -1.0;
  const double bar = full ? std::min<double>(floor, target) : target;
  auto& ranked = scratch_->ranked;
  auto& need = scratch_->need_sketch;
  ranked.clear();
  need.clear();
  std::vector<Candidate>& cands = scratch_->candidates;
  // Pass 1: bounds from the postings read.
  for (std::size_t slot = 0; slot < cands.size(); ++slot) {
    Candidate& c = cands[slot];
    if (!c.open) continue;
    const double r = std::sqrt(std::max(0.0, 1.0 - (c.square - square_slack_)));
    const std::uint32_t s = c.seen;
    const double seen_cap = cap_table[0][s & 0xFF] + cap_table[1][(s >> 8) & 0xFF] +
                            cap_table[2][(s >> 16) & 0xFF] + cap_table[3][s >> 24];
    const double seen_q2 = q2_table[0][s & 0xFF] + q2_table[1][(s >> 8) & 0xFF] +
                           q2_table[2][(s >> 16) & 0xFF] + q2_table[3][s >> 24];
    const double unseen_cap = std::max(0.0, cap_masked - seen_cap);
    const double unseen_q2 = std::max(0.0, q2_masked - seen_q2);
    const double split =
        std::min(unseen_cap, r * std::sqrt(unseen_q2)) + std::min(cap_rest, r * root_rest);
    const double joint = r * std::sqrt(unseen_q2 + q2_rest);
    double upper = std::min<double>(c.partial + std::min(split, joint), c.sketch_upper);
    if (upper + slack_ >= bar) {
      // The global bound can only help; it costs a grid, so only when the cheap ones fail.
      if (grid_.empty()) {
        items_.clear();
        for (const Term& t : terms_) items_.emplace_back(t.q, Cap(t, t.pos));
        bound_.Reset(&items_);
        grid_.resize(kGrid + 1);
        for (std::size_t i = 0; i <= kGrid; ++i) {
          grid_[i] = bound_.At(static_cast<double>(i) / kGrid);
        }
      }
      const auto cell = std::min(static_cast<std::size_t>(std::ceil(r * kGrid)), kGrid);
      upper = std::min(upper, c.partial + grid_[cell]);
    }
    if (full && upper + slack_ < floor) {
      c.open = false;  // cannot reach the k-th best score, now or later
      continue;
    }
    if (c.sketch_upper == kNoBound && upper + slack_ >= bar)
      need.push_back(static_cast<std::uint32_t>(slot));
    ranked.emplace_back(upper, static_cast<std::uint32_t>(slot));
  }
  // Pass 2: sketches of the candidates the postings could not rule out, fetched ahead since
  // each is a random cache line.
  for (std::size_t i = 0; i < need.size(); ++i) {
    if (i + kPrefetchAhead < need.size()) {
      __builtin_prefetch(&sketches_[cands[need[i + kPrefetchAhead]].id]);
    }
    Candidate& c = cands[need[i]];
    c.sketch_upper = RoundUp(SketchBound(c.id));
    ++st_.sketches_checked;
    work_ += 24;
  }
  // Pass 3: apply them.
  std::size_t kept = 0, above = 0;
  for (auto [upper, slot] : ranked) {
    Candidate& c = cands[slot];
    upper = std::min<double>(upper, c.sketch_upper);
    if (full && upper + slack_ < floor) {
      c.open = false;
      continue;
    }
    ranked[kept++] = {upper, slot};
    if (upper + slack_ >= target) ++above;
  }
  ranked.resize(kept);
  return above;
}

// Scores candidates best bound first while their bound reaches `target` and could still beat
// the k-th best score. REQUIRES: scratch.ranked fresh from Evaluate.
void Searcher::VerifyDown(double target) {
  auto& ranked = scratch_->ranked;
  std::vector<Candidate>& cands = scratch_->candidates;
  std::size_t n = 0;
  for (const auto& r : ranked) {
    if (r.first + slack_ >= target) ranked[n++] = r;
  }
  ranked.resize(n);
  std::sort(ranked.begin(), ranked.end(), [&cands](const auto& a, const auto& b) {
    return a.first > b.first || (a.first == b.first && cands[a.second].id < cands[b.second].id);
  });
  for (std::size_t i = 0; i < ranked.size() && !OverBudget(); ++i) {
    const auto [upper, slot] = ranked[i];
    if (best_.full() && upper + slack_ < best_.threshold()) break;
    // Scoring reads a spectrum from a random place in a large store: fetch ahead in two
    // stages (where its peaks are, then the peaks) so the memory waits overlap.
    if (i + 8 < ranked.size()) store_.Prefetch(cands[ranked[i + 8].second].id, false);
    if (i + 3 < ranked.size()) store_.Prefetch(cands[ranked[i + 3].second].id, true);
    Candidate& c = cands[slot];
    c.open = false;
    ++st_.candidates_verified;
    work_ += 2 * store_.peak_count(c.id);
    const float cosine = ExactCosine(pq_, store_, c.id);
    if (cosine > upper + slack_) ++st_.bound_violations;
    best_.Offer({c.id, cosine});
  }
}

std::vector<ScoredCandidate> Searcher::Run() {
  if (terms_.empty() || store_.size() == 0) return {};
  scratch_ = &tls_scratch;
  scratch_->Begin(store_.size());
  for (std::uint16_t mz : pq_.mzs) scratch_->unit[mz] = pq_.weight[mz] / pq_.norm;

  // Measured costs, in scan-peak units (~3 ns): a posting read 8 and a sketch check 24 (each a
  // random memory access), a peak scored at random 2, planning 8 per query term and step.
  work_budget_ = store_.total_peaks() / 4;
  // When k is a large part of the library the k-th best score is low and little can be
  // pruned: measured on SWGDRUG and synthetic libraries of 10k-1M spectra, the scan wins or
  // ties from about k >= n / 300 (docs/search.md).
  if (best_.k() * kScanWhenKTimes >= store_.size()) work_ = work_budget_ + 1;

  double target = kFirstTarget;
  for (std::uint32_t generation = 0; !OverBudget(); ++generation) {
    // Admission: read until no spectrum not yet a candidate can reach the target.
    while (!OverBudget() && UnseenBound() + slack_ >= target && NextMoves()) {
      for (std::size_t i : moves_) Read(terms_[i], terms_[i].next_to);
    }
    if (OverBudget()) break;
    bool exhausted = true;
    for (const Term& t : terms_) exhausted = exhausted && t.pos >= t.end;
    // With every list read, every spectrum that shares an m/z is a candidate.
    const double level = exhausted ? -2.0 : target;
    Evaluate(level);
    VerifyDown(level);
    if (exhausted || (best_.full() && best_.threshold() >= target)) break;
    double next = 1.0 - 2.0 * (1.0 - target);
    if (next < 0.1 || generation + 1 >= kMaxGenerations) next = -2.0;
    if (best_.full()) next = std::max(next, static_cast<double>(best_.threshold()));
    target = next;
  }
  if (OverBudget()) {
    // The index is losing to a scan (a small library, or k a large part of it): answer by
    // the scan, which is exact by definition.
    st_.fell_back_to_scan = true;
    best_ = BestK(best_.k(), store_.size());
    for (std::uint32_t id = 0; id < store_.size(); ++id) {
      best_.Offer({id, ExactCosine(pq_, store_, id)});
    }
    st_.candidates_verified += store_.size();
  }
  return std::move(best_).Sorted();
}

// ---------------------------------------------------------------------------------------------
// Serialization helpers (little-endian).

// Order-independent fingerprint of a multiset of postings: a sum of well-mixed hashes.
std::uint64_t MixPosting(std::uint32_t id, std::uint16_t mz, std::uint16_t weight) {
  std::uint64_t x =
      (static_cast<std::uint64_t>(id) << 32) | (static_cast<std::uint64_t>(mz) << 16) | weight;
  x += 0x9e3779b97f4a7c15ULL;  // splitmix64 finaliser
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// ---------------------------------------------------------------------------------------------
// Build: stable radix sort of one list by weight descending; ids arrive ascending, so ties
// stay in id order.
void SortList(std::uint32_t* ids, std::uint16_t* weights, std::size_t n,
              std::vector<std::uint32_t>* tmp_ids, std::vector<std::uint16_t>* tmp_weights) {
  if (n < 2) return;
  tmp_ids->resize(n);
  tmp_weights->resize(n);
  std::uint32_t* src_i = ids;
  std::uint16_t* src_w = weights;
  std::uint32_t* dst_i = tmp_ids->data();
  std::uint16_t* dst_w = tmp_weights->data();
  for (int shift = 0; shift < 16; shift += 8) {
    std::size_t count[257] = {};
    for (std::size_t i = 0; i < n; ++i) {
      ++count[((0xFFFFu - src_w[i]) >> shift & 0xFFu) + 1];
    }
    for (int b = 0; b < 256; ++b) count[b + 1] += count[b];
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t at = count[(0xFFFFu - src_w[i]) >> shift & 0xFFu]++;
      dst_i[at] = src_i[i];
      dst_w[at] = src_w[i];
    }
    std::swap(src_i, dst_i);
    std::swap(src_w, dst_w);
  }
  // Two passes leave the result back in the caller's arrays.
  assert(src_i == ids);
}

}  // namespace

// ---------------------------------------------------------------------------------------------

FragmentIndex FragmentIndex::Build(const SpectrumStore& store, unsigned threads) {
  threads = std::clamp(threads, 1u, 64u);
  const auto n = static_cast<std::uint32_t>(store.size());
  // Runs fn(first, last) over `threads` contiguous ranges of [0, count).
  const auto parallel = [threads](std::size_t count, const auto& fn) {
    std::vector<std::thread> pool;
    const std::size_t step = (count + threads - 1) / threads;
    for (unsigned t = 1; t < threads && t * step < count; ++t) {
      pool.emplace_back(fn, t * step, std::min(count, (t + 1) * step));
    }
    fn(std::size_t{0}, std::min(count, step));
    for (std::thread& th : pool) th.join();
  };

  FragmentIndex index(&store);
  index.list_begin_.assign(kLists + 1, 0);
  std::vector<std::uint64_t> first_peak(n + 1, 0);  // of each spectrum, in store order
  for (std::uint32_t id = 0; id < n; ++id) {
    for (std::uint16_t mz : store.mz(id)) ++index.list_begin_[mz + 1];
    first_peak[id + 1] = first_peak[id] + store.peak_count(id);
  }
  for (std::size_t m = 0; m < kLists; ++m) index.list_begin_[m + 1] += index.list_begin_[m];

  // Weights and sketches are per spectrum, so they are computed in parallel; scattering them
  // into the lists is a sequential pass (in id order, which the sort below relies on).
  std::vector<std::uint16_t> quantised(store.total_peaks());
  index.sketches_.resize(n);
  parallel(n, [&](std::size_t first, std::size_t last) {
    std::vector<std::uint16_t> w;
    std::vector<std::pair<double, std::uint16_t>> tmp;
    for (auto id = static_cast<std::uint32_t>(first); id < last; ++id) {
      QuantisedWeights(store, id, &w);
      std::copy(w.begin(), w.end(),
                quantised.begin() + static_cast<std::ptrdiff_t>(first_peak[id]));
      BuildSketch(store, id, &index.sketches_[id], &tmp);
    }
  });
  index.ids_.resize(store.total_peaks());
  index.weights_.resize(store.total_peaks());
  std::vector<std::uint64_t> cursor(index.list_begin_.begin(), index.list_begin_.end() - 1);
  for (std::uint32_t id = 0; id < n; ++id) {
    const auto mz = store.mz(id);
    for (std::size_t i = 0; i < mz.size(); ++i) {
      const std::uint64_t at = cursor[mz[i]]++;
      index.ids_[at] = id;
      index.weights_[at] = quantised[first_peak[id] + i];
    }
  }
  // Lists are sorted independently; threads take them one at a time.
  std::atomic<std::size_t> next{0};
  parallel(threads, [&index, &next](std::size_t, std::size_t) {
    std::vector<std::uint32_t> tmp_ids;
    std::vector<std::uint16_t> tmp_weights;
    for (std::size_t m; (m = next.fetch_add(1)) < kLists;) {
      const std::uint64_t b = index.list_begin_[m];
      SortList(index.ids_.data() + b, index.weights_.data() + b, index.list_begin_[m + 1] - b,
               &tmp_ids, &tmp_weights);
    }
  });
  return index;
}

std::vector<ScoredCandidate> FragmentIndex::TopKExhaustive(std::span<const NominalPeak> query,
                                                           std::size_t k) const {
  const PreparedQuery pq = Prepare(query);
  const std::size_t n = store_->size();
  if (k == 0 || pq.mzs.empty()) return {};
  BestK best(k, n);
  for (std::uint32_t id = 0; id < n; ++id) best.Offer({id, ExactCosine(pq, *store_, id)});
  return std::move(best).Sorted();
}

std::vector<ScoredCandidate> FragmentIndex::TopK(std::span<const NominalPeak> query, std::size_t k,
                                                 TopKStats* stats, SearchPath path) const {
  TopKStats local;
  TopKStats* st = stats != nullptr ? stats : &local;
  *st = TopKStats{};
  if (k == 0 || list_begin_.empty()) return {};  // empty only when moved from
  const PreparedQuery pq = Prepare(query);
  Searcher searcher(*store_, list_begin_, ids_, weights_, sketches_, pq, k, path, st);
  return searcher.Run();
}

std::size_t FragmentIndex::MemoryBytes() const {
  return sizeof(*this) + list_begin_.size() * sizeof(std::uint64_t) +
         ids_.size() * sizeof(std::uint32_t) + weights_.size() * sizeof(std::uint16_t) +
         sketches_.size() * sizeof(Sketch);
}

void FragmentIndex::Serialize(std::string* out) const {
  out->reserve(out->size() + 28 + kLists * 8 + ids_.size() * 6);
  out->append(kMagic, sizeof(kMagic));
  PutScalar<std::uint64_t>(out, store_->size());
  PutScalar<std::uint64_t>(out, ids_.size());
  PutScalar<std::uint32_t>(out, kMaxNominalMz);
  for (std::size_t m = 0; m < kLists; ++m) {
    PutScalar<std::uint64_t>(out, list_begin_[m + 1] - list_begin_[m]);
  }
  PutArray(out, ids_);
  PutArray(out, weights_);
}

Result<FragmentIndex> FragmentIndex::Deserialize(std::string_view bytes,
                                                 const SpectrumStore& store) {
  constexpr std::size_t kHeader = sizeof(kMagic) + 8 + 8 + 4;
  if (bytes.size() < kHeader || std::memcmp(bytes.data(), kMagic, sizeof(kMagic)) != 0) {
    return Status::Corruption("fragment index: missing or wrong header");
  }
  const auto spectra = GetScalar<std::uint64_t>(bytes.data() + 8);
  const auto postings = GetScalar<std::uint64_t>(bytes.data() + 16);
  const auto max_mz = GetScalar<std::uint32_t>(bytes.data() + 24);
  if (max_mz != kMaxNominalMz) {
    return Status::Corruption("fragment index: built for m/z up to " + std::to_string(max_mz) +
                              ", this build supports " + std::to_string(kMaxNominalMz));
  }
  if (spectra != store.size() || postings != store.total_peaks()) {
    return Status::Corruption("fragment index: indexes " + std::to_string(spectra) + " spectra / " +
                              std::to_string(postings) + " peaks, the store holds " +
                              std::to_string(store.size()) + " / " +
                              std::to_string(store.total_peaks()));
  }
  const std::uint64_t body = bytes.size() - kHeader;
  if (body < kLists * 8 || postings > (body - kLists * 8) / 6 ||
      kLists * 8 + postings * 6 != body) {
    return Status::Corruption("fragment index: sizes do not match the " +
                              std::to_string(bytes.size()) + " bytes given");
  }
  FragmentIndex index(&store);
  index.list_begin_.assign(kLists + 1, 0);
  const char* p = bytes.data() + kHeader;
  for (std::size_t m = 0; m < kLists; ++m) {
    const auto length = GetScalar<std::uint64_t>(p + m * 8);
    if (length > postings - index.list_begin_[m]) {
      return Status::Corruption("fragment index: list lengths exceed the posting count");
    }
    index.list_begin_[m + 1] = index.list_begin_[m] + length;
  }
  if (index.list_begin_[kLists] != postings) {
    return Status::Corruption("fragment index: list lengths do not sum to the posting count");
  }
  p += kLists * 8;
  GetArray(p, postings, &index.ids_);
  GetArray(p + postings * 4, postings, &index.weights_);

  std::uint64_t fingerprint = 0;
  for (std::size_t m = 0; m < kLists; ++m) {
    for (std::uint64_t i = index.list_begin_[m]; i < index.list_begin_[m + 1]; ++i) {
      const std::uint32_t id = index.ids_[i];
      const std::uint16_t w = index.weights_[i];
      const bool ordered = i == index.list_begin_[m] || index.weights_[i - 1] > w ||
                           (index.weights_[i - 1] == w && index.ids_[i - 1] < id);
      if (id >= spectra || w == 0 || !ordered) {
        return Status::Corruption("fragment index: posting " + std::to_string(i) + " of m/z " +
                                  std::to_string(m) + " is out of range or out of order");
      }
      fingerprint += MixPosting(id, static_cast<std::uint16_t>(m), w);
    }
  }
  // The postings must be exactly the store's peaks: same count per m/z, same multiset.
  std::vector<std::uint64_t> per_mz(kLists, 0);
  std::vector<std::uint16_t> w;
  for (std::uint32_t id = 0; id < store.size(); ++id) {
    QuantisedWeights(store, id, &w);
    const auto mz = store.mz(id);
    for (std::size_t i = 0; i < mz.size(); ++i) {
      ++per_mz[mz[i]];
      fingerprint -= MixPosting(id, mz[i], w[i]);
    }
  }
  for (std::size_t m = 0; m < kLists; ++m) {
    if (per_mz[m] != index.list_begin_[m + 1] - index.list_begin_[m]) {
      return Status::Corruption("fragment index: list of m/z " + std::to_string(m) +
                                " does not match the spectrum store");
    }
  }
  if (fingerprint != 0) {
    return Status::Corruption("fragment index: postings do not match the spectrum store");
  }
  index.sketches_.resize(store.size());
  std::vector<std::pair<double, std::uint16_t>> tmp;
  for (std::uint32_t id = 0; id < store.size(); ++id) {
    BuildSketch(store, id, &index.sketches_[id], &tmp);
  }
  return index;
}

}  // namespace sentinel::spectra
