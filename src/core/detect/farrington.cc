#include "core/detect/farrington.h"

#include <Eigen/Dense>
#include <boost/math/distributions/negative_binomial.hpp>
#include <boost/math/distributions/normal.hpp>
#include <boost/math/distributions/poisson.hpp>
#include <boost/math/distributions/students_t.hpp>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <utility>

// Each step below names the R function it reproduces (surveillance 1.20.3, stats of R 4.2).
// Numbers are computed in the same order as R's where the order changes the result (which
// IRLS weights the dispersion uses, which model the hat values come from).

namespace sentinel::detect {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// One observation of the reference data (algo.farrington.data.glm).
struct Point {
  double y = 0;
  double wtime = 0;  // the 1-based position, as R's wtime when the sts has no dates
  int level = 0;     // seasonal block (blocks()), 1..noPeriods
};

// The weeks that enter the fit for the step at 1-based position k (blocks() and
// algo.farrington.data.glm); empty when R could not build them.
std::optional<std::vector<Point>> ReferenceData(const std::vector<double>& observed, std::int64_t k,
                                                int freq, const FarringtonOptions& o) {
  const std::int64_t w = o.w;
  const std::int64_t p = o.noPeriods;
  if (k - std::int64_t{freq} * o.b - w < 1) return std::nullopt;
  std::vector<int> factor(static_cast<std::size_t>(k) + 1, 0);  // 1-based; 0 is NA
  // R's a:b counts down when b < a; blocks() relies on that when a block has length 0.
  const auto assign = [&](std::int64_t from, std::int64_t to, int value) {
    const std::int64_t step = to >= from ? 1 : -1;
    for (std::int64_t i = from;; i += step) {
      if (i >= 1 && i <= k) factor[static_cast<std::size_t>(i)] = value;
      if (i == to) break;
    }
  };
  assign(k - w, k, static_cast<int>(p));
  for (int i = 1; i <= o.b; ++i) {
    const std::int64_t later = k - std::int64_t{freq} * (i - 1);
    const std::int64_t ref = k - std::int64_t{freq} * i;
    assign(ref - w, ref + w, static_cast<int>(p));
    if (p == 1) continue;
    const std::int64_t period = later - 2 * w - 1 - ref;
    if (period < p - (2 * w + 1)) return std::nullopt;  // R: "Number of factors too big!"
    std::vector<std::int64_t> lengths(static_cast<std::size_t>(p - 1), period / (p - 1));
    for (std::int64_t j = 0; j < period % (p - 1); ++j) ++lengths[static_cast<std::size_t>(j)];
    std::int64_t start = 0;
    for (std::int64_t j = 1; j <= p - 1; ++j) {
      const std::int64_t end = start + lengths[static_cast<std::size_t>(j - 1)];
      assign(ref + w + 1 + start, ref + w + 1 + end - 1, static_cast<int>(j));
      start = end;
    }
  }
  const std::int64_t skip = o.pastWeeksNotIncluded.value_or(o.w);
  std::vector<Point> data;
  for (std::int64_t i = 1; i <= k; ++i) {
    const auto idx = static_cast<std::size_t>(i);
    if (factor[idx] == 0 || (i >= k - skip && i <= k)) continue;
    const double y = observed[idx - 1];
    if (std::isnan(y)) continue;
    data.push_back({y, static_cast<double>(i), factor[idx]});
  }
  return data;
}

// A fitted quasi-Poisson GLM with log link (stats::glm.fit plus what summary.glm, hatvalues
// and predict.glm derive from it).
struct Fit {
  bool converged = false;
  bool has_trend = false;
  Eigen::VectorXd beta;
  Eigen::MatrixXd r;         // R of the QR of the last iteration's weighted design
  Eigen::VectorXd mu;        // fitted values
  Eigen::VectorXd work_w;    // sqrt of the last iteration's working weights
  Eigen::VectorXd prior;     // prior weights
  std::vector<int> levels;   // factor levels present, ascending; the first is the baseline
  double dispersion = kNaN;  // summary.glm's (Pearson, from the working weights)
  int df_residual = 0;
  // The design, one row per point: intercept, wtime (with a trend), and at most one seasonal
  // indicator. Kept as that structure rather than a dense matrix: X'WX and X*beta then cost
  // O(points) instead of O(points * columns^2), which is most of the time of a fit.
  Eigen::Index cols = 0;
  std::vector<double> wtime;
  std::vector<Eigen::Index> season_col;  // the row's indicator column; 0 for the first level
};

// Columns: intercept, wtime (with a trend), one indicator per level after the first.
Eigen::RowVectorXd DesignRow(double wtime, int level, bool trend, const std::vector<int>& levels) {
  const auto factors = static_cast<Eigen::Index>(levels.empty() ? 0 : levels.size() - 1);
  Eigen::RowVectorXd row = Eigen::RowVectorXd::Zero(1 + (trend ? 1 : 0) + factors);
  row(0) = 1;
  if (trend) row(1) = wtime;
  for (Eigen::Index j = 0; j < factors; ++j) {
    if (levels[static_cast<std::size_t>(j + 1)] == level) row(1 + (trend ? 1 : 0) + j) = 1;
  }
  return row;
}

// The Poisson deviance, from log(mu) = eta and y log y computed once per fit: the logarithm of
// y / mu at every point of every iteration was the largest single cost of a fit.
double PoissonDeviance(const Eigen::VectorXd& y, const Eigen::VectorXd& y_log_y,
                       const Eigen::VectorXd& mu, const Eigen::VectorXd& eta,
                       const Eigen::VectorXd& prior) {
  double dev = 0;
  for (Eigen::Index i = 0; i < y.size(); ++i) {
    const double r =
        y(i) > 0 ? prior(i) * (y_log_y(i) - y(i) * eta(i) - (y(i) - mu(i))) : mu(i) * prior(i);
    dev += 2 * r;
  }
  return dev;
}

// stats::glm.fit for quasipoisson(link = "log"): IRLS from mustart = y + 0.1, convergence when
// the relative change of deviance falls below 1e-8, at most 25 iterations. glm.fit solves each
// weighted least-squares step by a QR decomposition of the weighted design; here the normal
// equations are accumulated from the design's structure and solved by Cholesky, which gives
// the same triangular factor R (R'R = X'WX) at a fraction of the cost. The designs are small
// and well conditioned (a few columns of indicators, an intercept and the week), and the
// results agree with R's to the fixtures' tolerance.
std::optional<Fit> FitGlm(const std::vector<Point>& data, bool trend, bool factors,
                          const Eigen::VectorXd& prior) {
  constexpr double kEpsilon = 1e-8;
  constexpr int kMaxIt = 25;
  Fit fit;
  fit.has_trend = trend;
  if (factors) {
    for (const Point& pt : data) fit.levels.push_back(pt.level);
    std::sort(fit.levels.begin(), fit.levels.end());
    fit.levels.erase(std::unique(fit.levels.begin(), fit.levels.end()), fit.levels.end());
  }
  const auto n = static_cast<Eigen::Index>(data.size());
  const Eigen::Index first_season = trend ? 2 : 1;
  fit.cols =
      first_season + static_cast<Eigen::Index>(fit.levels.empty() ? 0 : fit.levels.size() - 1);
  const Eigen::Index cols = fit.cols;
  fit.wtime.resize(data.size());
  fit.season_col.resize(data.size());
  Eigen::VectorXd y(n);
  for (Eigen::Index i = 0; i < n; ++i) {
    const Point& pt = data[static_cast<std::size_t>(i)];
    const auto at = static_cast<std::size_t>(i);
    fit.wtime[at] = pt.wtime;
    const auto level = std::lower_bound(fit.levels.begin(), fit.levels.end(), pt.level);
    const auto rank = static_cast<Eigen::Index>(level - fit.levels.begin());
    fit.season_col[at] = factors && rank > 0 ? first_season + rank - 1 : 0;
    y(i) = pt.y;
  }
  fit.prior = prior;
  std::vector<Eigen::Index> good;
  for (Eigen::Index i = 0; i < n; ++i) {
    if (prior(i) > 0) good.push_back(i);
  }
  if (static_cast<Eigen::Index>(good.size()) < cols) return std::nullopt;

  const auto linear_predictor = [&](Eigen::Index i) {
    const auto at = static_cast<std::size_t>(i);
    double eta = fit.beta(0);
    if (trend) eta += fit.beta(1) * fit.wtime[at];
    if (fit.season_col[at] > 0) eta += fit.beta(fit.season_col[at]);
    return eta;
  };
  Eigen::VectorXd mu = (y.array() + 0.1).matrix();
  Eigen::VectorXd eta = mu.array().log().matrix();
  Eigen::VectorXd y_log_y(n);
  for (Eigen::Index i = 0; i < n; ++i) y_log_y(i) = y(i) > 0 ? y(i) * std::log(y(i)) : 0;
  double devold = PoissonDeviance(y, y_log_y, mu, eta, prior);
  Eigen::VectorXd w(n);
  Eigen::MatrixXd xtwx(cols, cols);
  Eigen::VectorXd xtwz(cols);
  Eigen::LLT<Eigen::MatrixXd> llt;
  for (int iter = 1; iter <= kMaxIt; ++iter) {
    w.setZero();
    xtwx.setZero();
    xtwz.setZero();
    for (const Eigen::Index i : good) {
      const auto at = static_cast<std::size_t>(i);
      const double z = eta(i) + (y(i) - mu(i)) / mu(i);
      const double w2 = prior(i) * mu(i);
      w(i) = std::sqrt(w2);
      const double t = fit.wtime[at];
      const Eigen::Index c = fit.season_col[at];
      // Lower triangle of X'WX and X'Wz for the row (1, t, indicator c).
      xtwx(0, 0) += w2;
      xtwz(0) += w2 * z;
      if (trend) {
        xtwx(1, 0) += w2 * t;
        xtwx(1, 1) += w2 * t * t;
        xtwz(1) += w2 * t * z;
      }
      if (c > 0) {
        xtwx(c, 0) += w2;
        if (trend) xtwx(c, 1) += w2 * t;
        xtwx(c, c) += w2;
        xtwz(c) += w2 * z;
      }
    }
    llt.compute(xtwx);  // reads the lower triangle only
    if (llt.info() != Eigen::Success) return std::nullopt;
    const Eigen::MatrixXd r = llt.matrixU();
    // Cdqrls would pivot an aliased column out and report an NA coefficient; such a fit
    // cannot give a prediction here.
    const double rmax = r.diagonal().cwiseAbs().maxCoeff();
    if (!(r.diagonal().cwiseAbs().minCoeff() > 1e-11 * rmax)) return std::nullopt;
    fit.beta = llt.solve(xtwz);
    for (Eigen::Index i = 0; i < n; ++i) eta(i) = linear_predictor(i);
    mu = eta.array().exp().matrix();
    const double dev = PoissonDeviance(y, y_log_y, mu, eta, prior);
    fit.r = r;
    if (!std::isfinite(dev) || !(mu.array() > 0).all() || !mu.allFinite()) {
      return std::nullopt;  // glm.fit would halve the step; unseen on count data
    }
    if (std::abs(dev - devold) / (std::abs(dev) + 0.1) < kEpsilon) {
      fit.converged = true;
      break;
    }
    devold = dev;
  }
  fit.mu = mu;
  fit.work_w = w;
  fit.df_residual = static_cast<int>(static_cast<Eigen::Index>(good.size()) - cols);
  double pearson = 0;
  for (const Eigen::Index i : good) {
    const double res = (y(i) - mu(i)) / mu(i);
    pearson += w(i) * w(i) * res * res;
  }
  fit.dispersion = pearson / fit.df_residual;
  return fit;
}

// x0' (R'R)^-1 x0
double Quadratic(const Fit& fit, const Eigen::RowVectorXd& x0) {
  const Eigen::VectorXd v = fit.r.transpose().triangularView<Eigen::Lower>().solve(x0.transpose());
  return v.squaredNorm();
}

double MaxOneNaN(double d) { return std::isnan(d) ? d : std::max(d, 1.0); }  // R's max(d, 1)

struct Model {
  Fit fit;
  double phi = kNaN;
  // The dispersion predict.glm and summary.glm see afterwards. fitGLM.flexible stores the
  // reweighting weights in the model's `weights` slot, where those functions expect the
  // working weights, so their dispersion is sum(omega * working residual^2) / df.
  double later_dispersion = kNaN;
};

// algo.farrington.fitGLM.flexible
std::optional<Model> FitFlexible(const std::vector<Point>& data, bool trend,
                                 const FarringtonOptions& o) {
  const bool factors = o.noPeriods != 1;
  const auto n = static_cast<Eigen::Index>(data.size());
  const Eigen::VectorXd ones = Eigen::VectorXd::Ones(n);
  std::optional<Fit> fit = FitGlm(data, trend, factors, ones);
  if (!fit || !fit->converged) {
    if (trend) {
      trend = false;
      fit = FitGlm(data, trend, factors, ones);
    }
    if (!fit || !fit->converged) return std::nullopt;
  }
  double phi = MaxOneNaN(fit->dispersion);
  if (o.reweight) {
    // anscombe.residuals and algo.farrington.assign.weights
    // Hat values w_i^2 x_i' (R'R)^-1 x_i = w_i^2 |R^-T x_i|^2; a row is (1, t, indicator c), so
    // R^-T x_i is a sum of at most three columns of R^-T.
    const Eigen::Index cols = fit->cols;
    const Eigen::MatrixXd r_inv_t = fit->r.transpose().triangularView<Eigen::Lower>().solve(
        Eigen::MatrixXd::Identity(cols, cols));
    Eigen::VectorXd v(cols);
    Eigen::VectorXd s(n);
    for (Eigen::Index i = 0; i < n; ++i) {
      const auto at = static_cast<std::size_t>(i);
      const double y = data[at].y;
      const double mu = fit->mu(i);
      const double wi = fit->work_w(i);
      v = r_inv_t.col(0);
      if (fit->has_trend) v += fit->wtime[at] * r_inv_t.col(1);
      if (fit->season_col[at] > 0) v += r_inv_t.col(fit->season_col[at]);
      const double h = wi * wi * v.squaredNorm();
      s(i) = 1.5 * (std::pow(y, 2.0 / 3) * std::pow(mu, -1.0 / 6) - std::sqrt(mu)) /
             std::sqrt(phi * (1 - h));
    }
    double sum = 0;
    for (Eigen::Index i = 0; i < n; ++i) {
      sum += s(i) > o.weightsThreshold ? std::pow(s(i), -2) : 1.0;
    }
    const double gamma = static_cast<double>(n) / sum;
    Eigen::VectorXd omega(n);
    for (Eigen::Index i = 0; i < n; ++i) {
      omega(i) = s(i) > o.weightsThreshold ? gamma * std::pow(s(i), -2) : gamma;
    }
    // R does not check this fit's convergence.
    fit = FitGlm(data, trend, factors, omega);
    if (!fit) return std::nullopt;
    phi = MaxOneNaN(fit->dispersion);
    double sum_sq = 0;
    for (Eigen::Index i = 0; i < n; ++i) {
      const double res = (data[static_cast<std::size_t>(i)].y - fit->mu(i)) / fit->mu(i);
      if (omega(i) > 0) sum_sq += omega(i) * res * res;
    }
    const double later = sum_sq / fit->df_residual;
    return Model{std::move(*fit), phi, later};
  }
  const double later = fit->dispersion;
  return Model{std::move(*fit), phi, later};
}

struct Prediction {
  double eta = 0;     // linear predictor
  double se_eta = 0;  // its standard error (predict.glm: scaled by the unbounded dispersion)
};

Prediction Predict(const Model& model, double wtime, int level) {
  const Fit& fit = model.fit;
  const Eigen::RowVectorXd x0 = DesignRow(wtime, level, fit.has_trend, fit.levels);
  return {x0.dot(fit.beta), std::sqrt(model.later_dispersion * Quadratic(fit, x0))};
}

// summary.glm's p-value of the wtime coefficient (t test with the residual degrees of freedom).
double TrendPValue(const Model& model) {
  const Fit& fit = model.fit;
  Eigen::RowVectorXd e = Eigen::RowVectorXd::Zero(fit.beta.size());
  e(1) = 1;
  const double se = std::sqrt(model.later_dispersion * Quadratic(fit, e));
  const double t = fit.beta(1) / se;
  if (std::isnan(t) || fit.df_residual <= 0) return kNaN;
  const boost::math::students_t dist(fit.df_residual);
  return 2 * boost::math::cdf(dist, -std::abs(t));
}

// Real-valued quantiles of the discrete distributions: QDiscrete does the rounding, R's way.
using RealQuantile = boost::math::policies::policy<
    boost::math::policies::discrete_quantile<boost::math::policies::real>>;
using NegativeBinomial = boost::math::negative_binomial_distribution<double, RealQuantile>;
using Poisson = boost::math::poisson_distribution<double, RealQuantile>;

double QNorm(double p) { return boost::math::quantile(boost::math::normal(), p); }

// The smallest count whose CDF reaches p, with R's fuzz (qDiscrete_search.h: p * (1 + 2 eps)).
// Boost's quantile is the starting point; the CDF is then checked at the integers around it.
template <typename Dist>
double QDiscrete(const Dist& dist, double p) {
  const double target = p * (1 + 2 * std::numeric_limits<double>::epsilon());
  if (target >= 1) return std::numeric_limits<double>::infinity();
  double y = std::max(0.0, std::floor(boost::math::quantile(dist, p)));
  // Beyond 2^52 neighbouring doubles are no longer consecutive integers (such bounds come from
  // a link-scale standard error in the tens, "muan" on a series of zeros).
  if (y > 0x1p52) return std::ceil(boost::math::quantile(dist, p));
  if (boost::math::cdf(dist, y) >= target) {
    while (y > 0 && boost::math::cdf(dist, y - 1) >= target) --y;
  } else {
    while (boost::math::cdf(dist, y) < target) ++y;
  }
  return y;
}

struct Bounds {
  double upper = kNaN;
  double score = kNaN;
};

// algo.farrington.threshold.farrington
Bounds ThresholdDelta(double mu0, double se, double phi, PowerTransform transform, double alpha,
                      double y) {
  const double tau = phi + se * se / mu0;
  double sd = 0;
  double exponent = 1;
  switch (transform) {
    case PowerTransform::kNone:
      sd = std::sqrt(mu0 * tau);
      break;
    case PowerTransform::kHalf:
      sd = std::sqrt(0.25 * tau);
      exponent = 0.5;
      break;
    case PowerTransform::kTwoThirds:
      sd = std::sqrt(4.0 / 9 * std::pow(mu0, 1.0 / 3) * tau);
      exponent = 2.0 / 3;
      break;
  }
  const double z = QNorm(1 - alpha);
  const double base = std::pow(mu0, exponent);
  const double a = std::pow(base - z * sd, 1 / exponent);
  const double b = std::pow(base + z * sd, 1 / exponent);
  // sort(c(a, b), na.last = FALSE)[2]
  const double upper = std::isnan(a) ? b : std::isnan(b) ? a : std::max(a, b);
  return {upper, std::isnan(upper) ? kNaN : (y - mu0) / (upper - mu0)};
}

// algo.farrington.threshold.noufaily; the score divides by the distance from the linear
// predictor, as R does.
Bounds ThresholdNoufaily(double eta0, double se_eta0, double phi, ThresholdMethod method,
                         double alpha, double y) {
  const double mu0 = method == ThresholdMethod::kNbPlugin
                         ? std::exp(eta0)
                         : std::exp(eta0 + se_eta0 * QNorm(1 - alpha));
  if (std::isinf(mu0) || std::isnan(mu0)) return {};
  double upper = 0;
  if (phi > 1) {
    const double size = mu0 / (phi - 1);
    const double prob = 1 / phi;
    const NegativeBinomial dist(size, prob);
    upper = QDiscrete(dist, 1 - alpha);
  } else {
    if (mu0 == 0) {
      upper = 0;
    } else {
      const Poisson dist(mu0);
      upper = QDiscrete(dist, 1 - alpha);
    }
  }
  return {upper, (y - eta0) / (upper - eta0)};
}

// One step of farringtonFlexible's loop; k is 1-based.
// The model of the step at 1-based position k fitted to its reference data: what the
// judgement needs of it.
std::optional<FarringtonMemo::StepFit> FitStep(const std::vector<Point>& data, std::int64_t k,
                                               const FarringtonOptions& o) {
  std::optional<Model> model = FitFlexible(data, o.trend, o);
  if (!model) return std::nullopt;
  const double wtime = static_cast<double>(k);
  // algo.farrington.glm: keep the trend only if significant, with >= 3 years and no
  // extrapolation beyond the largest count in the baseline.
  if (model->fit.has_trend) {
    const Prediction pred = Predict(*model, wtime, o.noPeriods);
    const bool significant = TrendPValue(*model) < o.pThresholdTrend;
    double ymax = 0;
    for (const Point& pt : data) ymax = std::max(ymax, pt.y);
    const bool keep = o.b >= 3 && significant && std::exp(pred.eta) <= ymax;
    if (!keep) {
      model = FitFlexible(data, false, o);
      if (!model) return std::nullopt;
    }
  }
  const Prediction pred = Predict(*model, wtime, o.noPeriods);
  return FarringtonMemo::StepFit{pred.eta, pred.se_eta, model->phi};
}

// Two independent 64-bit lanes (splitmix64's finaliser, different seeds and constants) over
// every input of a step's fit.
class Digester {
 public:
  void Add(std::uint64_t v) {
    a_ = Mix(a_ ^ v, 0xbf58476d1ce4e5b9ULL, 0x94d049bb133111ebULL);
    b_ = Mix(b_ + v + 0x9e3779b97f4a7c15ULL, 0xff51afd7ed558ccdULL, 0xc4ceb9fe1a85ec53ULL);
  }
  void Add(double v) { Add(std::bit_cast<std::uint64_t>(v)); }
  void Add(std::int64_t v) { Add(static_cast<std::uint64_t>(v)); }
  FarringtonMemo::Digest digest() const { return {a_, b_}; }

