// The torch side of a search space: every built architecture is a Network, a torch module with
// forward(x) -> logits. Spaces compose it from the counted operations in ops.h. Optional hooks
// let a network take part in its own training (drop-path schedules, auxiliary heads) without
// the trainer knowing which space built it.
#pragma once

#include <torch/torch.h>

#include <vector>

namespace nascent::space {

// The output of a training-only head, e.g. DARTS' auxiliary classifier at 2/3 depth.
struct AuxiliaryOutput {
  torch::Tensor logits;  // same shape and targets as the network's main output
  double weight = 0;     // the trainer adds weight x loss(logits, targets) to the loss
};

class Network : public torch::nn::Module {
 public:
  // [batch, C, H, W] (images) or [batch, features] / [batch, seq] -> [batch, classes]
  virtual torch::Tensor forward(torch::Tensor x) = 0;

  // Called by the trainer before every step with the share of training done, in [0, 1) (DARTS
  // scales its drop-path probability by it). Default: ignored.
  virtual void set_training_progress(double /*fraction*/) {}
  // Outputs of training-only heads from the last forward pass in training mode; taking them
  // clears them. Default: none.
  virtual std::vector<AuxiliaryOutput> take_auxiliary_outputs() { return {}; }
  // Parameters of the deployed network, as papers count them: training-only heads are left out.
  virtual int64_t num_parameters() const;
};

// Parameters that require gradients.
int64_t count_parameters(const torch::nn::Module& m);

}  // namespace nascent::space
