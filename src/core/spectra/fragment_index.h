// FragmentIndex: stage 1 of library search — the exact top-K library spectra by weighted
// cosine, found through an inverted index of fragment m/z instead of a full scan.
//
// Score (the stage-1 presearch score, the formula of WeightedCosine in scores.h): each peak
// weighs w = sqrt(mz * I); cosine = sum over shared m/z of wq * wl / (||wq|| * ||wl||), each
// norm over all of its own spectrum's peaks; in [0, 1].
//
// Structure: for every nominal m/z a posting list of (spectrum id, unit-norm weight), sorted
// by weight descending (impact order), ties by id ascending; weights quantised to uint16 and
// rounded UP, so every bound built from them overestimates. Plus one 64-byte sketch per
// spectrum (its largest peaks and a summary of the rest) for cheap per-candidate bounds.
// About 6 bytes per peak + 64 per spectrum.
//
// Search (docs/search.md): read the lists best-first until no unread spectrum can reach a
// target score, bound each candidate from the postings read and its sketch, compute exact
// cosines best bound first, and lower the target until the k-th best exact score meets it.
// When k is a large part of the library pruning cannot pay, and SearchPath::kAuto scans.
//
// Exactness contract: TopK returns exactly what TopKExhaustive returns — the same ids, in the
// same order, with bit-identical scores — because every reported score comes from the same
// exact function over the store's float intensities; the index only decides which spectra
// need not be scored, and every such decision rests on an upper bound kept safe from
// rounding. Spectra sharing no m/z with the query (cosine 0) are never reported. Order: cosine
// descending, then id ascending.
//
// Thread-safety: immutable after Build/Deserialize; TopK and TopKExhaustive are const and may
// run concurrently. Each calling thread keeps scratch of 4 bytes per library spectrum plus its
// candidates (thread_local, reused across calls, never cleared).
//
// Lifetime: holds a pointer to the store it was built over. REQUIRES: that store outlives the
// index and does not change while the index exists.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/common/status.h"
#include "core/spectra/spectrum.h"
#include "core/spectra/spectrum_store.h"

namespace sentinel::spectra {

struct ScoredCandidate {
  std::uint32_t id = 0;  // spectrum id in the store
  float cosine = 0;      // weighted cosine, (0, 1]
  friend bool operator==(const ScoredCandidate&, const ScoredCandidate&) = default;
};

// What one TopK call did, to measure the pruning.
struct TopKStats {
  std::size_t postings_visited = 0;     // postings read from the inverted lists
  std::size_t candidates_seen = 0;      // distinct spectra met in those postings
  std::size_t sketches_checked = 0;     // candidates bounded through their sketch
  std::size_t candidates_verified = 0;  // spectra whose exact cosine was computed
  bool fell_back_to_scan = false;       // answered by a scan (SearchPath::kAuto only)
  // Scored spectra whose exact cosine exceeded the bound that selected them. Always 0 unless
  // a bound is wrong; tests check it.
  std::size_t bound_violations = 0;
};

// How TopK may answer. Both give the same result; kIndexOnly exists so tests and benchmarks can
// exercise and measure the index where kAuto would scan.
enum class SearchPath {
  kAuto,       // the index, or a scan when that is cheaper (k a large part of the library)
  kIndexOnly,  // always the index
};

class FragmentIndex {
 public:
  // NIST MS Search's presearch passes on about this many candidates.
  static constexpr std::size_t kDefaultK = 100;

  FragmentIndex(FragmentIndex&&) = default;
  FragmentIndex& operator=(FragmentIndex&&) = default;
  FragmentIndex(const FragmentIndex&) = delete;
  FragmentIndex& operator=(const FragmentIndex&) = delete;

  // Indexes every spectrum of `store`, using up to `threads` threads for the sort. The
  // result does not depend on `threads`.
  static FragmentIndex Build(const SpectrumStore& store, unsigned threads = 1);

  // The k best library spectra for `query` by weighted cosine, best first (cosine descending,
  // then id ascending); fewer than k when fewer share an m/z with the query. The query is read
  // as a nominal spectrum: peaks with m/z outside [1, kMaxNominalMz] or a non-positive or
  // non-finite intensity are ignored and intensities of a repeated m/z summed; the query's scale
  // does not matter. `stats`, when given, is overwritten.
  std::vector<ScoredCandidate> TopK(std::span<const NominalPeak> query, std::size_t k = kDefaultK,
                                    TopKStats* stats = nullptr,
                                    SearchPath path = SearchPath::kAuto) const;

  // The baseline TopK must equal: scores every library spectrum.
  std::vector<ScoredCandidate> TopKExhaustive(std::span<const NominalPeak> query,
                                              std::size_t k = kDefaultK) const;

  const SpectrumStore& store() const { return *store_; }
  std::size_t posting_count() const { return ids_.size(); }

  // Bytes held by the index itself (not the store, not per-thread scratch).
  std::size_t MemoryBytes() const;

  // One cache line summarising a spectrum, so a candidate can be bounded without reading all
  // its peaks: its kPeaks largest unit-norm weights as (m/z, ceil(255 w)); for the other
  // peaks, the largest unit-norm weight and the squared norm within each of kBands m/z bands
  // (band of m/z = BandOf(mz)), each as ceil(255 x). Unused entries have m/z 0. Part of the
  // index's internals, public only for its implementation.
  struct alignas(64) Sketch {
    static constexpr int kPeaks = 18;
    static constexpr int kBands = 8;
    std::uint16_t mz[kPeaks];
    std::uint8_t weight[kPeaks];
    std::uint8_t rest_cap;
    std::uint8_t rest_norm2[kBands];
  };
  static int BandOf(int mz) {
    return (mz >= 45) + (mz >= 60) + (mz >= 75) + (mz >= 95) + (mz >= 120) + (mz >= 150) +
           (mz >= 200);
  }

  // Appends a self-delimiting little-endian encoding of the posting lists to *out:
  //   "SNTLFIX1" | u64 spectra | u64 postings | u32 max m/z | u64 list length per m/z
  //   0..max | u32 id per posting | u16 weight per posting.
  // The sketches are not written: Deserialize recomputes them from the store.
  void Serialize(std::string* out) const;

  // Parses bytes Serialize wrote for an index over `store` (which the result will point to).
  // Returns Corruption unless the structure is sound (sizes, ids < store.size(), weights in
  // impact order) and the postings are exactly those `store` yields (per-list lengths plus an
  // order-independent fingerprint of all (id, m/z, weight) triples, recomputed from the
  // store). Never crashes on bad bytes. Costs about a third of Build (no sort).
  static Result<FragmentIndex> Deserialize(std::string_view bytes, const SpectrumStore& store);

 private:
  explicit FragmentIndex(const SpectrumStore* store) : store_(store) {}

  const SpectrumStore* store_;
  std::vector<std::uint64_t> list_begin_;  // kMaxNominalMz + 2 entries; list m is
                                           // [list_begin_[m], list_begin_[m + 1])
  std::vector<std::uint32_t> ids_;         // spectrum id per posting
  std::vector<std::uint16_t> weights_;     // ceil(unit-norm weight * 65535), >= 1
  std::vector<Sketch> sketches_;           // per spectrum; derived from the store, not serialized
};

}  // namespace sentinel::spectra
