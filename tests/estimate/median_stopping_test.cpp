// The median stopping rule: the reference curve from earlier trials, the decision, and a real
// (tiny) Fashion-MNIST training run that the evaluator stops and records as pruned.
#include "nascent/estimate/median_stopping.h"

#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "nascent/data/dataset.h"
#include "nascent/estimate/evaluator.h"
#include "nascent/space/chain.h"
#include "support/support.h"

namespace nascent::estimate {
namespace {

Trial with_curve(TrialStatus status, const Fidelity& f, const std::vector<double>& curve,
                 std::string worker = "inline") {
  Trial t;
  t.status = status;
  t.proposal.fidelity = f;
  t.worker = std::move(worker);
  for (size_t k = 0; k < curve.size(); ++k) t.metrics[curve_metric(static_cast<int64_t>(k) + 1)] = curve[k];
  return t;
}

TEST(MedianStopping, MedianCurveUsesOkTrialsAtTheSameFidelityOnly) {
  const Fidelity f{3, 0.5, 0, 1}, other{1, 0.5, 0, 1};
  std::vector<Trial> done = {
      with_curve(TrialStatus::kOk, f, {0.5, 0.6, 0.7}),
      with_curve(TrialStatus::kOk, f, {0.3, 0.4, 0.5}),
      with_curve(TrialStatus::kOk, f, {0.7, 0.8, 0.9}),
      with_curve(TrialStatus::kOk, f, {0.1, 0.2}),                 // ended early at epoch 2 (fractional epochs)
      with_curve(TrialStatus::kPruned, f, {0.0}),                  // pruned: not a completed trial
      with_curve(TrialStatus::kOk, other, {0.99}),                 // another fidelity
      with_curve(TrialStatus::kOk, f, {0.7, 0.8, 0.9}, "reused"),  // a copy of an earlier result
  };
  const std::vector<double> m = median_curve(done, f, 3);
  ASSERT_EQ(m.size(), 3u);
  EXPECT_DOUBLE_EQ(m[0], 0.4);  // median of 0.1 0.3 0.5 0.7
  EXPECT_DOUBLE_EQ(m[1], 0.5);  // median of 0.2 0.4 0.6 0.8
  EXPECT_DOUBLE_EQ(m[2], 0.7);  // median of 0.5 0.7 0.9
  // Epoch 3 has only three trials: with min_trials 4 it has no median, and the curve ends at 2.
  EXPECT_EQ(median_curve(done, f, 4).size(), 2u);
  EXPECT_TRUE(median_curve(done, f, 5).empty());
  const auto j = median_curve_to_json({0.4, std::nan("")});
  EXPECT_EQ(j.dump(), "[0.4,null]");
  const auto back = median_curve_from_json(j);
  ASSERT_EQ(back.size(), 2u);
  EXPECT_TRUE(std::isnan(back[1]));
}

TEST(MedianStopping, StopsWhenTheBestSoFarIsBelowTheMedianAfterTheGrace) {
  EarlyStoppingOptions o;
  o.rule = "median";
  o.grace_epochs = 2;
  const std::vector<double> median = {0.5, 0.6, 0.7};
  EXPECT_FALSE(median_stop({0.1}, median, o));  // inside the grace period
  EXPECT_EQ(*median_stop({0.1, 0.55}, median, o),
            "median stopping after epoch 2: best val_accuracy 0.5500 < median 0.6000 of earlier trials");
  EXPECT_FALSE(median_stop({0.65, 0.55}, median, o));          // the best so far counts, not the last
  EXPECT_FALSE(median_stop({0.1, 0.1, 0.1, 0.1}, median, o));  // past the reference: no median
  EXPECT_FALSE(median_stop({0.1, 0.1}, {0.5, std::nan("")}, o));
  o.rule = "none";
  EXPECT_FALSE(median_stop({0.1, 0.55}, median, o));
}

TEST(MedianStopping, TheEvaluatorRecordsTheCurveAndPrunesAgainstTheMedianItIsSent) {
  const data::TaskData& d = test::fashion_task(1200);
  space::ChainOptions so;
  so.stem = 4;
  so.widths = {{4, 8}, {8, 12}};
  so.strides = {2, 2};
  so.blocks = {1, 2};
  space::ChainSpace space(so);
  TrainOptions train;
  train.batch_size = 64;
  train.early_stopping.rule = "median";
  TrainingEvaluator ev(space, d, train, Objective());
  Rng rng(5);
  Proposal p{space.sample(rng), Fidelity{3, 1, 0, 1}, nlohmann::json::object()};

  // No reference yet: trains all three epochs and records the whole curve.
  const Evaluation full = ev.evaluate(p, 9, nullptr);
  ASSERT_EQ(full.status, TrialStatus::kOk) << full.reason;
  ASSERT_EQ(full.metrics.count(curve_metric(3)), 1u);
  EXPECT_DOUBLE_EQ(full.metrics.at(curve_metric(3)), full.metrics.at("val_accuracy"));
  EXPECT_GT(full.metrics.at(curve_metric(3)), full.metrics.at(curve_metric(1)));  // it learns
  EXPECT_GT(full.metrics.at(curve_metric(3)), 0.25);

  // A median it cannot reach after epoch 1: stopped there, pruned, with its one-point curve.
  p.meta["median_curve"] = median_curve_to_json({0.99, 0.99});
  const Evaluation cut = ev.evaluate(p, 9, nullptr);
  EXPECT_EQ(cut.status, TrialStatus::kPruned);
  EXPECT_EQ(cut.reason.rfind("median stopping after epoch 1: best val_accuracy", 0), 0u) << cut.reason;
  EXPECT_DOUBLE_EQ(cut.metrics.at(curve_metric(1)), full.metrics.at(curve_metric(1)));  // same seed, same epoch 1
  EXPECT_EQ(cut.metrics.count(curve_metric(2)), 0u);
  EXPECT_LT(cut.metrics.at("train_seconds"), full.metrics.at("train_seconds"));
}

}  // namespace
}  // namespace nascent::estimate
