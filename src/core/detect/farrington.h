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
#include <cstdint>
#include <mutex>
#include <optional>
#include <unordered_map>
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

// The fitted models of judged steps, kept by what a fit depends on: the step's reference
// counts, its position, the frequency and the options (a 128-bit digest of them). A step's
// model never sees its own count or the weeks just before it (pastWeeksNotIncluded), so a
// series judged again after only its latest counts changed, as live detection does whenever a
// report arrives, costs a lookup per step instead of a fit; its judgements are the same as
// without the memo. Thread-safe; forgets everything once it holds `capacity` models.
class FarringtonMemo {
 public:
  explicit FarringtonMemo(std::size_t capacity = 200'000) : capacity_(capacity) {}
  std::uint64_t hits() const;
  std::uint64_t misses() const;

  // What a step's judgement needs of its model: the linear predictor, its standard error and
  // the dispersion; empty where no model could be fitted.
  struct StepFit {
    double eta = 0;
    double se_eta = 0;
    double phi = 0;
  };
  struct Digest {
    std::uint64_t a = 0, b = 0;
    bool operator==(const Digest&) const = default;
  };
  std::optional<std::optional<StepFit>> Find(const Digest& key);
  void Keep(const Digest& key, const std::optional<StepFit>& fit);

 private:
  struct DigestHash {
    std::size_t operator()(const Digest& d) const { return static_cast<std::size_t>(d.a ^ d.b); }
  };
  std::size_t capacity_;
  mutable std::mutex mu_;
  std::unordered_map<Digest, std::optional<StepFit>, DigestHash> fits_;
  std::uint64_t hits_ = 0, misses_ = 0;
};

// Judges the steps [first, last) of `series` (positions, not time labels), one Judgement each,
// in order. A step gets nothing (no expected, upperbound or alarm) where R's farringtonFlexible
// cannot judge it: fewer than frequency*b + w earlier steps, or a model fit that does not
// converge. Where the reporting minimum (limit54) is not met, R's convention is kept: alarm is
// false and expected and upperbound are empty. Otherwise alarm is R's: the score exceeds 1 and
// the count is not zero.
// REQUIRES: first <= last <= series.observed.size(); counts >= 0; !populationOffset.
std::vector<Judgement> Farrington(const CountSeries& series, std::size_t first, std::size_t last,
                                  const FarringtonOptions& options, FarringtonMemo* memo = nullptr);

// R's default range: every step from position frequency*b + w on.
std::vector<Judgement> Farrington(const CountSeries& series, const FarringtonOptions& options);

}  // namespace sentinel::detect
