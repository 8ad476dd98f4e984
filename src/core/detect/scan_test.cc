#include "core/detect/scan.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <set>

namespace sentinel::detect {
namespace {

// A grid of locations about 55 km apart (0.5 degree of latitude near the equator), `steps`
// steps of Poisson(mean) cases each.
ScanData Grid(int side, int steps, double mean, std::uint32_t seed) {
  ScanData data;
  std::mt19937 rng(seed);
  std::poisson_distribution<int> poisson(mean);
  for (int t = 0; t < steps; ++t) data.time.push_back(1000 + t);
  for (int row = 0; row < side; ++row) {
    for (int col = 0; col < side; ++col) {
      data.locations.push_back(
          {"L" + std::to_string(row) + "_" + std::to_string(col), 0.5 * row, 0.5 * col});
      std::vector<std::int64_t> counts;
      for (int t = 0; t < steps; ++t) counts.push_back(poisson(rng));
      data.cases.push_back(std::move(counts));
    }
  }
  return data;
}

std::set<std::string> Names(const ScanData& data, const ScanCluster& cluster) {
  std::set<std::string> names;
  for (std::size_t z : cluster.locations) names.insert(data.locations[z].name);
  return names;
}

TEST(ScanLogLikelihoodRatio, IsThePoissonRatioOfTheCylinderAgainstTheRest) {
  // 10 ln(10/4) + 90 ln(90/96), worked by hand.
  EXPECT_NEAR(ScanLogLikelihoodRatio(10, 4, 100), 3.354440416360145, 1e-12);
  // A cylinder holding every case: only its own term.
  EXPECT_NEAR(ScanLogLikelihoodRatio(5, 2.5, 5), 5 * std::log(2.0), 1e-12);
  // Not more than expected: no evidence of a cluster.
  EXPECT_EQ(ScanLogLikelihoodRatio(4, 4, 100), 0);
  EXPECT_EQ(ScanLogLikelihoodRatio(3, 4, 100), 0);
}

TEST(GreatCircleKm, MeasuresAlongTheEarth) {
  EXPECT_NEAR(GreatCircleKm(0, 0, 0, 1), 111.195, 0.01);             // a degree on the equator
  EXPECT_NEAR(GreatCircleKm(51.5, -0.13, 48.86, 2.35), 343.5, 1.0);  // London to Paris
  EXPECT_EQ(GreatCircleKm(10, 20, 10, 20), 0);
}

// Two distant places, two steps: A holds all 5 cases of the last step, B all 5 of the first.
// The cylinder A x {last step} holds 5 where 5 * 5 / 10 = 2.5 were expected. Under the
// permutation the last step's count at A is hypergeometric (10 cases, 5 at A, 5 drawn), and a
// replicate matches the observed ratio exactly when A or B holds all five: p = 2 / C(10, 5).
TEST(SpaceTimePermutationScan, WorkedExampleMatchesTheHypergeometricP) {
  ScanData data;
  data.locations = {{"A", 50, 10}, {"B", 10, 100}};
  data.time = {1, 2};
  data.cases = {{0, 5}, {5, 0}};
  ScanOptions options;
  options.max_window = 1;
  options.replicates = 9999;
  options.seed = 7;
  auto result = SpaceTimePermutationScan(data, options);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->cases, 10);
  ASSERT_EQ(result->clusters.size(), 1U);
  const ScanCluster& c = result->clusters[0];
  EXPECT_EQ(c.centre, 0U);
  EXPECT_EQ(c.locations, std::vector<std::size_t>{0});
  EXPECT_EQ(c.radius_km, 0);
  EXPECT_EQ(c.first_step, 1U);
  EXPECT_EQ(c.last_step, 1U);
  EXPECT_EQ(c.observed, 5);
  EXPECT_DOUBLE_EQ(c.expected, 2.5);
  EXPECT_NEAR(c.llr, 1.4384103622589044, 1e-12);
  ASSERT_TRUE(c.p_value.has_value());
  const double exact = 2.0 / 252;  // 0.0079; the Monte Carlo standard error is 0.0009
  EXPECT_NEAR(*c.p_value, exact, 0.003);
  EXPECT_TRUE(c.alarm);
  EXPECT_DOUBLE_EQ(*c.recurrence_steps, 1 / *c.p_value);
}

TEST(SpaceTimePermutationScan, FindsAPlantedClusterStillAlive) {
  ScanData data = Grid(6, 26, 2.0, 11);
  // Three neighbours (row 2, columns 2-4) get six extra cases in each of the last two steps.
  for (int col : {2, 3, 4}) {
    for (int t : {24, 25}) data.cases[2 * 6 + col][t] += 6;
  }
  ScanOptions options;
  options.seed = 3;
  auto result = SpaceTimePermutationScan(data, options);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  ASSERT_FALSE(result->clusters.empty());
  const ScanCluster& top = result->clusters[0];
  const std::set<std::string> names = Names(data, top);
  for (const char* planted : {"L2_2", "L2_3", "L2_4"}) EXPECT_TRUE(names.count(planted)) << planted;
  EXPECT_LE(names.size(), 5U);
  EXPECT_EQ(top.last_step, 25U);
  EXPECT_GE(top.first_step, 23U);
  EXPECT_GT(top.observed, top.expected * 1.8);
  EXPECT_LE(*top.p_value, 0.01);
  EXPECT_TRUE(top.alarm);
  EXPECT_GE(*top.recurrence_steps, 100);
  // Secondary clusters share no location with the first, and are ordered by their ratio.
  for (std::size_t i = 1; i < result->clusters.size(); ++i) {
    for (std::size_t z : result->clusters[i].locations) {
      EXPECT_EQ(std::count(top.locations.begin(), top.locations.end(), z), 0);
    }
    EXPECT_LE(result->clusters[i].llr, result->clusters[i - 1].llr);
    EXPECT_GE(*result->clusters[i].p_value, *top.p_value);
  }
}

// Under the null hypothesis (no space-time interaction) the p-values are uniform, so a scan at
// alpha = 0.05 alarms on about 5% of datasets.
TEST(SpaceTimePermutationScan, NullDataAlarmAtAboutAlpha) {
  int alarms = 0;
  const int datasets = 400;
  for (int i = 0; i < datasets; ++i) {
    ScanData data = Grid(5, 12, 1.5, 1000 + static_cast<std::uint32_t>(i));
    ScanOptions options;
    options.max_window = 3;
    options.replicates = 99;
    options.seed = static_cast<std::uint64_t>(i);
    auto result = SpaceTimePermutationScan(data, options);
    ASSERT_TRUE(result.ok());
    if (!result->clusters.empty() && result->clusters[0].alarm) ++alarms;
  }
  const double rate = static_cast<double>(alarms) / datasets;
  // Binomial(400, 0.05): sd 0.011; the statistic's discreteness makes the test a little
  // conservative.
  EXPECT_GE(rate, 0.015);
  EXPECT_LE(rate, 0.085);
}

// Sequential Monte Carlo (Besag and Clifford): replicates stop once `stop_after` reach the most
// likely cluster, the p-value is then g / n, and with stop_after = floor(alpha (N + 1)) + 1 the
// alarms are those of the full run.
TEST(SpaceTimePermutationScan, StoppingEarlyKeepsTheAlarmsAndSavesReplicates) {
  constexpr int kReplicates = 199;
  constexpr double kAlpha = 0.05;
  const int stop_after = static_cast<int>(std::floor(kAlpha * (kReplicates + 1))) + 1;  // 11
  int stopped = 0, run = 0;
  for (int i = 0; i < 60; ++i) {
    ScanData data = Grid(5, 12, 1.5, 2000 + static_cast<std::uint32_t>(i));
    if (i % 4 == 0) {
      for (int col : {1, 2}) data.cases[col][11] += 5;  // a cluster now and then
    }
    ScanOptions options;
    options.max_window = 3;
    options.replicates = kReplicates;
    options.alpha = kAlpha;
    options.seed = static_cast<std::uint64_t>(i);
    auto full = SpaceTimePermutationScan(data, options);
    options.stop_after = stop_after;
    auto sequential = SpaceTimePermutationScan(data, options);
    ASSERT_TRUE(full.ok() && sequential.ok());
    ASSERT_EQ(full->clusters.size(), sequential->clusters.size());
    EXPECT_EQ(full->replicates_run, kReplicates);
    const int n = sequential->replicates_run;
    run += n;
    // The replicates run are the full run's first n.
    ASSERT_LE(n, kReplicates);
    for (int r = 0; r < n; ++r) {
      EXPECT_EQ(sequential->replicate_maxima[static_cast<std::size_t>(r)],
                full->replicate_maxima[static_cast<std::size_t>(r)]);
    }
    for (std::size_t c = 0; c < full->clusters.size(); ++c) {
      const ScanCluster& a = full->clusters[c];
      const ScanCluster& b = sequential->clusters[c];
      EXPECT_EQ(a.alarm, b.alarm) << "dataset " << i << " cluster " << c;
      EXPECT_EQ(a.llr, b.llr);
      if (n == kReplicates) {
        EXPECT_EQ(*a.p_value, *b.p_value);
      } else {
        EXPECT_GE(*b.p_value, static_cast<double>(stop_after) / n - 1e-12);
        EXPECT_GT(*b.p_value, kAlpha);
        EXPECT_GT(*a.p_value, kAlpha);
      }
    }
    if (n < kReplicates) {
      ++stopped;
      const double p = *sequential->clusters[0].p_value;
      EXPECT_DOUBLE_EQ(p, static_cast<double>(stop_after) / n);
    }
  }
  // Most datasets hold no cluster and stop within a few dozen replicates.
  EXPECT_GE(stopped, 30);
  EXPECT_LT(run, 60 * kReplicates / 2);
}

// Every circle (all locations within the distance of some location) and every window, counted
// from scratch: the scan's incremental evaluation must find the same best cylinder.
double BruteForceMaxRatio(const ScanData& data, const ScanOptions& options) {
  const std::size_t z_n = data.locations.size(), t_n = data.time.size();
  double total = 0;
  std::vector<double> location_cases(z_n, 0), step_cases(t_n, 0);
  for (std::size_t z = 0; z < z_n; ++z) {
    for (std::size_t t = 0; t < t_n; ++t) {
      location_cases[z] += static_cast<double>(data.cases[z][t]);
      step_cases[t] += static_cast<double>(data.cases[z][t]);
      total += static_cast<double>(data.cases[z][t]);
    }
  }
  double best = 0;
  for (std::size_t centre = 0; centre < z_n; ++centre) {
    for (std::size_t edge = 0; edge < z_n; ++edge) {
      const auto& c = data.locations[centre];
      const double radius =
          GreatCircleKm(c.lat, c.lon, data.locations[edge].lat, data.locations[edge].lon);
      if (options.max_radius_km && radius > *options.max_radius_km) continue;
      std::vector<std::size_t> base;
      double base_cases = 0;
      for (std::size_t z = 0; z < z_n; ++z) {
        if (GreatCircleKm(c.lat, c.lon, data.locations[z].lat, data.locations[z].lon) <= radius) {
          base.push_back(z);
          base_cases += location_cases[z];
        }
      }
      if (base_cases > options.max_share * total) continue;
      for (std::size_t last = options.prospective ? t_n - 1 : 0; last < t_n; ++last) {
        for (std::size_t h = 1; h <= static_cast<std::size_t>(options.max_window) && h <= last + 1;
             ++h) {
          double cases = 0, window = 0;
          for (std::size_t t = last + 1 - h; t <= last; ++t) {
            window += step_cases[t];
            for (std::size_t z : base) cases += static_cast<double>(data.cases[z][t]);
          }
          if (cases < static_cast<double>(options.min_cases)) continue;
          best = std::max(best, ScanLogLikelihoodRatio(cases, base_cases * window / total, total));
        }
      }
    }
  }
  return best;
}

TEST(SpaceTimePermutationScan, AgreesWithCountingEveryCylinderFromScratch) {
  for (std::uint32_t seed = 1; seed <= 40; ++seed) {
    ScanData data = Grid(4, 9, 0.8, seed);
    // Twins at one place, and a far outlier: ties and a lonely circle.
    data.locations[5] = data.locations[6];
    data.locations[0].lat = -40;
    ScanOptions options;
    options.replicates = 0;
    options.prospective = seed % 2 == 0;
    options.max_window = 1 + static_cast<int>(seed % 4);
    options.max_share = seed % 3 == 0 ? 0.3 : 0.5;
    if (seed % 5 == 0) options.max_radius_km = 80;
    options.min_cases = seed % 2 == 0 ? 1 : 2;
    auto result = SpaceTimePermutationScan(data, options);
    ASSERT_TRUE(result.ok());
    const double expected = BruteForceMaxRatio(data, options);
    const double found = result->clusters.empty() ? 0 : result->clusters[0].llr;
    EXPECT_NEAR(found, expected, 1e-9 * std::max(1.0, expected)) << "seed " << seed;
    if (!result->clusters.empty()) {
      EXPECT_FALSE(result->clusters[0].p_value.has_value());
    }
  }
}

TEST(SpaceTimePermutationScan, RetrospectiveFindsAClusterThatHasEnded) {
  ScanData data = Grid(5, 30, 1.0, 5);
  for (int t : {10, 11, 12}) data.cases[12][t] += 7;  // the centre of the grid, weeks 10-12
  ScanOptions options;
  options.prospective = false;
  options.max_window = 5;
  options.seed = 9;
  auto result = SpaceTimePermutationScan(data, options);
  ASSERT_TRUE(result.ok());
  ASSERT_FALSE(result->clusters.empty());
  const ScanCluster& top = result->clusters[0];
  EXPECT_TRUE(Names(data, top).count("L2_2"));
  EXPECT_GE(top.first_step, 9U);
  EXPECT_LE(top.first_step, 10U);
  EXPECT_GE(top.last_step, 12U);
  EXPECT_LE(top.last_step, 13U);
  EXPECT_TRUE(top.alarm);
  EXPECT_FALSE(top.recurrence_steps.has_value());  // only a prospective scan recurs

  // A prospective scan of the same data looks only at the last steps and finds nothing alive.
  options.prospective = true;
  auto alive = SpaceTimePermutationScan(data, options);
  ASSERT_TRUE(alive.ok());
  for (const ScanCluster& c : alive->clusters) EXPECT_FALSE(c.alarm);
}

TEST(SpaceTimePermutationScan, SameSeedSameAnswerWhateverTheLocationOrder) {
  ScanData data = Grid(5, 20, 1.2, 21);
  for (int t : {18, 19}) data.cases[7][t] += 5;
  ScanOptions options;
  options.seed = 42;
  auto a = SpaceTimePermutationScan(data, options);
  auto b = SpaceTimePermutationScan(data, options);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->replicate_maxima, b->replicate_maxima);
  ASSERT_FALSE(a->clusters.empty());
  EXPECT_EQ(a->clusters[0].p_value, b->clusters[0].p_value);

