// The kernel-level latency predictor (estimate/latency_table.h): a network's traced operations,
// timed once each into a table, predict its measured latency after a fit on measured networks;
// a search reads the table with latency.source predict or predict+verify.
#include "nascent/estimate/latency_table.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>

#include "nascent/core/config.h"
#include "nascent/core/error.h"
#include "nascent/core/objective.h"
#include "nascent/core/rng.h"
#include "nascent/data/dataset.h"
#include "nascent/estimate/evaluator.h"
#include "nascent/export/torchscript.h"
#include "nascent/space/cnn.h"
#include "nascent/space/network.h"
#include "plain_cnn.h"
#include "support/support.h"

namespace nascent::estimate {
namespace {

using test_nets::plain_cnn_net;
using test_nets::plain_cnn_space;

LatencyTable empty_table() {
  LatencyTable t;
  t.machine = this_machine();
  return t;
}

LatencyOptions quick() {
  LatencyOptions o;
  o.enabled = true;
  o.warmup = 3;
  o.runs = 10;
  o.repeats = 3;
  return o;
}

TEST(LatencyTable, ANetworksOperationsAreTimedOnceAndSumToMoreForALargerNetwork) {
  const data::TaskData& d = test::fashion_task(200);
  const auto input = exporting::InputTransform::of(d);
  LatencyTable table = empty_table();
  const space::CnnSpace small_space = plain_cnn_space(8);
  auto small = plain_cnn_net(small_space, d.task);
  const KernelSummary first = summarize_kernels(table, *small, d.task, input);
  // Convolutions, batch norms, activations, pooling, the head: several kernels, all timed now.
  EXPECT_GE(first.kernels, 6);
  EXPECT_EQ(first.timed_now, static_cast<int64_t>(table.kernel_ms.size()));
  EXPECT_GT(first.kernel_sum_ms, 0);
  bool has_conv = false;
  for (const auto& [key, ms] : table.kernel_ms) {
    EXPECT_GT(ms, 0) << key;
    if (key.rfind("aten::_convolution(", 0) == 0 && key.find("[1,8,28,28]") != std::string::npos) has_conv = true;
  }
  EXPECT_TRUE(has_conv) << "no 8-channel 28x28 convolution among " << table.kernel_ms.size() << " kernels";
  // The same network again: nothing new to time, the same sum.
  const KernelSummary again = summarize_kernels(table, *small, d.task, input);
  EXPECT_EQ(again.timed_now, 0);
  EXPECT_DOUBLE_EQ(again.kernel_sum_ms, first.kernel_sum_ms);
  // 64 channels and three blocks per stage: more and larger kernels.
  const space::CnnSpace large_space = plain_cnn_space(64, 3);
  auto large = plain_cnn_net(large_space, d.task);
  const KernelSummary big = summarize_kernels(table, *large, d.task, input);
  EXPECT_GT(big.kernels, first.kernels);
  EXPECT_GT(big.kernel_sum_ms, 3 * first.kernel_sum_ms);
}

TEST(LatencyTable, TheFitPredictsAMeasuredNetworkItWasNotFittedOn) {
  const data::TaskData& d = test::fashion_task(200);
  const auto input = exporting::InputTransform::of(d);
  torch::set_num_threads(1);
  LatencyTable table = empty_table();
  std::vector<KernelSummary> sums;
  std::vector<double> measured;
  for (const auto& [width, blocks] :
       std::vector<std::pair<int64_t, int64_t>>{{8, 1}, {16, 2}, {32, 1}, {48, 3}, {64, 2}}) {
    const space::CnnSpace s = plain_cnn_space(width, blocks);
    auto net = plain_cnn_net(s, d.task);
    sums.push_back(summarize_kernels(table, *net, d.task, input));
    measured.push_back(measure_latency(*net, d.task, input, quick()).median_ms);
  }
  fit_latency_table(table, sums, measured);
  EXPECT_EQ(table.calibration_networks, 5);
  EXPECT_GT(table.scale, 0);
  const space::CnnSpace s = plain_cnn_space(40, 2);
  auto net = plain_cnn_net(s, d.task);
  const double predicted = summarize_kernels(table, *net, d.task, input).predicted_ms(table);
  const double actual = measure_latency(*net, d.task, input, quick()).median_ms;
  // Loose on purpose (a loaded test machine); bench/latency_predictor.sh measures the accuracy.
  EXPECT_GT(predicted, 0.5 * actual);
  EXPECT_LT(predicted, 2.0 * actual);
}

TEST(LatencyTable, ATableOfAnotherMachineNamesTheKernelItLacks) {
  const data::TaskData& d = test::fashion_task(200);
  const auto input = exporting::InputTransform::of(d);
  LatencyTable table = empty_table();
  const space::CnnSpace small_space = plain_cnn_space(8);
  auto small = plain_cnn_net(small_space, d.task);
  summarize_kernels(table, *small, d.task, input);
  // Written and read back: the same table. A table from elsewhere cannot time what it lacks.
  test::TempDir dir;
  const std::string path = dir.file("t.json");
  table.machine = "another CPU x4";
  table.save(path);
  LatencyTable other = LatencyTable::load(path);
  EXPECT_EQ(other.kernel_ms, table.kernel_ms);
  EXPECT_FALSE(other.timeable_here());
  EXPECT_NO_THROW(summarize_kernels(other, *small, d.task, input));
  const space::CnnSpace wide_space = plain_cnn_space(24);
  auto wide = plain_cnn_net(wide_space, d.task);
  try {
    summarize_kernels(other, *wide, d.task, input);
    FAIL() << "a missing kernel was not reported";
  } catch (const TrialFailure& e) {
    EXPECT_NE(std::string(e.what()).find("has no time for kernel aten::"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("another CPU x4"), std::string::npos) << e.what();
  }
  try {
    LatencyTable::from_json(nlohmann::json{{"format", "something else"}}, "x.json");
    FAIL() << "a file that is not a table was read";
  } catch (const InputError& e) {
    EXPECT_EQ(e.file(), "x.json");
    EXPECT_EQ(e.field(), "format");
  }
}

TEST(LatencyTable, PredictScreensAndVerifyMeasuresWithoutMovingTheGenerator) {
  const data::TaskData& d = test::fashion_task(300);
  const space::CnnSpace space = plain_cnn_space(16);
  LatencyTable table = empty_table();
  auto net = plain_cnn_net(space, d.task);
  torch::manual_seed(7);
  const torch::Tensor expected = torch::rand({4});
  torch::manual_seed(7);
  summarize_kernels(table, *net, d.task, exporting::InputTransform::of(d));
  EXPECT_TRUE(torch::equal(torch::rand({4}), expected)) << "timing kernels moved torch's generator";
  table.scale = 1;
  table.exponent = 1;
  test::TempDir dir;
  const std::string path = dir.file("t.json");
  table.save(path);

  Rng rng(1);
  Proposal p{space.sample(rng), Fidelity{1, 0.5, 0, 1}, nlohmann::json::object()};
  TrainOptions train;
  train.batch_size = 64;
  LatencyOptions o = quick();
  o.table = path;
  // predict: latency_ms is the table's number; a bound below it rejects untrained.
  o.source = "predict";
  const Objective strict({{"val_accuracy", true}}, {Constraint::parse("latency_ms <= 0.000001")});
  const Evaluation rejected = TrainingEvaluator(space, d, train, strict, o).evaluate(p, 3, nullptr);
  EXPECT_EQ(rejected.status, TrialStatus::kRejected);
  ASSERT_EQ(rejected.metrics.count("latency_ms_predicted"), 1u);
  EXPECT_DOUBLE_EQ(rejected.metrics.at("latency_ms"), rejected.metrics.at("latency_ms_predicted"));
  EXPECT_GT(rejected.metrics.at("size_mb"), 0);
  EXPECT_EQ(rejected.metrics.count("latency_cv"), 0u) << "predict measured the network";
  // predict+verify: let through by the prediction, then measured; training as without latency.
  o.source = "predict+verify";
  const Objective loose({{"val_accuracy", true}}, {Constraint::parse("latency_ms <= 10000")});
  const Evaluation verified = TrainingEvaluator(space, d, train, loose, o).evaluate(p, 3, nullptr);
  const Evaluation plain = TrainingEvaluator(space, d, train, loose).evaluate(p, 3, nullptr);
  ASSERT_EQ(verified.status, TrialStatus::kOk) << verified.reason;
  EXPECT_EQ(verified.metrics.count("latency_cv"), 1u);
  EXPECT_EQ(verified.metrics.count("latency_ms_predicted"), 1u);
  EXPECT_NE(verified.metrics.at("latency_ms"), verified.metrics.at("latency_ms_predicted"));
  EXPECT_DOUBLE_EQ(verified.metrics.at("val_accuracy"), plain.metrics.at("val_accuracy"));
  EXPECT_DOUBLE_EQ(verified.metrics.at("train_loss"), plain.metrics.at("train_loss"));
}

TEST(LatencyTable, PredictNeedsATableAndTorchScript) {
  ConfigSection no_table(nlohmann::json{{"source", "predict"}}, "latency", "c.yaml");
  try {
    LatencyOptions::from_config(no_table);
    FAIL() << "predict without a table was accepted";
  } catch (const InputError& e) {
    EXPECT_EQ(e.field(), "latency.table");
  }
  ConfigSection opencv(nlohmann::json{{"source", "predict+verify"}, {"table", "t.json"}, {"runtime", "onnx-opencv"}},
                       "latency", "c.yaml");
  try {
    LatencyOptions::from_config(opencv);
    FAIL() << "predict for onnx-opencv was accepted";
  } catch (const InputError& e) {
    EXPECT_EQ(e.field(), "latency.source");
  }
}

}  // namespace
}  // namespace nascent::estimate
