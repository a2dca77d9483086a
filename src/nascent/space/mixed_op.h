// The mixed edge of a cell supernet: every candidate operation of one edge, combined by the
// supernet's mode (DARTS softmax mixture, GDAS hard sample, or one fixed option), with PC-DARTS'
// partial channel connections as an option. Shared by the nb201 and darts supernets.
#pragma once

#include <torch/torch.h>

#include <string>
#include <utility>
#include <vector>

#include "nascent/space/cell_ops.h"

namespace nascent::space {

struct MixedOpOptions {
  int64_t channels = 0;  // input and output channels
  int64_t stride = 1;
  int64_t partial = 1;   // PC-DARTS: only channels / partial channels go through the ops
  bool pool_bn = false;  // pooling ops followed by an affine-free BN (DARTS' search cell)
};

class MixedOpImpl : public torch::nn::Module {
 public:
  MixedOpImpl(const std::vector<std::string>& ops, const MixedOpOptions& o);

  // DARTS (Liu et al. 2019, eq. 2): sum_k w_k * op_k(x), w: [ops] softmax weights.
  torch::Tensor forward_weighted(const torch::Tensor& x, const torch::Tensor& w);
  // GDAS (Dong & Yang 2019): only op_index runs; w are straight-through hard weights (one-hot in
  // value), and the other options' weights are added as zero-valued scalars so that their
  // alphas get gradients too, as in the reference implementation.
  torch::Tensor forward_hard(const torch::Tensor& x, const torch::Tensor& w, int64_t index);
  // One option alone (a fixed path: SPOS, or inherited-weight evaluation).
  torch::Tensor forward_one(const torch::Tensor& x, int64_t index);

  size_t num_ops() const { return ops_.size(); }

 private:
  // PC-DARTS (Xu et al. 2020, eq. 2-3): the first channels/K channels go through `f`, the rest
  // bypass it (max-pooled when the edge reduces), then the channels are shuffled.
  template <typename Fn>
  torch::Tensor partial(const torch::Tensor& x, Fn f);

  std::vector<CellOp> ops_;
  MixedOpOptions o_;
};
TORCH_MODULE(MixedOp);

// GDAS' sample for every row of alpha [edges, ops] at temperature tau (Dong & Yang 2019, eq. 3-5):
// Gumbel-softmax probabilities, their argmax per row, and the straight-through hard weights
// one_hot - probs.detach() + probs. Draws from torch's generator (seeded by torch::manual_seed).
struct GumbelSample {
  torch::Tensor hard;          // [edges, ops]
  std::vector<int64_t> index;  // argmax per edge
};
GumbelSample gumbel_hard_sample(const torch::Tensor& alpha, double tau);

}  // namespace nascent::space
