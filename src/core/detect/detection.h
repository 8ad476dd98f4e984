// Temporal aberration detection: the contract every count-series detector (EARS, Farrington,
// CUSUM) keeps.
//
// A detector reads one series of counts at regular time steps (weeks, or days) and, for each
// time it is asked about, answers what it expected there, the upper bound above which a count
// is an aberration, and whether the observed count exceeds it. Where the series is too short
// for the method to judge (not enough baseline), it says nothing: `expected`, `upperbound` and
// `alarm` stay empty. Detectors are pure functions of the counts and their parameters; they
// know nothing of reports, places or storage (series come from core/reports via the app).
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

namespace sentinel::detect {

// One series: counts at consecutive time steps. `time` labels the steps (a week index, or
// days since 1970-01-01); it carries no gaps — a missing step is a zero count.
struct CountSeries {
  std::vector<std::int64_t> time;
  std::vector<double> observed;
  int frequency = 52;  // steps per year: 52 weekly, 365 daily
};

// What a detector says about one time step.
struct Judgement {
  std::int64_t time = 0;
  double observed = 0;
  std::optional<double> expected;
  std::optional<double> upperbound;
  std::optional<bool> alarm;  // observed > upperbound (R surveillance's convention)
};

}  // namespace sentinel::detect
