#include "core/spectra/laboratory_effects.h"

#include <algorithm>
#include <cmath>

namespace sentinel::spectra {

// Block coordinate descent: each step solves exactly for all theta given beta, then for all
// beta given theta. The objective is convex and strictly so in beta (the ridge) and in each
// observed theta, so the steps converge to its minimum; leading hits number at most a few
// tens, so a step costs next to nothing.
LaboratoryEffects FitLaboratoryEffects(std::span<const LaboratoryObservation> observations,
                                       std::size_t compounds, std::size_t laboratories,
                                       double ridge) {
  LaboratoryEffects effects;
  std::vector<double>& theta = effects.compound;
  std::vector<double>& beta = effects.laboratory;
  theta.assign(compounds, 0.0);
  beta.assign(laboratories, 0.0);
  std::vector<double> sum_compound(compounds), sum_laboratory(laboratories);
  std::vector<double> count_compound(compounds, 0.0), count_laboratory(laboratories, 0.0);
  for (const LaboratoryObservation& o : observations) {
    count_compound[o.compound] += 1;
    count_laboratory[o.laboratory] += 1;
  }
  constexpr int kMaxSteps = 1000;
  constexpr double kSettled = 1e-9;
  for (int step = 0; step < kMaxSteps; ++step) {
    std::fill(sum_compound.begin(), sum_compound.end(), 0.0);
    for (const LaboratoryObservation& o : observations) {
      sum_compound[o.compound] += o.score - beta[o.laboratory];
    }
    double change = 0;
    for (std::size_t x = 0; x < compounds; ++x) {
      if (count_compound[x] == 0) continue;
      const double next = sum_compound[x] / count_compound[x];
      change = std::max(change, std::abs(next - theta[x]));
      theta[x] = next;
    }
    std::fill(sum_laboratory.begin(), sum_laboratory.end(), 0.0);
    for (const LaboratoryObservation& o : observations) {
      sum_laboratory[o.laboratory] += o.score - theta[o.compound];
    }
    for (std::size_t l = 0; l < laboratories; ++l) {
      const double next = sum_laboratory[l] / (count_laboratory[l] + ridge);
      change = std::max(change, std::abs(next - beta[l]));
      beta[l] = next;
    }
    if (change < kSettled) break;
  }
  return effects;
}

}  // namespace sentinel::spectra