  options.seed = 43;
  auto c = SpaceTimePermutationScan(data, options);
  ASSERT_TRUE(c.ok());
  EXPECT_NE(a->replicate_maxima, c->replicate_maxima);

  // Listing the locations in reverse changes no cylinder, so not the most likely cluster.
  ScanData reversed = data;
  std::reverse(reversed.locations.begin(), reversed.locations.end());
  std::reverse(reversed.cases.begin(), reversed.cases.end());
  options.seed = 42;
  auto r = SpaceTimePermutationScan(reversed, options);
  ASSERT_TRUE(r.ok());
  ASSERT_FALSE(r->clusters.empty());
  EXPECT_NEAR(r->clusters[0].llr, a->clusters[0].llr, 1e-9);
  EXPECT_EQ(Names(reversed, r->clusters[0]), Names(data, a->clusters[0]));
  EXPECT_NEAR(*r->clusters[0].p_value, *a->clusters[0].p_value, 0.03);
}

TEST(SpaceTimePermutationScan, RadiusAndShareBoundTheCircles) {
  ScanData data = Grid(4, 10, 2.0, 8);
  for (int t : {8, 9}) {
    for (int z : {5, 6, 9, 10}) data.cases[z][t] += 4;
  }
  ScanOptions options;
  options.replicates = 0;
  options.max_radius_km = 0;
  auto single = SpaceTimePermutationScan(data, options);
  ASSERT_TRUE(single.ok());
  for (const ScanCluster& c : single->clusters) {
    EXPECT_EQ(c.locations.size(), 1U);
    EXPECT_EQ(c.radius_km, 0);
  }
  options.max_radius_km.reset();
  options.max_share = 0.2;
  auto small = SpaceTimePermutationScan(data, options);
  ASSERT_TRUE(small.ok());
  std::int64_t total = 0;
  std::vector<std::int64_t> by_location;
  for (const auto& row : data.cases) {
    std::int64_t s = 0;
    for (std::int64_t c : row) s += c;
    by_location.push_back(s);
    total += s;
  }
  for (const ScanCluster& c : small->clusters) {
    std::int64_t base = 0;
    for (std::size_t z : c.locations) base += by_location[z];
    EXPECT_LE(static_cast<double>(base), 0.2 * static_cast<double>(total));
  }
}

