// The per-forward weights of one mixed decision of a supernet (a row of architecture
// parameters) under each MixMode, and the mixed output of its options. Shared by the supernets
// so that softmax mixing (DARTS), hard Gumbel sampling (GDAS) and single paths (SPOS) behave
// the same in every space.
#pragma once

#include <torch/torch.h>

#include <functional>

#include "nascent/space/supernet.h"

namespace nascent::space {

struct MixWeights {
  torch::Tensor w;      // [n] option weights; their value is one-hot for kGumbelHard and kPath
  int64_t chosen = -1;  // the one option to run (kGumbelHard, kPath), or -1 to run all (kSoftmax)
};

// kSoftmax: softmax(alpha). kGumbelHard: a Gumbel-softmax sample at temperature tau made hard
// with the straight-through estimator (Dong & Yang 2019, GDAS eq. 5-6: one_hot - soft.detach()
// + soft), its noise drawn from `rng`. kPath: the constant one-hot of path_choice (no gradient
// to alpha).
MixWeights mix_weights(const torch::Tensor& alpha, MixMode mode, double tau, int64_t path_choice, Rng& rng);

// kSoftmax: sum_i w_i * f(i). Otherwise only the chosen option runs: w_c * f(c) + sum_{i != c} w_i,
// whose value is f(c) and whose gradient still reaches every alpha through the soft weights
// (as in GDAS's reference implementation).
torch::Tensor mix(const MixWeights& m, const std::function<torch::Tensor(int64_t)>& f);

}  // namespace nascent::space
