#include "nascent/estimate/proxies.h"

#include <gtest/gtest.h>

#include <cmath>

#include "nascent/core/config.h"
#include "nascent/core/error.h"
#include "nascent/core/rng.h"
#include "nascent/data/dataset.h"
#include "nascent/space/nb201.h"
#include "nascent/space/network.h"
#include "nascent/space/ops.h"
#include "support/support.h"

namespace nascent::estimate {
namespace {

// x [B, 2] -> linear 2->2 (no bias) -> ReLU -> linear 2->1 (no bias), with weights set by hand.
class TinyNet : public space::Network {
 public:
  TinyNet() {
    l1_ = register_module("l1", space::CountedLinear(2, 2, false));
    l2_ = register_module("l2", space::CountedLinear(2, 1, false));
    torch::NoGradGuard g;
    auto params = parameters();
    params[0].copy_(torch::tensor({{1.0, -2.0}, {3.0, 4.0}}));
    params[1].copy_(torch::tensor({{-1.0, 2.0}}));
  }
  torch::Tensor forward(torch::Tensor x) override { return l2_(torch::relu(l1_(x))); }

 private:
  space::CountedLinear l1_{nullptr}, l2_{nullptr};
};

// Same shape with 3 classes, for the loss-based proxies.
class TinyClassifier : public space::Network {
 public:
  TinyClassifier() {
    torch::manual_seed(3);
    l1_ = register_module("l1", space::CountedLinear(4, 5));
    l2_ = register_module("l2", space::CountedLinear(5, 3));
  }
  torch::Tensor forward(torch::Tensor x) override { return l2_(torch::tanh(l1_(x))); }
  space::CountedLinear l1_{nullptr}, l2_{nullptr};
};

Task tiny_task() {
  Task t;
  t.kind = "tabular";
  t.input_shape = {2};
  t.num_classes = 1;
  return t;
}

TEST(Proxies, SynflowOfATinyLinearNetEqualsTheHandComputation) {
  // |W1| = [[1,2],[3,4]], |W2| = [[1,2]], input ones: hidden h = |W1| 1 = [3, 7], R = |W2| h = 17.
  // Layer 2: sum_j |W2_j| h_j = 17; layer 1: sum_jk |W1_jk| |W2_j| = 1*3 + 2*7 = 17 (synflow
  // conserves R per layer), so the score is 34.
  TinyNet net;
  EXPECT_DOUBLE_EQ(synflow(net, tiny_task(), 0), 34.0);
}

TEST(Proxies, GradNormAndSnipEqualTheDirectComputation) {
  const torch::Tensor x = torch::tensor({{0.5, -1.0, 2.0, 0.1}, {1.5, 0.3, -0.7, -2.0}, {0.0, 1.0, 1.0, 1.0}});
  const torch::Tensor y = torch::tensor({0, 2, 1}, torch::kInt64);
  TinyClassifier ref;
  auto loss = torch::nn::functional::cross_entropy(ref.forward(x), y);
  auto params = ref.parameters();  // l1.weight, l1.bias, l2.weight, l2.bias
  auto grads = torch::autograd::grad({loss}, {params[0], params[2]});
  const double norm = grads[0].norm().item<double>() + grads[1].norm().item<double>();
  const double sens =
      (params[0] * grads[0]).abs().sum().item<double>() + (params[2] * grads[1]).abs().sum().item<double>();
  TinyClassifier a, b;
  EXPECT_NEAR(grad_norm(a, x, y), norm, 1e-6 * norm);
  EXPECT_NEAR(snip(b, x, y), sens, 1e-6 * sens);
  EXPECT_GT(norm, 0.0);
}

TEST(Proxies, FisherEqualsTheDirectComputation) {
  const torch::Tensor x = torch::tensor({{0.5, -1.0, 2.0, 0.1}, {1.5, 0.3, -0.7, -2.0}});
  const torch::Tensor y = torch::tensor({0, 2}, torch::kInt64);
  TinyClassifier ref;
  torch::Tensor a1 = ref.l1_(x);
  torch::Tensor a2 = ref.l2_(torch::tanh(a1));
  auto loss = torch::nn::functional::cross_entropy(a2, y);
  auto g = torch::autograd::grad({loss}, {a1, a2});
  // Linear outputs are [B, K]: per channel 0.5 * mean_n (a * g)^2, summed.
  const double expected =
      (0.5 * (a1 * g[0]).pow(2).mean(0)).sum().item<double>() + (0.5 * (a2 * g[1]).pow(2).mean(0)).sum().item<double>();
  TinyClassifier net;
  EXPECT_NEAR(fisher(net, x, y), expected, 1e-6 * expected);
  EXPECT_GT(expected, 0.0);
}

TEST(Proxies, JacobCovScoreOfUncorrelatedAndIdenticalRows) {
  // Orthogonal zero-mean rows: the correlation matrix is the identity, eigenvalues 1.
  const torch::Tensor orth = torch::tensor({{1.0, -1.0, 0.0, 0.0}, {0.0, 0.0, 1.0, -1.0}});
  const double k = 1e-5;
  EXPECT_NEAR(jacob_cov_score(orth), -2 * (std::log(1 + k) + 1 / (1 + k)), 1e-9);
  // Identical rows: eigenvalues 2 and 0, a far lower score.
  const torch::Tensor same = torch::tensor({{1.0, 2.0, 3.0, 4.0}, {1.0, 2.0, 3.0, 4.0}});
  EXPECT_NEAR(jacob_cov_score(same), -(std::log(2 + k) + 1 / (2 + k)) - (std::log(k) + 1 / k), 1e-3);
  // A constant (zero) row counts as fully correlated, the same as identical rows.
  const torch::Tensor zero = torch::zeros({2, 4});
  EXPECT_NEAR(jacob_cov_score(zero), jacob_cov_score(same), 1e-3);
}

TEST(Proxies, NaswotScoreIsTheLogDeterminantOfTheAgreementKernel) {
  // Codes of 3 examples over 4 units. K_ij = units where i and j agree:
  // rows 1010, 1001, 0111 -> K = [[4, 2, 1], [2, 4, 1], [1, 1, 4]], det = 4*15 - 2*7 + 1*(-2) = 44.
  const torch::Tensor codes = torch::tensor({{1, 0, 1, 0}, {1, 0, 0, 1}, {0, 1, 1, 1}}, torch::kBool);
  EXPECT_NEAR(naswot_score(codes), std::log(44.0), 1e-9);
  // Two identical codes: K is singular, the score -inf (the network cannot tell them apart).
  const torch::Tensor same = torch::tensor({{1, 0, 1}, {1, 0, 1}}, torch::kBool);
  EXPECT_EQ(naswot_score(same), -INFINITY);
}

const data::TaskData& tiny_data() { return test::fashion_task(600); }

std::shared_ptr<space::Network> build_nb201(const std::string& cell, uint64_t seed) {
  space::Nb201Options o;
  o.C = 4;
  o.N = 1;
  space::Nb201Space s(o);
  torch::manual_seed(seed);
  return s.build(s.from_text(cell, "test"), tiny_data().task, 1.0);
}

const char* const kConv =
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_1x1~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|";
const char* const kNone = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|";

TEST(Proxies, RankACellOfNoneBelowAConvCell) {
  const ProxyBatch b = proxy_batch(tiny_data(), 16, 0, 5);
  for (const std::string name : {"synflow", "jacob_cov", "snip", "grad_norm", "fisher", "params", "flops"}) {
    const double conv = compute_proxy(name, *build_nb201(kConv, 1), b);
    const double none = compute_proxy(name, *build_nb201(kNone, 1), b);
    EXPECT_TRUE(std::isfinite(conv) && std::isfinite(none)) << name;
    EXPECT_GT(conv, none) << name;
  }
}

TEST(Proxies, NaswotScoresAConvCellAndRefusesACellThatIgnoresItsInput) {
  // With every edge none, nothing after the cells depends on the example, and the stem has no
  // ReLU: every example has the same code, K is singular.
  const ProxyBatch b = proxy_batch(tiny_data(), 16, 0, 5);
  EXPECT_TRUE(std::isfinite(compute_proxy("naswot", *build_nb201(kConv, 1), b)));
  EXPECT_THROW(compute_proxy("naswot", *build_nb201(kNone, 1), b), TrialFailure);
  // A cell with convolutions gives codes of more units, which tell examples apart further.
  const char* const kPool = "|avg_pool_3x3~0|+|avg_pool_3x3~0|avg_pool_3x3~1|+|skip_connect~0|avg_pool_3x3~1|none~2|";
  EXPECT_GT(compute_proxy("naswot", *build_nb201(kConv, 1), b), compute_proxy("naswot", *build_nb201(kPool, 1), b));
}

TEST(Proxies, AreIdenticalForTheSameSeedAndDifferForAnother) {
  const ProxyBatch b1 = proxy_batch(tiny_data(), 16, 0, 5);
  const ProxyBatch b2 = proxy_batch(tiny_data(), 16, 0, 5);
  EXPECT_TRUE(torch::equal(b1.x, b2.x));
  EXPECT_FALSE(torch::equal(b1.x, proxy_batch(tiny_data(), 16, 0, 6).x));
  for (const std::string name : {"synflow", "jacob_cov", "naswot", "snip", "grad_norm", "fisher"}) {
    const double a = compute_proxy(name, *build_nb201(kConv, 1), b1);
    EXPECT_EQ(a, compute_proxy(name, *build_nb201(kConv, 1), b2)) << name;
    EXPECT_NE(a, compute_proxy(name, *build_nb201(kConv, 2), b1)) << name;
  }
}

TEST(Proxies, ResolutionResizesTheBatch) {
  const ProxyBatch b = proxy_batch(tiny_data(), 8, 14, 5);
  EXPECT_EQ(b.x.sizes(), (std::vector<int64_t>{8, 1, 14, 14}));
  EXPECT_EQ(b.y.size(0), 8);
  EXPECT_TRUE(is_proxy("synflow"));
  EXPECT_FALSE(is_proxy("val_accuracy"));
}

}  // namespace
}  // namespace nascent::estimate
