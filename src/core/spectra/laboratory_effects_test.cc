#include "core/spectra/laboratory_effects.h"

#include <gtest/gtest.h>

#include <vector>

namespace sentinel::spectra {
namespace {

// The fit is the minimum of sum (theta + beta - score)^2 + ridge * sum beta^2: its gradient
// vanishes in every compound and every laboratory.
void ExpectStationary(const std::vector<LaboratoryObservation>& obs, const LaboratoryEffects& e,
                      double ridge) {
  std::vector<double> by_compound(e.compound.size(), 0.0), by_laboratory(e.laboratory.size(), 0.0);
  for (const auto& o : obs) {
    const double residual = e.compound[o.compound] + e.laboratory[o.laboratory] - o.score;
    by_compound[o.compound] += residual;
    by_laboratory[o.laboratory] += residual;
  }
  for (double g : by_compound) EXPECT_NEAR(g, 0.0, 1e-6);
  for (std::size_t l = 0; l < by_laboratory.size(); ++l) {
    EXPECT_NEAR(by_laboratory[l] + ridge * e.laboratory[l], 0.0, 1e-6);
  }
}

// Laboratory 0 measured the query's instrument's way: its spectra of compounds 0 and 1 both
// score high. Laboratory 1 measured compounds 0 and 2, and on its instrument compound 2 beats
// compound 0 by 49. The fit finds laboratory 0's effect from compound 0 and ranks compound 2
// first; a large ridge denies laboratories any effect and gives back the scores' order.
TEST(LaboratoryEffects, SameLaboratoryComparisonsDecide) {
  const std::vector<LaboratoryObservation> obs = {
      {0, 0, 946}, {0, 1, 829}, {1, 0, 941}, {2, 1, 878}};
  for (double ridge : {0.05, 0.25, 0.5}) {
    const LaboratoryEffects e = FitLaboratoryEffects(obs, 3, 2, ridge);
    ExpectStationary(obs, e, ridge);
    EXPECT_GT(e.compound[2], e.compound[0]) << ridge;
    EXPECT_GT(e.compound[2], e.compound[1]) << ridge;
    EXPECT_GT(e.laboratory[0], e.laboratory[1]) << ridge;
  }
  // Solved by hand for ridge 0.25: compounds 1 and 2 fit exactly, beta_0 = -beta_1 = 46.8.
  const LaboratoryEffects e = FitLaboratoryEffects(obs, 3, 2, 0.25);
  EXPECT_NEAR(e.laboratory[0], 46.8, 1e-6);
  EXPECT_NEAR(e.compound[0], 887.5, 1e-6);
  EXPECT_NEAR(e.compound[2], 924.8, 1e-6);
  const LaboratoryEffects trusting = FitLaboratoryEffects(obs, 3, 2, 1e4);
  ExpectStationary(obs, trusting, 1e4);
  EXPECT_GT(trusting.compound[1], trusting.compound[0]);
  EXPECT_GT(trusting.compound[0], trusting.compound[2]);
}

// Without a compound shared between laboratories there is nothing to estimate an effect from:
// the ridge keeps every effect at 0 and each compound keeps its own score.
TEST(LaboratoryEffects, NoSharedCompoundLeavesScoresAlone) {
  const std::vector<LaboratoryObservation> obs = {{0, 0, 920}, {1, 1, 910}, {2, 0, 900}};
  const LaboratoryEffects e = FitLaboratoryEffects(obs, 4, 2, 1.0);
  ExpectStationary(obs, e, 1.0);
  // One laboratory's compounds keep their order and differences whatever its effect.
  EXPECT_NEAR(e.compound[0] - e.compound[2], 20.0, 1e-6);
  EXPECT_GT(e.compound[0], e.compound[2]);
  EXPECT_DOUBLE_EQ(e.compound[3], 0.0);  // no observations
}

// A compound measured by several laboratories is its mean score once their effects are out;
// with one laboratory only, the effect is a shared shift and the order is the scores' order.
TEST(LaboratoryEffects, OneLaboratoryKeepsTheScoresOrder) {
  const std::vector<LaboratoryObservation> obs = {{0, 0, 700}, {1, 0, 900}, {2, 0, 800}};
  const LaboratoryEffects e = FitLaboratoryEffects(obs, 3, 1, 1.0);
  ExpectStationary(obs, e, 1.0);
  EXPECT_GT(e.compound[1], e.compound[2]);
  EXPECT_GT(e.compound[2], e.compound[0]);
  EXPECT_NEAR(e.compound[1] - e.compound[0], 200.0, 1e-6);
}

TEST(LaboratoryEffects, EmptyInput) {
  const LaboratoryEffects e = FitLaboratoryEffects({}, 2, 1, 1.0);
  EXPECT_EQ(e.compound, std::vector<double>({0.0, 0.0}));
  EXPECT_EQ(e.laboratory, std::vector<double>({0.0}));
}

}  // namespace
}  // namespace sentinel::spectra