 private:
  static std::uint64_t Mix(std::uint64_t z, std::uint64_t m1, std::uint64_t m2) {
    z = (z ^ (z >> 30)) * m1;
    z = (z ^ (z >> 27)) * m2;
    return z ^ (z >> 31);
  }
  std::uint64_t a_ = 0x243f6a8885a308d3ULL, b_ = 0x13198a2e03707344ULL;
};

FarringtonMemo::Digest DigestOf(const std::vector<Point>& data, std::int64_t k, int freq,
                                const FarringtonOptions& o) {
  Digester d;
  d.Add(k);
  d.Add(static_cast<std::int64_t>(freq));
  for (const std::int64_t v :
       {std::int64_t{o.b}, std::int64_t{o.w}, std::int64_t{o.reweight}, std::int64_t{o.trend},
        std::int64_t{o.noPeriods}, std::int64_t{o.pastWeeksNotIncluded.value_or(-1)},
        static_cast<std::int64_t>(o.thresholdMethod), static_cast<std::int64_t>(o.powertrans)}) {
    d.Add(v);
  }
  d.Add(o.weightsThreshold);
  d.Add(o.pThresholdTrend);
  d.Add(static_cast<std::int64_t>(data.size()));
  for (const Point& pt : data) {
    d.Add(pt.y);
    d.Add(pt.wtime);
    d.Add(static_cast<std::int64_t>(pt.level));
  }
  return d.digest();
}

Judgement JudgeStep(const CountSeries& series, std::int64_t k, const FarringtonOptions& o,
                    FarringtonMemo* memo) {
  const auto idx = static_cast<std::size_t>(k - 1);
  Judgement j;
  j.time = idx < series.time.size() ? series.time[idx] : k - 1;
  j.observed = series.observed[idx];
  const auto data = ReferenceData(series.observed, k, series.frequency, o);
  if (!data || data->empty()) return j;
  std::optional<FarringtonMemo::StepFit> fit;
  if (memo == nullptr) {
    fit = FitStep(*data, k, o);
  } else {
    const FarringtonMemo::Digest key = DigestOf(*data, k, series.frequency, o);
    if (auto kept = memo->Find(key)) {
      fit = *kept;
    } else {
      fit = FitStep(*data, k, o);
      memo->Keep(key, fit);
    }
  }
  if (!fit) return j;
  const double y = j.observed;
  Bounds bounds;
  const double expected = std::exp(fit->eta);
  if (o.thresholdMethod == ThresholdMethod::kDelta) {
    bounds = ThresholdDelta(expected, fit->se_eta * expected, fit->phi, o.powertrans, o.alpha, y);
  } else {
    bounds = ThresholdNoufaily(fit->eta, fit->se_eta, fit->phi, o.thresholdMethod, o.alpha, y);
  }
  double recent = 0;
  for (std::int64_t i = k - o.limit54.weeks + 1; i <= k; ++i) {
    if (i >= 1) recent += series.observed[static_cast<std::size_t>(i - 1)];
  }
  const bool enough = recent >= o.limit54.cases;
  const double score = enough ? bounds.score : kNaN;
  j.alarm = !std::isnan(score) && score > 1 && y != 0;
  if (enough && !std::isnan(bounds.upper)) {
    j.upperbound = bounds.upper;
    j.expected = expected;
  }
  return j;
}

}  // namespace

