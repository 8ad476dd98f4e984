#include "core/detect/combinations.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

namespace sentinel::detect {
namespace {

// `n` samples at `time` holding `items`.
void Add(std::vector<Sample>& samples, int n, std::int64_t time, std::vector<std::string> items) {
  for (int i = 0; i < n; ++i) samples.push_back({time, items});
}

const Combination* Find(const CombinationResult& r, const std::string& a, const std::string& b) {
  for (const Combination& c : r.combinations) {
    if (c.first == a && c.second == b) return &c;
  }
  return nullptr;
}

TEST(PoissonUpperTail, MatchesTheSeriesWorkedByHand) {
  EXPECT_EQ(PoissonUpperTail(0, 3), 1);
  EXPECT_NEAR(PoissonUpperTail(1, 2), 1 - std::exp(-2.0), 1e-14);
  EXPECT_NEAR(PoissonUpperTail(3, 1), 1 - 2.5 / std::exp(1.0), 1e-14);  // 1 - e^-1 (1 + 1 + 1/2)
  EXPECT_EQ(PoissonUpperTail(2, 0), 0);
}

// History (weeks 1-10): fentanyl often with heroin, no xylazine. Window (weeks 11-14): xylazine
// arrives, always with fentanyl.
TEST(Combinations, XylazineWithFentanylIsNewAndHeroinWithFentanylIsUsual) {
  std::vector<Sample> s;
  Add(s, 20, 3, {"fentanyl", "heroin"});
  Add(s, 30, 5, {"fentanyl"});
  Add(s, 10, 7, {"heroin"});
  Add(s, 40, 9, {"cocaine"});
  Add(s, 10, 12, {"fentanyl", "xylazine"});
  Add(s, 6, 13, {"fentanyl", "heroin"});
  Add(s, 4, 13, {"fentanyl"});
  Add(s, 6, 14, {"heroin"});
  Add(s, 14, 14, {"cocaine"});
  Add(s, 3, 20, {"fentanyl", "carfentanil"});  // after the judged week: ignored
  auto r = JudgeCombinations(s, 14, {});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->window_first, 11);
  EXPECT_EQ(r->window_last, 14);
  EXPECT_EQ(r->samples, 40);
  EXPECT_EQ(r->history_samples, 100);
  EXPECT_EQ(r->pairs, 2U);
  EXPECT_DOUBLE_EQ(r->threshold, 0.025);

  const Combination* xylazine = Find(*r, "fentanyl", "xylazine");
  ASSERT_NE(xylazine, nullptr);
  EXPECT_EQ(xylazine->together, 10);
  EXPECT_EQ(xylazine->first_count, 20);
  EXPECT_EQ(xylazine->second_count, 10);
  EXPECT_DOUBLE_EQ(xylazine->expected, 20.0 * 10 / 40);  // no history: independence
  EXPECT_NEAR(xylazine->p_value, PoissonUpperTail(10, 5), 1e-15);
  EXPECT_NEAR(xylazine->p_value, 0.0318, 1e-4);
  EXPECT_TRUE(xylazine->is_new);
  EXPECT_FALSE(xylazine->beyond_expectation);  // 0.032 > 0.05 / 2
  EXPECT_TRUE(xylazine->alarm);
  EXPECT_EQ(xylazine->first_seen_together, 12);

