// The Farrington family of temporal aberration detectors, as R's surveillance package
// (version 1.20.3) implements them in `farringtonFlexible`: the original method of Farrington
// et al. (1996) and the improved one of Noufaily et al. (2013). docs/detect_farrington.md
// describes the model; test/cases/detect/farrington/ holds R's own results, which this
// implementation reproduces.
//
// For each time asked about, a quasi-Poisson log-linear model is fitted to the counts of the
// same season in the `b` previous years (the original method: `w` steps either side; the
// improved one: the whole past cut into `noPeriods` seasonal blocks), down-weighting past
// outbreaks by their Anscombe residuals and keeping a linear trend only when it is significant
// and does not extrapolate; the upper bound is a quantile of the predicted count's
// distribution. Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <optional>
#include <vector>

#include "core/detect/detection.h"

namespace sentinel::detect {

enum class PowerTransform { kNone, kHalf, kTwoThirds };   // R's powertrans "none", "1/2", "2/3"
enum class ThresholdMethod { kDelta, kNbPlugin, kMuan };  // R's thresholdMethod

// Fields carry the names of R's `control` list, so that a setting reads the same here, in R
// and in the literature; defaults are R's (see the presets for the two published methods).
struct FarringtonOptions {
  int b = 5;  // years back
  int w = 3;  // half-window, in time steps
  bool reweight = true;
  double weightsThreshold = 2.58;  // Anscombe residuals above it are down-weighted
  double alpha = 0.05;
  bool trend = true;
  double pThresholdTrend = 0.05;
  // Reporting minimum: no upper bound and no alarm unless the last `weeks` steps (the judged
  // one included) hold at least `cases` counts.
  struct Limit54 {
    double cases = 5;
    int weeks = 4;
  } limit54;
  PowerTransform powertrans = PowerTransform::kTwoThirds;  // kDelta only
  bool populationOffset = false;  // CountSeries has no population; must stay false
  int noPeriods = 1;  // 1: the original windows; >1: seasonal factor with that many levels
  std::optional<int> pastWeeksNotIncluded;  // empty: w
  ThresholdMethod thresholdMethod = ThresholdMethod::kDelta;
};

// Farrington et al. (1996): b=5, w=3, noPeriods=1, weightsThreshold=1, pastWeeksNotIncluded=w,
// pThresholdTrend=0.05, thresholdMethod=delta, powertrans=2/3, alpha=0.05.
FarringtonOptions FarringtonOriginal();
// Noufaily et al. (2013): b=5, w=3, noPeriods=10, weightsThreshold=2.58,
// pastWeeksNotIncluded=26, pThresholdTrend=1, thresholdMethod=nbPlugin, alpha=0.05.
FarringtonOptions Noufaily();

// Judges the steps [first, last) of `series` (positions, not time labels), one Judgement each,
// in order. A step gets nothing (no expected, upperbound or alarm) where R's farringtonFlexible
// cannot judge it: fewer than frequency*b + w earlier steps, or a model fit that does not
// converge. Where the reporting minimum (limit54) is not met, R's convention is kept: alarm is
// false and expected and upperbound are empty. Otherwise alarm is R's: the score exceeds 1 and
// the count is not zero.
// REQUIRES: first <= last <= series.observed.size(); counts >= 0; !populationOffset.
std::vector<Judgement> Farrington(const CountSeries& series, std::size_t first, std::size_t last,
                                  const FarringtonOptions& options);

// R's default range: every step from position frequency*b + w on.
std::vector<Judgement> Farrington(const CountSeries& series, const FarringtonOptions& options);

}  // namespace sentinel::detect
