// The torch side of a search space: every built architecture is a Network, a torch module with
// forward(x) -> logits. Spaces compose it from the counted operations in ops.h.
#pragma once

#include <torch/torch.h>

namespace nascent::space {

class Network : public torch::nn::Module {
 public:
  // [batch, C, H, W] (images) or [batch, features] / [batch, seq] -> [batch, classes]
  virtual torch::Tensor forward(torch::Tensor x) = 0;
};

// Parameters that require gradients.
int64_t count_parameters(const torch::nn::Module& m);

}  // namespace nascent::space
