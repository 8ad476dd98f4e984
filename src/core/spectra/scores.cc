#include "core/spectra/scores.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
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
// DefaultWeights is the same arithmetic with a = b = 0.5 fixed at compile time, which lets
// the compiler vectorise the norm loops; it is the case every production call takes.
struct DefaultWeights {
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

template <typename Weights>
double SumSquared(std::span<const NominalPeak> s, const Weights& w) {
  double sum = 0;
  for (const NominalPeak& p : s) sum += w.Squared(p.mz, p.intensity);
  return sum;
}

// cos^2 from its parts, guarded so that an all-zero norm (impossible for valid spectra, but a
// zero-length span reaches here) reads as "no similarity" rather than NaN.
double SquaredCosine(double cross, double norm_a, double norm_b) {
  if (!(norm_a > 0) || !(norm_b > 0)) return 0;
  return std::min(1.0, cross * cross / (norm_a * norm_b));
}

template <typename Weights>
double WeightedCosineImpl(std::span<const NominalPeak> a, std::span<const NominalPeak> b,
                          const Weights& w) {
  if (a.empty() || b.empty()) return 0;
  double cross = 0;
  std::size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    if (a[i].mz == b[j].mz) {
      cross += w.Cross(a[i].mz, a[i].intensity, b[j].intensity);
      ++i;
      ++j;
    } else if (a[i].mz < b[j].mz) {
      ++i;
    } else {
      ++j;
    }
  }
  return std::sqrt(SquaredCosine(cross, SumSquared(a, w), SumSquared(b, w)));
}

// What the composite needs from the peaks the two spectra share.
struct CommonPeaks {
  double cross = 0;       // sum of wU wL over common m/z
  double query_sq = 0;    // sum of wU^2 over common m/z (the reverse search's query norm)
  double ratio_sum = 0;   // sum of the adjacent-ratio terms, each in (0, 1]
  std::size_t count = 0;  // N_LU
};

template <typename Weights>
CommonPeaks ScanCommon(std::span<const NominalPeak> query, std::span<const NominalPeak> library,
                       const Weights& w) {
  CommonPeaks c;
  double prev_q = 0, prev_l = 0;
  std::size_t i = 0, j = 0;
  while (i < query.size() && j < library.size()) {
    const NominalPeak& q = query[i];
    const NominalPeak& l = library[j];
    if (q.mz == l.mz) {
      c.cross += w.Cross(q.mz, q.intensity, l.intensity);
      c.query_sq += w.Squared(q.mz, q.intensity);
      const double iq = q.intensity, il = l.intensity;
      if (c.count > 0) {
        // (I_L,i / I_L,i-1) * (I_U,i-1 / I_U,i), flipped to whichever of it and its inverse
        // is <= 1: a pair of ratios that agree scores 1 whichever way they deviate.
        const double num = il * prev_q;
        const double den = prev_l * iq;
        c.ratio_sum += num < den ? num / den : den / num;
      }
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

// (N_U F_D + N_LU F_R) / (N_U + N_LU) scaled to 999, with F_R = ratio_sum / N_LU as published.
double Composite(std::size_t n_query, const CommonPeaks& c, double f_d) {
  if (c.count == 0) return 0;
  const auto n_u = static_cast<double>(n_query);
  const auto n_lu = static_cast<double>(c.count);
  const double f_r = c.ratio_sum / n_lu;
  return 999.0 * (n_u * f_d + n_lu * f_r) / (n_u + n_lu);
}

template <typename Weights>
double IdentityImpl(std::span<const NominalPeak> query, std::span<const NominalPeak> library,
                    const Weights& w) {
  if (query.empty() || library.empty()) return 0;
  const CommonPeaks c = ScanCommon(query, library, w);
  const double f_d = SquaredCosine(c.cross, SumSquared(query, w), SumSquared(library, w));
  return Composite(query.size(), c, f_d);
}

template <typename Weights>
double ReverseImpl(std::span<const NominalPeak> query, std::span<const NominalPeak> library,
                   const Weights& w) {
  if (query.empty() || library.empty()) return 0;
  const CommonPeaks c = ScanCommon(query, library, w);
  // With the unmatched query peaks dropped, the query keeps exactly the N_LU common peaks.
  const double f_d = SquaredCosine(c.cross, c.query_sq, SumSquared(library, w));
  return Composite(c.count, c, f_d);
}

// ---- Entropy similarity ----

// Per-peak values kept between the passes so each log/exp is evaluated once per peak.
struct EntropyPeak {
  double log_intensity;  // ln I
  double weighted;       // I^w, unnormalised
};

// Spectra obeying the contract have at most kMaxNominalMz peaks and use the stack buffer;
// anything larger (an out-of-contract input) falls back to the heap rather than failing.
using EntropyBuffer = std::array<EntropyPeak, kMaxNominalMz>;

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
  std::size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    if (a[i].mz == b[j].mz) {
      const double x = pa.peaks[i].weighted / norm_a;
      const double y = pb.peaks[j].weighted / norm_b;
      const double log_x = pa.exponent * pa.peaks[i].log_intensity - pa.log_norm;
      const double log_y = pb.exponent * pb.peaks[j].log_intensity - pb.log_norm;
      sum += (x + y) * std::log(x + y) - x * log_x - y * log_y;
      ++i;
      ++j;
    } else if (a[i].mz < b[j].mz) {
      ++i;
    } else {
      ++j;
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
  if (a.size() <= kMaxNominalMz && b.size() <= kMaxNominalMz) {
    EntropyBuffer buf_a;  // deliberately uninitialised: only the first size() entries are used
    EntropyBuffer buf_b;
    return EntropySimilarityImpl(a, b, buf_a, buf_b);
  }
  std::vector<EntropyPeak> buf_a(a.size()), buf_b(b.size());
  return EntropySimilarityImpl(a, b, buf_a, buf_b);
}

}  // namespace sentinel::spectra
