// EARS C1, C2, C3 throughput against the obvious baseline measured in the same run.
//
// Baselines 7 (R's default) and 28: the naive cost grows with the window, the rolling one not.
//
// Series: --series (default 100,000) weekly series of --weeks (default 520) counts, Poisson
// with a seasonal mean between 0.5 and 40 and the occasional outbreak, generated one at a time
// from a fixed seed (so memory stays flat).
//
// Sentinel: detect::Ears (window mean and variance from rolling sums). Baseline ("naive"): R's
// formula taken literally, the mean and standard deviation recomputed from the whole window at
// every step, as earsC() does with apply(refVals, 1, mean) and sd. Both must agree: the run
// fails if any bound differs by more than 1e-9 (relative) or any alarm differs.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <boost/math/distributions/normal.hpp>

#include "core/detect/ears.h"

namespace sentinel::bench {
namespace {

using Clock = std::chrono::steady_clock;
double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

struct Bound {
  std::optional<double> upperbound;
  std::optional<bool> alarm;
};

// earsC() as written in R: every window from scratch.
std::vector<Bound> Naive(const std::vector<double>& x, detect::EarsMethod method, int baseline,
                         double alpha) {
  const double z = boost::math::quantile(boost::math::normal_distribution<double>(), 1 - alpha);
  const int n = static_cast<int>(x.size());
  auto stats = [&](int s) {  // window ending 3 steps before s (C2, C3)
    double sum = 0;
    for (int i = s - baseline - 2; i <= s - 3; ++i) sum += x[i];
    const double mean = sum / baseline;
    double ss = 0;
    for (int i = s - baseline - 2; i <= s - 3; ++i) ss += (x[i] - mean) * (x[i] - mean);
    return std::pair{mean, std::sqrt(ss / (baseline - 1))};
  };
  std::vector<Bound> out(x.size());
  for (int t = 0; t < n; ++t) {
    double bound = NAN;
    if (method == detect::EarsMethod::kC1 && t >= baseline) {
      double sum = 0;
      for (int i = t - baseline; i < t; ++i) sum += x[i];
      const double mean = sum / baseline;
      double ss = 0;
      for (int i = t - baseline; i < t; ++i) ss += (x[i] - mean) * (x[i] - mean);
      bound = mean + z * std::sqrt(ss / (baseline - 1));
    } else if (method == detect::EarsMethod::kC2 && t >= baseline + 2) {
      const auto [mean, sd] = stats(t);
      bound = mean + z * sd;
    } else if (method == detect::EarsMethod::kC3 && t >= baseline + 4) {
      const auto [m2, s2] = stats(t - 2);
      const auto [m1, s1] = stats(t - 1);
      const auto [m0, s0] = stats(t);
      (void)m0;
      const double e2 = (x[t - 2] - m2) / s2 - 1, e1 = (x[t - 1] - m1) / s1 - 1;
      if (std::isnan(e2) || std::isnan(e1)) {
        bound = NAN;
      } else {
        bound = x[t] + s0 * (z - (std::max(0.0, e2) + std::max(0.0, e1)));
        if (!std::isnan(bound)) bound = std::max(0.0, bound);
      }
    }
    if (!std::isnan(bound)) out[t] = {bound, x[t] > bound};
  }
  return out;
}

void Generate(std::mt19937_64& rng, std::vector<double>& x) {
  std::uniform_real_distribution<double> level(0.5, 40), phase(0, 6.283185307179586);
  const double base = level(rng), shift = phase(rng);
  std::bernoulli_distribution outbreak(0.01);
  for (std::size_t t = 0; t < x.size(); ++t) {
    double mean =
        base * (1 + 0.5 * std::sin(6.283185307179586 * static_cast<double>(t) / 52.0 + shift));
    if (outbreak(rng)) mean *= 4;
    x[t] = static_cast<double>(std::poisson_distribution<int>(mean)(rng));
  }
}

}  // namespace
}  // namespace sentinel::bench

int main(int argc, char** argv) {
  using namespace sentinel;
  std::size_t series = 100'000, weeks = 520;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--series") == 0) series = std::strtoul(argv[i + 1], nullptr, 10);
    if (std::strcmp(argv[i], "--weeks") == 0) weeks = std::strtoul(argv[i + 1], nullptr, 10);
  }
  const detect::EarsMethod methods[] = {detect::EarsMethod::kC1, detect::EarsMethod::kC2,
                                        detect::EarsMethod::kC3};
  std::printf("EARS benchmark: %zu weekly series of %zu weeks, alpha 0.001\n", series, weeks);
  int status = 0;
  for (int baseline : {7, 28}) {
    for (detect::EarsMethod method : methods) {
      std::mt19937_64 rng(20261123);
      detect::CountSeries s;
      s.observed.resize(weeks);
      for (std::size_t t = 0; t < weeks; ++t) s.time.push_back(static_cast<std::int64_t>(t));
      bench::Clock::duration fast{}, naive{};
      std::size_t alarms = 0, mismatches = 0;
      for (std::size_t k = 0; k < series; ++k) {
        bench::Generate(rng, s.observed);
        const auto t0 = bench::Clock::now();
        const auto judged = detect::Ears(s, {.method = method, .baseline = baseline});
        const auto t1 = bench::Clock::now();
        const auto reference = bench::Naive(s.observed, method, baseline, 0.001);
        const auto t2 = bench::Clock::now();
        fast += t1 - t0;
        naive += t2 - t1;
        for (std::size_t t = 0; t < weeks; ++t) {
          const auto& a = (*judged)[t];
          const auto& b = reference[t];
          const bool same = a.alarm == b.alarm &&
                            a.upperbound.has_value() == b.upperbound.has_value() &&
                            (!a.upperbound || std::fabs(*a.upperbound - *b.upperbound) <=
                                                  1e-9 * std::max(1.0, *b.upperbound));
          if (!same) ++mismatches;
          alarms += a.alarm.value_or(false) ? 1 : 0;
        }
      }
      const double steps = static_cast<double>(series * weeks);
      std::printf(
          "  %s baseline %2d  sentinel: %6.1f M steps/s (%.2f s)   naive: %6.1f M steps/s (%.2f s) "
          "  "
          "ratio %.1fx   alarms %zu, mismatches %zu\n",
          std::string(detect::EarsMethodName(method)).c_str(), baseline,
          steps / bench::Seconds(fast) / 1e6, bench::Seconds(fast),
          steps / bench::Seconds(naive) / 1e6, bench::Seconds(naive),
          bench::Seconds(naive) / bench::Seconds(fast), alarms, mismatches);
      if (mismatches) status = 1;
    }
  }
  return status;
}
