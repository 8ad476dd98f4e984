#include "core/detect/ears.h"

#include <fmt/format.h>

#include <boost/math/distributions/normal.hpp>
#include <cmath>
#include <limits>

namespace sentinel::detect {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// R's pmax(a, b) for one pair: NaN in either argument wins, where std::max would drop it
// depending on argument order. The NaNs carry R's "cannot judge" through C3.
double PMax(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) return kNaN;
  return a > b ? a : b;
}

// Mean and standard deviation (n - 1 denominator, as R's sd) of the `baseline` steps ending
// `lag` steps before each step s; NaN where the window would start before the series.
struct WindowStats {
  std::vector<double> mean, sd;
};

// Integer counts keep n * sum(x^2) - sum(x)^2 exact in a double while it stays below 2^53, so
// rolling sums give the variance with one rounding (R's two-pass is within an ulp of it).
// Fractional or huge counts would lose digits to cancellation there: recompute those windows.
bool ExactRollingSums(const std::vector<double>& x, int baseline) {
  double max_abs = 0;
  for (double v : x) {
    if (!std::isfinite(v) || v != std::floor(v)) return false;
    max_abs = std::max(max_abs, std::fabs(v));
  }
  const double n = baseline;
  return n * n * max_abs * max_abs < 0x1p52;
}

WindowStats Windows(const std::vector<double>& x, int baseline, int lag) {
  const std::size_t size = x.size();
  const auto b = static_cast<std::size_t>(baseline);
  const auto l = static_cast<std::size_t>(lag);
  WindowStats w{std::vector<double>(size, kNaN), std::vector<double>(size, kNaN)};
  if (size < b + l) return w;
  const double n = baseline;
  if (ExactRollingSums(x, baseline)) {
    double sum = 0, sum_sq = 0;
    for (std::size_t i = 0; i < b; ++i) {
      sum += x[i];
      sum_sq += x[i] * x[i];
    }
    // Window of step s is x[s-lag-b+1 .. s-lag]; the first one ends at b-1, for s = b-1+lag.
    for (std::size_t s = b - 1 + l; s < size; ++s) {
      if (s > b - 1 + l) {
        const double in = x[s - l], out = x[s - l - b];
        sum += in - out;
        sum_sq += in * in - out * out;
      }
      w.mean[s] = sum / n;
      w.sd[s] = std::sqrt((n * sum_sq - sum * sum) / (n * (n - 1)));
    }
    return w;
  }
  for (std::size_t s = b - 1 + l; s < size; ++s) {
    const std::size_t first = s + 1 - l - b;
    double sum = 0;
    for (std::size_t i = first; i < first + b; ++i) sum += x[i];
    const double mean = sum / n;
    double ss = 0;
    for (std::size_t i = first; i < first + b; ++i) ss += (x[i] - mean) * (x[i] - mean);
    w.mean[s] = mean;
    w.sd[s] = std::sqrt(ss / (n - 1));
  }
  return w;
}

}  // namespace

std::string_view EarsMethodName(EarsMethod method) {
  switch (method) {
    case EarsMethod::kC1:
      return "C1";
    case EarsMethod::kC2:
      return "C2";
    case EarsMethod::kC3:
      return "C3";
  }
  return "?";
}

Status ValidateEarsOptions(const EarsOptions& options) {
  if (options.baseline < 3) {
    return Status::InvalidArgument(
        fmt::format("baseline must be at least 3 (got {})", options.baseline));
  }
  if (!(options.min_sigma >= 0) || !std::isfinite(options.min_sigma)) {
    return Status::InvalidArgument(
        fmt::format("min-sigma must be 0 or more (got {})", options.min_sigma));
  }
  if (!(options.alpha > 0 && options.alpha < 1)) {
    return Status::InvalidArgument(
        fmt::format("alpha must lie strictly between 0 and 1 (got {})", options.alpha));
  }
  return Status::Ok();
}

Result<std::vector<Judgement>> Ears(const CountSeries& series, const EarsOptions& options) {
  if (Status s = ValidateEarsOptions(options); !s.ok()) return s;
  if (series.time.size() != series.observed.size()) {
    return Status::InvalidArgument(fmt::format("series has {} times but {} counts",
                                               series.time.size(), series.observed.size()));
  }
  const std::vector<double>& x = series.observed;
  const std::size_t size = x.size();
  std::vector<Judgement> out(size);
  for (std::size_t t = 0; t < size; ++t) {
    out[t].time = series.time[t];
    out[t].observed = x[t];
  }
  // R: zAlpha <- qnorm(1 - alpha).
  const double z =
      boost::math::quantile(boost::math::normal_distribution<double>(), 1 - options.alpha);
  const double min_sigma = options.min_sigma;
  const auto b = static_cast<std::size_t>(options.baseline);

  if (options.method == EarsMethod::kC1) {
    const WindowStats w = Windows(x, options.baseline, 1);
    for (std::size_t t = b; t < size; ++t) {
      out[t].expected = w.mean[t];
      out[t].upperbound = w.mean[t] + z * PMax(w.sd[t], min_sigma);
    }
  } else {
    // C2 and C3 leave a guard band of two steps between the baseline and the step judged.
    const WindowStats w = Windows(x, options.baseline, 3);
    if (options.method == EarsMethod::kC2) {
      for (std::size_t t = b + 2; t < size; ++t) {
        out[t].expected = w.mean[t];
        out[t].upperbound = w.mean[t] + z * PMax(w.sd[t], min_sigma);
      }
    } else {
      // C3 adds to today's the excess (above 1) of the C2 statistic of the two previous steps;
      // as a bound on today's count this is R's
      //   observed + sigma * (zAlpha - (max(0, C2[t-2] - 1) + max(0, C2[t-1] - 1))),
      // floored at 0. It depends on today's count only through the floor.
      auto c2 = [&](std::size_t s) { return (x[s] - w.mean[s]) / PMax(w.sd[s], min_sigma); };
      for (std::size_t t = b + 4; t < size; ++t) {
        const double part2 = PMax(0, c2(t - 2) - 1);
        const double part1 = PMax(0, c2(t - 1) - 1);
        const double bound = PMax(0, x[t] + PMax(w.sd[t], min_sigma) * (z - (part2 + part1)));
        out[t].expected = w.mean[t];
        if (!std::isnan(bound)) out[t].upperbound = bound;
      }
    }
  }
  for (Judgement& j : out) {
    if (j.upperbound && std::isnan(*j.upperbound)) j.upperbound.reset();
    if (j.upperbound) j.alarm = j.observed > *j.upperbound;
  }
  return out;
}

}  // namespace sentinel::detect
