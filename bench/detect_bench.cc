// EARS C1, C2, C3 and the negative-binomial CUSUM, each against the obvious baseline measured
// in the same run.
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
//
// CUSUM (GLR, R's glrnb defaults c.ARL 5, M -1): --cusum-series (default 20) series of
// --cusum-weeks (default 104) negative-binomial counts (dispersion 0.2, constant level between
// 1 and 20, an outbreak week now and then), judged with the level as mu0 and alpha 0.2 given, so
// that the chart alone is timed. Sentinel: detect::Cusum with ret "cases" (the upper bound
// searched by recomputing only the judged step's statistic). Baseline ("R's search"): what glrnb
// does for ret = "cases", the whole chart rerun over the segment for every candidate count.
// Statistic-only (ret "value") throughput is printed too. Bounds and alarms must be identical.
// --ears 0 skips the EARS part.
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

#include "core/detect/cusum.h"
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

detect::CountSeries IndexSeries(std::vector<double> counts) {
  detect::CountSeries s;
  s.observed = std::move(counts);
  for (std::size_t t = 0; t < s.observed.size(); ++t)
    s.time.push_back(static_cast<std::int64_t>(t));
  return s;
}

// glrnb's ret = "cases" search taken literally: for every step of a segment (the stretch after
// the last alarm), the count there is moved by one and the whole chart rerun over the segment
// until the alarm appears (or, at an alarm, disappears).
std::vector<std::optional<double>> RSearch(const std::vector<double>& x,
                                           const detect::CusumOptions& value_options) {
  std::vector<std::optional<double>> bounds(x.size());
  std::size_t start = 0;
  while (start < x.size()) {
    std::vector<double> seg(x.begin() + static_cast<std::ptrdiff_t>(start), x.end());
    const auto chart = [&](const std::vector<double>& counts) {
      const auto r = detect::Cusum(IndexSeries(counts), 0, value_options);
      std::size_t alarm_at = counts.size();
      for (std::size_t i = 0; i < counts.size(); ++i) {
        if (*r->judgements[i].alarm) {
          alarm_at = i;
          break;
        }
      }
      return alarm_at;
    };
    const std::size_t alarm_at = chart(seg);
    for (std::size_t pos = 0; pos < seg.size() && pos <= alarm_at; ++pos) {
      std::vector<double> my = seg;
      const bool got_alarm = alarm_at == pos;
      std::optional<double> found;
      if (got_alarm) {
        found = 0;
        while (my[pos] >= 1) {
          my[pos] -= 1;
          if (chart(my) > pos) {
            found = my[pos] + 1;
            break;
          }
        }
      } else {
        while (my[pos] <= value_options.xMax) {
          my[pos] += 1;
          if (chart(my) <= pos) {
            found = my[pos];
            break;
          }
        }
      }
      bounds[start + pos] = found;
    }
    start += alarm_at + 1;
  }
  return bounds;
}

int RunCusumBench(std::size_t series, std::size_t weeks) {
  std::printf("CUSUM benchmark (GLR, c.ARL 5): %zu series of %zu weeks, mu0 and alpha 0.2 given\n",
              series, weeks);
  std::mt19937_64 rng(20261123);
  std::uniform_real_distribution<double> level(1, 20);
  std::bernoulli_distribution outbreak(0.02);
  constexpr double kAlpha = 0.2;
  Clock::duration cases_time{}, value_time{}, search_time{};
  std::size_t alarms = 0, mismatches = 0;
  for (std::size_t k = 0; k < series; ++k) {
    const double mu = level(rng);
    std::vector<double> x(weeks);
    for (double& v : x) {
      const double mean = outbreak(rng) ? 3 * mu : mu;
      // Negative binomial as a gamma-mixed Poisson: variance mean + alpha mean^2.
      std::gamma_distribution<double> gamma(1 / kAlpha, mean * kAlpha);
      v = static_cast<double>(std::poisson_distribution<int>(gamma(rng))(rng));
    }
    detect::CusumOptions o;
    o.mu0 = mu;
    o.alpha = kAlpha;
    detect::CusumOptions value = o;
    value.ret = detect::CusumOptions::Ret::kValue;
    const detect::CountSeries s = IndexSeries(x);
    const auto t0 = Clock::now();
    const auto judged = detect::Cusum(s, 0, o);
    const auto t1 = Clock::now();
    const auto statistic_only = detect::Cusum(s, 0, value);
    const auto t2 = Clock::now();
    const auto reference = RSearch(x, value);
    const auto t3 = Clock::now();
    cases_time += t1 - t0;
    value_time += t2 - t1;
    search_time += t3 - t2;
    for (std::size_t t = 0; t < weeks; ++t) {
      const auto& j = judged->judgements[t];
      if (j.upperbound != reference[t] || j.alarm != statistic_only->judgements[t].alarm) {
        ++mismatches;
      }
      alarms += *j.alarm ? 1 : 0;
    }
  }
  const double steps = static_cast<double>(series * weeks);
  std::printf(
      "  GLR ret=cases  sentinel: %8.0f steps/s (%.2f s)   R's search: %8.0f steps/s (%.2f s)   "
      "ratio %.1fx   alarms %zu, mismatches %zu\n",
      steps / Seconds(cases_time), Seconds(cases_time), steps / Seconds(search_time),
      Seconds(search_time), Seconds(search_time) / Seconds(cases_time), alarms, mismatches);
  std::printf("  GLR ret=value  sentinel: %8.0f steps/s (%.2f s)\n", steps / Seconds(value_time),
              Seconds(value_time));
  return mismatches == 0 ? 0 : 1;
}

}  // namespace
}  // namespace sentinel::bench

int main(int argc, char** argv) {
  using namespace sentinel;
  std::size_t series = 100'000, weeks = 520, cusum_series = 20, cusum_weeks = 104;
  bool ears = true;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--series") == 0) series = std::strtoul(argv[i + 1], nullptr, 10);
    if (std::strcmp(argv[i], "--weeks") == 0) weeks = std::strtoul(argv[i + 1], nullptr, 10);
    if (std::strcmp(argv[i], "--cusum-series") == 0) {
      cusum_series = std::strtoul(argv[i + 1], nullptr, 10);
    }
    if (std::strcmp(argv[i], "--cusum-weeks") == 0) {
      cusum_weeks = std::strtoul(argv[i + 1], nullptr, 10);
    }
    if (std::strcmp(argv[i], "--ears") == 0) ears = std::strcmp(argv[i + 1], "0") != 0;
  }
  const detect::EarsMethod methods[] = {detect::EarsMethod::kC1, detect::EarsMethod::kC2,
                                        detect::EarsMethod::kC3};
  if (ears) {
    std::printf("EARS benchmark: %zu weekly series of %zu weeks, alpha 0.001\n", series, weeks);
  }
  int status = 0;
  for (int baseline : {7, 28}) {
    if (!ears) break;
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
  if (bench::RunCusumBench(cusum_series, cusum_weeks) != 0) status = 1;
  return status;
}
