#include "nascent/space/declared.h"

#include <gtest/gtest.h>

#include "nascent/core/config.h"
#include "nascent/core/error.h"
#include "nascent/estimate/profile.h"
#include "nascent/space/network.h"
#include "nascent/space/registry.h"

namespace nascent::space {
namespace {

std::unique_ptr<SearchSpace> declared(const std::string& yaml) {
  nlohmann::json j = parse_yaml_value(yaml, "test");
  ConfigSection sec(j, "space.declared", "c.yaml");
  return make_space("declared", sec);
}

std::string error_of(const std::string& yaml) {
  try {
    declared(yaml);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

const char* kExample = R"(
input: image
layers:
  - {type: conv, channels: {choice: [16, 32]}, kernel: {choice: [3, 5]}, stride: 1, act: {choice: [relu, gelu]}}
  - {type: pool, kind: max, size: 2}
  - {repeat: {choice: [1, 2, 3]}, layers: [{type: conv, channels: 32, kernel: 3, act: relu}]}
  - {type: global_pool}
  - {type: linear, units: {choice: [64, 128]}, act: relu}
  - {type: dropout, rate: {choice: [0.0, 0.2]}}
)";

TEST(DeclaredSpace, ChoicesBecomeDecisionsNamedByTheirPath) {
  auto s = declared(kExample);
  std::vector<std::string> names;
  for (const auto& d : s->decisions()) names.push_back(d.name);
  EXPECT_EQ(names, (std::vector<std::string>{"layers.0.channels", "layers.0.kernel", "layers.0.act", "layers.2.repeat",
                                             "layers.4.units", "layers.5.rate"}));
  EXPECT_EQ(s->decisions()[5].options, (std::vector<std::string>{"0", "0.2"}));
  EXPECT_DOUBLE_EQ(s->size(), 2 * 2 * 2 * 3 * 2 * 2);
  Rng rng(0);
  Task task;
  for (int i = 0; i < 6; ++i) {
    const Arch a = s->sample(rng);
    auto net = s->build(a, task, 1.0);
    auto y = net->forward(torch::randn({2, 1, 28, 28}));
    EXPECT_EQ(y.sizes(), (std::vector<int64_t>{2, 10}));
    y.sum().backward();
    for (const auto& p : net->parameters()) ASSERT_TRUE(p.grad().defined());
  }
}

TEST(DeclaredSpace, CopiesOfARepeatedBlockExistOnlyUpToTheCount) {
  auto s = declared(R"(
layers:
  - {type: conv, channels: 8}
  - {repeat: {choice: [0, 1, 2]}, layers: [{type: conv, channels: {choice: [8, 16]}, kernel: 3}]}
  - {type: global_pool}
  - {type: linear, units: {choice: [4, 8]}}
)");
  const int count = s->index_of("layers.1.repeat");
  const int copy1 = s->index_of("layers.1.copy1.layers.0.channels");
  const int copy2 = s->index_of("layers.1.copy2.layers.0.channels");
  ASSERT_GE(count, 0);
  ASSERT_GE(copy1, 0);
  ASSERT_GE(copy2, 0);
  EXPECT_EQ(s->decisions()[copy2].condition->any_of, (std::vector<std::string>{"2"}));
  // Counts 0, 1, 2 give 1, 2 and 4 channel combinations; times 2 linear widths.
  EXPECT_DOUBLE_EQ(s->size(), (1 + 2 + 4) * 2);
  Rng rng(1);
  Arch a = s->sample(rng);
  a.choices[count] = 1;  // one copy
  a = s->canonical(a);
  EXPECT_TRUE(s->active(a, copy1));
  EXPECT_FALSE(s->active(a, copy2));
  // One copy adds one 8 -> (8 or 16) 3x3 conv to the network; two copies add another.
  Task task;
  auto params = [&](int copies) {
    Arch b = a;
    b.choices[count] = copies;
    b.choices[copy1] = b.choices[copy2] = 0;  // 8 channels
    return count_parameters(*s->build(s->canonical(b), task, 1.0));
  };
  EXPECT_EQ(params(1) - params(0), 8 * 8 * 9 + 16);
  EXPECT_EQ(params(2) - params(1), 8 * 8 * 9 + 16);
}

// Nested repeat blocks multiply: 64 x 64 x 64 copies would be 262,144 layers (and as many
// decisions) before anything is built.
TEST(DeclaredSpace, NestedRepeatsThatExpandTooFarAreAnInputError) {
  const std::string bomb = R"(
input: image
layers:
  - {type: conv, channels: {choice: [8, 16]}, kernel: 3}
  - {repeat: 64, layers: [{repeat: 64, layers: [{repeat: 64, layers: [{type: batchnorm}]}]}]}
)";
  EXPECT_NE(error_of(bomb).find("more than 10000 layers once repeat blocks are expanded"), std::string::npos)
      << error_of(bomb);
  // 8 x 8 copies are fine.
  EXPECT_NO_THROW(declared(R"(
input: image
layers:
  - {type: conv, channels: {choice: [8, 16]}, kernel: 3}
  - {repeat: 8, layers: [{repeat: 8, layers: [{type: batchnorm}]}]}
)"));
}

TEST(DeclaredSpace, ParamsAndFlopsMatchAHandCount) {
  auto s = declared(R"(
layers:
  - {type: conv, channels: 4, kernel: 3}
  - {type: pool, size: 2}
  - {type: residual, layers: [{type: conv, channels: 4, kernel: 3, act: none}]}
  - {type: dwconv, kernel: {choice: [3, 5]}, stride: 2}
  - {type: batchnorm}
  - {type: global_pool, kind: max}
  - {type: linear, units: 8, act: relu}
  - {type: dropout, rate: 0.5}
)");
  Rng rng(0);
  Arch a = s->sample(rng);
  a.choices[0] = 0;  // 3x3 depthwise
  Task task;
  task.input_shape = {1, 8, 8};
  task.num_classes = 3;
  auto net = s->build(a, task, 1.0);
  auto p = estimate::profile_network(*net, task);
  // conv 1->4 + BN, residual conv 4->4 + BN, depthwise 4 x 3x3 + BN, BN, linear 4->8, head 8->3.
  EXPECT_EQ(p.params, (36 + 8) + (144 + 8) + (36 + 8) + 8 + 40 + 27);
  EXPECT_EQ(p.params, count_parameters(*net));
  // conv at 8x8; after the pool, residual conv at 4x4; depthwise with stride 2 at 2x2.
  EXPECT_DOUBLE_EQ(p.flops, 64 * 4 * 9 + 16 * 4 * 36 + 4 * 4 * 9 + 32 + 24);
}

TEST(DeclaredSpace, ResidualBlocksProjectWhenTheShapeChanges) {
  auto s = declared(R"(
layers:
  - {type: conv, channels: 8}
  - {type: residual, layers: [{type: conv, channels: {choice: [8, 16]}, stride: 2}, {type: conv, channels: 16}]}
)");
  Task task;
  Rng rng(3);
  Arch a = s->sample(rng);
  auto net = s->build(a, task, 1.0);
  auto y = net->forward(torch::randn({2, 1, 28, 28}));
  EXPECT_EQ(y.sizes(), (std::vector<int64_t>{2, 10}));
  // The 1x1 projection 8 -> 16 (stride 2) with its BN is there.
  bool found = false;
  for (const auto& p : net->named_parameters()) found = found || p.key().find("projection") != std::string::npos;
  EXPECT_TRUE(found);
}

TEST(DeclaredSpace, VectorInputForTabularData) {
  auto s = declared(R"(
input: vector
layers:
  - {type: linear, units: {choice: [16, 32]}, act: {choice: [relu, tanh]}}
  - {type: batchnorm}
  - {type: residual, layers: [{type: linear, units: 16, act: relu}]}
)");
  Task task = s->default_task();
  EXPECT_EQ(task.kind, "tabular");
  EXPECT_FALSE(s->supports(Task{}));
  Rng rng(2);
  auto net = s->build(s->sample(rng), task, 1.0);
  auto y = net->forward(torch::randn({5, task.input_shape[0]}));
  EXPECT_EQ(y.sizes(), (std::vector<int64_t>{5, task.num_classes}));
}

TEST(DeclaredSpace, ErrorsNameTheYamlPath) {
  EXPECT_EQ(
      error_of("layers: [{type: conv, channels: 8}, {type: conv, channels: 8}, {type: conv, channels: 8, kernel: 4}]"),
      "c.yaml: space.declared.layers[2].kernel: expected an odd integer or a choice list");
  EXPECT_EQ(error_of("layers: [{type: conv, channels: {choice: [8, x]}}]"),
            "c.yaml: space.declared.layers[0].channels.choice[1]: expected an integer >= 1 or a choice list");
  EXPECT_EQ(error_of("layers: [{type: conv, channels: {choice: [8, 8]}}]"),
            "c.yaml: space.declared.layers[0].channels.choice[1]: 8 is listed twice");
  EXPECT_EQ(error_of("layers: [{type: conv, channels: {choose: [8]}}]"),
            "c.yaml: space.declared.layers[0].channels: expected an integer >= 1 or a choice list ({choice: [a, b, "
            "...]})");
  EXPECT_EQ(error_of("layers: [{type: convv, channels: 8}]"),
            "c.yaml: space.declared.layers[0].type: unknown layer type \"convv\"; expected one of: activation, "
            "batchnorm, conv, dropout, dwconv, flatten, global_pool, linear, pool, residual");
  EXPECT_EQ(error_of("layers: [{type: conv, channels: {choice: [4, 8]}, strid: 2}]"),
            "c.yaml: space.declared.layers[0].strid: unknown field for conv; expected one of: type, channels, kernel, "
            "stride, act, bn");
  EXPECT_EQ(error_of("layers: [{type: conv, kernel: {choice: [3, 5]}}]"),
            "c.yaml: space.declared.layers[0].channels: missing; a conv layer needs channels");
  EXPECT_EQ(error_of("layers: [{type: global_pool}, {type: conv, channels: {choice: [4, 8]}}]"),
            "c.yaml: space.declared.layers[1]: a conv layer needs an image input [C, H, W], but here the input is a "
            "vector");
  EXPECT_EQ(
      error_of("layers: [{repeat: {choice: [1, 2]}, layers: [{type: global_pool}]}]"),
      "c.yaml: space.declared.layers[0].layers: a repeated block must end with the kind of tensor it starts with");
  EXPECT_EQ(error_of("layers: [{type: dropout, rate: {choice: [0.1, 1.5]}}]"),
            "c.yaml: space.declared.layers[0].rate.choice[1]: expected a number from 0 to 0.95 or a choice list");
  EXPECT_EQ(
      error_of("layers: [{type: conv, channels: 8}]"),
      "c.yaml: space.declared.layers: no field is a choice list ({choice: [...]}), so there is nothing to search");
  EXPECT_EQ(error_of("input: image"),
            "c.yaml: space.declared.layers: missing; a declared space lists its layers (see docs/spaces/declared.md)");
  EXPECT_EQ(error_of("layers: [{type: conv, channels: {choice: [4, 8]}}]\nlayer: 1"),
            "c.yaml: space.declared.layer: unknown field; expected one of: input, layers");
  EXPECT_EQ(error_of("layers: [[1, 2]]"),
            "c.yaml: space.declared.layers[0]: expected a layer {type: ..., ...} (types: activation, batchnorm, conv, "
            "dropout, dwconv, flatten, global_pool, linear, pool, residual) or a repeat block {repeat: N, layers: "
            "[...]}");
}

TEST(DeclaredSpace, LayersTooLargeForTheInputFailTheTrial) {
  auto s = declared("layers: [{type: pool, size: {choice: [2, 64]}}]");
  Arch a{"declared", {1}};
  EXPECT_THROW(s->build(a, Task{}, 1.0), TrialFailure);
}

}  // namespace
}  // namespace nascent::space
