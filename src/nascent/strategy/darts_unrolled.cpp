#include "nascent/strategy/darts_unrolled.h"

#include <cmath>

#include "nascent/core/error.h"

namespace nascent::strategy {
namespace {

// d loss / d inputs; zeros for inputs the loss does not depend on.
std::vector<torch::Tensor> gradients(const torch::Tensor& loss, const std::vector<torch::Tensor>& inputs) {
  std::vector<torch::Tensor> g = torch::autograd::grad({loss}, inputs, {}, /*retain_graph=*/false,
                                                       /*create_graph=*/false, /*allow_unused=*/true);
  for (size_t i = 0; i < g.size(); ++i)
    if (!g[i].defined()) g[i] = torch::zeros_like(inputs[i]);
  return g;
}

void add_scaled(const std::vector<torch::Tensor>& w, const std::vector<torch::Tensor>& v, double scale) {
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < w.size(); ++i) w[i].add_(v[i], scale);
}

}  // namespace

std::vector<torch::Tensor> finite_difference_hvp(const LossFn& train_loss, const std::vector<torch::Tensor>& weights,
                                                 const std::vector<torch::Tensor>& alphas,
                                                 const std::vector<torch::Tensor>& v, double r) {
  NASCENT_CHECK(v.size() == weights.size(), "finite_difference_hvp: one direction per weight tensor");
  double sq = 0;
  for (const auto& t : v) sq += t.pow(2).sum().item<double>();
  std::vector<torch::Tensor> out;
  if (sq == 0) {
    for (const auto& a : alphas) out.push_back(torch::zeros_like(a));
    return out;
  }
  const double eps = r / std::sqrt(sq);
  std::vector<torch::Tensor> backup;
  for (const auto& w : weights) backup.push_back(w.detach().clone());
  add_scaled(weights, v, eps);  // w+
  std::vector<torch::Tensor> plus = gradients(train_loss(), alphas);
  add_scaled(weights, v, -2 * eps);  // w-
  std::vector<torch::Tensor> minus = gradients(train_loss(), alphas);
  {
    torch::NoGradGuard no_grad;  // w exactly (w + eps v - 2 eps v + eps v would round)
    for (size_t i = 0; i < weights.size(); ++i) weights[i].copy_(backup[i]);
  }
  for (size_t i = 0; i < alphas.size(); ++i) out.push_back((plus[i] - minus[i]) / (2 * eps));
  return out;
}

UnrolledGradient unrolled_arch_gradient(const LossFn& train_loss,
                                        const std::function<torch::Tensor(torch::Tensor*)>& val_loss,
                                        const std::vector<torch::Tensor>& weights,
                                        const std::vector<torch::Tensor>& alphas, double xi, double weight_decay,
                                        double r) {
  std::vector<torch::Tensor> backup;
  for (const auto& w : weights) backup.push_back(w.detach().clone());
  // w' = w - xi * (grad_w L_train(w, a) + weight_decay * w): the virtual step of eq. 6.
  std::vector<torch::Tensor> gw = gradients(train_loss(), weights);
  {
    torch::NoGradGuard no_grad;
    for (size_t i = 0; i < weights.size(); ++i) weights[i].sub_(xi * (gw[i] + weight_decay * weights[i]));
  }
  UnrolledGradient out;
  torch::Tensor logits;
  torch::Tensor lv = val_loss(&logits);
  out.val_loss = lv.item<double>();
  out.val_logits = logits.detach();
  std::vector<torch::Tensor> inputs(alphas);
  inputs.insert(inputs.end(), weights.begin(), weights.end());
  std::vector<torch::Tensor> g = gradients(lv, inputs);
  const std::vector<torch::Tensor> dw(g.begin() + static_cast<std::ptrdiff_t>(alphas.size()), g.end());
  {
    torch::NoGradGuard no_grad;
    for (size_t i = 0; i < weights.size(); ++i) weights[i].copy_(backup[i]);
  }
  // eq. 7's second term, at the original weights w.
  std::vector<torch::Tensor> hvp = finite_difference_hvp(train_loss, weights, alphas, dw, r);
  for (size_t i = 0; i < alphas.size(); ++i) out.alpha_grad.push_back(g[i] - xi * hvp[i]);
  return out;
}

}  // namespace nascent::strategy
