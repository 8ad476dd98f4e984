#include "core/detect/signal.h"

#include <gtest/gtest.h>

namespace sentinel::detect {
namespace {

// Steps 10, 11, ...: 'A' alarm, '.' judged without alarm, '?' not judged; observed = index.
std::vector<Judgement> Steps(const std::string& pattern) {
  std::vector<Judgement> out;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    Judgement j;
    j.time = 10 + static_cast<std::int64_t>(i);
    j.observed = static_cast<double>(i);
    if (pattern[i] != '?') {
      j.alarm = pattern[i] == 'A';
      j.expected = 1;
      j.upperbound = 2;
    }
    out.push_back(j);
  }
  return out;
}

TEST(FoldAlarms, ContinuingAlarmsAreOneSignal) {
  const auto signals = FoldAlarms(Steps("..AAA..A"), 0);
  ASSERT_EQ(signals.size(), 2U);
  EXPECT_EQ(signals[0].first_time, 12);
  EXPECT_EQ(signals[0].last_time, 14);
  EXPECT_EQ(signals[0].alarms, 3);
  EXPECT_EQ(signals[0].latest.time, 14);
  EXPECT_EQ(signals[0].peak.time, 14);  // the largest count over the same bound
  EXPECT_EQ(signals[1].first_time, 17);
  EXPECT_EQ(signals[1].alarms, 1);
}

TEST(FoldAlarms, GapUpToMaxGapKeepsTheSignalOpen) {
  EXPECT_EQ(FoldAlarms(Steps("A.A..A"), 1).size(), 2U);  // one gap of 1 bridged, 2 not
  const auto bridged = FoldAlarms(Steps("A.A..A"), 2);
  ASSERT_EQ(bridged.size(), 1U);
  EXPECT_EQ(bridged[0].first_time, 10);
  EXPECT_EQ(bridged[0].last_time, 15);
  EXPECT_EQ(bridged[0].alarms, 3);
}

TEST(FoldAlarms, UnjudgedStepsNeitherExtendNorSplit) {
  const auto signals = FoldAlarms(Steps("A??A?"), 0);
  ASSERT_EQ(signals.size(), 1U);
  EXPECT_EQ(signals[0].last_time, 13);
  EXPECT_TRUE(FoldAlarms(Steps("??..?"), 3).empty());
}

TEST(FoldAlarms, PeakIsTheLargestExcessNotTheLatest) {
  auto steps = Steps("AAA");
  steps[1].observed = 50;
  const auto signals = FoldAlarms(steps, 0);
  ASSERT_EQ(signals.size(), 1U);
  EXPECT_EQ(signals[0].peak.time, 11);
  EXPECT_EQ(signals[0].latest.time, 12);
}

}  // namespace
}  // namespace sentinel::detect
