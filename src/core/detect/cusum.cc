#include "core/detect/cusum.h"

#include <fmt/format.h>

#include <Eigen/Dense>
#include <boost/math/special_functions/digamma.hpp>
#include <boost/math/special_functions/trigamma.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <utility>

// Each step names the R function it reproduces (surveillance 1.20.3, MASS 7.3, stats of R 4.2).
// Arithmetic follows R's and the package's C code term by term where the order could change a
// result near the threshold (the Newton steps of the GLR, its warm starts, the search for the
// upper bound).

namespace sentinel::detect {
namespace {

constexpr double kDoubleEps = std::numeric_limits<double>::epsilon();

// The baseline model's design row at 1-based time t (model.matrix of estimateGLRNbHook's
// formula y ~ 1 [+ t] + cos(2*s*pi/p*t) + sin(2*s*pi/p*t), s = 1..S).
Eigen::RowVectorXd DesignRow(double t, int frequency, const CusumOptions& o) {
  Eigen::RowVectorXd row(1 + (o.trend ? 1 : 0) + 2 * o.S);
  Eigen::Index col = 0;
  row(col++) = 1;
  if (o.trend) row(col++) = t;
  const auto p = static_cast<double>(frequency);
  for (int s = 1; s <= o.S; ++s) {
    const double omega = 2 * static_cast<double>(s) * std::numbers::pi / p;
    row(col++) = std::cos(omega * t);
    row(col++) = std::sin(omega * t);
  }
  return row;
}

// theta = +inf is the Poisson family (glm.nb's first fit).
double Deviance(const Eigen::VectorXd& y, const Eigen::VectorXd& mu, double theta) {
  double dev = 0;
  for (Eigen::Index i = 0; i < y.size(); ++i) {
    if (std::isinf(theta)) {
      dev += 2 * (y(i) > 0 ? y(i) * std::log(y(i) / mu(i)) - (y(i) - mu(i)) : mu(i));
    } else {
      dev += 2 * (y(i) * std::log(std::max(1.0, y(i)) / mu(i)) -
                  (y(i) + theta) * std::log((y(i) + theta) / (mu(i) + theta)));
    }
  }
  return dev;
}

struct GlmFit {
  Eigen::VectorXd beta;
  Eigen::VectorXd mu;
  int df_residual = 0;
};

// stats::glm.fit with log link, variance mu + mu^2/theta, unit prior weights; starts from
// `eta`. Convergence as R's: relative change of the deviance below 1e-8, at most 25 iterations
// (R warns and keeps the last fit; so does this).
std::optional<GlmFit> FitGlm(const Eigen::MatrixXd& x, const Eigen::VectorXd& y,
                             Eigen::VectorXd eta, double theta) {
  constexpr double kEpsilon = 1e-8;
  constexpr int kMaxIt = 25;
  const Eigen::Index n = x.rows();
  const Eigen::Index cols = x.cols();
  if (n <= cols) return std::nullopt;
  Eigen::VectorXd mu = eta.array().exp().max(kDoubleEps).matrix();
  double devold = Deviance(y, mu, theta);
  Eigen::MatrixXd xw(n, cols);
  Eigen::VectorXd zw(n);
  GlmFit fit;
  for (int iter = 1; iter <= kMaxIt; ++iter) {
    for (Eigen::Index i = 0; i < n; ++i) {
      const double mu_eta = std::max(std::exp(eta(i)), kDoubleEps);
      const double variance = std::isinf(theta) ? mu(i) : mu(i) + mu(i) * mu(i) / theta;
      const double z = eta(i) + (y(i) - mu(i)) / mu_eta;
      const double w = std::sqrt(mu_eta * mu_eta / variance);
      xw.row(i) = x.row(i) * w;
      zw(i) = z * w;
    }
    const Eigen::HouseholderQR<Eigen::MatrixXd> qr(xw);
    const Eigen::MatrixXd r = qr.matrixQR().topLeftCorner(cols, cols);
    const double rmax = r.diagonal().cwiseAbs().maxCoeff();
    // Cdqrls would pivot an aliased column out; a baseline that aliases the harmonics (too
    // short for them) cannot give a prediction here.
    if (!(r.diagonal().cwiseAbs().minCoeff() > 1e-7 * rmax)) return std::nullopt;
    fit.beta = qr.solve(zw);
    eta = x * fit.beta;
    mu = eta.array().exp().max(kDoubleEps).matrix();
    const double dev = Deviance(y, mu, theta);
    if (!std::isfinite(dev)) return std::nullopt;  // glm.fit would halve the step
    if (std::abs(dev - devold) / (std::abs(dev) + 0.1) < kEpsilon) break;
    devold = dev;
  }
  fit.mu = mu;
  fit.df_residual = static_cast<int>(n - cols);
  return fit;
}

// MASS::theta.ml: Newton's method on the profile score of theta, from the moment estimate.
std::optional<double> ThetaMl(const Eigen::VectorXd& y, const Eigen::VectorXd& mu) {
  constexpr int kLimit = 25;  // glm.nb passes control$maxit
  const double eps = std::pow(kDoubleEps, 0.25);
  const auto n = static_cast<double>(y.size());
  double t0 = 0;
  {
    double sum = 0;
    for (Eigen::Index i = 0; i < y.size(); ++i) sum += std::pow(y(i) / mu(i) - 1, 2);
    t0 = n / sum;
  }
  int it = 0;
  double del = 1;
  while (++it < kLimit && std::abs(del) > eps) {
    t0 = std::abs(t0);
    double score = 0;
    double info = 0;
    for (Eigen::Index i = 0; i < y.size(); ++i) {
      const double th_y = t0 + y(i);
      score += boost::math::digamma(th_y) - boost::math::digamma(t0) + std::log(t0) + 1 -
               std::log(t0 + mu(i)) - (y(i) + t0) / (mu(i) + t0);
      info += -boost::math::trigamma(th_y) + boost::math::trigamma(t0) - 1 / t0 + 2 / (mu(i) + t0) -
              (y(i) + t0) / std::pow(mu(i) + t0, 2);
    }
    del = score / info;
    t0 = t0 + del;
  }
  if (!(t0 > 0) || !std::isfinite(t0)) return std::nullopt;  // R truncates at 0: Poisson
  return t0;
}

// glm.nb's log-likelihood.
double NegBinLogLik(double th, const Eigen::VectorXd& mu, const Eigen::VectorXd& y) {
  double sum = 0;
  for (Eigen::Index i = 0; i < y.size(); ++i) {
    sum += std::lgamma(th + y(i)) - std::lgamma(th) - std::lgamma(y(i) + 1) + th * std::log(th) +
           y(i) * std::log(mu(i) + (y(i) == 0 ? 1 : 0)) - (th + y(i)) * std::log(th + mu(i));
  }
  return sum;
}

struct BaselineModel {
  Eigen::VectorXd beta;
  double theta = 0;
};

// MASS::glm.nb: a Poisson fit, then alternating theta.ml and the GLM for that theta until the
// log-likelihood and theta settle.
std::optional<BaselineModel> FitGlmNb(const Eigen::MatrixXd& x, const Eigen::VectorXd& y) {
  constexpr double kEpsilon = 1e-8;
  constexpr int kMaxIt = 25;
  const Eigen::VectorXd mustart = (y.array() + 0.1).matrix();
  std::optional<GlmFit> fit =
      FitGlm(x, y, mustart.array().log().matrix(), std::numeric_limits<double>::infinity());
  if (!fit) return std::nullopt;
  Eigen::VectorXd mu = fit->mu;
  std::optional<double> th = ThetaMl(y, mu);
  if (!th) return std::nullopt;
  const double d1 = std::sqrt(2.0 * std::max(1, fit->df_residual));
  const double d2 = 1;
  double del = 1;
  double lm = NegBinLogLik(*th, mu, y);
  double lm0 = lm + 2 * d1;
  for (int iter = 1; iter <= kMaxIt && (std::abs(lm0 - lm) / d1 + std::abs(del) / d2) > kEpsilon;
       ++iter) {
    fit = FitGlm(x, y, mu.array().log().matrix(), *th);
    if (!fit) return std::nullopt;
    const double t0 = *th;
    th = ThetaMl(y, mu);  // R estimates theta from the previous fit's means
    if (!th) return std::nullopt;
    mu = fit->mu;
    del = t0 - *th;
    lm0 = lm;
    lm = NegBinLogLik(*th, mu, y);
  }
  return BaselineModel{fit->beta, *th};
}

// R's glm(family = negative.binomial(theta)) for a given alpha = 1/theta: glm.fit from
// mustart = y + (y == 0)/6.
std::optional<BaselineModel> FitGlmFixedTheta(const Eigen::MatrixXd& x, const Eigen::VectorXd& y,
                                              double theta) {
  Eigen::VectorXd eta(y.size());
  for (Eigen::Index i = 0; i < y.size(); ++i) eta(i) = std::log(y(i) + (y(i) == 0 ? 1.0 / 6 : 0));
  const std::optional<GlmFit> fit = FitGlm(x, y, eta, theta);
  if (!fit) return std::nullopt;
  return BaselineModel{fit->beta, theta};
}

// One stretch of the judged range the statistic runs over without an alarm before its last
// step: counts and in-control means, index 0 the step after the previous alarm.
struct Segment {
  const double* x;
  const double* mu0;
};

// surveillance's glr_nb_window (C), the statistic at step n of a segment: the largest over the
// changepoints k of the log-likelihood ratio at the ML shift kappa >= 0, found by Newton's
// method warm-started from the previous changepoint's estimate.
double GlrAt(const Segment& seg, int n, double alpha, const CusumOptions& o) {
  double max_glr = -1e99;
  double kappa_ml = 0.5;
  const int low = o.M == -1 ? 0 : std::max(0, n - o.M);
  const int up = n - (o.Mtilde - 1);
  for (int k = low; k <= up; ++k) {
    double kappa_old = 0.4;
    double kappa_new = kappa_ml;
    int iter = 0;
    while (kappa_new > -18 && std::abs(kappa_new - kappa_old) > 1e-6 && iter < 1000) {
      ++iter;
      kappa_old = kappa_new;
      const double e = std::exp(kappa_old);
      double score = 0;
      double fisher = 0;
      for (int i = k; i <= n; ++i) {
        score += (seg.x[i] - e * seg.mu0[i]) / (1 + alpha * e * seg.mu0[i]);
        const double d = 1 + alpha * e * seg.mu0[i];
        fisher += seg.mu0[i] * (alpha * seg.x[i] + 1) / (d * d);
      }
      kappa_new = kappa_old + score / (e * fisher);
    }
    kappa_ml = std::max(0.0, kappa_new);
    const double e = std::exp(kappa_ml);
    double lnk = 0;
    for (int i = k; i <= n; ++i) {
      lnk += kappa_ml * seg.x[i] + (seg.x[i] + 1 / alpha) * std::log((1 + alpha * seg.mu0[i]) /
                                                                     (1 + alpha * seg.mu0[i] * e));
    }
    max_glr = std::max(max_glr, lnk);
  }
  return max_glr;
}

struct SegmentResult {
  int alarm_at = -1;  // index of the alarm in the segment; -1: none
  std::vector<double> statistic;
  std::vector<std::optional<double>> cases;
};

// glrnb's smallest alarming count at the last step of `prefix` (its brute-force search, which
// reruns the whole chart for each candidate count; only the last step's statistic can change).
// Searching down from an alarming count, up from a quiet one, as R does, but from 0 for a quiet
// step without cases too, where R's search does not start and it answers 1e99.
std::optional<double> GlrCases(std::vector<double>& x, const double* mu0, int n, double alpha,
                               bool alarmed, const CusumOptions& o) {
  const Segment seg{x.data(), mu0};
  const double observed = x[static_cast<std::size_t>(n)];
  double& v = x[static_cast<std::size_t>(n)];
  std::optional<double> found;
  if (alarmed) {
    found = 0;  // R: NA when even no case alarms, then 0
    while (v >= 1) {
      v -= 1;
      if (!(GlrAt(seg, n, alpha, o) >= o.c_ARL)) {
        found = v + 1;
        break;
      }
    }
  } else {
    while (v <= o.xMax) {
      v += 1;
      if (GlrAt(seg, n, alpha, o) >= o.c_ARL) {
        found = v;
        break;
      }
    }
  }
  v = observed;
  return found;
}

SegmentResult GlrSegment(std::vector<double>& x, const double* mu0, double alpha,
                         const CusumOptions& o) {
  SegmentResult out;
  const int size = static_cast<int>(x.size());
  const int n0 = std::max(o.Mtilde - 1, 0);
  for (int n = 0; n < size; ++n) {
    if (n < n0) {
      out.statistic.push_back(0);
      out.cases.emplace_back(0);  // R's initial zeros
      continue;
    }
    const double glr = GlrAt({x.data(), mu0}, n, alpha, o);
    const bool alarmed = glr >= o.c_ARL;
    out.statistic.push_back(glr);
    out.cases.push_back(o.ret == CusumOptions::Ret::kCases ? GlrCases(x, mu0, n, alpha, alarmed, o)
                                                           : std::nullopt);
    if (alarmed) {
      out.alarm_at = n;
      break;
    }
  }
  return out;
}

// surveillance's lr_cusum_nb (C): the recursive CUSUM of the log-likelihood ratio for the shift
// theta, and the count at which it would reach the threshold.
SegmentResult KnownShiftSegment(const std::vector<double>& x, const double* mu0, double alpha,
                                const CusumOptions& o) {
  SegmentResult out;
  const double kappa = *o.theta;
  double previous = 0;
  for (std::size_t n = 0; n < x.size(); ++n) {
    const double ratio = std::log((1 + alpha * mu0[n]) / (1 + alpha * mu0[n] * std::exp(kappa)));
    const double zn = kappa * x[n] + (x[n] + 1 / alpha) * ratio;
    const double stat = std::max(0.0, previous + zn);
    out.statistic.push_back(stat);
    out.cases.emplace_back(-(previous * alpha + ratio - o.c_ARL * alpha) / alpha / (kappa + ratio));
    previous = stat;
    if (stat > o.c_ARL) {
      out.alarm_at = static_cast<int>(n);
      break;
    }
  }
  return out;
}

}  // namespace

Status ValidateCusumOptions(const CusumOptions& o) {
  if (!(o.c_ARL > 0) || !std::isfinite(o.c_ARL)) {
    return Status::InvalidArgument("cusum: c.ARL must be a positive number");
  }
  if (o.mu0 && (!(*o.mu0 > 0) || !std::isfinite(*o.mu0))) {
    return Status::InvalidArgument("cusum: mu0 must be a positive number");
  }
  if (o.alpha && (!(*o.alpha > 0) || !std::isfinite(*o.alpha))) {
    return Status::InvalidArgument(
        "cusum: alpha (the dispersion) must be positive; R's Poisson charts (alpha = 0) are not "
        "implemented");
  }
  if (o.mu0 && !o.alpha) {
    return Status::InvalidArgument("cusum: a given mu0 needs a given alpha, as in R");
  }
  if (o.theta && (!(*o.theta > 0) || !std::isfinite(*o.theta))) {
    return Status::InvalidArgument("cusum: theta must be positive (an upward shift)");
  }
  if (o.S < 0 || o.S > 26) return Status::InvalidArgument("cusum: S must lie in 0..26");
  // R's bound search for Mtilde > 1 also moves counts the statistic has not reached yet; only
  // R's default is reproduced.
  if (o.Mtilde != 1) return Status::InvalidArgument("cusum: only Mtilde = 1 is implemented");
  if (o.M != -1 && o.M < 1) {
    return Status::InvalidArgument("cusum: M must be -1 or at least 1");
  }
  if (o.xMax < 1) return Status::InvalidArgument("cusum: xMax must be at least 1");
  return Status::Ok();
}

Result<CusumResult> Cusum(const CountSeries& series, std::size_t range_start,
                          const CusumOptions& options) {
  if (Status s = ValidateCusumOptions(options); !s.ok()) return s;
  const std::vector<double>& y = series.observed;
  const std::size_t size = y.size();
  for (const double count : y) {
    // The chart reads counts as R's as.integer; a fraction would be silently truncated there.
    if (!(count >= 0) || count != std::floor(count) || count > 2147483647.0) {
      return Status::InvalidArgument(
          fmt::format("cusum: counts must be non-negative integers, not {}", count));
    }
  }
  if (range_start >= size) {
    return Status::InvalidArgument(
        fmt::format("cusum: the judged range starts at step {} of a series of {} steps",
                    range_start + 1, size));
  }

  CusumResult result;
  std::vector<double> mu0(size - range_start);
  if (options.mu0) {
    std::fill(mu0.begin(), mu0.end(), *options.mu0);
    result.alpha = *options.alpha;
  } else {
    // estimateGLRNbHook: fitted on the 1-based times 1..range_start, predicted at the range.
    const auto rows = static_cast<Eigen::Index>(range_start);
    const Eigen::Index cols = DesignRow(0, series.frequency, options).size();
    if (rows <= cols) {
      return Status::InvalidArgument(fmt::format(
          "cusum: a baseline of {} steps cannot fit a model of {} coefficients", rows, cols));
    }
    Eigen::MatrixXd x(rows, cols);
    Eigen::VectorXd yb(rows);
    for (Eigen::Index i = 0; i < rows; ++i) {
      x.row(i) = DesignRow(static_cast<double>(i + 1), series.frequency, options);
      yb(i) = y[static_cast<std::size_t>(i)];
    }
    const std::optional<BaselineModel> model =
        options.alpha ? FitGlmFixedTheta(x, yb, 1 / *options.alpha) : FitGlmNb(x, yb);
    if (!model) {
      return Status::InvalidArgument(fmt::format(
          "cusum: the baseline model cannot be fitted to the {} steps before the range", rows));
    }
    result.alpha = options.alpha.value_or(1 / model->theta);
    result.baseline_coefficients.assign(model->beta.data(),
                                        model->beta.data() + model->beta.size());
    for (std::size_t t = range_start; t < size; ++t) {
      const double eta =
          DesignRow(static_cast<double>(t + 1), series.frequency, options).dot(model->beta);
      mu0[t - range_start] = std::max(std::exp(eta), kDoubleEps);
    }
  }

  result.judgements.resize(size);
  result.statistic.resize(size);
  for (std::size_t t = 0; t < size; ++t) {
    result.judgements[t].time =
        t < series.time.size() ? series.time[t] : static_cast<std::int64_t>(t);
    result.judgements[t].observed = y[t];
  }
  // algo.glrnb's loop: run the chart from the step after the last alarm to the next alarm.
  std::size_t done = range_start;
  while (done < size) {
    std::vector<double> x(y.begin() + static_cast<std::ptrdiff_t>(done), y.end());
    const double* mu = mu0.data() + (done - range_start);
    const SegmentResult seg = options.theta ? KnownShiftSegment(x, mu, result.alpha, options)
                                            : GlrSegment(x, mu, result.alpha, options);
    for (std::size_t i = 0; i < seg.statistic.size(); ++i) {
      Judgement& j = result.judgements[done + i];
      j.expected = mu[i];
      // glrnb's clean-up of its upperbound slot: NA and negatives become 0.
      if (seg.cases[i] && options.ret == CusumOptions::Ret::kCases) {
        j.upperbound = std::max(0.0, *seg.cases[i]);
      }
      j.alarm = static_cast<int>(i) == seg.alarm_at;
      result.statistic[done + i] = std::max(0.0, seg.statistic[i]);
    }
    done += seg.statistic.size();
  }
  return result;
}

}  // namespace sentinel::detect
