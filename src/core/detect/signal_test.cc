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

Signal Stored(std::int64_t first, std::int64_t last, int alarms) {
  Signal s;
  s.first_time = first;
  s.last_time = last;
  s.alarms = alarms;
  s.latest.time = s.peak.time = last;
  s.latest.observed = s.peak.observed = 3;
  s.latest.upperbound = s.peak.upperbound = 2;
  return s;
}

TEST(SignalFolder, ContinuesTheStoredSignal) {
  SignalFolder folder(1, Stored(10, 12, 3));
  for (const Judgement& j : Steps("AAA.A")) folder.Add(j);  // steps 10..14
  const auto changed = folder.Changed();
  ASSERT_EQ(changed.size(), 1U);
  EXPECT_EQ(changed[0].first_time, 10);
  EXPECT_EQ(changed[0].last_time, 14);
  EXPECT_EQ(changed[0].alarms, 4);  // 10-12 folded before; 14 is new
  EXPECT_EQ(changed[0].latest.time, 14);
}

TEST(SignalFolder, AlarmAgainAtTheLatestStepRefreshesWithoutCountingTwice) {
  auto steps = Steps("..A");  // step 12 judged again on a larger count
  steps[2].observed = 9;
  SignalFolder folder(0, Stored(10, 12, 3));
  for (const Judgement& j : steps) folder.Add(j);
  const auto changed = folder.Changed();
  ASSERT_EQ(changed.size(), 1U);
  EXPECT_EQ(changed[0].alarms, 3);
  EXPECT_EQ(changed[0].latest.observed, 9);
  EXPECT_EQ(changed[0].peak.observed, 9);
}

TEST(SignalFolder, NothingNewChangesNothing) {
  SignalFolder folder(0, Stored(10, 12, 3));
  for (const Judgement& j : Steps("AA.")) folder.Add(j);  // 10, 11 already folded; 12 quiet
  EXPECT_TRUE(folder.Changed().empty());
}

TEST(SignalFolder, AfterTheGapANewSignalBegins) {
  SignalFolder folder(0, Stored(10, 12, 3));
  for (const Judgement& j : Steps("....A")) folder.Add(j);  // 13 quiet: the signal is over
  const auto changed = folder.Changed();
  ASSERT_EQ(changed.size(), 1U);
  EXPECT_EQ(changed[0].first_time, 14);
  EXPECT_EQ(changed[0].alarms, 1);
}

// Folding a series in two sittings, the second continuing the first's latest signal from its
// latest alarm, gives the signals of folding it at once.
TEST(SignalFolder, TwoSittingsEqualOne) {
  std::uint32_t state = 12345;
  const auto next = [&state] { return state = state * 1103515245U + 12345U; };
  for (int trial = 0; trial < 500; ++trial) {
    std::string pattern;
    for (int i = 0; i < 30; ++i) pattern += "A.?"[(next() >> 16) % 3];
    const int gap = static_cast<int>((next() >> 16) % 3);
    const std::size_t cut = (next() >> 16) % pattern.size();
    const auto all = Steps(pattern);
    const auto whole = FoldAlarms(all, gap);

    auto first = FoldAlarms({all.begin(), all.begin() + static_cast<std::ptrdiff_t>(cut)}, gap);
    std::optional<Signal> open;
    std::size_t resume = cut;
    if (!first.empty()) {
      open = first.back();
      first.pop_back();
      resume = static_cast<std::size_t>(open->last_time - 10);
    }
    SignalFolder folder(gap, open);
    for (std::size_t i = resume; i < all.size(); ++i) folder.Add(all[i]);
    const auto changed = folder.Changed();
    auto joined = first;
    std::size_t k = 0;
    if (open) {  // the open signal, continued (first in Changed()) or as it was
      const bool continued = !changed.empty() && changed[0].first_time == open->first_time;
      joined.push_back(continued ? changed[k++] : *open);
    }
    for (; k < changed.size(); ++k) joined.push_back(changed[k]);
    ASSERT_EQ(joined.size(), whole.size()) << pattern << " gap " << gap << " cut " << cut;
    for (std::size_t i = 0; i < whole.size(); ++i) {
      EXPECT_EQ(joined[i].first_time, whole[i].first_time) << pattern;
      EXPECT_EQ(joined[i].last_time, whole[i].last_time) << pattern;
      EXPECT_EQ(joined[i].alarms, whole[i].alarms) << pattern;
      EXPECT_EQ(joined[i].peak.time, whole[i].peak.time) << pattern;
    }
  }
}

}  // namespace
}  // namespace sentinel::detect
