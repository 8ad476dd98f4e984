#include "core/detect/farrington.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "test/support/r_fixture.h"

namespace sentinel::detect {
namespace {

namespace fs = std::filesystem;

// R's results (scripts/r/farrington_fixtures.R) are matched to this relative tolerance.
constexpr double kRelTol = 1e-6;

struct Fixture {
  std::string name;
  std::map<std::string, std::string> params;  // from the "# " line
  CountSeries series;
  std::vector<std::string> expected, upperbound, alarm;  // R's, as written; "" = not evaluated
};

Fixture ReadFixture(const fs::path& path) {
  test::RFixture r = test::ReadRFixture(path);
  Fixture f;
  f.name = r.name;
  f.params = r.params;
  f.series = r.series;
  f.expected = r.results["expected"];
  f.upperbound = r.results["upperbound"];
  f.alarm = r.results["alarm"];
  return f;
}

FarringtonOptions OptionsOf(const Fixture& f) {
  std::string preset = f.params.at("preset");
  const bool nolimit = preset.ends_with("_nolimit");
  if (nolimit) preset.resize(preset.size() - std::string_view("_nolimit").size());
  FarringtonOptions o = preset == "original" ? FarringtonOriginal() : Noufaily();
  if (preset == "muan") o.thresholdMethod = ThresholdMethod::kMuan;
  if (nolimit) o.limit54.cases = 0;
  o.b = std::stoi(f.params.at("b"));
  o.w = std::stoi(f.params.at("w"));
  o.alpha = std::stod(f.params.at("alpha"));
  if (preset == "original") o.pastWeeksNotIncluded = o.w;
  return o;
}

double RelErr(double ours, double r) { return std::abs(ours - r) / std::max(std::abs(r), 1e-300); }

// Checks every fixture of one preset; returns the largest relative errors seen.
void CheckPreset(const std::string& preset) {
  double max_expected = 0;
  double max_upper = 0;
  int judged = 0;
  int files = 0;
  int alarms = 0;
  for (const auto& entry :
       fs::directory_iterator(fs::path(SENTINEL_TEST_CASES_DIR) / "detect" / "farrington")) {
    const Fixture f = ReadFixture(entry.path());
    if (f.params.at("preset") != preset) continue;
    ++files;
    const FarringtonOptions o = OptionsOf(f);
    const std::string& range = f.params.at("range");
    const std::size_t first = std::stoul(range.substr(0, range.find(':'))) - 1;
    const std::size_t last = std::stoul(range.substr(range.find(':') + 1));
    const std::vector<Judgement> got = Farrington(f.series, first, last, o);
    ASSERT_EQ(got.size(), last - first) << f.name;
    for (std::size_t t = first; t < last; ++t) {
      const Judgement& j = got[t - first];
      const std::string where = fmt::format("{} time {}", f.name, t + 1);
      EXPECT_EQ(j.time, f.series.time[t]) << where;
      if (f.alarm[t] == "NA") {  // R could not fit a model
        EXPECT_FALSE(j.alarm.has_value()) << where;
        EXPECT_FALSE(j.upperbound.has_value()) << where;
        continue;
      }
      ASSERT_TRUE(j.alarm.has_value()) << where;
      EXPECT_EQ(*j.alarm, f.alarm[t] == "1") << where;
      alarms += *j.alarm ? 1 : 0;
      if (f.upperbound[t] == "NA") {
        EXPECT_FALSE(j.upperbound.has_value()) << where;
        EXPECT_FALSE(j.expected.has_value()) << where;
        continue;
      }
      ASSERT_TRUE(j.upperbound.has_value() && j.expected.has_value()) << where;
      const double e = RelErr(*j.expected, std::stod(f.expected[t]));
      const double u = RelErr(*j.upperbound, std::stod(f.upperbound[t]));
      EXPECT_LE(e, kRelTol) << where << " expected " << *j.expected << " R " << f.expected[t];
      EXPECT_LE(u, kRelTol) << where << " upperbound " << *j.upperbound << " R " << f.upperbound[t];
      max_expected = std::max(max_expected, e);
      max_upper = std::max(max_upper, u);
      ++judged;
    }
  }
  EXPECT_GT(files, 0);
  std::cout << fmt::format(
      "[ {} ] {} fixtures, {} steps with a bound, {} alarms; max relative error: expected {:.2e}, "
      "upperbound {:.2e}\n",
      preset, files, judged, alarms, max_expected, max_upper);
}

TEST(FarringtonFixtures, OriginalMatchesR) { CheckPreset("original"); }
TEST(FarringtonFixtures, NoufailyMatchesR) { CheckPreset("noufaily"); }
TEST(FarringtonFixtures, MuanMatchesR) { CheckPreset("muan"); }
TEST(FarringtonFixtures, OriginalWithoutReportingMinimumMatchesR) {
  CheckPreset("original_nolimit");
}
TEST(FarringtonFixtures, NoufailyWithoutReportingMinimumMatchesR) {
  CheckPreset("noufaily_nolimit");
}

CountSeries Weekly(std::vector<double> counts) {
  CountSeries s;
  s.observed = std::move(counts);
  for (std::size_t i = 0; i < s.observed.size(); ++i) {
    s.time.push_back(static_cast<std::int64_t>(i));
  }
  return s;
}

// A seasonal series with a little deterministic noise, `years` years of weekly counts.
std::vector<double> Seasonal(int years, double level) {
  std::vector<double> y;
  for (int t = 0; t < 52 * years; ++t) {
    const double season = level * (1 + 0.5 * std::sin(2 * M_PI * t / 52.0));
    y.push_back(std::round(season + ((t * 7) % 5) - 2));
  }
  return y;
}

bool SameJudgement(const Judgement& a, const Judgement& b) {
  return a.time == b.time && a.observed == b.observed && a.expected == b.expected &&
         a.upperbound == b.upperbound && a.alarm == b.alarm;
}

// The memo changes nothing but the cost: judging again with only the latest count changed
// reuses every fit, since no step's model sees its own week or the 26 before it (Noufaily) or
// the w before it (original).
TEST(FarringtonMemo, SameJudgementsAndRecentCountsNeedNoNewFit) {
  std::vector<double> y = Seasonal(7, 10);
  const std::size_t n = y.size();
  for (const FarringtonOptions& o : {FarringtonOriginal(), Noufaily()}) {
    FarringtonMemo memo;
    const CountSeries s = Weekly(y);
    const std::vector<Judgement> plain = Farrington(s, n - 30, n, o);
    const std::vector<Judgement> memoised = Farrington(s, n - 30, n, o, &memo);
    ASSERT_EQ(plain.size(), memoised.size());
    for (std::size_t i = 0; i < plain.size(); ++i) {
      EXPECT_TRUE(SameJudgement(plain[i], memoised[i])) << "step " << i;
    }
    EXPECT_EQ(memo.misses(), 30u);
    EXPECT_EQ(memo.hits(), 0u);

    // A report this week: the last step is judged again from the same fit, and alarms.
    std::vector<double> later = y;
    later.back() += 40;
    const CountSeries s2 = Weekly(later);
    const std::vector<Judgement> again = Farrington(s2, n - 3, n, o, &memo);
    EXPECT_EQ(memo.hits(), 3u);
    EXPECT_EQ(memo.misses(), 30u);
    const std::vector<Judgement> fresh = Farrington(s2, n - 3, n, o);
    for (std::size_t i = 0; i < fresh.size(); ++i) {
      EXPECT_TRUE(SameJudgement(fresh[i], again[i])) << "step " << i;
    }
    EXPECT_TRUE(again.back().alarm.value_or(false));

    // A count inside the steps' reference weeks changes their fits: they are fitted anew.
    std::vector<double> past = y;
    past[n - 53] += 30;  // a year before the last step: in both methods' reference weeks
    const std::vector<Judgement> refit = Farrington(Weekly(past), n - 1, n, o, &memo);
    EXPECT_EQ(memo.misses(), 31u);
    EXPECT_TRUE(SameJudgement(refit.front(), Farrington(Weekly(past), n - 1, n, o).front()));
  }
}

TEST(Farrington, AllZeroSeriesNeverAlarms) {
  const CountSeries s = Weekly(std::vector<double>(std::size_t{52} * 6, 0));
  for (const FarringtonOptions& o : {FarringtonOriginal(), Noufaily()}) {
    const std::vector<Judgement> got = Farrington(s, o);
    ASSERT_EQ(got.size(), s.observed.size() - (52 * 5 + 3));
    for (const Judgement& j : got) {
      EXPECT_FALSE(j.alarm.value_or(false));
      EXPECT_FALSE(j.upperbound.has_value());  // the reporting minimum is never met
    }
  }
}

TEST(Farrington, TooShortSeriesIsNotJudged) {
  const CountSeries s = Weekly(Seasonal(6, 10));
  const std::vector<Judgement> got = Farrington(s, 0, 52 * 5 + 3, FarringtonOriginal());
  for (const Judgement& j : got) {
    EXPECT_FALSE(j.alarm.has_value());
    EXPECT_FALSE(j.expected.has_value());
  }
}

TEST(Farrington, ClearOutbreakAlarms) {
  std::vector<double> y = Seasonal(6, 10);
  const std::size_t last = y.size() - 1;
  y[last] += 40;
  const CountSeries s = Weekly(y);
  for (const FarringtonOptions& o : {FarringtonOriginal(), Noufaily()}) {
    const std::vector<Judgement> got = Farrington(s, last - 10, last + 1, o);
    ASSERT_TRUE(got.back().alarm.has_value());
    EXPECT_TRUE(*got.back().alarm);
    EXPECT_GT(y[last], *got.back().upperbound);
    for (std::size_t i = 0; i + 1 < got.size(); ++i) EXPECT_FALSE(*got[i].alarm);
  }
}

// A steady rise is kept as a trend (the expectation follows it); when the trend would predict
// more than the baseline ever saw, R drops it and the expectation is the baseline's level.
TEST(Farrington, TrendKeptOnlyWithoutExtrapolation) {
  std::vector<double> rising;
  rising.reserve(std::size_t{52} * 6);
  for (int t = 0; t < 52 * 6; ++t) rising.push_back(20 + t / 8.0 + (t % 3));
  const CountSeries s = Weekly(rising);
  FarringtonOptions o = FarringtonOriginal();
  o.limit54.cases = 0;
  const std::size_t last = rising.size() - 1;
  const Judgement with = Farrington(s, last, last + 1, o).front();
  o.trend = false;
  const Judgement without = Farrington(s, last, last + 1, o).front();
  ASSERT_TRUE(with.expected && without.expected);
  // The trend predicts ~20 + 311/8, above every baseline count (the newest baseline window
  // ends 49 weeks back): R drops the trend.
  EXPECT_DOUBLE_EQ(*with.expected, *without.expected);

  // With a declining series the trend predicts inside the baseline's range and is kept.
  std::vector<double> falling(rising.rbegin(), rising.rend());
  const CountSeries d = Weekly(falling);
  o.trend = true;
  const Judgement kept = Farrington(d, last, last + 1, o).front();
  o.trend = false;
  const Judgement flat = Farrington(d, last, last + 1, o).front();
  ASSERT_TRUE(kept.expected && flat.expected);
  EXPECT_LT(*kept.expected, *flat.expected - 5);
  EXPECT_LT(*kept.expected, 30);  // the counts fall to 20
}

}  // namespace
}  // namespace sentinel::detect
