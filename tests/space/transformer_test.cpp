#include "nascent/space/transformer.h"

#include <gtest/gtest.h>

#include "nascent/core/config.h"
#include "nascent/core/error.h"
#include "nascent/estimate/profile.h"
#include "nascent/space/network.h"

namespace nascent::space {
namespace {

Task text_task(int64_t seq, int64_t vocab, const std::string& target, int64_t classes) {
  Task t;
  t.kind = "text";
  t.input_shape = {seq};
  t.vocab_size = vocab;
  t.target = target;
  t.num_classes = target == "next_token" ? vocab : classes;
  return t;
}

TransformerSpace tiny() {
  TransformerOptions o;
  o.layers = {1};
  o.embed_dims = {16};
  o.heads = {2};
  o.ffn_dims = {32};
  o.activations = {"relu"};
  return TransformerSpace(o);
}

TEST(TransformerSpace, SizeCountsLayersOnlyWhereTheyExist) {
  TransformerSpace s;
  // Per layer 2 heads x 3 FFN widths = 6; 1-4 layers: 6 + 36 + 216 + 1296; x 3 widths x 2 acts.
  EXPECT_DOUBLE_EQ(s.size(), 1554.0 * 6);
  Rng rng(2);
  for (int i = 0; i < 20; ++i) {
    Arch a = s.sample(rng);
    const int layers = std::stoi(s.decisions()[0].options[a.choices[0]]);
    EXPECT_EQ(s.active(a, s.index_of("l4_heads")), layers == 4);
    EXPECT_EQ(s.layout(a).heads.size(), static_cast<size_t>(layers));
  }
}

TEST(TransformerSpace, ParamsAndFlopsMatchAHandCount) {
  TransformerSpace s = tiny();
  Rng rng(0);
  const Arch a = s.sample(rng);  // the only architecture
  EXPECT_DOUBLE_EQ(s.size(), 1);
  // T = 8 positions, E = 16, 2 heads, FFN 32, vocabulary 10.
  const Task lm = text_task(8, 10, "next_token", 0);
  auto net = s.build(a, lm, 1.0);
  auto p = estimate::profile_network(*net, lm);
  // Embeddings 10x16 + 8x16; LN 2x16 (x3); QKV 16x48 + 48; out 16x16 + 16; FFN 16x32 + 32 and
  // 32x16 + 16; head 16x10 + 10.
  EXPECT_EQ(p.params, 160 + 128 + 3 * 32 + 816 + 272 + 544 + 528 + 170);
  EXPECT_EQ(p.params, count_parameters(*net));
  // QKV 3TE^2, scores T^2 E, weighted values T^2 E, output TE^2, FFN 2TEF, head TEV.
  const double t = 8, e = 16, f = 32, v = 10;
  EXPECT_DOUBLE_EQ(p.flops, 3 * t * e * e + 2 * t * t * e + t * e * e + 2 * t * e * f + t * e * v);
  // The classification head pools first: E x classes instead of T x E x V.
  const Task cls = text_task(8, 10, "class", 3);
  auto cnet = s.build(a, cls, 1.0);
  EXPECT_DOUBLE_EQ(estimate::profile_network(*cnet, cls).flops,
                   3 * t * e * e + 2 * t * t * e + t * e * e + 2 * t * e * f + e * 3);
}

TEST(TransformerSpace, LanguageModelIsCausal) {
  TransformerSpace s;
  Rng rng(4);
  const Task lm = text_task(12, 20, "next_token", 0);
  torch::manual_seed(0);
  auto net = s.build(s.sample(rng), lm, 1.0);
  net->eval();
  torch::NoGradGuard g;
  auto x = torch::randint(2, 20, {1, 12}, torch::kInt64);
  auto y1 = net->forward(x);
  EXPECT_EQ(y1.sizes(), (std::vector<int64_t>{1, 12, 20}));
  auto x2 = x.clone();
  x2[0][7] = (x[0][7].item<int64_t>() == 2) ? 3 : 2;
  auto y2 = net->forward(x2);
  // Positions before 7 cannot see the change; position 7 and later do.
  EXPECT_TRUE(torch::allclose(y1.slice(1, 0, 7), y2.slice(1, 0, 7), 1e-5, 1e-6));
  EXPECT_FALSE(torch::allclose(y1.slice(1, 7, 12), y2.slice(1, 7, 12)));
}

TEST(TransformerSpace, ClassifierIgnoresPadding) {
  TransformerSpace s;
  Rng rng(6);
  const Task cls = text_task(8, 20, "class", 3);
  torch::manual_seed(1);
  auto net = s.build(s.sample(rng), cls, 1.0);
  net->eval();
  torch::NoGradGuard g;
  auto short_seq = torch::tensor({{5, 9, 3}}, torch::kInt64);
  auto padded = torch::tensor({{5, 9, 3, 0, 0, 0, 0, 0}}, torch::kInt64);
  EXPECT_TRUE(torch::allclose(net->forward(short_seq), net->forward(padded), 1e-5, 1e-6));
}

TEST(TransformerSpace, ForwardAndBackwardOnSampledArchitectures) {
  TransformerSpace s;
  Rng rng(8);
  for (const std::string target : {"next_token", "class"}) {
    const Task task = text_task(16, 30, target, 4);
    for (int i = 0; i < 4; ++i) {
      auto net = s.build(s.sample(rng), task, 0.5);
      auto y = net->forward(torch::randint(0, 30, {3, 16}, torch::kInt64));
      EXPECT_EQ(y.size(0), 3);
      EXPECT_EQ(y.size(-1), target == "class" ? 4 : 30);
      y.sum().backward();
      for (const auto& p : net->parameters()) ASSERT_TRUE(p.grad().defined());
    }
  }
  EXPECT_FALSE(s.supports(Task{}));
  EXPECT_TRUE(s.supports(s.default_task()));
}

TEST(TransformerSpace, HeadsMustDivideEveryWidth) {
  ConfigSection o(nlohmann::json{{"embed_dims", {64, 96}}, {"heads", {5}}}, "space.transformer", "c.yaml");
  try {
    TransformerOptions::from_config(o);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(
        std::string(e.what()),
        "c.yaml: space.transformer.heads: 5 heads do not divide embedding width 64 (space.transformer.embed_dims)");
  }
}

}  // namespace
}  // namespace nascent::space
