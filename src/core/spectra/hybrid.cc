#include "core/spectra/hybrid.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <vector>

namespace sentinel::spectra {
namespace {

double Weight(int mz, double intensity) { return std::sqrt(static_cast<double>(mz) * intensity); }

}  // namespace

double HybridMatchFactor(std::span<const NominalPeak> query, int query_mass,
                         std::span<const NominalPeak> library, int library_mass) {
  if (query.empty() || library.empty()) return 0;
  const int d = query_mass - library_mass;

  // Dense weight arrays over the m/z range of both spectra; outside it every weight is 0.
  const int lo = std::min<int>(query.front().mz, library.front().mz);
  const int hi = std::max<int>(query.back().mz, library.back().mz);
  const auto n = static_cast<std::size_t>(hi - lo) + 1;
  std::vector<double> wq(n, 0.0);
  std::vector<double> wl(n, 0.0);
  double norm_q = 0;
  double norm_l = 0;
  for (const NominalPeak& p : query) {
    const double w = Weight(p.mz, p.intensity);
    wq[static_cast<std::size_t>(p.mz - lo)] = w;
    norm_q += w * w;
  }
  for (const NominalPeak& p : library) {
    const double w = Weight(p.mz, p.intensity);
    wl[static_cast<std::size_t>(p.mz - lo)] = w;
    norm_l += w * w;
  }
  if (!(norm_q > 0) || !(norm_l > 0)) return 0;
  const auto q_at = [&](int mz) { return (mz < lo || mz > hi) ? 0.0 : wq[mz - lo]; };
  const auto l_at = [&](int mz) { return (mz < lo || mz > hi) ? 0.0 : wl[mz - lo]; };

  double dot = 0;
  const int step = std::abs(d);
  if (step == 0 || step > hi - lo) {  // no shifted pair can lie inside the range
    for (int mz = lo; mz <= hi; ++mz) dot += q_at(mz) * l_at(mz);
  } else {
    // Library peak L(m) may pair with Q(m) (direct) or Q(m + d) (shifted). Each peak has at
    // most these two partners, so the candidate pairs form one path per residue of m modulo
    // |d|: for d > 0 ... Q(m) - L(m) - Q(m+d) - L(m+d) ..., for d < 0 ... L(m) - Q(m) -
    // L(m+|d|) - Q(m+|d|) .... The best pairing is a maximum-weight matching on each path:
    // choose non-adjacent edges of largest total weight (best[i] = max(best[i-1],
    // best[i-2] + edge[i])), exact in one pass.
    for (int residue = 0; residue < step; ++residue) {
      const int first = lo + ((residue - lo) % step + step) % step;
      double best_prev2 = 0;  // best over the edges before the previous one
      double best_prev = 0;   // best over the edges so far
      const auto add_edge = [&](double weight) {
        const double best = std::max(best_prev, best_prev2 + weight);
        best_prev2 = best_prev;
        best_prev = best;
      };
      for (int m = first; m <= hi; m += step) {
        // Edges along the path in order: the direct pair at m, then the shifted pair that
        // links m to m + |d|.
        add_edge(q_at(m) * l_at(m));
        add_edge(d > 0 ? l_at(m) * q_at(m + d) : q_at(m) * l_at(m + step));
      }
      dot += best_prev;
    }
  }
  const double cos2 = (dot * dot) / (norm_q * norm_l);
  return std::clamp(999.0 * cos2, 0.0, 999.0);
}

NominalSpectrum NeutralLossSpectrum(std::span<const NominalPeak> s, int mass) {
  NominalSpectrum out;
  for (auto it = s.rbegin(); it != s.rend(); ++it) {  // descending m/z = ascending loss
    if (it->mz >= mass) continue;
    const int loss = mass - it->mz;
    if (loss > kMaxNominalMz) break;
    out.push_back({static_cast<std::uint16_t>(loss), it->intensity});
  }
  float base = 0;
  for (const NominalPeak& p : out) base = std::max(base, p.intensity);
  if (!(base > 0)) return {};
  for (NominalPeak& p : out) p.intensity = p.intensity / base * 999.0f;
  return out;
}

}  // namespace sentinel::spectra
