#include "core/detect/first_detection.h"

#include <gtest/gtest.h>

namespace sentinel::detect {
namespace {

CountSeries Series(std::vector<double> counts) {
  CountSeries s;
  for (std::size_t t = 0; t < counts.size(); ++t) s.time.push_back(100 + static_cast<int>(t));
  s.observed = std::move(counts);
  return s;
}

TEST(FirstDetection, AlarmsOnceAtTheFirstCountAndThenSaysNothing) {
  const auto judged = FirstDetection(Series({0, 0, 3, 0, 5}));
  ASSERT_EQ(judged.size(), 5U);
  for (int t : {0, 1}) {
    EXPECT_EQ(judged[t].alarm, false) << t;
    EXPECT_EQ(judged[t].expected, 0.0) << t;
    EXPECT_EQ(judged[t].upperbound, 0.0) << t;
  }
  EXPECT_EQ(judged[2].alarm, true);
  EXPECT_EQ(judged[2].time, 102);
  EXPECT_EQ(judged[2].observed, 3);
  for (int t : {3, 4}) {
    EXPECT_FALSE(judged[t].alarm.has_value()) << t;
    EXPECT_FALSE(judged[t].expected.has_value()) << t;
    EXPECT_FALSE(judged[t].upperbound.has_value()) << t;
  }
}

TEST(FirstDetection, SeriesOfZerosNeverAlarms) {
  for (const Judgement& j : FirstDetection(Series({0, 0, 0}))) EXPECT_EQ(j.alarm, false);
  EXPECT_TRUE(FirstDetection(Series({})).empty());
}

TEST(FirstDetection, CountInTheFirstStepIsAFirstDetection) {
  const auto judged = FirstDetection(Series({1, 1}));
  EXPECT_EQ(judged[0].alarm, true);
  EXPECT_FALSE(judged[1].alarm.has_value());
}

}  // namespace
}  // namespace sentinel::detect
