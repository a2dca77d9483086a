#include "nascent/space/mlp.h"

#include <gtest/gtest.h>

#include "nascent/core/config.h"
#include "nascent/core/error.h"
#include "nascent/estimate/profile.h"
#include "nascent/space/network.h"

namespace nascent::space {
namespace {

Task tabular(int64_t features, int64_t classes) {
  Task t;
  t.kind = "tabular";
  t.input_shape = {features};
  t.num_classes = classes;
  return t;
}

TEST(MlpSpace, SizeAndConditionalLayers) {
  MlpSpace s;
  // Widths of 1-4 layers (4 + 16 + 64 + 256) x 4 activations x 3 dropouts x 3 norms.
  EXPECT_DOUBLE_EQ(s.size(), 340.0 * 36);
  Arch a = s.from_json({{"space", "mlp"},
                        {"choices",
                         {{"layers", "2"},
                          {"act", "relu"},
                          {"dropout", "0.1"},
                          {"norm", "layer"},
                          {"l1_width", "64"},
                          {"l2_width", "32"}}}},
                       "t");
  EXPECT_FALSE(s.active(a, s.index_of("l3_width")));
  // Neighbours: 3 other depths (deeper ones sample nothing: new layers start at option 0),
  // 3 activations, 2 dropouts, 2 norms, 3 + 3 widths.
  EXPECT_EQ(s.neighbors(a).size(), 3u + 3 + 2 + 2 + 6);
  EXPECT_EQ(s.describe(a), "64-32 relu norm=layer drop=0.1");
}

TEST(MlpSpace, ParamsAndFlopsMatchAHandCount) {
  MlpOptions o;
  o.layers = {2};
  o.widths = {8, 16};
  MlpSpace s(o);
  const Task task = tabular(4, 3);
  auto arch = [&](const std::string& norm) {
    return s.from_json(
        {{"space", "mlp"},
         {"choices",
          {{"layers", "2"}, {"act", "gelu"}, {"dropout", "0"}, {"norm", norm}, {"l1_width", "16"}, {"l2_width", "8"}}}},
        "t");
  };
  // Batch norm: linear layers without bias (4x16, 16x8), BN scale and shift, head 8x3 + 3.
  auto net = s.build(arch("batch"), task, 1.0);
  auto p = estimate::profile_network(*net, task);
  EXPECT_EQ(p.params, 64 + 32 + 128 + 16 + 27);
  EXPECT_EQ(p.params, count_parameters(*net));
  EXPECT_DOUBLE_EQ(p.flops, 4 * 16 + 16 * 8 + 8 * 3);
  // Layer norm keeps the biases.
  net = s.build(arch("layer"), task, 1.0);
  EXPECT_EQ(estimate::profile_network(*net, task).params, 80 + 32 + 136 + 16 + 27);
}

TEST(MlpSpace, ForwardAndBackwardOnSampledArchitectures) {
  MlpSpace s;
  Rng rng(5);
  const Task task = tabular(7, 4);
  for (int i = 0; i < 8; ++i) {
    auto net = s.build(s.sample(rng), task, 1.0);
    auto y = net->forward(torch::randn({6, 7}));
    EXPECT_EQ(y.sizes(), (std::vector<int64_t>{6, 4}));
    y.sum().backward();
    for (const auto& p : net->parameters()) ASSERT_TRUE(p.grad().defined());
  }
  // Images are flattened.
  Task image;
  EXPECT_TRUE(s.supports(image));
  EXPECT_EQ(s.build(s.sample(rng), image, 1.0)->forward(torch::randn({2, 1, 28, 28})).sizes(),
            (std::vector<int64_t>{2, 10}));
  Task text;
  text.kind = "text";
  EXPECT_FALSE(s.supports(text));
}

TEST(MlpSpace, OptionsAreValidated) {
  ConfigSection bad(nlohmann::json{{"norms", {"none", "group"}}}, "space.mlp", "c.yaml");
  try {
    MlpOptions::from_config(bad);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()),
              "c.yaml: space.mlp.norms: unknown normalisation 'group'; known: none, batch, layer");
  }
  ConfigSection twice(nlohmann::json{{"widths", {32, 32}}}, "space.mlp", "c.yaml");
  try {
    MlpOptions::from_config(twice);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()), "c.yaml: space.mlp.widths: option 32 is listed twice");
  }
}

}  // namespace
}  // namespace nascent::space
