#include "nascent/space/chain.h"

#include <gtest/gtest.h>

#include <set>
#include <tuple>

#include "nascent/core/config.h"
#include "nascent/core/error.h"
#include "nascent/estimate/profile.h"
#include "nascent/space/network.h"
#include "nascent/space/registry.h"

namespace nascent::space {
namespace {

Arch from(const ChainSpace& s, const nlohmann::json& choices) {
  return s.from_json({{"space", "chain"}, {"choices", choices}}, "test");
}

nlohmann::json fixed_choices() {
  return {{"s1_blocks", "1"}, {"s1_op", "conv"},  {"s1_kernel", "3"},   {"s1_width", "16"},  {"s1_act", "relu"},
          {"s1_skip", "no"},  {"s2_blocks", "2"}, {"s2_op", "sepconv"}, {"s2_kernel", "5"},  {"s2_width", "32"},
          {"s2_act", "gelu"}, {"s2_skip", "yes"}, {"s3_blocks", "1"},   {"s3_op", "mbconv"}, {"s3_expand", "4"},
          {"s3_kernel", "3"}, {"s3_width", "64"}, {"s3_act", "hswish"}, {"s3_skip", "yes"}};
}

TEST(ChainSpace, SizeCountsConditionalDecisions) {
  ChainSpace s;
  // Per stage: 3 blocks x (conv + sepconv + 3 mbconv expansions) x 3 kernels x 4 widths x
  // 4 activations x 2 skips = 1440; three stages.
  EXPECT_DOUBLE_EQ(s.size(), 1440.0 * 1440.0 * 1440.0);
  EXPECT_GE(s.size(), 1e5);
  EXPECT_EQ(s.num_decisions(), 21u);
}

TEST(ChainSpace, JsonRoundTripAndStableHash) {
  ChainSpace s;
  Arch a = from(s, fixed_choices());
  nlohmann::json j = s.to_json(a);
  EXPECT_EQ(j["choices"], fixed_choices());
  EXPECT_EQ(s.from_json(j, "again"), a);
  // Pinned: hashes are stored in databases and must not change between versions.
  EXPECT_EQ(s.hash(a), "00a8d327eec46b63");
}

TEST(ChainSpace, InactiveDecisionsDoNotChangeTheHash) {
  ChainSpace s;
  Arch a = from(s, fixed_choices());
  Arch b = a;
  const int expand1 = s.index_of("s1_expand");  // stage 1 is conv: expansion is inactive
  ASSERT_FALSE(s.active(a, expand1));
  b.choices[expand1] = 2;
  EXPECT_EQ(s.hash(a), s.hash(b));
  EXPECT_EQ(s.canonical(b), a);
  Arch c = a;
  c.choices[s.index_of("s3_expand")] = 0;  // active in stage 3: a different architecture
  EXPECT_NE(s.hash(a), s.hash(c));
}

TEST(ChainSpace, BadJsonIsNamed) {
  ChainSpace s;
  auto err = [&](const nlohmann::json& j) {
    try {
      s.from_json(j, "a.json");
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  nlohmann::json c = fixed_choices();
  c["s9_blocks"] = "1";
  EXPECT_EQ(err({{"space", "chain"}, {"choices", c}}).substr(0, 57),
            "a.json: choices.s9_blocks: unknown decision for space 'ch");
  c = fixed_choices();
  c["s1_kernel"] = "4";
  EXPECT_EQ(err({{"space", "chain"}, {"choices", c}}),
            "a.json: choices.s1_kernel: unknown option '4'; options are: 3, 5, 7");
  c = fixed_choices();
  c.erase("s2_width");
  EXPECT_EQ(err({{"space", "chain"}, {"choices", c}}),
            "a.json: choices.s2_width: missing decision; options are: 32, 48, 64, 96");
  c = fixed_choices();
  c["s1_expand"] = "4";
  EXPECT_EQ(err({{"space", "chain"}, {"choices", c}}),
            "a.json: choices.s1_expand: decision does not apply here (it needs s1_op to be one of: mbconv)");
  EXPECT_EQ(err({{"space", "nb201"}, {"choices", fixed_choices()}}),
            "a.json: space: architecture is for space 'nb201', not 'chain'");
}

TEST(ChainSpace, SampleMutateNeighborsStayValid) {
  ChainSpace s;
  Rng rng(11);
  std::set<std::string> hashes;
  for (int i = 0; i < 50; ++i) {
    Arch a = s.sample(rng);
    EXPECT_EQ(s.canonical(a), a);
    hashes.insert(s.hash(a));
    Arch m = s.mutate(a, rng);
    EXPECT_NE(s.hash(m), s.hash(a));
    // Exactly one active decision differs (or a mutated op also toggled its expansion).
    int differ = 0;
    for (size_t d = 0; d < s.num_decisions(); ++d)
      if (s.active(a, d) && s.active(m, d) && a.choices[d] != m.choices[d]) ++differ;
    EXPECT_LE(differ, 1);
    EXPECT_EQ(s.from_json(s.to_json(m), "m"), m);
  }
  EXPECT_GT(hashes.size(), 45u);
  Arch a = from(s, fixed_choices());
  auto n = s.neighbors(a);
  // Every active decision's other options: blocks 2, op 2, kernel 2, width 3, act 3, skip 1 per
  // stage (13), plus stage 3's expansion (2 more).
  EXPECT_EQ(n.size(), 13u * 3 + 2);
}

TEST(ChainSpace, EncodingIsOneHotOverActiveDecisions) {
  ChainSpace s;
  Arch a = from(s, fixed_choices());
  auto e = s.encode(a);
  EXPECT_EQ(e.size(), s.encoding_size());
  float sum = 0;
  for (float v : e) sum += v;
  EXPECT_EQ(sum, 19.f);  // 21 decisions, 2 inactive expansions
}

TEST(ChainSpace, ParamsMatchTheModuleAndFlopsMatchAHandCount) {
  // A small fixed network whose cost is easy to count by hand: stem 8, one stage of one conv
  // block, stride 2, width 16, kernel 3, no skip, on 1x28x28 input with 10 classes.
  ChainOptions o;
  o.stem = 8;
  o.widths = {{16}};
  o.strides = {2};
  o.blocks = {1};
  o.kernels = {3};
  ChainSpace s(o);
  Arch a = s.from_json({{"space", "chain"},
                        {"choices",
                         {{"s1_blocks", "1"},
                          {"s1_op", "conv"},
                          {"s1_kernel", "3"},
                          {"s1_width", "16"},
                          {"s1_act", "relu"},
                          {"s1_skip", "no"}}}},
                       "t");
  Task task;
  auto net = s.build(a, task, 1.0);
  auto prof = estimate::profile_network(*net, task);
  // stem conv 1->8 3x3 (72) + BN (16); block conv 8->16 3x3 (1152) + BN (32); head 16->10 (170).
  EXPECT_EQ(prof.params, 72 + 16 + 1152 + 32 + 170);
  EXPECT_EQ(prof.params, count_parameters(*net));
  // stem: 28*28*8 outputs x 9 MACs; block: 14*14*16 outputs x 72 MACs; head: 10 x 16.
  EXPECT_DOUBLE_EQ(prof.flops, 28 * 28 * 8 * 9 + 14 * 14 * 16 * 72 + 10 * 16);
}

TEST(ChainSpace, ForwardAndBackwardOnSampledArchitectures) {
  ChainSpace s;
  Rng rng(3);
  Task task;
  for (int i = 0; i < 5; ++i) {
    auto net = s.build(s.sample(rng), task, 0.5);
    auto y = net->forward(torch::randn({4, 1, 28, 28}));
    EXPECT_EQ(y.sizes(), (std::vector<int64_t>{4, 10}));
    y.sum().backward();
    for (const auto& p : net->parameters()) ASSERT_TRUE(p.grad().defined());
  }
}

TEST(ChainSpace, WidthMultiplierShrinksTheNetwork) {
  ChainSpace s;
  Rng rng(4);
  Arch a = s.sample(rng);
  Task task;
  const int64_t full = count_parameters(*s.build(a, task, 1.0));
  const int64_t half = count_parameters(*s.build(a, task, 0.5));
  EXPECT_LT(half, full / 2);
}

TEST(SpaceRegistry, ConfigOptionsAreValidated) {
  ConfigSection o(nlohmann::json{{"kernels", {3, 4}}}, "space.chain", "c.yaml");
  try {
    make_space("chain", o);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()), "c.yaml: space.chain.kernels: kernel sizes must be odd, got 4");
  }
  // Found by bench/fuzz.sh config: a repeated option reached the space's own invariant check (exit 1).
  for (const auto& [key, value, message] : std::vector<std::tuple<std::string, nlohmann::json, std::string>>{
           {"widths", {{16, 24}, {32, 32}}, "space.chain.widths[1]: option 32 is listed twice"},
           {"blocks", {2, 2}, "space.chain.blocks: option 2 is listed twice"},
           {"kernels", {3, 3}, "space.chain.kernels: option 3 is listed twice"},
           {"expansions", {1, 4, 4}, "space.chain.expansions: option 4 is listed twice"}}) {
    ConfigSection twice(nlohmann::json{{key, value}}, "space.chain", "c.yaml");
    try {
      make_space("chain", twice);
      FAIL() << key;
    } catch (const InputError& e) {
      EXPECT_EQ(std::string(e.what()), "c.yaml: " + message);
    }
  }
  ConfigSection u(nlohmann::json{{"stems", 8}}, "space.chain", "c.yaml");
  EXPECT_THROW(make_space("chain", u), InputError);
  EXPECT_THROW(make_space("nosuchspace"), InputError);
}

}  // namespace
}  // namespace nascent::space
