#include "nascent/run/importance.h"

#include <gtest/gtest.h>

#include "nascent/core/rng.h"

namespace nascent::run {
namespace {

const std::vector<std::string> kNames = {"a", "b", "c"};
const std::vector<std::vector<std::string>> kOptions = {{"a0", "a1", "a2"}, {"b0", "b1"}, {"c0", "c1", "c2", "c3"}};

// y = 2 [a = a2] + 0.5 [b = b0] (+ noise): c does nothing.
double objective(const std::vector<int>& x) { return 2.0 * (x[0] == 2) + 0.5 * (x[1] == 0); }

const DecisionImportance& find(const std::vector<DecisionImportance>& v, const std::string& name) {
  for (const auto& d : v)
    if (d.name == name) return d;
  throw std::runtime_error("no decision " + name);
}

TEST(Fanova, AFullFactorialAdditiveObjectiveGetsItsAnalyticShares) {
  // Every combination twice. Main-effect variances under uniform options: a: 4 (1/3)(2/3) = 8/9,
  // b: 0.25 (1/2)(1/2) = 1/16; no interaction, so shares 0.934 and 0.066, c 0.
  std::vector<std::vector<int>> x;
  std::vector<double> y;
  for (int rep = 0; rep < 2; ++rep)
    for (int a = 0; a < 3; ++a)
      for (int b = 0; b < 2; ++b)
        for (int c = 0; c < 4; ++c) {
          x.push_back({a, b, c});
          y.push_back(objective(x.back()));
        }
  ImportanceOptions o;
  o.min_leaf = 1;
  const auto imp = fanova_importance(x, y, kNames, kOptions, o);
  ASSERT_EQ(imp.size(), 3u);
  EXPECT_EQ(imp[0].name, "a");
  EXPECT_EQ(imp[1].name, "b");
  EXPECT_EQ(imp[2].name, "c");
  EXPECT_NEAR(find(imp, "a").importance, 0.934, 0.08);
  EXPECT_NEAR(find(imp, "b").importance, 0.066, 0.05);
  EXPECT_LT(find(imp, "c").importance, 0.02);
  // The marginal effect of a2: 2 - 2/3 above the mean; a0: 2/3 below.
  EXPECT_NEAR(find(imp, "a").effect[2], 4.0 / 3.0, 0.15);
  EXPECT_NEAR(find(imp, "a").effect[0], -2.0 / 3.0, 0.15);
  EXPECT_EQ(find(imp, "c").trials, (std::vector<int64_t>{12, 12, 12, 12}));  // 48 trials, 4 options
}

TEST(Fanova, RandomTrialsWithNoiseRecoverTheOrderAndTheSameSeedTheSameNumbers) {
  Rng rng(5);
  std::vector<std::vector<int>> x;
  std::vector<double> y;
  for (int t = 0; t < 150; ++t) {
    x.push_back({static_cast<int>(rng.below(3)), static_cast<int>(rng.below(2)), static_cast<int>(rng.below(4))});
    y.push_back(objective(x.back()) + 0.1 * rng.normal());
  }
  const auto imp = fanova_importance(x, y, kNames, kOptions);
  EXPECT_EQ(imp[0].name, "a");
  EXPECT_EQ(imp[1].name, "b");
  EXPECT_EQ(imp[2].name, "c");
  EXPECT_GT(imp[0].importance, 0.7);
  EXPECT_LT(imp[2].importance, 0.05);
  EXPECT_GT(imp[0].importance_std, 0.0);
  const auto again = fanova_importance(x, y, kNames, kOptions);
  EXPECT_EQ(again[0].importance, imp[0].importance);
  const nlohmann::json j = imp[0].to_json();
  EXPECT_EQ(j["decision"], "a");
  EXPECT_EQ(j["options"][2]["option"], "a2");
}

TEST(Fanova, TooFewTrialsOrAConstantObjectiveExplainNothing) {
  const auto few = fanova_importance({{0, 0, 0}, {1, 1, 1}}, {0.1, 0.9}, kNames, kOptions);
  for (const auto& d : few) EXPECT_EQ(d.importance, 0.0);
  std::vector<std::vector<int>> x(10, {1, 0, 2});
  const auto flat = fanova_importance(x, std::vector<double>(10, 0.5), kNames, kOptions);
  for (const auto& d : flat) EXPECT_EQ(d.importance, 0.0);
}

}  // namespace
}  // namespace nascent::run
