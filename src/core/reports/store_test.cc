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

}  // namespace
}  // namespace sentinel::reports
