#include <gtest/gtest.h>

#include <set>

#include "nascent/core/error.h"
#include "nascent/space/mbconv.h"
#include "nascent/space/supernet.h"

namespace nascent::space {
namespace {

MbconvSpace small_space() {
  MbconvOptions o;
  o.stem = 8;
  o.widths = {8, 16};
  o.depths = {1, 2};
  o.head = 32;
  return MbconvSpace(o);
}

std::set<const void*> ids(const std::vector<torch::Tensor>& ts) {
  std::set<const void*> out;
  for (const auto& t : ts) out.insert(t.unsafeGetTensorImpl());
  return out;
}

TEST(MbconvSupernet, AlphasAreApartFromWeights) {
  MbconvSpace s = small_space();
  auto net = s.build_supernet(Task{}, SupernetOptions{});
  const auto a = ids(net->alphas()), w = ids(net->weights());
  EXPECT_EQ(net->alphas().size(), 6u);  // width, depth, kernel, expand, se, act
  for (const void* p : a) EXPECT_EQ(w.count(p), 0u);
  EXPECT_EQ(a.size() + w.size(), net->parameters().size());
  // One row per decision of each kind: 2 stages x 2 blocks of kernels, 3 options each.
  EXPECT_EQ(net->alphas()[2].sizes(), (std::vector<int64_t>{4, 3}));
  EXPECT_EQ(net->alpha_table().size(), s.num_decisions());
}

TEST(MbconvSupernet, SoftmaxMixtureReachesEveryAlpha) {
  MbconvSpace s = small_space();
  torch::manual_seed(0);
  auto net = s.build_supernet(Task{}, SupernetOptions{});
  net->set_mode(MixMode::kSoftmax);
  auto y = net->forward(torch::randn({2, 1, 28, 28}));
  EXPECT_EQ(y.sizes(), (std::vector<int64_t>{2, 10}));
  y.pow(2).sum().backward();
  for (const auto& a : net->alphas()) {
    ASSERT_TRUE(a.grad().defined());
    EXPECT_GT(a.grad().abs().sum().item<double>(), 0);
  }
}

TEST(MbconvSupernet, PathRunsOnlyTheChosenOptions) {
  MbconvSpace s = small_space();
  torch::manual_seed(0);
  auto net = s.build_supernet(Task{}, SupernetOptions{});
  Rng rng(2);
  Arch a = s.sample(rng);
  a.choices[s.index_of("s1_depth")] = 1;      // two blocks in stage 1
  a.choices[s.index_of("s1_b1_kernel")] = 0;  // 3x3
  a.choices[s.index_of("s1_b1_expand")] = 2;  // ratio 6
  a = s.canonical(a);
  net->set_path(a);
  net->set_mode(MixMode::kPath);
  net->forward(torch::randn({2, 1, 28, 28})).sum().backward();
  auto grad_of = [&](const std::string& name) {
    for (const auto& p : net->named_parameters())
      if (p.key() == name) return p.value().grad().defined() ? p.value().grad().abs().sum().item<double>() : 0.0;
    ADD_FAILURE() << "no parameter " << name;
    return -1.0;
  };
  EXPECT_GT(grad_of("s1_b1.e6_dw3.conv.weight"), 0);
  EXPECT_EQ(grad_of("s1_b1.e6_dw5.conv.weight"), 0);
  EXPECT_EQ(grad_of("s1_b1.e3_expand.conv.weight"), 0);
  for (const auto& al : net->alphas()) EXPECT_FALSE(al.grad().defined());
}

TEST(MbconvSupernet, GumbelSamplesOnePathAndTrainsTheAlphas) {
  MbconvSpace s = small_space();
  torch::manual_seed(1);
  auto net = s.build_supernet(Task{}, SupernetOptions{});
  net->set_mode(MixMode::kGumbelHard);
  net->set_tau(5);
  auto y = net->forward(torch::randn({2, 1, 28, 28}));
  EXPECT_TRUE(torch::isfinite(y).all().item<bool>());
  y.pow(2).sum().backward();
  double total = 0;
  for (const auto& a : net->alphas()) total += a.grad().abs().sum().item<double>();
  EXPECT_GT(total, 0);
}

TEST(MbconvSupernet, DeriveTakesTheArgmaxOfEveryDecision) {
  MbconvSpace s = small_space();
  auto net = s.build_supernet(Task{}, SupernetOptions{});
  {
    torch::NoGradGuard g;
    auto al = net->alphas();
    al[1].select(1, 1).fill_(5.0);  // depth 2 everywhere
    al[2].select(1, 2).fill_(5.0);  // kernel 7 everywhere
    al[3].select(1, 0).fill_(5.0);  // expansion 3 everywhere
  }
  const Arch d = net->derive();
  EXPECT_EQ(d, s.canonical(d));
  const auto l = s.layout(d);
  for (const auto& stage : l.stages) {
    EXPECT_EQ(stage.size(), 2u);
    for (const auto& b : stage) {
      EXPECT_EQ(b.kernel, 7);
      EXPECT_EQ(b.expand, 3);
    }
  }
  // The table agrees with derive(): its largest probability is the derived option.
  for (const auto& [name, probs] : net->alpha_table()) {
    const int i = s.index_of(name);
    if (!s.active(d, i)) continue;
    EXPECT_EQ(std::max_element(probs.begin(), probs.end()) - probs.begin(), d.choices[i]) << name;
  }
}

TEST(MbconvSupernet, NeedsImages) {
  MbconvSpace s = small_space();
  Task text;
  text.kind = "text";
  text.input_shape = {8};
  EXPECT_THROW(s.build_supernet(text, SupernetOptions{}), InputError);
}

}  // namespace
}  // namespace nascent::space
