#include "nascent/space/cnn.h"

#include <gtest/gtest.h>

#include <tuple>

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
  // Found by bench/fuzz.sh config: a repeated option reached the space's own invariant check (exit 1).
  for (const auto& [key, value, message] : std::vector<std::tuple<std::string, nlohmann::json, std::string>>{
           {"widths", {{16, 16}, {32}}, "space.cnn.widths[0]: option 16 is listed twice"},
           {"stems", {8, 8}, "space.cnn.stems: option 8 is listed twice"},
           {"blocks", {1, 2, 1}, "space.cnn.blocks: option 1 is listed twice"},
           {"kernels", {3, 5, 5}, "space.cnn.kernels: option 5 is listed twice"}}) {
    ConfigSection twice(nlohmann::json{{key, value}}, "space.cnn", "c.yaml");
    try {
      CnnOptions::from_config(twice);
      FAIL() << key;
    } catch (const InputError& e) {
      EXPECT_EQ(std::string(e.what()), "c.yaml: " + message);
    }
  }
  // Four halvings do not fit a 4x4 input; three stages of a 28x28 one do.
  ConfigSection five(nlohmann::json{{"widths", {{8}, {8}, {8}, {8}, {8}}}}, "space.cnn", "c.yaml");
  CnnSpace deep(CnnOptions::from_config(five));
  Task tiny;
  tiny.input_shape = {1, 8, 8};
  EXPECT_FALSE(deep.supports(tiny));
  EXPECT_TRUE(CnnSpace().supports(Task{}));
}

TEST(CnnSpace, AStageWithZeroBlocksIsLeftOutSoTheDepthInStagesIsSearched) {
  // Per-stage block options; the fourth stage may be left out.
  ConfigSection sec(nlohmann::json{{"widths", {{16, 32}, {64}, {64}, {40, 48}}}, {"blocks", {{1}, {2}, {1}, {0, 1}}}},
                    "space.cnn", "c.yaml");
  CnnSpace s(CnnOptions::from_config(sec));
  // stem 3 x act 2 x s1 (2 kinds x 2 widths x 2 se = 8) x s2, s3 (2 downs x 2 kinds x 2 se = 8
  // each) x s4 (left out: 1, or 2 downs x 2 kinds x 2 widths x 2 se = 16).
  EXPECT_DOUBLE_EQ(s.size(), 3.0 * 2 * 8 * 8 * 8 * (1 + 16));
  nlohmann::json three = vgg();
  three["s2_width"] = "64";
  three["s1_width"] = "32";
  nlohmann::json four = three;
  three["s4_blocks"] = "0";
  four.update({{"s4_blocks", "1"},
               {"s4_down", "maxpool"},
               {"s4_kind", "plain"},
               {"s4_kernel", "3"},
               {"s4_width", "40"},
               {"s4_se", "no"}});
  const Arch a3 = from(s, three), a4 = from(s, four);
  // Without its fourth stage the network is the VGG-style baseline, parameter for parameter.
  EXPECT_EQ(s.describe(a3), "stem32-relu 1xconv-k3-w32 pool 2xconv-k3-w64 pool 1xconv-k3-w64");
  EXPECT_EQ(estimate::profile_network(*s.build(a3, Task{}, 1.0), Task{}).params, 102826);
  EXPECT_EQ(s.describe(a4), "stem32-relu 1xconv-k3-w32 pool 2xconv-k3-w64 pool 1xconv-k3-w64 pool 1xconv-k3-w40");
  // The fourth stage: conv 64*40*9 + BN 80, and the head reads 40 channels instead of 64.
  EXPECT_EQ(estimate::profile_network(*s.build(a4, Task{}, 1.0), Task{}).params,
            102826 + 64 * 40 * 9 + 80 - (64 * 10 + 10) + (40 * 10 + 10));
  auto y = s.build(a4, Task{}, 1.0)->forward(torch::zeros({2, 1, 28, 28}));
  EXPECT_EQ(y.sizes(), (std::vector<int64_t>{2, 10}));
  // The left-out stage's decisions do not exist: giving one is an error that says why.
  nlohmann::json three_b = three;
  three_b["s4_width"] = "48";
  try {
    from(s, three_b);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()),
              "test: choices.s4_width: decision does not apply here (it needs s4_blocks to be one of: 1)");
  }
  EXPECT_NE(s.hash(a3), s.hash(a4));

  ConfigSection bad(nlohmann::json{{"blocks", {{1}, {0}, {1}}}}, "space.cnn", "c.yaml");
  try {
    CnnOptions::from_config(bad);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()),
              "c.yaml: space.cnn.blocks[1]: expected at least one count above 0 (0 alone would leave the stage out "
              "always)");
  }
  ConfigSection count(nlohmann::json{{"blocks", {{1}, {1}}}}, "space.cnn", "c.yaml");
  EXPECT_THROW(CnnOptions::from_config(count), InputError);
}

}  // namespace
}  // namespace nascent::space
