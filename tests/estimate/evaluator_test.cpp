// The training evaluator's equal-cost fidelity: candidates train epochs in inverse proportion to
// their FLOPs (clamped to 1/4 .. 4 times the fidelity's), deterministically.
#include "nascent/estimate/evaluator.h"

#include <gtest/gtest.h>

#include "nascent/core/objective.h"
#include "nascent/data/dataset.h"
#include "nascent/space/chain.h"
#include "support/support.h"

namespace nascent::estimate {
namespace {

TEST(TrainingEvaluator, EqualCostFidelityScalesEpochsByFlops) {
  const data::TaskData& d = test::fashion_task(1200);
  space::ChainOptions so;
  so.stem = 4;
  so.widths = {{4, 8}, {8, 12}};
  so.strides = {2, 2};
  so.blocks = {1, 2};
  space::ChainSpace space(so);
  Rng rng(5);
  Proposal p{space.sample(rng), Fidelity{1, 0.5, 0, 1}, nlohmann::json::object()};
  TrainOptions train;
  train.batch_size = 64;
  const Evaluation plain = TrainingEvaluator(space, d, train, Objective()).evaluate(p, 9, nullptr);
  ASSERT_EQ(plain.status, TrialStatus::kOk) << plain.reason;
  EXPECT_EQ(plain.metrics.count("train_epochs"), 0u);
  const double flops = plain.metrics.at("flops");

  // A reference of twice its FLOPs: two epochs.
  train.equal_cost_flops = 2 * flops;
  const Evaluation twice = TrainingEvaluator(space, d, train, Objective()).evaluate(p, 9, nullptr);
  ASSERT_EQ(twice.status, TrialStatus::kOk) << twice.reason;
  EXPECT_DOUBLE_EQ(twice.metrics.at("train_epochs"), 2.0);
  // The epochs a candidate trains under the current options.
  auto epochs = [&] {
    return TrainingEvaluator(space, d, train, Objective()).evaluate(p, 9, nullptr).metrics.at("train_epochs");
  };
  // Far cheaper or far costlier than the reference: clamped to 4x and 1/4.
  train.equal_cost_flops = 100 * flops;
  EXPECT_DOUBLE_EQ(epochs(), 4.0);
  train.equal_cost_flops = flops / 100;
  EXPECT_DOUBLE_EQ(epochs(), 0.25);
  // A milder scaling: the square root of the ratio, so a quarter of the reference's FLOPs trains
  // twice as long, and the clamp still applies.
  train.equal_cost_power = 0.5;
  train.equal_cost_flops = 4 * flops;
  EXPECT_DOUBLE_EQ(epochs(), 2.0);
  train.equal_cost_flops = flops / 4;
  EXPECT_DOUBLE_EQ(epochs(), 0.5);
  train.equal_cost_flops = flops / 100;
  EXPECT_DOUBLE_EQ(epochs(), 0.25);
}

}  // namespace
}  // namespace nascent::estimate
