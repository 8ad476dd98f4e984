#include "core/spectra/scores.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <numbers>
#include <vector>

namespace sentinel::spectra {
namespace {

// x^e with the exponents that matter in practice done without std::pow.
inline double Power(double x, double e) {
  if (e == 1.0) return x;
  if (e == 0.5) return std::sqrt(x);
  if (e == 0.0) return 1.0;
  if (e == 2.0) return x * x;
  if (e == 3.0) return x * x * x;
  if (e == 1.5) return x * std::sqrt(x);
  return std::pow(x, e);
}

// The products the scores need, written so that no weight is ever square-rooted and then
// squared again: w^2 = mz^(2a) I^(2b) and wU wL = mz^(2a) (IU IL)^b at a shared m/z.
// DefaultWeights is the same arithmetic with a = b = 0.5 fixed at compile time, so the hot
// loops carry no exponent tests; it is the case every production call takes.
struct DefaultWeights {
  // F_R compares weighted intensities, so a ratio term is raised to the intensity exponent.
  static double Ratio(double r) { return std::sqrt(r); }
  double Squared(std::uint16_t mz, float intensity) const {
    return static_cast<double>(mz) * static_cast<double>(intensity);
  }
  double Cross(std::uint16_t mz, float iu, float il) const {
    return static_cast<double>(mz) * std::sqrt(static_cast<double>(iu) * static_cast<double>(il));
  }
};

struct GeneralWeights {
  double a;  // mz exponent
  double b;  // intensity exponent
  double Ratio(double r) const { return std::pow(r, b); }
  double Squared(std::uint16_t mz, float intensity) const {
    return Power(mz, 2 * a) * Power(intensity, 2 * b);
  }
  double Cross(std::uint16_t mz, float iu, float il) const {
    return Power(mz, 2 * a) * Power(static_cast<double>(iu) * static_cast<double>(il), b);
  }
};

bool IsDefault(const MatchFactorOptions& o) {
  return o.mz_exponent == 0.5 && o.intensity_exponent == 0.5;
}

// Four partial sums, so the additions are not one serial chain of latencies.
template <typename Weights>
double SumSquared(std::span<const NominalPeak> s, const Weights& w) {
  double sum[4] = {0, 0, 0, 0};
  std::size_t k = 0;
  for (; k + 4 <= s.size(); k += 4) {
    for (std::size_t u = 0; u < 4; ++u) sum[u] += w.Squared(s[k + u].mz, s[k + u].intensity);
  }
  for (; k < s.size(); ++k) sum[0] += w.Squared(s[k].mz, s[k].intensity);
  return (sum[0] + sum[1]) + (sum[2] + sum[3]);
}

// cos^2 from its parts, guarded so that an all-zero norm (impossible for valid spectra, but a
// zero-length span reaches here) reads as "no similarity" rather than NaN.
double SquaredCosine(double cross, double norm_a, double norm_b) {
  if (!(norm_a > 0) || !(norm_b > 0)) return 0;
  return std::min(1.0, cross * cross / (norm_a * norm_b));
}

// What the scores need from the peaks the two spectra share.
struct CommonPeaks {
  double cross = 0;         // sum of wU wL over common m/z
  double query_sq = 0;      // sum of wU^2 over common m/z (the reverse search's query norm)
  double query_all_sq = 0;  // sum of wU^2 over all query peaks
  double library_sq = 0;    // sum of wL^2 over all library peaks
  double ratio_sum = 0;     // sum of the adjacent-ratio terms, each in (0, 1]
  std::size_t count = 0;    // N_LU
};

// Index of each library peak by m/z, so that every query peak finds its partner with one load
// and no data-dependent branch: a sorted merge mispredicts about once per peak, which cost
// more than all the arithmetic. Slot value k > 0 means library[k - 1]; 0 means absent. Only
// slots up to one past the library's highest m/z are cleared; higher query m/z are clamped
// onto that empty slot. Built on the stack per call: 4 KB, of which a drug spectrum touches
// well under 1 KB.
class LibraryIndex {
 public:
  // Returns false, leaving the index unusable, when the library breaks the NominalSpectrum
  // contract badly enough not to fit (an m/z above kMaxNominalMz, or too many peaks).
  bool Build(std::span<const NominalPeak> library) {
    if (library.size() >= std::numeric_limits<std::uint16_t>::max()) return false;
    int highest = 0;
    for (const NominalPeak& p : library) highest = std::max<int>(highest, p.mz);
    if (highest > kMaxNominalMz) return false;
    limit_ = highest + 1;
    std::fill_n(slots_.begin(), limit_ + 1, std::uint16_t{0});
    for (std::size_t k = 0; k < library.size(); ++k) {
      slots_[library[k].mz] = static_cast<std::uint16_t>(k + 1);
    }
    return true;
  }