  const Combination* heroin = Find(*r, "fentanyl", "heroin");
  ASSERT_NE(heroin, nullptr);
  // Their usual association: 20 together in the history where 50 * 30 / 100 = 15 were expected.
  EXPECT_DOUBLE_EQ(heroin->expected, (20.0 * 12 / 40) * (20.5 / 15.5));
  EXPECT_EQ(heroin->together, 6);
  EXPECT_EQ(heroin->history_together, 20);
  EXPECT_FALSE(heroin->is_new);
  EXPECT_FALSE(heroin->alarm);
  EXPECT_EQ(heroin->first_seen_together, 3);
  EXPECT_EQ(Find(*r, "carfentanil", "fentanyl"), nullptr);
  EXPECT_EQ(&r->combinations[0], xylazine);  // alarms first
}

// An old pair, found together by chance in the history, suddenly found together far more often.
TEST(Combinations, AnOldPairFoundTogetherBeyondItsPastIsAnAlarm) {
  std::vector<Sample> s;
  Add(s, 8, 1, {"a", "b"});
  Add(s, 32, 2, {"a"});
  Add(s, 32, 3, {"b"});
  Add(s, 128, 4, {"c"});
  Add(s, 18, 10, {"a", "b"});
  Add(s, 2, 10, {"a"});
  Add(s, 2, 10, {"b"});
  Add(s, 28, 10, {"c"});
  CombinationOptions options;
  options.window = 1;
  auto r = JudgeCombinations(s, 10, options);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->combinations.size(), 1U);
  const Combination& c = r->combinations[0];
  // History: 8 together where 40 * 40 / 200 = 8 were expected, lift 1; window: 20 * 20 / 50.
  EXPECT_DOUBLE_EQ(c.expected, 8);
  EXPECT_EQ(c.together, 18);
  EXPECT_NEAR(c.p_value, PoissonUpperTail(18, 8), 1e-15);
  EXPECT_LT(c.p_value, 0.005);
  EXPECT_FALSE(c.is_new);
  EXPECT_TRUE(c.beyond_expectation);
  EXPECT_TRUE(c.alarm);
}

// A form is an item: the first nitazene in tablets is a new pair, while nitazene powder is not.
TEST(Combinations, FirstDetectionInAFormIsANewPair) {
  std::vector<Sample> s;
  Add(s, 5, 1, {"protonitazene", "form:powder"});
  Add(s, 50, 1, {"fentanyl", "form:tablet"});
  Add(s, 1, 8, {"protonitazene", "form:tablet", "protonitazene"});  // a duplicate counts once
  Add(s, 2, 8, {"protonitazene", "form:powder"});
  Add(s, 10, 8, {"fentanyl", "form:tablet"});
  auto r = JudgeCombinations(s, 8, {});
  ASSERT_TRUE(r.ok());
  const Combination* tablet = Find(*r, "form:tablet", "protonitazene");
  ASSERT_NE(tablet, nullptr);
  EXPECT_EQ(tablet->together, 1);
  EXPECT_EQ(tablet->second_count, 3);
  EXPECT_TRUE(tablet->is_new);
  EXPECT_TRUE(tablet->alarm);
  const Combination* powder = Find(*r, "form:powder", "protonitazene");
  ASSERT_NE(powder, nullptr);
  EXPECT_FALSE(powder->is_new);
  EXPECT_FALSE(powder->alarm);
  const Combination* fentanyl = Find(*r, "fentanyl", "form:tablet");
  ASSERT_NE(fentanyl, nullptr);
  EXPECT_FALSE(fentanyl->alarm);

  CombinationOptions at_least_two;
  at_least_two.min_together = 2;
  auto fewer = JudgeCombinations(s, 8, at_least_two);
  ASSERT_TRUE(fewer.ok());
  EXPECT_EQ(Find(*fewer, "form:tablet", "protonitazene"), nullptr);
  EXPECT_EQ(fewer->pairs, 2U);
}

TEST(Combinations, NoHistoryMakesEveryPairNewAndBadOptionsAreRefused) {
  std::vector<Sample> s;
  Add(s, 3, 5, {"x", "y", "z"});
  auto r = JudgeCombinations(s, 5, {});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->combinations.size(), 3U);
  for (const Combination& c : r->combinations) EXPECT_TRUE(c.is_new && c.alarm);
  EXPECT_TRUE(JudgeCombinations({}, 5, {})->combinations.empty());
  for (auto bad : {CombinationOptions{0, 0.05, 1}, CombinationOptions{4, 0, 1},
                   CombinationOptions{4, 1, 1}, CombinationOptions{4, 0.05, 0}}) {
    EXPECT_FALSE(JudgeCombinations(s, 5, bad).ok());
  }
}

}  // namespace
}  // namespace sentinel::detect
