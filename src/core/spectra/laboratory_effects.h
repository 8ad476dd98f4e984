// Compound scores with each contributing laboratory's effect taken out, for ordering hits that
// score nearly alike.
//
// Why. Spectra of one compound from two laboratories differ (tuning, source temperature,
// scan rate) often more than spectra of two positional isomers from one laboratory. A query
// from laboratory A then matches A's spectrum of an isomer better than B's spectrum of the
// compound itself: on SWGDRUG's cross-laboratory pairs, most top-1 errors of the plain match
// factor are of this kind (docs/identification.md). Two candidates measured by the same
// laboratory are compared free of that effect, and a library often holds several isomers
// from one laboratory and one compound from several.
//
// Model. score(compound X, laboratory L) = theta_X + beta_L + noise, observed for every
// compound and laboratory with a spectrum among the candidates (the best such spectrum's
// score). theta and beta minimise the squared residuals plus ridge * sum(beta_L^2): a
// laboratory's effect is estimated only as far as its spectra share compounds with other
// laboratories', and shrinks to 0 otherwise, where theta_X is then X's mean score. theta is
// on the scores' own scale.
//
// Contract. Pure and deterministic; compounds are 0..compounds-1 and laboratories
// 0..laboratories-1, every index in `observations` below those counts, ridge > 0. A compound
// without observations gets theta 0, a laboratory without them beta 0. At most one observation per
// (compound, laboratory).
#pragma once

#include <cstddef>
#include <span>
#include <vector>

namespace sentinel::spectra {

struct LaboratoryObservation {
  std::size_t compound = 0;
  std::size_t laboratory = 0;
  double score = 0;
};

struct LaboratoryEffects {
  std::vector<double> compound;    // theta, by compound
  std::vector<double> laboratory;  // beta, by laboratory
};

LaboratoryEffects FitLaboratoryEffects(std::span<const LaboratoryObservation> observations,
                                       std::size_t compounds, std::size_t laboratories,
                                       double ridge);

}  // namespace sentinel::spectra
