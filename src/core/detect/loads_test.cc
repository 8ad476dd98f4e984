// Wastewater loads judged on the log scale over measured steps (core/detect/loads.h).
#include "core/detect/loads.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <vector>

#include "core/detect/first_detection.h"

namespace sentinel::detect {
namespace {

constexpr double kMissing = std::numeric_limits<double>::quiet_NaN();

CountSeries Loads(std::vector<double> loads) {
  CountSeries s;
  s.observed = std::move(loads);
  s.time.resize(s.observed.size());
  std::iota(s.time.begin(), s.time.end(), 100);
  return s;
}

LoadOptions C1(int baseline = 3) {
  LoadOptions o;
  o.ears.method = EarsMethod::kC1;
  o.ears.baseline = baseline;
  o.ears.alpha = 0.001;
  return o;
}

TEST(JudgeLoads, BoundIsTheBaselinesGeometricMeanTimesItsLogSpread) {
  // Baseline 10, 100, 1000: log10 mean 2, sd 1; z = qnorm(0.999) = 3.0902...
  const auto judged = JudgeLoads(Loads({10, 100, 1000, 5000}), C1());
  ASSERT_TRUE(judged.ok()) << judged.status().message();
  const Judgement& j = (*judged)[3];
  ASSERT_TRUE(j.expected && j.upperbound && j.alarm);
  EXPECT_NEAR(*j.expected, 100, 1e-9);
  EXPECT_NEAR(std::log10(*j.upperbound), 2 + 3.0902323061678132, 1e-9);
  EXPECT_FALSE(*j.alarm);
  for (int t = 0; t < 3; ++t) EXPECT_FALSE((*judged)[t].upperbound) << t;
}

TEST(JudgeLoads, UnmeasuredStepsAreSkippedNotZero) {
  // The baseline is the last three measurements, across the gaps; as zeros the gaps would drag
  // the mean down and the spread up.
  const auto judged =
      JudgeLoads(Loads({100, kMissing, 110, kMissing, kMissing, 90, kMissing, 400}), C1());
  ASSERT_TRUE(judged.ok());
  for (const std::size_t t : {1U, 3U, 4U, 6U}) {
    EXPECT_TRUE(std::isnan((*judged)[t].observed)) << t;
    EXPECT_FALSE((*judged)[t].expected || (*judged)[t].upperbound || (*judged)[t].alarm) << t;
  }
  const Judgement& last = (*judged)[7];
  EXPECT_EQ(last.time, 107);
  ASSERT_TRUE(last.expected && last.alarm);
  EXPECT_NEAR(*last.expected, std::cbrt(100.0 * 110 * 90), 1e-9);
  EXPECT_TRUE(*last.alarm);  // four times a steady load
}

TEST(JudgeLoads, ScaleFreeAboveTheFloor) {
  // Multiplying every load by 1000 multiplies expected and bound by 1000 and keeps alarms.
  std::mt19937 rng(7);
  std::lognormal_distribution<double> noise(0, 0.2);
  std::vector<double> small(60), large(60);
  for (std::size_t t = 0; t < small.size(); ++t) {
    small[t] = 5 * noise(rng) * (t >= 50 ? 3 : 1);
    large[t] = small[t] * 1000;
  }
  for (const EarsMethod method : {EarsMethod::kC1, EarsMethod::kC2, EarsMethod::kC3}) {
    LoadOptions o = C1(7);
    o.ears.method = method;
    const auto a = JudgeLoads(Loads(small), o);
    const auto b = JudgeLoads(Loads(large), o);
    ASSERT_TRUE(a.ok() && b.ok());
    int alarms = 0;
    for (std::size_t t = 0; t < small.size(); ++t) {
      ASSERT_EQ((*a)[t].upperbound.has_value(), (*b)[t].upperbound.has_value());
      if (!(*a)[t].upperbound) continue;
      EXPECT_NEAR(*(*b)[t].upperbound / *(*a)[t].upperbound, 1000, 1e-6);
      EXPECT_EQ(*(*a)[t].alarm, *(*b)[t].alarm) << t;
      alarms += *(*a)[t].alarm ? 1 : 0;
    }
    // The tripling from step 50 on alarms within four steps (C3, summing the excess of three
    // steps, may take one more).
    bool caught = false;
    for (std::size_t t = 50; t < 54; ++t) caught = caught || *(*a)[t].alarm;
    EXPECT_TRUE(caught) << EarsMethodName(method);
    EXPECT_LE(alarms, 14) << EarsMethodName(method);
  }
}

TEST(JudgeLoads, ZeroLoadsSitAtTheFloor) {
  // Measured, not found: the floor (0.001) stands in, so a first real load far above it alarms,
  // and C3's bound never falls below the floor.
  LoadOptions o = C1();
  const auto judged = JudgeLoads(Loads({0, 0, 0, 0.002, 2}), o);
  ASSERT_TRUE(judged.ok());
  EXPECT_NEAR(*(*judged)[3].expected, 0.001, 1e-12);
  EXPECT_TRUE(*(*judged)[3].alarm);  // baseline of identical values: sd 0, any rise alarms
  o.ears.method = EarsMethod::kC3;
  o.ears.min_sigma = 0.1;
  const auto c3 = JudgeLoads(Loads({0, 0, 0, 0, 0, 0, 0, 0, 0}), o);
  ASSERT_TRUE(c3.ok());
  for (const Judgement& j : *c3) {
    if (j.upperbound) {
      EXPECT_GE(*j.upperbound, 0.001 * (1 - 1e-12));
    }
    if (j.alarm) {
      EXPECT_FALSE(*j.alarm);
    }
  }
}

TEST(JudgeLoads, JudgementsDoNotChangeWhenMeasurementsFollow) {
  std::vector<double> loads = {12, 15, kMissing, 11, 14, 30, 13, kMissing, 16, 50};
  const auto whole = JudgeLoads(Loads(loads), C1(4));
  for (std::size_t n = 1; n < loads.size(); ++n) {
    const auto prefix = JudgeLoads(
        Loads(std::vector<double>(loads.begin(), loads.begin() + static_cast<long>(n))), C1(4));
    ASSERT_TRUE(prefix.ok());
    for (std::size_t t = 0; t < n; ++t) {
      EXPECT_EQ((*prefix)[t].upperbound, (*whole)[t].upperbound) << n << " " << t;
      EXPECT_EQ((*prefix)[t].alarm, (*whole)[t].alarm) << n << " " << t;
    }
  }
}

TEST(JudgeLoads, RefusesWhatIsNotALoad) {
  EXPECT_FALSE(JudgeLoads(Loads({1, -2, 3}), C1()).ok());
  EXPECT_FALSE(JudgeLoads(Loads({1, std::numeric_limits<double>::infinity()}), C1()).ok());
  LoadOptions o = C1();
  o.load_floor = 0;
  const auto refused = JudgeLoads(Loads({1, 2, 3, 4}), o);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("floor"), std::string::npos);
  o = C1(2);  // EARS' own preconditions hold too
  EXPECT_FALSE(JudgeLoads(Loads({1, 2, 3, 4}), o).ok());
}

TEST(FirstDetection, UnmeasuredStepsAreNotJudged) {
  const auto judged = FirstDetection(Loads({kMissing, 0, kMissing, 0.4, 0.5}));
  EXPECT_FALSE(judged[0].alarm);
  ASSERT_TRUE(judged[1].alarm);
  EXPECT_FALSE(*judged[1].alarm);
  EXPECT_FALSE(judged[2].alarm);
  ASSERT_TRUE(judged[3].alarm);
  EXPECT_TRUE(*judged[3].alarm);
  EXPECT_FALSE(judged[4].alarm);
}

}  // namespace
}  // namespace sentinel::detect
