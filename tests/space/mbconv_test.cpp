#include "nascent/space/mbconv.h"

#include <gtest/gtest.h>

#include <cmath>

#include "nascent/core/config.h"
#include "nascent/core/error.h"
#include "nascent/estimate/profile.h"
#include "nascent/space/network.h"

namespace nascent::space {
namespace {

TEST(MbconvSpace, SizeAndDepthConditions) {
  MbconvSpace s;
  // Per block 3 kernels x 3 expansions x 2 SE x 2 activations = 36; a stage of depth 2, 3 or 4;
  // three stages and three width multipliers.
  const double stage = std::pow(36, 2) + std::pow(36, 3) + std::pow(36, 4);
  EXPECT_DOUBLE_EQ(s.size(), 3 * stage * stage * stage);
  EXPECT_EQ(s.num_decisions(), 1u + 3 * (1 + 4 * 4));
  Rng rng(1);
  for (int i = 0; i < 20; ++i) {
    const Arch a = s.sample(rng);
    const auto l = s.layout(a);
    for (size_t st = 0; st < 3; ++st) {
      const size_t depth = l.stages[st].size();
      // Blocks 1 and 2 always exist; 3 and 4 only at depth >= 3 and 4.
      EXPECT_TRUE(s.active(a, s.index_of(MbconvSpace::block_prefix(st, 1) + "kernel")));
      EXPECT_EQ(s.active(a, s.index_of(MbconvSpace::block_prefix(st, 2) + "kernel")), depth >= 3);
      EXPECT_EQ(s.active(a, s.index_of(MbconvSpace::block_prefix(st, 3) + "se")), depth >= 4);
    }
    const Arch m = s.mutate(a, rng);
    EXPECT_NE(s.hash(m), s.hash(a));
    EXPECT_EQ(s.from_json(s.to_json(m), "m"), m);
  }
}

TEST(MbconvSpace, ParamsAndFlopsMatchAHandCount) {
  MbconvOptions o;
  o.stem = 4;
  o.widths = {8};
  o.strides = {2};
  o.depths = {1};
  o.kernels = {3};
  o.expansions = {2};
  o.activations = {"relu"};
  o.width_mults = {1.0};
  o.head = 16;
  MbconvSpace s(o);
  const Arch a = s.from_json({{"space", "mbconv"},
                              {"choices",
                               {{"width", "1"},
                                {"s1_depth", "1"},
                                {"s1_b1_kernel", "3"},
                                {"s1_b1_expand", "2"},
                                {"s1_b1_se", "yes"},
                                {"s1_b1_act", "relu"}}}},
                             "t");
  Task task;
  task.input_shape = {1, 8, 8};
  task.num_classes = 3;
  auto net = s.build(a, task, 1.0);
  auto p = estimate::profile_network(*net, task);
  // stem 1->4 3x3 + BN; expand 4->8 1x1 + BN; depthwise 8 x 3x3 + BN; SE 8->4->8 with biases;
  // project 8->8 + BN; head conv 8->16 + BN; classifier 16->3.
  EXPECT_EQ(p.params, (36 + 8) + (32 + 16) + (72 + 16) + (36 + 40) + (64 + 16) + (128 + 32) + 51);
  EXPECT_EQ(p.params, count_parameters(*net));
  // stem at 8x8; expand at 8x8; depthwise, SE, project and head at 4x4 (stride 2).
  EXPECT_DOUBLE_EQ(p.flops, 64 * 4 * 9 + 64 * 8 * 4 + 16 * 8 * 9 + (8 * 4 + 4 * 8) + 16 * 8 * 8 + 16 * 16 * 8 + 16 * 3);
}

TEST(MbconvSpace, ForwardAndBackwardOnSampledArchitectures) {
  MbconvOptions o;
  o.stem = 8;
  o.widths = {8, 16};
  MbconvSpace s(o);
  Rng rng(3);
  Task task;
  for (int i = 0; i < 4; ++i) {
    auto net = s.build(s.sample(rng), task, 1.0);
    auto y = net->forward(torch::randn({2, 1, 28, 28}));
    EXPECT_EQ(y.sizes(), (std::vector<int64_t>{2, 10}));
    y.sum().backward();
    for (const auto& p : net->parameters()) ASSERT_TRUE(p.grad().defined());
  }
}

TEST(MbconvSpace, WidthDecisionScalesTheStages) {
  MbconvSpace s;
  Rng rng(9);
  Arch a = s.sample(rng);
  Task task;
  const int w = s.index_of("width");
  a.choices[w] = 0;  // 0.75
  const int64_t narrow = count_parameters(*s.build(a, task, 1.0));
  a.choices[w] = 2;  // 1.25
  const int64_t wide = count_parameters(*s.build(a, task, 1.0));
  EXPECT_LT(narrow, wide);
}

TEST(MbconvSpace, OptionsAreValidated) {
  ConfigSection o(nlohmann::json{{"widths", {8, 16}}, {"strides", {2}}}, "space.mbconv", "c.yaml");
  try {
    MbconvOptions::from_config(o);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()), "c.yaml: space.mbconv.strides: expected one stride per stage (2), got 1");
  }
  ConfigSection k(nlohmann::json{{"kernels", {3, 4}}}, "space.mbconv", "c.yaml");
  EXPECT_THROW(MbconvOptions::from_config(k), InputError);
}

}  // namespace
}  // namespace nascent::space
