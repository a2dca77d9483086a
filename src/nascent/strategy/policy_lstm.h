// The RL controller of Zoph & Le (2017) in the form ENAS uses (Pham et al. 2018): an LSTM that
// emits the space's decisions one after another. Each step's input is the embedding of the
// previous decision's choice (a learned start vector for the first); a per-decision linear head
// turns the hidden state into logits over that decision's options. Inactive decisions are
// skipped. Sampling draws from our own Rng, never torch's generator.
#pragma once

#include <torch/torch.h>

#include <utility>
#include <vector>

#include "nascent/core/rng.h"
#include "nascent/space/space.h"

namespace nascent::strategy {

class PolicyLstmImpl : public torch::nn::Module {
 public:
  // tanh_constant > 0 bounds the logits to c * tanh(logits) (ENAS); 0 leaves them free.
  PolicyLstmImpl(const space::SearchSpace& space, int64_t hidden, double tanh_constant);

  // Every weight drawn uniformly from [-range, range] with rng (ENAS initialises this way).
  void init_uniform(Rng& rng, double range);
  // Draws one architecture (no gradients).
  Arch sample(Rng& rng);
  // Per architecture: the sum over its active decisions of log pi(choice | earlier choices), and
  // the sum of the entropies of the distributions visited; both differentiable, shape [K]. All K
  // architectures go through the LSTM together, each stepping only on its active decisions.
  std::pair<torch::Tensor, torch::Tensor> log_prob_and_entropy(const std::vector<Arch>& archs);
  // pi(. | earlier choices of arch) for decision i (which must be active in arch).
  std::vector<double> probabilities(const Arch& arch, size_t decision);

 private:
  // Runs the LSTM over the active decisions of arch, calling visit(i, logits) at each; a visit
  // may set arch.choices[i] (sampling) before the choice is fed to the next step.
  template <typename Visit>
  void walk(Arch& arch, size_t stop, Visit visit);

  const space::SearchSpace& space_;
  int64_t hidden_;
  double tanh_constant_;
  torch::nn::LSTMCell cell_{nullptr};
  torch::Tensor start_;                      // [1, hidden] input of the first step
  std::vector<torch::nn::Embedding> embed_;  // per decision: option -> [1, hidden]
  std::vector<torch::nn::Linear> heads_;     // per decision: [1, hidden] -> [1, options]
};
TORCH_MODULE(PolicyLstm);

}  // namespace nascent::strategy
