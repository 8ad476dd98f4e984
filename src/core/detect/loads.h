// Continuous series: wastewater loads (mg per 1000 people per day) judged as measurements, not
// as counts (docs/detect.md, "Wastewater loads").
//
// A load series has a value only where a sample was measured; a step without one is missing
// (NaN in `CountSeries::observed`), not zero, and a load of 0 means the analyte was measured and
// not found. Loads vary multiplicatively (catchment flow, dilution, the analytical method's
// relative error), so they are judged on the log10 scale: each measured load x becomes
// log10(max(x, load_floor) / load_floor), the EARS statistic of `ears` (C1, C2 or C3, as R's earsC)
// runs over the measured steps only — its baseline is the last `baseline` measurements, however far
// apart — and the baseline's mean and the bound are turned back into loads. `expected` is therefore
// the baseline's geometric mean and `upperbound` a load; an alarm is a load above it (`min_sigma`
// is on the log10 scale). Measuring from the floor keeps every value at 0 or more, so C3's floor on
// its bound (R's 0, for counts) is the load floor. Unmeasured steps are not judged. Each judgement
// depends only on the step and the measurements before it, so appending measurements never changes
// an earlier judgement. Pure; thread-safe.
#pragma once

#include <vector>

#include "core/common/status.h"
#include "core/detect/detection.h"
#include "core/detect/ears.h"

namespace sentinel::detect {

struct LoadOptions {
  EarsOptions ears;
  // Loads below it (0 included: measured, not found) are taken as it, so that the logarithm
  // exists. Well below the loads programmes report for drugs (methamphetamine hundreds,
  // fentanyl tenths to tens of mg/1000 people/day); > 0.
  double load_floor = 0.001;
};

Status ValidateLoadOptions(const LoadOptions& options);

// One Judgement per step of `loads` (NaN: not measured), in order; unmeasured steps keep
// `observed` NaN and are not judged. InvalidArgument for bad options, a negative or infinite
// load, or times and loads of different lengths.
Result<std::vector<Judgement>> JudgeLoads(const CountSeries& loads, const LoadOptions& options);

}  // namespace sentinel::detect
