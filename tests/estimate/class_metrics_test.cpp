#include "nascent/estimate/class_metrics.h"

#include <gtest/gtest.h>

#include <cmath>

namespace nascent::estimate {
namespace {

// Probability rows whose most probable class is pred[i].
std::vector<float> rows_predicting(const std::vector<int64_t>& pred, int64_t classes) {
  std::vector<float> p;
  for (int64_t c : pred)
    for (int64_t j = 0; j < classes; ++j) p.push_back(j == c ? 0.6f : 0.4f / static_cast<float>(classes - 1));
  return p;
}

TEST(ClassMetrics, ThreeClassesAgainstHandComputation) {
  // Confusion (rows true, columns predicted): [2 1 1; 1 1 0; 0 1 3].
  const std::vector<int64_t> truth = {0, 0, 0, 0, 1, 1, 2, 2, 2, 2};
  const std::vector<int64_t> pred = {0, 0, 1, 2, 1, 0, 2, 2, 2, 1};
  const ClassMetrics m = class_metrics(truth, rows_predicting(pred, 3), 3);
  EXPECT_EQ(m.confusion, (std::vector<std::vector<int64_t>>{{2, 1, 1}, {1, 1, 0}, {0, 1, 3}}));
  EXPECT_EQ(m.support, (std::vector<int64_t>{4, 2, 4}));
  EXPECT_DOUBLE_EQ(m.accuracy, 0.6);
  EXPECT_NEAR(m.recall[0], 0.5, 1e-12);
  EXPECT_NEAR(m.recall[2], 0.75, 1e-12);
  EXPECT_NEAR(m.precision[0], 2.0 / 3.0, 1e-12);
  EXPECT_NEAR(m.precision[1], 1.0 / 3.0, 1e-12);
  EXPECT_NEAR(m.balanced_accuracy, (0.5 + 0.5 + 0.75) / 3.0, 1e-12);
  EXPECT_NEAR(m.f1[0], 4.0 / 7.0, 1e-12);
  EXPECT_NEAR(m.f1[1], 0.4, 1e-12);
  EXPECT_NEAR(m.macro_f1, (4.0 / 7.0 + 0.4 + 0.75) / 3.0, 1e-12);
  const nlohmann::json j = m.to_json({"a", "b", "c"});
  EXPECT_EQ(j["per_class"][2]["name"], "c");
  EXPECT_EQ(j["confusion"][0][2], 1);
}

TEST(ClassMetrics, BinaryAurocIsTheMannWhitneyStatistic) {
  // Positives score 0.35 and 0.8, negatives 0.1 and 0.4: 3 of the 4 pairs ordered right.
  EXPECT_DOUBLE_EQ(auroc({0.1, 0.4, 0.35, 0.8}, {false, false, true, true}), 0.75);
  // Ties count one half: (0.5 + 0.5 + 1 + 1) / 4.
  EXPECT_DOUBLE_EQ(auroc({0.5, 0.5, 0.5, 0.9}, {false, true, false, true}), 0.75);
  EXPECT_TRUE(std::isnan(auroc({0.2, 0.3}, {true, true})));
  const std::vector<float> p = {0.9f, 0.1f, 0.6f, 0.4f, 0.65f, 0.35f, 0.2f, 0.8f};
  const ClassMetrics m = class_metrics({0, 0, 1, 1}, p, 2);
  EXPECT_DOUBLE_EQ(m.auroc, 0.75);
  // A model that always says "majority": accuracy 0.5 here, but the minority's recall is 0.
  const ClassMetrics majority = class_metrics({0, 0, 0, 1}, {0.9f, 0.1f, 0.9f, 0.1f, 0.9f, 0.1f, 0.9f, 0.1f}, 2);
  EXPECT_DOUBLE_EQ(majority.accuracy, 0.75);
  EXPECT_DOUBLE_EQ(majority.balanced_accuracy, 0.5);
  EXPECT_DOUBLE_EQ(majority.recall[1], 0.0);
  EXPECT_NEAR(majority.macro_f1, (2 * 0.75 * 1.0 / 1.75 + 0.0) / 2.0, 1e-12);
  EXPECT_DOUBLE_EQ(majority.auroc, 0.5);
}

}  // namespace
}  // namespace nascent::estimate
