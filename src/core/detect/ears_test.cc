// EARS C1-C3 against R surveillance's earsC() (fixtures from scripts/r/surveillance_fixtures.R)
// and against cases worked by hand.
#include "core/detect/ears.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace sentinel::detect {
namespace {

namespace fs = std::filesystem;

// Agreement with R: |sentinel - R| <= kTolerance * max(1, |R|). Both sides round differently
// (rolling sums against R's two-pass mean and sd), never by more than a few ulps.
constexpr double kTolerance = 1e-9;
// qnorm(1 - 0.001) in R, printed with 17 digits.
constexpr double kZ001 = 3.0902323061678132;

struct FixtureRow {
  std::string series;
  std::int64_t time = 0;
  double observed = 0;
  std::optional<double> upperbound;
  std::optional<bool> alarm;
};

struct Fixture {
  std::string name;
  EarsOptions options;
  std::vector<FixtureRow> rows;
};

std::vector<std::string> Split(const std::string& line, char sep) {
  std::vector<std::string> out(1);
  for (char c : line) {
    if (c == sep) {
      out.emplace_back();
    } else {
      out.back() += c;
    }
  }
  return out;
}

// "# method=C1 alpha=0.001 baseline=7 minSigma=0"
void ReadConfig(const std::string& line, EarsOptions& options) {
  for (const std::string& word : Split(line.substr(2), ' ')) {
    const auto eq = word.find('=');
    if (eq == std::string::npos) continue;
    const std::string key = word.substr(0, eq), value = word.substr(eq + 1);
    if (key == "method") {
      options.method = value == "C1"   ? EarsMethod::kC1
                       : value == "C2" ? EarsMethod::kC2
                                       : EarsMethod::kC3;
    } else if (key == "alpha") {
      options.alpha = std::stod(value);
    } else if (key == "baseline") {
      options.baseline = std::stoi(value);
    } else if (key == "minSigma") {
      options.min_sigma = std::stod(value);
    }
  }
}

Fixture ReadFixture(const fs::path& path) {
  Fixture f;
  f.name = path.filename().string();
  std::ifstream in(path);
  std::string line;
  bool header = true;
  while (std::getline(in, line)) {
    if (line.rfind("# method=", 0) == 0) ReadConfig(line, f.options);
    if (line.empty() || line[0] == '#') continue;
    if (header) {
      EXPECT_EQ(line, "series,time,observed,expected,upperbound,alarm") << f.name;
      header = false;
      continue;
    }
    const auto cells = Split(line, ',');
    EXPECT_EQ(cells.size(), 6U) << f.name << ": " << line;
    if (cells.size() != 6) continue;
    FixtureRow row;
    row.series = cells[0];
    row.time = std::stoll(cells[1]);
    row.observed = std::stod(cells[2]);
    if (!cells[4].empty()) row.upperbound = std::stod(cells[4]);
    if (!cells[5].empty()) row.alarm = cells[5] == "true";
    f.rows.push_back(row);
  }
  return f;
}

std::vector<Fixture> Fixtures() {
  std::vector<fs::path> paths;
  for (const auto& e : fs::directory_iterator(fs::path(SENTINEL_TEST_CASES_DIR) / "detect/ears")) {
    if (e.path().extension() == ".csv") paths.push_back(e.path());
  }
  std::sort(paths.begin(), paths.end());
  std::vector<Fixture> out;
  out.reserve(paths.size());
  for (const auto& p : paths) out.push_back(ReadFixture(p));
  return out;
}

TEST(EarsAgainstR, EveryFixtureAgreesWithSurveillanceEarsC) {
  const std::vector<Fixture> fixtures = Fixtures();
  ASSERT_EQ(fixtures.size(), 12U) << "3 methods x 4 configurations";
  int compared = 0, alarms = 0, unjudged = 0;
  double worst = 0;
  for (const Fixture& f : fixtures) {
    std::map<std::string, std::vector<const FixtureRow*>> by_series;
    for (const FixtureRow& row : f.rows) by_series[row.series].push_back(&row);
    ASSERT_GE(by_series.size(), 8U) << f.name;
    for (const auto& [name, rows] : by_series) {
      CountSeries series;
      for (const FixtureRow* row : rows) {
        series.time.push_back(row->time);
        series.observed.push_back(row->observed);
      }
      auto judged = Ears(series, f.options);
      ASSERT_TRUE(judged.ok()) << judged.status().ToString();
      ASSERT_EQ(judged->size(), rows.size());
      for (std::size_t i = 0; i < rows.size(); ++i) {
        const FixtureRow& r = *rows[i];
        const Judgement& j = (*judged)[i];
        const std::string where = f.name + " " + name + " time " + std::to_string(r.time);
        ASSERT_EQ(j.time, r.time) << where;
        ASSERT_EQ(j.observed, r.observed) << where;
        ASSERT_EQ(j.upperbound.has_value(), r.upperbound.has_value()) << where;
        ASSERT_EQ(j.alarm, r.alarm) << where;
        if (!r.upperbound) {
          ++unjudged;
          continue;
        }
        const double err =
            std::fabs(*j.upperbound - *r.upperbound) / std::max(1.0, std::fabs(*r.upperbound));
        worst = std::max(worst, err);
        ASSERT_LE(err, kTolerance) << where << ": " << *j.upperbound << " vs R " << *r.upperbound;
        ++compared;
        alarms += *r.alarm ? 1 : 0;
      }
    }
  }
  // The fixtures must exercise every branch, or agreement would prove little.
  EXPECT_GT(compared, 15000);
  EXPECT_GT(alarms, 1000);
  EXPECT_GT(unjudged, 1000);
  RecordProperty("worst_relative_error", std::to_string(worst));
  std::printf("compared %d upper bounds with R (%d alarms, %d not judged); worst error %.3g\n",
              compared, alarms, unjudged, worst);
}

CountSeries Series(std::vector<double> counts) {
  CountSeries s;
  for (std::size_t i = 0; i < counts.size(); ++i) s.time.push_back(static_cast<std::int64_t>(i));
  s.observed = std::move(counts);
  return s;
}

TEST(Ears, C1ByHand) {
  // Baseline 1..7: mean 4, sd sqrt(28 / 6).
  auto r = Ears(Series({1, 2, 3, 4, 5, 6, 7, 10, 20}), {});
  ASSERT_TRUE(r.ok());
  for (int t = 0; t < 7; ++t) {
    EXPECT_FALSE((*r)[t].expected);
    EXPECT_FALSE((*r)[t].upperbound);
    EXPECT_FALSE((*r)[t].alarm);
  }
  EXPECT_DOUBLE_EQ(*(*r)[7].expected, 4);
  EXPECT_NEAR(*(*r)[7].upperbound, 4 + kZ001 * std::sqrt(28.0 / 6), 1e-12);
  EXPECT_EQ((*r)[7].alarm, false);
  // Baseline 2..7, 10: mean 37/7.
  EXPECT_DOUBLE_EQ(*(*r)[8].expected, 37.0 / 7);
  EXPECT_EQ((*r)[8].alarm, true);
}

TEST(Ears, C2SkipsTwoStepsBeforeTheBaseline) {
  // The spikes at steps 7 and 8 fall in C2's guard band: step 9 is judged on steps 0..6 only.
  auto r = Ears(Series({1, 2, 3, 4, 5, 6, 7, 100, 100, 12}), {.method = EarsMethod::kC2});
  ASSERT_TRUE(r.ok());
  for (int t = 0; t < 9; ++t) EXPECT_FALSE((*r)[t].upperbound) << t;
  EXPECT_DOUBLE_EQ(*(*r)[9].expected, 4);
  EXPECT_NEAR(*(*r)[9].upperbound, 4 + kZ001 * std::sqrt(28.0 / 6), 1e-12);
  EXPECT_EQ((*r)[9].alarm, true);
}

TEST(Ears, C3ByHand) {
  // Baseline 7 of constant-spread counts; C2 at steps 9 and 10 exceeds 1, so C3's bound at 11
  // is observed + sd * (z - (C2[9] - 1) - (C2[10] - 1)).
  std::vector<double> x = {1, 2, 3, 4, 5, 6, 7, 4, 4, 9, 10, 8};
  auto r = Ears(Series(x), {.method = EarsMethod::kC3});
  ASSERT_TRUE(r.ok());
  for (int t = 0; t < 11; ++t) EXPECT_FALSE((*r)[t].upperbound) << t;
  auto stats = [&](int s) {  // mean and sd of x[s-9 .. s-3]
    double sum = 0, ss = 0;
    for (int i = s - 9; i <= s - 3; ++i) sum += x[i];
    const double mean = sum / 7;
    for (int i = s - 9; i <= s - 3; ++i) ss += (x[i] - mean) * (x[i] - mean);
    return std::pair{mean, std::sqrt(ss / 6)};
  };
  const auto [m9, s9] = stats(9);
  const auto [m10, s10] = stats(10);
  const auto [m11, s11] = stats(11);
  const double c2_9 = (9 - m9) / s9, c2_10 = (10 - m10) / s10;
  ASSERT_GT(c2_9, 1);
  ASSERT_GT(c2_10, 1);
  const double bound = std::max(0.0, 8 + s11 * (kZ001 - (c2_9 - 1) - (c2_10 - 1)));
  EXPECT_NEAR(*(*r)[11].upperbound, bound, 1e-12);
  EXPECT_DOUBLE_EQ(*(*r)[11].expected, m11);
  EXPECT_EQ((*r)[11].alarm, 8 > bound);
}

TEST(Ears, TooShortToJudge) {
  const std::pair<EarsMethod, std::size_t> first_judged[] = {
      {EarsMethod::kC1, 7}, {EarsMethod::kC2, 9}, {EarsMethod::kC3, 11}};
  for (const auto& [method, first] : first_judged) {
    std::vector<double> x(first, 3.0);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] += static_cast<double>(i % 3);
    auto shorter = Ears(Series(x), {.method = method});
    ASSERT_TRUE(shorter.ok());
    for (const auto& j : *shorter) EXPECT_FALSE(j.upperbound || j.alarm || j.expected);
    x.push_back(4);
    auto judged = Ears(Series(x), {.method = method});
    ASSERT_TRUE(judged.ok());
    EXPECT_TRUE(judged->back().upperbound) << EarsMethodName(method);
    EXPECT_TRUE(judged->back().alarm) << EarsMethodName(method);
  }
  auto empty = Ears(Series({}), {});
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

TEST(Ears, ZeroVarianceBaselineAndMinSigma) {
  // Constant baseline: without a floor C1's bound is the mean itself, so any rise alarms.
  auto bare = Ears(Series({5, 5, 5, 5, 5, 5, 5, 6}), {});
  ASSERT_TRUE(bare.ok());
  EXPECT_DOUBLE_EQ(*(*bare)[7].upperbound, 5);
  EXPECT_EQ((*bare)[7].alarm, true);
  // minSigma 1 floors the standard deviation: bound 5 + z.
  auto floored = Ears(Series({5, 5, 5, 5, 5, 5, 5, 6}), {.min_sigma = 1});
  ASSERT_TRUE(floored.ok());
  EXPECT_NEAR(*(*floored)[7].upperbound, 5 + kZ001, 1e-12);
  EXPECT_EQ((*floored)[7].alarm, false);
  // C3 divides by the standard deviation: 0/0 on a constant series is R's NA, no judgement...
  std::vector<double> flat(12, 2.0);
  auto c3 = Ears(Series(flat), {.method = EarsMethod::kC3});
  ASSERT_TRUE(c3.ok());
  EXPECT_DOUBLE_EQ(*c3->back().expected, 2);
  EXPECT_FALSE(c3->back().upperbound);
  EXPECT_FALSE(c3->back().alarm);
  // ...and with a floor it judges: C2 is 0 throughout, the bound is 2 + minSigma * z.
  auto c3_floored = Ears(Series(flat), {.method = EarsMethod::kC3, .min_sigma = 0.5});
  ASSERT_TRUE(c3_floored.ok());
  EXPECT_NEAR(*c3_floored->back().upperbound, 2 + 0.5 * kZ001, 1e-12);
  EXPECT_EQ(c3_floored->back().alarm, false);
}

TEST(Ears, FractionalAndHugeCountsMatchTheExactPath) {
  // Shifting every count shifts mean and bound by as much and leaves sd alone; the shifted and
  // the huge series take the two-pass path, the integer series the rolling sums.
  std::vector<double> x = {3, 0, 7, 2, 2, 9, 4, 1, 0, 12, 5, 6, 2, 30, 8, 1};
  for (EarsMethod method : {EarsMethod::kC1, EarsMethod::kC2}) {
    auto base = Ears(Series(x), {.method = method});
    for (double shift : {0.25, 1e9}) {
      std::vector<double> y = x;
      for (double& v : y) v += shift;
      auto shifted = Ears(Series(y), {.method = method});
      ASSERT_TRUE(base.ok() && shifted.ok());
      for (std::size_t t = 0; t < x.size(); ++t) {
        ASSERT_EQ((*base)[t].upperbound.has_value(), (*shifted)[t].upperbound.has_value());
        if (!(*base)[t].upperbound) continue;
        EXPECT_NEAR(*(*shifted)[t].upperbound - shift, *(*base)[t].upperbound, 1e-12 * (1 + shift))
            << t;
        EXPECT_EQ((*shifted)[t].alarm, (*base)[t].alarm) << t;
      }
    }
  }
}

TEST(Ears, RejectsWhatRRejects) {
  const CountSeries s = Series({1, 2, 3, 4, 5, 6, 7, 8});
  EXPECT_FALSE(Ears(s, {.baseline = 2}).ok());
  EXPECT_FALSE(Ears(s, {.min_sigma = -0.1}).ok());
  EXPECT_FALSE(Ears(s, {.alpha = 0}).ok());
  EXPECT_FALSE(Ears(s, {.alpha = 1}).ok());
  CountSeries ragged = s;
  ragged.time.pop_back();
  EXPECT_FALSE(Ears(ragged, {}).ok());
}

}  // namespace
}  // namespace sentinel::detect
