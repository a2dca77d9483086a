#include "nascent/strategy/darts_unrolled.h"

#include <gtest/gtest.h>

namespace nascent::strategy {
namespace {

// A tiny bilevel problem with non-trivial mixed second derivatives:
// L_train(w, a) = sum((tanh(A w) * softmax(a))^2) + 0.1 * sum(w^2 * a[0]),
// L_val(w, a)   = sum((B w - softmax(a).sum() * c)^2) + sum(w * a[1]).
struct Tiny {
  torch::Tensor A, B, c, w, a;
  Tiny() {
    torch::manual_seed(3);
    A = torch::randn({4, 3}, torch::kFloat64);
    B = torch::randn({2, 3}, torch::kFloat64);
    c = torch::randn({2}, torch::kFloat64);
    w = torch::randn({3}, torch::kFloat64).requires_grad_(true);
    a = torch::randn({4}, torch::kFloat64).requires_grad_(true);
  }
  torch::Tensor train() const {
    return (torch::tanh(A.matmul(w)) * torch::softmax(a, 0)).pow(2).sum() + 0.1 * (w.pow(2) * a[0]).sum();
  }
  torch::Tensor val() const { return (B.matmul(w) - torch::softmax(a, 0).sum() * c).pow(2).sum() + (w * a[1]).sum(); }
};

TEST(DartsUnrolled, FiniteDifferenceMatchesTheExactHessianVectorProduct) {
  Tiny t;
  torch::Tensor v = torch::randn({3}, torch::kFloat64);
  // Exact: d/da [ (d L_train / d w) . v ] by double backward.
  torch::Tensor gw = torch::autograd::grad({t.train()}, {t.w}, {}, true, true)[0];
  torch::Tensor exact = torch::autograd::grad({(gw * v).sum()}, {t.a})[0];
  const torch::Tensor w_before = t.w.detach().clone();
  auto approx = finite_difference_hvp([&] { return t.train(); }, {t.w}, {t.a}, {v}, 0.01);
  ASSERT_EQ(approx.size(), 1u);
  EXPECT_TRUE(torch::allclose(approx[0], exact, 1e-4, 1e-6)) << approx[0] << "\n" << exact;
  EXPECT_TRUE(torch::equal(t.w.detach(), w_before));  // the weights are restored
  // A wrong sign or a missing 1/(2 eps) would be far off: the product is not tiny.
  EXPECT_GT(exact.abs().max().item<double>(), 1e-2);
}

TEST(DartsUnrolled, UnrolledGradientMatchesDifferentiatingThroughTheVirtualStep) {
  Tiny t;
  const double xi = 0.05, wd = 0.01;
  // Exact eq. 6/7: a' = w - xi (grad_w L_train + wd w), kept differentiable in a.
  torch::Tensor gw = torch::autograd::grad({t.train()}, {t.w}, {}, true, true)[0];
  torch::Tensor w1 = t.w - xi * (gw + wd * t.w);
  torch::Tensor lv = (t.B.matmul(w1) - torch::softmax(t.a, 0).sum() * t.c).pow(2).sum() + (w1 * t.a[1]).sum();
  torch::Tensor exact = torch::autograd::grad({lv}, {t.a})[0];

  const torch::Tensor w_before = t.w.detach().clone();
  UnrolledGradient g = unrolled_arch_gradient([&] { return t.train(); },
                                              [&](torch::Tensor* logits) {
                                                torch::Tensor l = t.val();
                                                *logits = l.detach().reshape({1, 1});
                                                return l;
                                              },
                                              {t.w}, {t.a}, xi, wd, 0.01);
  ASSERT_EQ(g.alpha_grad.size(), 1u);
  EXPECT_TRUE(torch::allclose(g.alpha_grad[0], exact, 1e-4, 1e-6)) << g.alpha_grad[0] << "\n" << exact;
  EXPECT_TRUE(torch::equal(t.w.detach(), w_before));
  // First order (xi = 0 in the weights' step) differs: the second-order term matters here.
  torch::Tensor first = torch::autograd::grad({t.val()}, {t.a})[0];
  EXPECT_FALSE(torch::allclose(first, exact, 1e-3, 1e-6));
}

}  // namespace
}  // namespace nascent::strategy