  // 0 when absent, else 1 + the library peak's position.
  std::uint16_t Find(std::uint16_t mz) const { return slots_[std::min<int>(mz, limit_)]; }

 private:
  int limit_ = 0;
  std::array<std::uint16_t, kMaxNominalMz + 2> slots_;  // uninitialised beyond limit_
};

// REQUIRES: library non-empty; index built from library.
template <bool kRatios, typename Weights>
CommonPeaks ScanCommonIndexed(std::span<const NominalPeak> query,
                              std::span<const NominalPeak> library, const LibraryIndex& index,
                              const Weights& w) {
  // Locals rather than members of the result: the compiler cannot prove the result does not
  // alias the inputs and would otherwise store it on every iteration.
  const double library_sq = SumSquared(library, w);
  double cross = 0, query_sq = 0, query_all_sq = 0, ratio_sum = 0;
  std::size_t count = 0;
  // Position of the previous common peak in each spectrum. Every quantity is computed for
  // every query peak and multiplied by 0 or 1: whether a peak is shared is a coin toss for the
  // branch predictor, and a mispredicted branch costs more than the arithmetic it skips.
  std::size_t prev_q = 0, prev_l = 0;
  for (std::size_t i = 0; i < query.size(); ++i) {
    const std::uint16_t slot = index.Find(query[i].mz);
    const bool common = slot != 0;
    const std::size_t j = slot - std::size_t{common};  // library[0] stands in when absent
    const double mask = static_cast<double>(common);
    const float iq = query[i].intensity, il = library[j].intensity;
    cross += mask * w.Cross(query[i].mz, iq, il);
    const double sq = w.Squared(query[i].mz, iq);
    query_all_sq += sq;
    query_sq += mask * sq;
    if constexpr (kRatios) {
      // (I_L,i / I_L,i-1) * (I_U,i-1 / I_U,i), flipped to whichever of it and its inverse is
      // <= 1: a pair of ratios that agree scores 1 whichever way they deviate. Intensities are
      // > 0, so the quotient is finite even when the mask discards it.
      const double num = static_cast<double>(il) * query[prev_q].intensity;
      const double den = static_cast<double>(library[prev_l].intensity) * iq;
      ratio_sum += static_cast<double>(common && count > 0) *
                   w.Ratio(std::min(num, den) / std::max(num, den));
    }
    prev_q = common ? i : prev_q;
    prev_l = common ? j : prev_l;
    count += common;
  }
  return {cross, query_sq, query_all_sq, library_sq, ratio_sum, count};
}

// The same result by a sorted merge, for libraries LibraryIndex cannot hold (outside the
// NominalSpectrum contract, but still answered without undefined behaviour).
template <bool kRatios, typename Weights>
CommonPeaks ScanCommonMerged(std::span<const NominalPeak> query,
                             std::span<const NominalPeak> library, const Weights& w) {
  CommonPeaks c;
  c.library_sq = SumSquared(library, w);
  c.query_all_sq = SumSquared(query, w);
  double prev_q = 1, prev_l = 1;
  std::size_t i = 0, j = 0;
  while (i < query.size() && j < library.size()) {
    const NominalPeak& q = query[i];
    const NominalPeak& l = library[j];
    if (q.mz == l.mz) {
      const double iq = q.intensity, il = l.intensity;
      const double num = il * prev_q, den = prev_l * iq;
      if (kRatios && c.count > 0) c.ratio_sum += w.Ratio(std::min(num, den) / std::max(num, den));
      c.cross += w.Cross(q.mz, q.intensity, l.intensity);
      c.query_sq += w.Squared(q.mz, q.intensity);
      prev_q = iq;
      prev_l = il;
      ++c.count;
      ++i;
      ++j;
    } else if (q.mz < l.mz) {
      ++i;
    } else {
      ++j;
    }
  }
  return c;
}

// kRatios = false skips F_R's terms (ratio_sum stays 0) for the plain cosine.
template <bool kRatios, typename Weights>
CommonPeaks ScanCommon(std::span<const NominalPeak> query, std::span<const NominalPeak> library,
                       const Weights& w) {
  LibraryIndex index;
  return index.Build(library) ? ScanCommonIndexed<kRatios>(query, library, index, w)
                              : ScanCommonMerged<kRatios>(query, library, w);
}

template <typename Weights>
double WeightedCosineImpl(std::span<const NominalPeak> a, std::span<const NominalPeak> b,
                          const Weights& w) {
  if (a.empty() || b.empty()) return 0;
  const CommonPeaks c = ScanCommon<false>(a, b, w);
  return std::sqrt(SquaredCosine(c.cross, c.query_all_sq, c.library_sq));
}

// (N_U F_D + N_LU F_R) / (N_U + N_LU) scaled to 999. F_R averages the N_LU - 1 adjacent-pair
// terms, so identical spectra score 999 as NIST's own search shows them (the paper's 1/N_LU
// would cap a 10-peak self-match at 949); with a single common peak there is no pair and F_R
// is 0, which keeps one shared peak from passing for an identification.
double Composite(std::size_t n_query, const CommonPeaks& c, double f_d) {
  if (c.count == 0) return 0;
  const auto n_u = static_cast<double>(n_query);
  const auto n_lu = static_cast<double>(c.count);
  const double f_r = c.count >= 2 ? c.ratio_sum / (n_lu - 1) : 0.0;
  return 999.0 * (n_u * f_d + n_lu * f_r) / (n_u + n_lu);
}

template <typename Weights>
double IdentityImpl(std::span<const NominalPeak> query, std::span<const NominalPeak> library,
                    const Weights& w) {
  if (query.empty() || library.empty()) return 0;
  const CommonPeaks c = ScanCommon<true>(query, library, w);
  const double f_d = SquaredCosine(c.cross, c.query_all_sq, c.library_sq);
  return Composite(query.size(), c, f_d);
}

template <typename Weights>
double ReverseImpl(std::span<const NominalPeak> query, std::span<const NominalPeak> library,
                   const Weights& w) {
  if (query.empty() || library.empty()) return 0;
  const CommonPeaks c = ScanCommon<true>(query, library, w);
  // With the unmatched query peaks dropped, the query keeps exactly the N_LU common peaks.
  const double f_d = SquaredCosine(c.cross, c.query_sq, c.library_sq);
  return Composite(c.count, c, f_d);
}

// ---- Entropy similarity ----

// Per-peak values kept between the passes so each log/exp is evaluated once per peak.
struct EntropyPeak {
  double log_intensity;  // ln I
  double weighted;       // I^w, unnormalised
};

// Stack room for this many peaks per spectrum (8 KB); larger spectra use the heap. SWGDRUG 3.4's
// largest spectrum has 426 peaks and 99 % have at most 337.
constexpr std::size_t kEntropyStackPeaks = 512;
using EntropyBuffer = std::array<EntropyPeak, kEntropyStackPeaks>;

struct EntropyPrepared {
  std::span<EntropyPeak> peaks;
  double exponent = 1;  // w of Li et al.
  double log_norm = 0;  // ln Z, Z = sum of I^w
};

EntropyPrepared PrepareEntropy(std::span<const NominalPeak> s, std::span<EntropyPeak> out) {
  EntropyPrepared prepared;
  prepared.peaks = out.first(s.size());
  double total = 0, sum_i_log_i = 0;
  for (std::size_t k = 0; k < s.size(); ++k) {
    const double intensity = s[k].intensity;
    const double log_i = std::log(intensity);
    out[k].log_intensity = log_i;
    out[k].weighted = intensity;
    total += intensity;
    sum_i_log_i += intensity * log_i;
  }
  // S = -sum p ln p with p = I / T, rearranged to ln T - (sum I ln I) / T.
  const double log_total = std::log(total);
  const double entropy = log_total - sum_i_log_i / total;
  if (entropy >= 3) {
    prepared.log_norm = log_total;
    return prepared;
  }
  // Low-entropy spectra are dominated by a few peaks; raising intensities to w < 1 lets the
  // minor peaks count (Li et al. 2021). Weights are relative, so p^w and I^w differ only by a
  // constant that the renormalisation removes.
  prepared.exponent = 0.25 + 0.25 * entropy;
  double norm = 0;
  for (EntropyPeak& p : prepared.peaks) {
    p.weighted = std::exp(prepared.exponent * p.log_intensity);
    norm += p.weighted;
  }
  prepared.log_norm = std::log(norm);
  return prepared;
}

double EntropySimilarityImpl(std::span<const NominalPeak> a, std::span<const NominalPeak> b,
                             std::span<EntropyPeak> buf_a, std::span<EntropyPeak> buf_b) {
  const EntropyPrepared pa = PrepareEntropy(a, buf_a);
  const EntropyPrepared pb = PrepareEntropy(b, buf_b);
  const double norm_a = std::exp(pa.log_norm), norm_b = std::exp(pb.log_norm);
  // Expanding 2 S_AB - S_A - S_B peak by peak, every peak present in only one spectrum cancels
  // against a ln 2 share of the constant, leaving
  //   similarity = sum over shared m/z of [(x + y) ln(x + y) - x ln x - y ln y] / ln 4
  // with x, y the normalised weighted intensities. Only shared peaks cost a log.
  double sum = 0;
  const auto add_shared = [&](std::size_t i, std::size_t j) {
    const double x = pa.peaks[i].weighted / norm_a;
    const double y = pb.peaks[j].weighted / norm_b;
    const double log_x = pa.exponent * pa.peaks[i].log_intensity - pa.log_norm;
    const double log_y = pb.exponent * pb.peaks[j].log_intensity - pb.log_norm;
    sum += (x + y) * std::log(x + y) - x * log_x - y * log_y;
  };
  LibraryIndex index;
  if (index.Build(b)) {
    for (std::size_t i = 0; i < a.size(); ++i) {
      const std::uint16_t slot = index.Find(a[i].mz);
      if (slot != 0) add_shared(i, slot - 1u);
    }
  } else {
    std::size_t i = 0, j = 0;
    while (i < a.size() && j < b.size()) {
      if (a[i].mz == b[j].mz) {
        add_shared(i++, j++);
      } else if (a[i].mz < b[j].mz) {
        ++i;
      } else {
        ++j;
      }
    }
  }
  return std::clamp(sum / (2 * std::numbers::ln2), 0.0, 1.0);
}

}  // namespace

double WeightedCosine(std::span<const NominalPeak> a, std::span<const NominalPeak> b,
                      const MatchFactorOptions& o) {
  if (IsDefault(o)) return WeightedCosineImpl(a, b, DefaultWeights{});
  return WeightedCosineImpl(a, b, GeneralWeights{o.mz_exponent, o.intensity_exponent});
}

double IdentityMatchFactor(std::span<const NominalPeak> query, std::span<const NominalPeak> library,
                           const MatchFactorOptions& o) {
  if (IsDefault(o)) return IdentityImpl(query, library, DefaultWeights{});
  return IdentityImpl(query, library, GeneralWeights{o.mz_exponent, o.intensity_exponent});
}

double ReverseMatchFactor(std::span<const NominalPeak> query, std::span<const NominalPeak> library,
                          const MatchFactorOptions& o) {
  if (IsDefault(o)) return ReverseImpl(query, library, DefaultWeights{});
  return ReverseImpl(query, library, GeneralWeights{o.mz_exponent, o.intensity_exponent});
}

double EntropySimilarity(std::span<const NominalPeak> a, std::span<const NominalPeak> b) {
  if (a.empty() || b.empty()) return 0;
  if (a.size() <= kEntropyStackPeaks && b.size() <= kEntropyStackPeaks) {
    EntropyBuffer buf_a;  // deliberately uninitialised: only the first size() entries are used
    EntropyBuffer buf_b;
    return EntropySimilarityImpl(a, b, buf_a, buf_b);
  }
  std::vector<EntropyPeak> buf_a(a.size()), buf_b(b.size());
  return EntropySimilarityImpl(a, b, buf_a, buf_b);
}

}  // namespace sentinel::spectra
