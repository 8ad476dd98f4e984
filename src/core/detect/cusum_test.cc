#include "core/detect/cusum.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "test/support/r_fixture.h"

namespace sentinel::detect {
namespace {

namespace fs = std::filesystem;

// R's results (scripts/r/cusum_fixtures.R) are matched to this relative tolerance (of
// max(1, |R|) for the statistic, which is often 0); alarms and the GLR's integer upper bounds
// must be identical.
constexpr double kRelTol = 1e-6;

struct Fixture {
  std::string name;
  std::map<std::string, std::string> params;  // from the "# " line
  CountSeries series;
  // R's, as written; "" before the judged range.
  std::vector<std::string> mu0, statistic, cases, alarm, cases_from_zero;
};

Fixture ReadFixture(const fs::path& path) {
  test::RFixture r = test::ReadRFixture(path);
  Fixture f;
  f.name = r.name;
  f.params = r.params;
  f.series = r.series;
  f.mu0 = r.results["mu0"];
  f.statistic = r.results["statistic"];
  f.cases = r.results["cases"];
  f.alarm = r.results["alarm"];
  f.cases_from_zero = r.results["cases_from_zero"];
  return f;
}

CusumOptions OptionsOf(const Fixture& f) {
  CusumOptions o;
  o.c_ARL = std::stod(f.params.at("c.ARL"));
  o.M = std::stoi(f.params.at("M"));
  if (f.params.at("theta") != "NULL") o.theta = std::stod(f.params.at("theta"));
  if (f.params.at("alpha_given") != "NULL") o.alpha = std::stod(f.params.at("alpha_given"));
  return o;
}

double RelErr(double ours, double r) { return std::abs(ours - r) / std::max(std::abs(r), 1.0); }

struct Tally {
  int files = 0, judged = 0, alarms = 0, zero_bounds = 0;
  double mu0 = 0, statistic = 0, bound = 0, alpha = 0;
};

// Checks every fixture of the configurations whose name starts with `prefix`.
void CheckConfigs(const std::string& prefix, Tally& tally) {
  for (const auto& entry :
       fs::directory_iterator(fs::path(SENTINEL_TEST_CASES_DIR) / "detect" / "cusum")) {
    const Fixture f = ReadFixture(entry.path());
    if (!f.params.at("config").starts_with(prefix)) continue;
    ++tally.files;
    const CusumOptions o = OptionsOf(f);
    const std::string& range = f.params.at("range");
    const std::size_t first = std::stoul(range.substr(0, range.find(':'))) - 1;
    const auto got = Cusum(f.series, first, o);
    EXPECT_TRUE(got.ok()) << f.name << ": " << got.status().message();
    if (!got.ok()) continue;
    const double alpha_err = RelErr(got->alpha, std::stod(f.params.at("alpha")));
    EXPECT_LE(alpha_err, kRelTol) << f.name << " alpha " << got->alpha;
    tally.alpha = std::max(tally.alpha, alpha_err);
    for (std::size_t t = 0; t < f.series.observed.size(); ++t) {
      const Judgement& j = got->judgements[t];
      const std::string where = fmt::format("{} time {}", f.name, t + 1);
      EXPECT_EQ(j.time, f.series.time[t]) << where;
      if (t < first) {
        EXPECT_FALSE(j.alarm.has_value() || j.expected.has_value() || j.upperbound.has_value() ||
                     got->statistic[t].has_value())
            << where;
        continue;
      }
      ++tally.judged;
      ASSERT_TRUE(j.alarm.has_value() && j.expected.has_value() && got->statistic[t]) << where;
      EXPECT_EQ(*j.alarm, f.alarm[t] == "1") << where;
      tally.alarms += *j.alarm ? 1 : 0;
      const double mu_err = RelErr(*j.expected, std::stod(f.mu0[t]));
      EXPECT_LE(mu_err, kRelTol) << where << " mu0 " << *j.expected << " R " << f.mu0[t];
      const double stat_err = RelErr(*got->statistic[t], std::stod(f.statistic[t]));
      EXPECT_LE(stat_err, kRelTol)
          << where << " statistic " << *got->statistic[t] << " R " << f.statistic[t];
      tally.mu0 = std::max(tally.mu0, mu_err);
      tally.statistic = std::max(tally.statistic, stat_err);
      const double r_cases = std::stod(f.cases[t]);
      if (!o.theta) {
        // The GLR's bound is a count: identical, or R's 1e99 where its search never started
        // (no case observed) and the fixture holds what R's own routine finds from one case.
        double want = r_cases;
        if (r_cases == 1e99 && !f.cases_from_zero[t].empty()) {
          want = std::stod(f.cases_from_zero[t]);
          ++tally.zero_bounds;
        }
        if (want == 1e99) {
          EXPECT_FALSE(j.upperbound.has_value()) << where;  // beyond xMax
        } else {
          ASSERT_TRUE(j.upperbound.has_value()) << where;
          EXPECT_EQ(*j.upperbound, want) << where;
          // Counts at or above the bound alarm.
          EXPECT_EQ(*j.alarm, j.observed >= *j.upperbound) << where;
        }
      } else {
        ASSERT_TRUE(j.upperbound.has_value()) << where;
        const double err = RelErr(*j.upperbound, r_cases);
        EXPECT_LE(err, kRelTol) << where << " upperbound " << *j.upperbound << " R " << r_cases;
        tally.bound = std::max(tally.bound, err);
        EXPECT_EQ(*j.alarm, j.observed > *j.upperbound) << where;
      }
    }
  }
  EXPECT_GT(tally.files, 0);
  std::cout << fmt::format(
      "[ {} ] {} fixtures, {} steps, {} alarms, {} bounds of zero counts; max relative error: "
      "alpha {:.1e}, mu0 {:.1e}, statistic {:.1e}, upperbound {:.1e}\n",
      prefix, tally.files, tally.judged, tally.alarms, tally.zero_bounds, tally.alpha, tally.mu0,
      tally.statistic, tally.bound);
}

TEST(CusumFixtures, GlrMatchesR) {
  Tally tally;
  CheckConfigs("glr", tally);  // glr, glr_alpha0.2_c3, glr_window
  EXPECT_GT(tally.alarms, 0);
  EXPECT_GT(tally.zero_bounds, 0);
}
TEST(CusumFixtures, KnownShiftMatchesR) {
  Tally tally;
  CheckConfigs("lr", tally);
  EXPECT_GT(tally.alarms, 0);
}

CusumOptions WithTheta(std::optional<double> theta) {
  CusumOptions o;
  o.theta = theta;
  return o;
}
CusumOptions WithAlpha(double alpha) {
  CusumOptions o;
  o.alpha = alpha;
  return o;
}
CusumOptions WithMu0(double mu0, double alpha) {
  CusumOptions o = WithAlpha(alpha);
  o.mu0 = mu0;
  return o;
}
CusumOptions WithThreshold(double c_arl) {
  CusumOptions o;
  o.c_ARL = c_arl;
  return o;
}

CountSeries Weekly(std::vector<double> counts) {
  CountSeries s;
  s.observed = std::move(counts);
  for (std::size_t i = 0; i < s.observed.size(); ++i) {
    s.time.push_back(static_cast<std::int64_t>(i));
  }
  return s;
}

// Two years of seasonal counts with a little deterministic noise.
std::vector<double> Seasonal(std::size_t weeks) {
  std::vector<double> y;
  for (std::size_t t = 0; t < weeks; ++t) {
    const double season = 6 * (1 + 0.5 * std::sin(2 * M_PI * static_cast<double>(t) / 52.0));
    y.push_back(std::round(season + static_cast<double>((t * 7) % 5) - 2));
  }
  return y;
}

TEST(Cusum, StepChangeIsDetectedAndTheStatisticRestarts) {
  std::vector<double> y = Seasonal(104 + 30);
  for (std::size_t t = 104 + 10; t < y.size(); ++t) y[t] *= 3;  // the rate triples
  for (const std::optional<double> theta :
       {std::optional<double>{}, std::optional(std::log(2.0))}) {
    const auto got = Cusum(Weekly(y), 104, WithTheta(theta));
    ASSERT_TRUE(got.ok()) << got.status().message();
    std::vector<std::size_t> alarms;
    for (std::size_t t = 104; t < y.size(); ++t) {
      if (*got->judgements[t].alarm) alarms.push_back(t);
    }
    ASSERT_FALSE(alarms.empty());
    EXPECT_GE(alarms.front(), 114U);  // nothing before the change
    EXPECT_LE(alarms.front(), 117U);  // and soon after it
    // Reset: the step after an alarm starts afresh, from its own log-likelihood ratio only,
    // so the statistic drops below the threshold it had just reached.
    const std::size_t after = alarms.front() + 1;
    EXPECT_LT(*got->statistic[after], *got->statistic[alarms.front()]);
    EXPECT_GE(alarms.size(), 3U);  // the shift persists: alarms keep coming
  }
}

TEST(Cusum, QuietSeriesDoesNotAlarmAndBoundsLieAboveTheCounts) {
  const std::vector<double> y = Seasonal(104 + 52);
  const auto got = Cusum(Weekly(y), 104, {});
  ASSERT_TRUE(got.ok()) << got.status().message();
  for (std::size_t t = 104; t < y.size(); ++t) {
    const Judgement& j = got->judgements[t];
    EXPECT_FALSE(*j.alarm) << t;
    ASSERT_TRUE(j.upperbound.has_value()) << t;
    EXPECT_GT(*j.upperbound, j.observed) << t;
    EXPECT_NEAR(*j.expected, 6 * (1 + 0.5 * std::sin(2 * M_PI * static_cast<double>(t) / 52)), 1.5);
  }
}

// The GLR's upper bound is exactly the count at which the chart turns: that count alarms, one
// fewer does not.
TEST(Cusum, UpperboundIsTheSmallestAlarmingCount) {
  std::vector<double> y = Seasonal(104 + 20);
  const auto got = Cusum(Weekly(y), 104, WithAlpha(0.2));
  ASSERT_TRUE(got.ok());
  const std::size_t t = 104 + 12;
  const double bound = *got->judgements[t].upperbound;
  y[t] = bound;
  EXPECT_TRUE(*Cusum(Weekly(y), 104, WithAlpha(0.2))->judgements[t].alarm);
  y[t] = bound - 1;
  EXPECT_FALSE(*Cusum(Weekly(y), 104, WithAlpha(0.2))->judgements[t].alarm);
}

TEST(Cusum, GivenMu0NeedsNoBaseline) {
  const auto got = Cusum(Weekly({2, 3, 2, 9, 12, 15}), 0, WithMu0(2.5, 0.1));
  ASSERT_TRUE(got.ok()) << got.status().message();
  EXPECT_EQ(*got->judgements[0].expected, 2.5);
  EXPECT_FALSE(*got->judgements[0].alarm);
  bool any = false;
  for (const Judgement& j : got->judgements) any = any || *j.alarm;
  EXPECT_TRUE(any);
}

TEST(Cusum, RefusesWhatRWouldNotRunOrSentinelDoesNotImplement) {
  const CountSeries s = Weekly(Seasonal(60));
  EXPECT_FALSE(Cusum(s, 50, WithThreshold(0)).ok());
  EXPECT_FALSE(Cusum(s, 50, WithAlpha(0)).ok());     // R's Poisson chart
  EXPECT_FALSE(Cusum(s, 50, WithTheta(-0.5)).ok());  // a downward shift
  EXPECT_FALSE(Cusum(s, 0,
                     [] {
                       CusumOptions o;
                       o.mu0 = 2;
                       return o;
                     }())
                   .ok());              // R needs alpha with mu0
  EXPECT_FALSE(Cusum(s, 2, {}).ok());   // no baseline to fit 3 coefficients
  EXPECT_FALSE(Cusum(s, 60, {}).ok());  // nothing to judge
  EXPECT_FALSE(Cusum(Weekly({1, 2.5, 3}), 0, WithMu0(2, 0.1)).ok());     // not a count
  EXPECT_FALSE(Cusum(Weekly(std::vector<double>(60, 0)), 52, {}).ok());  // nothing to fit
}

}  // namespace
}  // namespace sentinel::detect
