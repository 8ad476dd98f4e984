// The negative-binomial CUSUM of Höhle and Paul (2008), as R's surveillance package (version
// 1.20.3) implements it in `glrnb` for a change in the intercept, upwards: the generalised
// likelihood ratio (GLR) detector, whose shift kappa is estimated at every step, and the CUSUM
// for a known shift (`theta`). docs/detect_cusum.md describes the method; test/cases/detect/
// cusum/ holds R's own results, which this implementation reproduces.
//
// The steps before `range_start` are the baseline: unless `mu0` is given, the in-control mean
// of every judged step is predicted by a log-linear model fitted there (R's
// estimateGLRNbHook: an intercept, `S` harmonics of the year and optionally a linear trend;
// MASS::glm.nb when the dispersion `alpha` is estimated, a negative-binomial GLM with
// theta = 1/alpha when it is given). The statistic then runs from `range_start` to the end and
// restarts from zero after each alarm (R's default, no refit).
//
// For each judged step: expected = mu0; upperbound = the smallest count at that step that
// would have raised the statistic to the threshold given the steps before it (R's upperbound
// with ret = "cases"); alarm as R's. The GLR alarms when the statistic reaches `c_ARL`
// (observed >= upperbound, counts being integers); the known-shift CUSUM alarms when it
// exceeds it (observed > upperbound, a real number). Steps before `range_start` say nothing.
// Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <optional>
#include <vector>

#include "core/common/status.h"
#include "core/detect/detection.h"

namespace sentinel::detect {

// Fields carry the names of R's `control` list; defaults are R's.
struct CusumOptions {
  double c_ARL = 5;  // control$c.ARL: the threshold of the statistic; > 0
  // control$mu0: the in-control mean, constant over the judged steps; empty: fitted on the
  // baseline (control$mu0 = list(S, trend), refit = FALSE).
  std::optional<double> mu0;
  int S = 1;           // control$mu0$S: pairs of yearly harmonics in the baseline model; >= 0
  bool trend = false;  // control$mu0$trend: a linear trend in the baseline model
  // control$alpha: the negative-binomial dispersion (variance mu + alpha mu^2); > 0. Empty:
  // 1/theta of glm.nb on the baseline (needs the fitted mu0). R's Poisson charts (alpha = 0)
  // are not implemented.
  std::optional<double> alpha;
  // control$theta: the known shift on the log scale (the CUSUM detects mu0 * exp(theta));
  // > 0. Empty: the GLR detector, which estimates it.
  std::optional<double> theta;
  int M = -1;  // control$M: GLR only; how far back a change may lie (-1: to the start)
  // control$Mtilde: GLR only; steps needed to estimate the shift; only R's default 1.
  int Mtilde = 1;
  int xMax = 10000;  // control$xMax: GLR only; largest count the upper bound is searched up to
  // control$ret: "cases" computes the upper bound (for the GLR a search costing several runs of
  // the statistic per step); "value" leaves it empty and reports only the statistic.
  enum class Ret { kCases, kValue } ret = Ret::kCases;
};

// InvalidArgument naming the parameter when options break R's preconditions or Sentinel's
// restrictions (alpha > 0, theta > 0, an upward change).
Status ValidateCusumOptions(const CusumOptions& options);

struct CusumResult {
  std::vector<Judgement> judgements;  // one per step of the series, in order
  // The statistic at each step (R's upperbound with ret = "value"); empty before range_start.
  std::vector<std::optional<double>> statistic;
  double alpha = 0;  // the dispersion used (given, or estimated)
  std::vector<double>
      baseline_coefficients;  // the baseline model (intercept, [trend], cos, sin, ...)
};

// Judges the steps [range_start, size) of `series` (positions; R's range is
// range_start+1 .. size, 1-based). InvalidArgument for bad options, counts that are not
// non-negative integers, a range_start that leaves no baseline to fit (when mu0 is fitted) or
// no step to judge, or a baseline the model cannot be fitted to (all zeros, say).
Result<CusumResult> Cusum(const CountSeries& series, std::size_t range_start,
                          const CusumOptions& options);

}  // namespace sentinel::detect
