#include "core/detect/precursor_anomalies.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

namespace sentinel::detect {
namespace {

Shipment Ship(std::string id, std::int64_t time, std::string chemical, double quantity,
              std::string origin, std::string destination, std::vector<std::string> transit = {},
              QuantityDimension dimension = QuantityDimension::kMass) {
  return {std::move(id),
          time,
          std::move(chemical),
          quantity,
          dimension,
          std::move(origin),
          std::move(destination),
          std::move(transit)};
}

TEST(ModifiedZScore, IsIglewiczAndHoaglinsScore) {
  // Median 3; absolute deviations 2, 1, 0, 1, 97; MAD 1.
  EXPECT_NEAR(ModifiedZScore(100, {1, 2, 3, 4, 100}), 0.6745 * 97, 1e-12);
  EXPECT_EQ(ModifiedZScore(3, {1, 2, 3, 4, 100}), 0);
  EXPECT_NEAR(ModifiedZScore(2.5, {1, 2, 3, 4}), 0, 1e-12);  // even count: median 2.5
  // MAD 0 (most values equal): the mean absolute deviation 0.2 stands in.
  EXPECT_NEAR(ModifiedZScore(6, {5, 5, 5, 5, 6}), 1 / (1.253314 * 0.2), 1e-9);
  EXPECT_EQ(ModifiedZScore(2, {2, 2, 2}), 0);
  EXPECT_TRUE(std::isinf(ModifiedZScore(3, {2, 2, 2})));
}

// Ten weeks of ANPP from China to Mexico, 20-29 kg; then the window (weeks 11-14).
TEST(PrecursorShipments, NamesWhatIsUnusualForTheChemical) {
  std::vector<Shipment> s;
  for (int week = 1; week <= 10; ++week) {
    s.push_back(Ship("h" + std::to_string(week), week, "ANPP", 20 + week % 10, "CN", "MX", {"US"}));
  }
  s.push_back(Ship("usual", 11, "ANPP", 25, "CN", "MX", {"US"}));
  s.push_back(Ship("large", 12, "ANPP", 2000, "CN", "MX", {"US"}));
  s.push_back(Ship("elsewhere", 12, "ANPP", 25, "CN", "GT", {"US"}));
  s.push_back(Ship("via", 13, "ANPP", 22, "CN", "MX", {"NL", "US", "NL"}));
  s.push_back(Ship("new", 14, "4-AP", 10, "IN", "MX"));
  s.push_back(Ship("later", 20, "ANPP", 1, "CN", "CA"));
  auto judged = JudgePrecursorShipments(s, 14, {});
  ASSERT_TRUE(judged.ok()) << judged.status().ToString();
  ASSERT_EQ(judged->size(), 5U);
  const auto& usual = (*judged)[0];
  EXPECT_EQ(s[usual.shipment].id, "usual");
  EXPECT_FALSE(usual.alarm);
  EXPECT_EQ(usual.history, 10U);
  ASSERT_TRUE(usual.quantity_z.has_value());
  EXPECT_LT(std::fabs(*usual.quantity_z), 1);

  const auto& large = (*judged)[1];
  EXPECT_EQ(large.reasons, std::vector<std::string>{"unusual_quantity"});
  EXPECT_GT(*large.quantity_z, 3.5);
  EXPECT_NEAR(*large.usual_quantity, 25, 1e-9);  // the median of 20..29 and week 11's 25
  EXPECT_EQ(large.history, 11U);  // weeks 1-11; "elsewhere", same week, is not history

  const auto& elsewhere = (*judged)[2];
  EXPECT_EQ(elsewhere.reasons, (std::vector<std::string>{"new_destination", "new_route"}));
  EXPECT_EQ(elsewhere.history, 11U);

  const auto& via = (*judged)[3];
  EXPECT_EQ(via.reasons, std::vector<std::string>{"new_transit"});
  EXPECT_EQ(via.new_transit, std::vector<std::string>{"NL"});
  EXPECT_FALSE(via.new_route);

  const auto& first = (*judged)[4];
  EXPECT_EQ(first.reasons, std::vector<std::string>{"first_of_chemical"});
  EXPECT_FALSE(first.quantity_z.has_value());
}

TEST(PrecursorShipments, ShipmentsOfOneStepDoNotJudgeEachOther) {
  std::vector<Shipment> s = {Ship("a", 5, "NPP", 10, "CN", "MX"),
                             Ship("b", 5, "NPP", 12, "CN", "MX")};
  auto judged = JudgePrecursorShipments(s, 5, {});
  ASSERT_TRUE(judged.ok());
  ASSERT_EQ(judged->size(), 2U);
  for (const auto& j : *judged) EXPECT_TRUE(j.first_of_chemical);
}

TEST(PrecursorShipments, QuantitiesCompareOnlyWithinTheirDimensionAndEnoughHistory) {
  std::vector<Shipment> s;
  for (int week = 1; week <= 6; ++week) s.push_back(Ship("m", week, "GBL", 5, "CN", "NL"));
  s.push_back(Ship("litres", 7, "GBL", 5000, "CN", "NL", {}, QuantityDimension::kVolume));
  s.push_back(Ship("kilos", 7, "GBL", 5000, "CN", "NL"));
  PrecursorOptions options;
  options.window = 1;
  auto judged = JudgePrecursorShipments(s, 7, options);
  ASSERT_TRUE(judged.ok());
  ASSERT_EQ(judged->size(), 2U);
  EXPECT_FALSE((*judged)[0].quantity_z.has_value());  // no volumes before
  EXPECT_FALSE((*judged)[0].alarm);
  EXPECT_TRUE(std::isinf(*(*judged)[1].quantity_z));  // always 5 kg before
  EXPECT_TRUE((*judged)[1].unusual_quantity);

  options.min_history = 7;
  auto fewer = JudgePrecursorShipments(s, 7, options);
  ASSERT_TRUE(fewer.ok());
  EXPECT_FALSE((*fewer)[1].quantity_z.has_value());
}

TEST(PrecursorShipments, RefusesBadOptionsAndQuantities) {
  const std::vector<Shipment> ok = {Ship("a", 1, "NPP", 1, "CN", "MX")};
  EXPECT_FALSE(JudgePrecursorShipments(ok, 1, {0, 3.5, 5}).ok());
  EXPECT_FALSE(JudgePrecursorShipments(ok, 1, {4, 0, 5}).ok());
  EXPECT_FALSE(JudgePrecursorShipments(ok, 1, {4, 3.5, 0}).ok());
  auto zero = JudgePrecursorShipments({Ship("z", 1, "NPP", 0, "CN", "MX")}, 1, {});
  ASSERT_FALSE(zero.ok());
  EXPECT_NE(zero.status().message().find("'z'"), std::string::npos);
}

}  // namespace
}  // namespace sentinel::detect
