// One-shot supernets: a network in which every decision of a space is a mixture of all its
// options, for gradient-based and weight-sharing NAS (DARTS, GDAS, SPOS). Architecture weights
// (alphas) are kept apart from network weights, so the two can be optimised separately
// (DARTS' bilevel problem).
#pragma once

#include <torch/torch.h>

#include <string>
#include <utility>
#include <vector>

#include "nascent/core/arch.h"
#include "nascent/core/error.h"
#include "nascent/core/rng.h"

namespace nascent::space {

enum class MixMode {
  kSoftmax,     // DARTS: each mixed edge outputs the softmax(alpha)-weighted sum of its options
  kGumbelHard,  // GDAS: one option per edge from a Gumbel-softmax sample at temperature tau; the
                // forward pass runs only that option, gradients reach alpha through the
                // straight-through estimator (hard one-hot minus soft, plus soft)
  kPath,        // SPOS and evaluation with inherited weights: only the options of set_path()
};

struct SupernetOptions {
  int64_t partial_channels = 1;     // PC-DARTS: mixed ops see 1/K of the channels (1 = off)
  bool edge_normalization = false;  // PC-DARTS: a softmax weight per incoming edge of each node
                                    // (extra architecture parameters; cell spaces only)
  bool auxiliary_skip = false;      // DARTS-: every mixed edge adds beta x skip(input), beta from
                                    // set_auxiliary_skip() (cell spaces only)
};

class Supernet : public torch::nn::Module {
 public:
  virtual torch::Tensor forward(torch::Tensor x) = 0;

  // Architecture parameters: one tensor per mixed group (e.g. [edges, ops] per cell type, then
  // the edge weights of edge normalisation). They are registered as parameters but are never
  // in weights().
  virtual std::vector<torch::Tensor> alphas() = 0;
  // Network parameters: every parameter that is not an alpha.
  virtual std::vector<torch::Tensor> weights() = 0;

  void set_mode(MixMode mode) { mode_ = mode; }
  MixMode mode() const { return mode_; }
  void set_tau(double tau) { tau_ = tau; }  // Gumbel-softmax temperature
  double tau() const { return tau_; }
  // Where kGumbelHard draws its Gumbel noise: our own generator, so that a search is reproducible
  // and its checkpoint can store the generator's state.
  Rng& noise_rng() { return noise_rng_; }
  // DARTS- (Chu et al. 2021): weight of the auxiliary skip on every mixed edge, typically decayed
  // from 1 to 0 during the search. Needs SupernetOptions::auxiliary_skip.
  void set_auxiliary_skip(double beta) {
    NASCENT_CHECK(has_aux_skip_ || beta == 0, "supernet built without auxiliary_skip");
    aux_beta_ = beta;
  }
  double auxiliary_skip() const { return aux_beta_; }
  // The architecture whose options kPath runs (must belong to this supernet's space).
  virtual void set_path(const Arch& arch) = 0;

  // The discrete architecture the alphas select, by the space's derivation rule (argmax per
  // edge for nb201; top-2 incoming edges per node, strongest non-`none` op each, for darts).
  virtual Arch derive() const = 0;
  // softmax(alpha) per mixed edge, labelled, for logs and reports.
  virtual std::vector<std::pair<std::string, std::vector<double>>> alpha_table() const = 0;

 protected:
  MixMode mode_ = MixMode::kSoftmax;
  double tau_ = 10.0;
  double aux_beta_ = 0.0;
  bool has_aux_skip_ = false;  // set by supernets built with auxiliary_skip
  Rng noise_rng_{0};
};

}  // namespace nascent::space
