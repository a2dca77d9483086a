// The mixed edge of a cell supernet: every candidate operation of one edge, combined by the
// supernet's mode (DARTS softmax mixture, GDAS hard sample, or one fixed option), with PC-DARTS'
// partial channel connections and DARTS-' auxiliary skip as options. Shared by the nb201 and
// darts supernets.
#pragma once

#include <torch/torch.h>

#include <string>
#include <utility>
#include <vector>

#include "nascent/core/rng.h"
#include "nascent/space/cell_ops.h"

namespace nascent::space {

struct MixedOpOptions {
  int64_t channels = 0;  // input and output channels
  int64_t stride = 1;
  int64_t partial = 1;          // PC-DARTS: only channels / partial channels go through the ops
  bool pool_bn = false;         // pooling ops followed by an affine-free BN (DARTS' search cell)
  bool auxiliary_skip = false;  // DARTS-: build the auxiliary skip (identity, or an affine-free
                                // factorized reduce on stride-2 edges, as the reference)
};

class MixedOpImpl : public torch::nn::Module {
 public:
  MixedOpImpl(const std::vector<std::string>& ops, const MixedOpOptions& o);

  // DARTS (Liu et al. 2019, eq. 2): sum_k w_k * op_k(x), w: [ops] softmax weights. With the
  // auxiliary skip, DARTS- (Chu et al. 2021, eq. 4) adds aux_beta * skip(x).
  torch::Tensor forward_weighted(const torch::Tensor& x, const torch::Tensor& w, double aux_beta = 0);
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
  CellOp aux_;
  MixedOpOptions o_;
};
TORCH_MODULE(MixedOp);

// Gumbel(0, 1) noise of the shape and dtype of `like`, as -log(-log(U)) with U uniform in (0, 1)
// drawn from `rng` (never torch's global generator), so a search is reproducible and resumable.
torch::Tensor gumbel_noise(const torch::Tensor& like, Rng& rng);

// GDAS' sample for every row of alpha [edges, ops] at temperature tau (Dong & Yang 2019, eq. 3-5):
// Gumbel-softmax probabilities, their argmax per row, and the straight-through hard weights
// one_hot - probs.detach() + probs.
struct GumbelSample {
  torch::Tensor hard;          // [edges, ops]
  std::vector<int64_t> index;  // argmax per edge
};
GumbelSample gumbel_hard_sample(const torch::Tensor& alpha, double tau, Rng& rng);

// PC-DARTS' edge normalisation (Xu et al. 2020, eq. 4): softmax of the edge weights `beta`
// ([edges], edges grouped by target node, `inputs[k]` edges into the k-th node), per node.
torch::Tensor normalize_edges(const torch::Tensor& beta, const std::vector<int64_t>& inputs);

}  // namespace nascent::space
