#include "nascent/space/cnn.h"

#include <gtest/gtest.h>

#include "nascent/core/config.h"
#include "nascent/core/error.h"
#include "nascent/estimate/profile.h"
#include "nascent/space/network.h"

namespace nascent::space {
namespace {

// The VGG-style hand baseline of bench/vs_hand/vgg.json.
nlohmann::json vgg() {
  return {{"stem", "32"},     {"act", "relu"},        {"s1_blocks", "1"}, {"s1_kind", "plain"},
          {"s1_kernel", "3"}, {"s1_width", "32"},     {"s1_se", "no"},    {"s2_down", "maxpool"},
          {"s2_blocks", "2"}, {"s2_kind", "plain"},   {"s2_kernel", "3"}, {"s2_width", "64"},
          {"s2_se", "no"},    {"s3_down", "maxpool"}, {"s3_blocks", "1"}, {"s3_kind", "plain"},
          {"s3_kernel", "3"}, {"s3_width", "64"},     {"s3_se", "no"}};
}

Arch from(const CnnSpace& s, const nlohmann::json& choices) {
  return s.from_json({{"space", "cnn"}, {"choices", choices}}, "test");
}

TEST(CnnSpace, SizeAndDecisions) {
  CnnSpace s;
  // stem 3 x act 2 x stage 1 (3 blocks x 2 kinds x 1 kernel x 4 widths x 2 se = 48) x stages 2
  // and 3 (2 downsamplings x 48 each).
  EXPECT_DOUBLE_EQ(s.size(), 3.0 * 2 * 48 * 96 * 96);
  EXPECT_EQ(s.num_decisions(), 19u);
}

TEST(CnnSpace, VggBaselineHasItsKnownSizeAndCost) {
  CnnSpace s;
  const Arch a = from(s, vgg());
  EXPECT_EQ(s.describe(a), "stem32-relu 1xconv-k3-w32 pool 2xconv-k3-w64 pool 1xconv-k3-w64");
  auto net = s.build(a, Task{}, 1.0);
  const auto p = estimate::profile_network(*net, Task{});
  // Convs 1*32*9 + 32*32*9 + 32*64*9 + 64*64*9 + 64*64*9, BN 2 x 256 channels, head 64*10 + 10.
  EXPECT_EQ(p.params, 102826);
  // MACs per image: 784 x (32*9 + 32*32*9) + 196 x (32*64*9 + 64*64*9) + 49 x 64*64*9 + 640.
  EXPECT_NEAR(p.flops, 20096128.0, 1.0);
  auto y = net->forward(torch::randn({3, 1, 28, 28}));
  EXPECT_EQ(y.sizes(), (std::vector<int64_t>{3, 10}));
}

TEST(CnnSpace, ResidualStridedStagesProjectTheShortcut) {
  CnnSpace s;
  nlohmann::json c = vgg();
  for (const char* k : {"s1_kind", "s2_kind", "s3_kind"}) c[k] = "residual";
  c["s2_down"] = "stride";
  c["s3_se"] = "yes";
  const Arch a = from(s, c);
  EXPECT_EQ(s.describe(a), "stem32-relu 1xres-k3-w32 2xres/2-k3-w64 pool 1xres-k3-w64+se");
  auto net = s.build(a, Task{}, 1.0);
  net->train();
  auto y = net->forward(torch::randn({4, 1, 28, 28}));
  EXPECT_EQ(y.sizes(), (std::vector<int64_t>{4, 10}));
  // Residual blocks have two convs: more parameters than the plain network.
  EXPECT_GT(count_parameters(*net), 102826 * 2);
  // Gradients reach the stem through the shortcuts.
  y.sum().backward();
  bool stem_grad = false;
  for (const auto& p : net->named_parameters())
    if (p.key().rfind("stem.", 0) == 0 && p.value().grad().defined() && p.value().grad().abs().sum().item<double>() > 0)
      stem_grad = true;
  EXPECT_TRUE(stem_grad);
}

TEST(CnnSpace, OptionsAreCheckedAndNamed) {
  ConfigSection bad(nlohmann::json{{"kinds", {"plain", "dense"}}}, "space.cnn", "c.yaml");
  try {
    CnnOptions::from_config(bad);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()), "c.yaml: space.cnn.kinds: unknown option 'dense'; expected plain, residual");
  }
  ConfigSection even(nlohmann::json{{"kernels", {3, 4}}}, "space.cnn", "c.yaml");
  EXPECT_THROW(CnnOptions::from_config(even), InputError);
  // Four halvings do not fit a 4x4 input; three stages of a 28x28 one do.
  ConfigSection five(nlohmann::json{{"widths", {{8}, {8}, {8}, {8}, {8}}}}, "space.cnn", "c.yaml");
  CnnSpace deep(CnnOptions::from_config(five));
  Task tiny;
  tiny.input_shape = {1, 8, 8};
  EXPECT_FALSE(deep.supports(tiny));
  EXPECT_TRUE(CnnSpace().supports(Task{}));
}

}  // namespace
}  // namespace nascent::space