TEST(SpaceTimePermutationScan, NoCasesNoClusters) {
  ScanData data;
  data.locations = {{"A", 0, 0}, {"B", 1, 1}};
  data.time = {1, 2, 3};
  data.cases = {{0, 0, 0}, {0, 0, 0}};
  auto result = SpaceTimePermutationScan(data, ScanOptions{});
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->cases, 0);
  EXPECT_TRUE(result->clusters.empty());
}

TEST(SpaceTimePermutationScan, RejectsBadDataAndOptionsByName) {
  ScanData data;
  data.locations = {{"Harbour", 0, 0}, {"Airport", 95, 1}};
  data.time = {1, 2};
  data.cases = {{1, 2}, {3, 4}};
  auto bad_lat = SpaceTimePermutationScan(data, ScanOptions{});
  ASSERT_FALSE(bad_lat.ok());
  EXPECT_NE(bad_lat.status().message().find("'Airport'"), std::string::npos);

  data.locations[1].lat = 45;
  data.cases[0][1] = -1;
  auto negative = SpaceTimePermutationScan(data, ScanOptions{});
  ASSERT_FALSE(negative.ok());
  EXPECT_NE(negative.status().message().find("'Harbour', step 2"), std::string::npos);

  data.cases[0] = {1};
  EXPECT_FALSE(SpaceTimePermutationScan(data, ScanOptions{}).ok());
  data.cases[0] = {1, 2};
  for (auto bad :
       {+[](ScanOptions& o) { o.max_share = 0; }, +[](ScanOptions& o) { o.max_window = 0; },
        +[](ScanOptions& o) { o.replicates = -1; }, +[](ScanOptions& o) { o.alpha = 1; },
        +[](ScanOptions& o) { o.max_radius_km = -3; }, +[](ScanOptions& o) { o.min_cases = 0; },
        +[](ScanOptions& o) { o.stop_after = -1; }}) {
    ScanOptions options;
    bad(options);
    EXPECT_FALSE(SpaceTimePermutationScan(data, options).ok());
  }
  EXPECT_TRUE(SpaceTimePermutationScan(data, ScanOptions{}).ok());
}

}  // namespace
}  // namespace sentinel::detect
