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

}  // namespace
}  // namespace sentinel::reports
