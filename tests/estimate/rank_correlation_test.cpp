#include "nascent/estimate/rank_correlation.h"

#include <gtest/gtest.h>

#include <cmath>

namespace nascent::estimate {
namespace {

TEST(RankCorrelation, AverageRanksShareTies) {
  EXPECT_EQ(average_ranks({10, 30, 20, 30}), (std::vector<double>{1, 3.5, 2, 3.5}));
}

TEST(RankCorrelation, SpearmanAndKendallOnKnownSamples) {
  const std::vector<double> x = {1, 2, 3, 4, 5};
  EXPECT_DOUBLE_EQ(spearman(x, {2, 4, 6, 8, 100}), 1.0);  // monotone: only ranks matter
  EXPECT_DOUBLE_EQ(spearman(x, {5, 4, 3, 2, 1}), -1.0);
  EXPECT_DOUBLE_EQ(kendall_tau_b(x, {5, 4, 3, 2, 1}), -1.0);
  // One swapped pair of five: d^2 sum = 2, rho = 1 - 6*2 / (5*24) = 0.9; tau = (9 - 1) / 10 = 0.8.
  EXPECT_NEAR(spearman(x, {1, 2, 3, 5, 4}), 0.9, 1e-12);
  EXPECT_NEAR(kendall_tau_b(x, {1, 2, 3, 5, 4}), 0.8, 1e-12);
  // scipy.stats.kendalltau([1,2,3,4], [1,1,2,3]) = 0.9128709 (tau-b with one tie in b):
  // C = 5, D = 0, n0 = 6, n2 = 1 -> 5 / sqrt(6 * 5).
  EXPECT_NEAR(kendall_tau_b({1, 2, 3, 4}, {1, 1, 2, 3}), 5.0 / std::sqrt(30.0), 1e-12);
  EXPECT_DOUBLE_EQ(spearman(x, {7, 7, 7, 7, 7}), 0.0);
}

TEST(RankCorrelation, EqualInfinitiesTieLikeAnyEqualLowestValues) {
  // Estimates that failed are ranked last as -inf; they must tie with each other, exactly as
  // two equal finite values below everything else would.
  const std::vector<double> truth = {0.1, 0.2, 0.5, 0.4, 0.9, 0.7};
  const std::vector<double> inf = {-INFINITY, -INFINITY, 3, 1, 5, 4};
  const std::vector<double> low = {-1e9, -1e9, 3, 1, 5, 4};
  EXPECT_DOUBLE_EQ(kendall_tau_b(inf, truth), kendall_tau_b(low, truth));
  EXPECT_DOUBLE_EQ(spearman(inf, truth), spearman(low, truth));
  EXPECT_LT(kendall_tau_b(inf, truth), 1.0);  // the tie costs a pair
}

}  // namespace
}  // namespace nascent::estimate
