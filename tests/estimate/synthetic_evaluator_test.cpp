#include "nascent/estimate/synthetic_evaluator.h"

#include <gtest/gtest.h>

#include <chrono>
#include <set>

#include "nascent/core/error.h"
#include "nascent/core/rng.h"
#include "nascent/run/experiment.h"
#include "nascent/space/chain.h"

namespace nascent::estimate {
namespace {

TEST(SyntheticEvaluator, SameArchitectureAndFidelitySameMetricsAfterItsCost) {
  space::ChainSpace space;
  SyntheticEvaluator e(space, 0.05, Objective());
  Rng rng(3);
  std::set<double> seen;
  for (int i = 0; i < 8; ++i) {
    Proposal p;
    p.arch = space.sample(rng);
    const auto t0 = std::chrono::steady_clock::now();
    const Evaluation a = e.evaluate(p, 1, nullptr);
    EXPECT_GE(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 0.05);
    const Evaluation b = e.evaluate(p, 99, nullptr);  // the seed does not matter
    EXPECT_EQ(a.status, TrialStatus::kOk);
    EXPECT_EQ(a.metrics.at("val_accuracy"), b.metrics.at("val_accuracy"));
    EXPECT_GE(a.metrics.at("val_accuracy"), 0.5);
    EXPECT_LT(a.metrics.at("val_accuracy"), 0.95);
    EXPECT_DOUBLE_EQ(a.metrics.at("val_loss"), 1 - a.metrics.at("val_accuracy"));
    EXPECT_EQ(a.metrics.at("train_seconds"), 0.05);
    seen.insert(a.metrics.at("val_accuracy"));
    p.fidelity.epochs = 2;  // another fidelity, another draw
    EXPECT_NE(e.evaluate(p, 1, nullptr).metrics.at("val_accuracy"), a.metrics.at("val_accuracy"));
  }
  EXPECT_EQ(seen.size(), 8u);
}

TEST(SyntheticEvaluator, ConfiguredByNameAndCost) {
  nlohmann::json raw = {{"space", {{"name", "chain"}}},
                        {"strategy", {{"name", "random"}}},
                        {"estimator", {{"name", "synthetic"}, {"cost_seconds", 2.5}}}};
  const run::ExperimentConfig c = run::ExperimentConfig::parse(raw, "exp.yaml");
  EXPECT_EQ(c.estimator.name, "synthetic");
  EXPECT_EQ(c.estimator.cost_seconds, 2.5);
  raw["estimator"]["cost_seconds"] = -1;
  try {
    run::ExperimentConfig::parse(raw, "exp.yaml");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("exp.yaml: estimator.cost_seconds"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace nascent::estimate
