// The CSV input of `sentinel detect`: time kinds, gap filling, and errors naming line and column.
#include "app/detect_input.h"

#include <gtest/gtest.h>

#include <string>

namespace sentinel::app {
namespace {

TEST(DetectInput, IntegerStepsWithGapsAndInterleavedSeries) {
  auto r =
      ParseCountSeriesCsv("series,time,count\r\nA,1,3\nB,5,1\nA,2,4\n\nA,5,2\nB,6,0.5\n", "t.csv");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->time_kind, TimeKind::kIndex);
  ASSERT_EQ(r->series.size(), 2U);
  EXPECT_EQ(r->series[0].name, "A");
  EXPECT_EQ(r->series[0].series.time, (std::vector<std::int64_t>{1, 2, 3, 4, 5}));
  EXPECT_EQ(r->series[0].series.observed, (std::vector<double>{3, 4, 0, 0, 2}));
  EXPECT_EQ(r->series[1].series.observed, (std::vector<double>{1, 0.5}));
}

TEST(DetectInput, ColumnsInAnyOrderExtraColumnsIgnored) {
  auto r = ParseCountSeriesCsv("count,note,time,series\n2,\"x, y\",7,\"fentanyl, IL\"\n", "t");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->series[0].name, "fentanyl, IL");
  EXPECT_EQ(r->series[0].series.time, (std::vector<std::int64_t>{7}));
}

TEST(DetectInput, DatesAreDailyStepsAcrossMonthEnds) {
  auto r = ParseCountSeriesCsv("series,time,count\nA,2024-02-28,1\nA,2024-03-01,2\n", "t");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->time_kind, TimeKind::kDate);
  EXPECT_EQ(r->series[0].series.frequency, 365);
  EXPECT_EQ(r->series[0].series.observed, (std::vector<double>{1, 0, 2}));  // 29 Feb filled
  EXPECT_EQ(FormatTime(TimeKind::kDate, r->series[0].series.time[1]), "2024-02-29");
  EXPECT_EQ(FormatTime(TimeKind::kDate, 0), "1970-01-01");
}

TEST(DetectInput, IsoWeeksRunOnAcrossYearsOf52And53Weeks) {
  // 2020 has 53 ISO weeks, 2021 52.
  auto r = ParseCountSeriesCsv(
      "series,time,count\nA,2020-W52,1\nA,2021-W01,2\nA,2021-W52,3\nA,2022-W01,4\n", "t");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->time_kind, TimeKind::kIsoWeek);
  const auto& s = r->series[0].series;
  ASSERT_EQ(s.time.size(), 2U + 52U + 1U);
  EXPECT_EQ(FormatTime(TimeKind::kIsoWeek, s.time[1]), "2020-W53");
  EXPECT_EQ(s.observed[1], 0);
  EXPECT_EQ(FormatTime(TimeKind::kIsoWeek, s.time[2]), "2021-W01");
  EXPECT_EQ(FormatTime(TimeKind::kIsoWeek, s.time.back()), "2022-W01");
  // 1970-W01 starts on Monday 1969-12-29.
  auto w = ParseCountSeriesCsv("series,time,count\nA,1970-W01,1\n", "t");
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->series[0].series.time[0], 0);
  EXPECT_FALSE(ParseCountSeriesCsv("series,time,count\nA,2021-W53,1\n", "t").ok());
}

TEST(DetectInput, ErrorsNameSourceLineAndColumn) {
  const std::pair<std::string, std::string> cases[] = {
      {"series,time,count\nA,1,3\nA,2,-1\n", "t.csv: line 3, column 3 (count)"},
      {"series,time,count\nA,1,3\nA,x,1\n", "t.csv: line 3, column 2 (time)"},
      {"series,time,count\nA,2024-01-01,3\nA,7,1\n", "t.csv: line 3, column 2 (time)"},
      {"series,time,count\nA,2024-02-30,3\n", "t.csv: line 2, column 2 (time)"},
      {"series,time,count\nA,2,3\nA,2,1\n", "t.csv: line 3, column 2 (time)"},
      {"series,time,count\n,2,3\n", "t.csv: line 2, column 1 (series)"},
      {"series,time,count\nA,2,nan\n", "t.csv: line 2, column 3 (count)"},
      {"series,time,count\nA,2\n", "t.csv: line 2: 2 columns"},
      {"series,time\nA,2\n", "t.csv: line 1: the header"},
      {"series,time,count\nA,0,1\nA,5000000,1\n", "t.csv: line 3, column 2 (time)"},
      {"series,time,count\nA,-9223372036854775807,1\nA,9223372036854775807,1\n",
       "t.csv: line 3, column 2 (time)"},
      {"", "t.csv: no header"},
  };
  for (const auto& [text, message] : cases) {
    auto r = ParseCountSeriesCsv(text, "t.csv");
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_EQ(r.status().message().rfind(message, 0), 0U) << r.status().message();
  }
}

}  // namespace
}  // namespace sentinel::app
