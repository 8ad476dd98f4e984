#include "core/reports/store.h"

#include <gtest/gtest.h>

namespace sentinel::reports {
namespace {

TEST(ReportId, SortsByCreationTimeWhateverTheRandomPart) {
  const std::string earlier = FormatReportId(1'700'000'000'000, 0xffffffff);
  const std::string later = FormatReportId(1'700'000'000'001, 0);
  EXPECT_EQ(earlier.size(), 17u);
  EXPECT_EQ(earlier[0], 'r');
  EXPECT_LT(earlier, later);
  EXPECT_NE(FormatReportId(1'700'000'000'000, 1), FormatReportId(1'700'000'000'000, 2));
  EXPECT_EQ(FormatReportId(0, 0), "r0000000000000000");
}

// The rule the stores apply in SQL: a signal is for the organisations of its country, and the
// node itself (no country) belongs to no audience.
TEST(SignalVisible, OnlyTheAudiencesOwnCountry) {
  Principal viewer;
  viewer.organisation = "ed-us";
  viewer.country = "US";
  EXPECT_TRUE(SignalVisible("US", viewer));
  EXPECT_FALSE(SignalVisible("GB", viewer));
  EXPECT_FALSE(SignalVisible("", NodeAdministrator()));
  EXPECT_FALSE(SignalVisible("US", NodeAdministrator()));
}

// The summary keeps only what decides who sees a row.
TEST(SummaryAudienceOf, KeepsOnlyWhatDecidesVisibility) {
  const auto of = [](Distribution d) { return SummaryAudienceOf(d, "lab-us", "US"); };
  EXPECT_EQ(of(Distribution::kEveryone).org_country, "");
  EXPECT_EQ(of(Distribution::kEveryone).organisation, "");
  EXPECT_EQ(of(Distribution::kNational).org_country, "US");
  EXPECT_EQ(of(Distribution::kNational).organisation, "");
  for (Distribution d : {Distribution::kTrustedGroup, Distribution::kOrganisation}) {
    EXPECT_EQ(of(d).org_country, "");
    EXPECT_EQ(of(d).organisation, "lab-us");
  }
}

// Two ranges may hold the same cell (a viewer's own report and its country's); a cell whose
// every version was superseded sums to zero and is dropped; rows follow substance keys, not the
// store's ids.
TEST(AggregateCells, MergeSumsSharedCellsDropsEmptyOnesAndOrdersByKey) {
  const std::unordered_map<std::int64_t, std::string> key_of = {{7, "fentanyl"}, {3, "xylazine"}};
  AggregateCells cells;
  cells.Add(19'000, 3, "US", 2);
  cells.Add(19'000, 7, "US", 1);
  cells.Add(19'000, 7, "US", 4);
  cells.Add(19'000, 7, "CA", 1);
  cells.Add(19'000, 7, "CA", -1);
  cells.Add(18'993, 3, "GB", 1);
  cells.Add(19'000, 7, "BE", 2);  // a place first seen after others sorts before them
  EXPECT_EQ(cells.SubstanceIds(), (std::vector<std::int64_t>{3, 7}));
  const std::vector<AggregateRow> rows = cells.Merge(key_of);
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0].period_start, "2022-01-01");
  EXPECT_EQ(rows[0].substance_key, "xylazine");
  EXPECT_EQ(rows[0].place, "GB");
  EXPECT_EQ(rows[1].period_start, "2022-01-08");
  EXPECT_EQ(rows[1].substance_key, "fentanyl");
  EXPECT_EQ(rows[1].place, "BE");
  EXPECT_EQ(rows[1].reports, 2);
  EXPECT_EQ(rows[2].substance_key, "fentanyl");
  EXPECT_EQ(rows[2].place, "US");
  EXPECT_EQ(rows[2].reports, 5);
  EXPECT_EQ(rows[3].period_start, "2022-01-08");
  EXPECT_EQ(rows[3].substance_key, "xylazine");
  EXPECT_EQ(rows[3].reports, 2);
}

}  // namespace
}  // namespace sentinel::reports
