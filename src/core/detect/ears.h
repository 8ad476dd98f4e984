// EARS C1, C2, C3: the CDC's Early Aberration Reporting System detectors, computed exactly as
// R surveillance 1.20.3 `earsC()` computes them (docs/detect.md gives the formulae).
//
// Ears judges every time step of a series that has enough baseline behind it and says nothing
// (empty optionals) about the steps before: C1 needs `baseline` earlier steps, C2 `baseline + 2`,
// C3 `baseline + 4`. `expected` is the baseline mean (R returns none; it is what the bound is
// built around). A step whose bound R computes as NaN (C3 over a baseline of constant counts
// with min_sigma 0, where the C2 statistic is 0/0 or x/0) is not judged either: no upperbound,
// no alarm, as R's NA. Pure function; safe to call from any thread.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "core/common/status.h"
#include "core/detect/detection.h"

namespace sentinel::detect {

enum class EarsMethod { kC1, kC2, kC3 };

std::string_view EarsMethodName(EarsMethod method);  // "C1", "C2", "C3"

// Parameters, named as R's control list.
struct EarsOptions {
  EarsMethod method = EarsMethod::kC1;
  int baseline = 7;      // control$baseline: steps in the reference window; at least 3
  double min_sigma = 0;  // control$minSigma: floor on the baseline standard deviation; >= 0
  double alpha = 0.001;  // control$alpha: one-sided level; 0 < alpha < 1. R's own default for
                         // C3 when a control list omits alpha is 0.025; Sentinel asks for it.
};

// InvalidArgument naming the parameter when options break R's preconditions.
Status ValidateEarsOptions(const EarsOptions& options);

// One Judgement per step of `series`, in order. InvalidArgument for bad options or when
// `series.time` and `series.observed` differ in length.
Result<std::vector<Judgement>> Ears(const CountSeries& series, const EarsOptions& options);

}  // namespace sentinel::detect
