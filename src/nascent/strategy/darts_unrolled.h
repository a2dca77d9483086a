// The second-order architecture gradient of DARTS (Liu et al. 2019, eq. 7-8): the gradient of the
// validation loss after one virtual SGD step on the weights, with the Hessian-vector product
// replaced by a central finite difference. Written over loss closures so that it can be checked
// against a direct double-backward computation on a tiny problem.
#pragma once

#include <torch/torch.h>

#include <functional>
#include <vector>

namespace nascent::strategy {

using LossFn = std::function<torch::Tensor()>;

// eq. 8: grad_a^2_{a,w} L_train(w, a) . v  ~=  (grad_a L_train(w+, a) - grad_a L_train(w-, a)) / (2 eps),
// w+- = w +- eps v, eps = r / ||v||. The weights are restored before returning.
std::vector<torch::Tensor> finite_difference_hvp(const LossFn& train_loss, const std::vector<torch::Tensor>& weights,
                                                 const std::vector<torch::Tensor>& alphas,
                                                 const std::vector<torch::Tensor>& v, double r);

struct UnrolledGradient {
  std::vector<torch::Tensor> alpha_grad;  // eq. 7 for every alpha
  double val_loss = 0;                    // L_val(w', a)
  torch::Tensor val_logits;               // the logits of the validation forward pass at w' (detached)
};

// eq. 7: grad_a L_val(w', a) - xi * grad^2_{a,w} L_train(w, a) . grad_w' L_val(w', a), with
// w' = w - xi * (grad_w L_train(w, a) + weight_decay * w) (one plain SGD step; the reference's
// momentum term is left out). val_loss returns the loss and, through `logits`, the logits it
// saw. The weights are left as they were.
UnrolledGradient unrolled_arch_gradient(const LossFn& train_loss,
                                        const std::function<torch::Tensor(torch::Tensor*)>& val_loss,
                                        const std::vector<torch::Tensor>& weights,
                                        const std::vector<torch::Tensor>& alphas, double xi, double weight_decay,
                                        double r);

}  // namespace nascent::strategy