FarringtonOptions FarringtonOriginal() {
  FarringtonOptions o;
  o.noPeriods = 1;
  o.weightsThreshold = 1;
  o.pastWeeksNotIncluded = o.w;
  o.pThresholdTrend = 0.05;
  o.thresholdMethod = ThresholdMethod::kDelta;
  o.powertrans = PowerTransform::kTwoThirds;
  return o;
}

FarringtonOptions Noufaily() {
  FarringtonOptions o;
  o.noPeriods = 10;
  o.weightsThreshold = 2.58;
  o.pastWeeksNotIncluded = 26;
  o.pThresholdTrend = 1;
  o.thresholdMethod = ThresholdMethod::kNbPlugin;
  o.powertrans = PowerTransform::kTwoThirds;
  return o;
}

std::uint64_t FarringtonMemo::hits() const {
  std::lock_guard lock(mu_);
  return hits_;
}

std::uint64_t FarringtonMemo::misses() const {
  std::lock_guard lock(mu_);
  return misses_;
}

std::optional<std::optional<FarringtonMemo::StepFit>> FarringtonMemo::Find(const Digest& key) {
  std::lock_guard lock(mu_);
  const auto found = fits_.find(key);
  if (found == fits_.end()) {
    ++misses_;
    return std::nullopt;
  }
  ++hits_;
  return found->second;
}

void FarringtonMemo::Keep(const Digest& key, const std::optional<StepFit>& fit) {
  std::lock_guard lock(mu_);
  if (fits_.size() >= capacity_) fits_.clear();
  fits_.emplace(key, fit);
}

std::vector<Judgement> Farrington(const CountSeries& series, std::size_t first, std::size_t last,
                                  const FarringtonOptions& options, FarringtonMemo* memo) {
  std::vector<Judgement> out;
  out.reserve(last - first);
  for (std::size_t t = first; t < last; ++t) {
    out.push_back(JudgeStep(series, static_cast<std::int64_t>(t) + 1, options, memo));
  }
  return out;
}

std::vector<Judgement> Farrington(const CountSeries& series, const FarringtonOptions& options) {
  const std::size_t n = series.observed.size();
  const std::size_t first = static_cast<std::size_t>(series.frequency) * options.b + options.w;
  return Farrington(series, std::min(first, n), n, options);
}

}  // namespace sentinel::detect
