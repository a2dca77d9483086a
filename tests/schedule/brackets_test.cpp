// Bracket arithmetic against Li et al. 2018 (Hyperband), Table 1: R = 81, eta = 3.
#include "nascent/schedule/brackets.h"

#include <gtest/gtest.h>

#include <utility>
#include <vector>

namespace nascent::schedule {
namespace {

using Table = std::vector<std::pair<int64_t, double>>;

Table table_of(const Bracket& b) {
  Table t;
  for (const auto& r : b.rungs) t.emplace_back(r.candidates, r.resource);
  return t;
}

TEST(Brackets, HyperbandMatchesThePapersTableForR81Eta3) {
  EXPECT_EQ(max_bracket(3, 1, 81), 4);
  // Li et al. 2018, Table 1: (n_i, r_i) per bracket s.
  EXPECT_EQ(table_of(hyperband_bracket(3, 1, 81, 4)), (Table{{81, 1}, {27, 3}, {9, 9}, {3, 27}, {1, 81}}));
  EXPECT_EQ(table_of(hyperband_bracket(3, 1, 81, 3)), (Table{{34, 3}, {11, 9}, {3, 27}, {1, 81}}));
  EXPECT_EQ(table_of(hyperband_bracket(3, 1, 81, 2)), (Table{{15, 9}, {5, 27}, {1, 81}}));
  EXPECT_EQ(table_of(hyperband_bracket(3, 1, 81, 1)), (Table{{8, 27}, {2, 81}}));
  EXPECT_EQ(table_of(hyperband_bracket(3, 1, 81, 0)), (Table{{5, 81}}));
}

TEST(Brackets, ResourcesScaleToTheCallersUnitsAndFractions) {
  // Epochs 1/3 .. 3 with eta 3: the same shape as R = 9.
  EXPECT_EQ(max_bracket(3, 1.0 / 3.0, 3), 2);
  EXPECT_EQ(table_of(hyperband_bracket(3, 1.0 / 3.0, 3, 2)), (Table{{9, 0.333333}, {3, 1}, {1, 3}}));
  EXPECT_EQ(table_of(hyperband_bracket(3, 1.0 / 3.0, 3, 1)), (Table{{5, 1}, {1, 3}}));
  EXPECT_EQ(table_of(hyperband_bracket(3, 1.0 / 3.0, 3, 0)), (Table{{3, 3}}));
  // R = 10 is not a power of eta: s_max = floor(log_3 10) = 2 and the rungs end at max.
  EXPECT_EQ(max_bracket(3, 1, 10), 2);
  EXPECT_EQ(table_of(hyperband_bracket(3, 1, 10, 2)), (Table{{9, 1.11111}, {3, 3.33333}, {1, 10}}));
  EXPECT_EQ(max_bracket(2, 0.25, 1), 2);
  EXPECT_EQ(max_bracket(4, 1, 3), 0);
}

TEST(Brackets, SuccessiveHalvingIsTheMostAggressiveBracketOrAGivenFirstRung) {
  EXPECT_EQ(table_of(halving_bracket(2, 0.25, 1, 0)), (Table{{4, 0.25}, {2, 0.5}, {1, 1}}));
  EXPECT_EQ(table_of(halving_bracket(3, 1, 9, 10)), (Table{{10, 1}, {3, 3}, {1, 9}}));
  // Never an empty rung.
  EXPECT_EQ(table_of(halving_bracket(3, 1, 9, 2)), (Table{{2, 1}, {1, 3}, {1, 9}}));
}

}  // namespace
}  // namespace nascent::schedule
