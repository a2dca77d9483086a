// The DARTS evaluation network (the reference's NetworkCIFAR): stem (3x3 conv to 3C, BN), `layers`
// cells with reduction cells at 1/3 and 2/3 of the depth, global average pooling, a linear
// classifier; optional auxiliary head after the 2/3-depth cell and drop path, both for training.
// The layout helpers are shared with the darts supernet so both name their parameters alike.
#pragma once

#include <torch/torch.h>

#include <vector>

#include "nascent/space/cell_ops.h"
#include "nascent/space/darts.h"
#include "nascent/space/darts_genotype.h"
#include "nascent/space/network.h"
#include "nascent/space/ops.h"

namespace nascent::space::darts {

// Channels and kinds of one cell position.
struct CellLayout {
  int64_t c_prev_prev, c_prev, c;  // the two inputs' channels and this cell's node channels
  bool reduction, reduction_prev;
};
constexpr int64_t kStemMultiplier = 3;
std::vector<CellLayout> layout(int64_t C, int64_t layers);
// Index of the cell after which the auxiliary head sits.
inline int64_t auxiliary_index(int64_t layers) { return 2 * layers / 3; }

ConvBn make_stem(int64_t in_channels, int64_t C);
// The cell's input preprocessing: factorized reduce after a reduction cell, else ReLU-Conv-BN 1x1.
CellOp make_preprocess0(const CellLayout& l, bool affine);
CellOp make_preprocess1(const CellLayout& l, bool affine);

// One cell of a fixed genotype.
class FixedCellImpl : public torch::nn::Module {
 public:
  FixedCellImpl(const std::vector<Gene>& genes, const CellLayout& l);
  // drop_prob > 0 (training only) drops the output of every non-identity op per example.
  torch::Tensor forward(const torch::Tensor& s0, const torch::Tensor& s1, double drop_prob);

 private:
  std::vector<Gene> genes_;
  CellOp pre0_, pre1_;
  std::vector<CellOp> ops_;
};
TORCH_MODULE(FixedCell);

// The reference's AuxiliaryHeadCIFAR: ReLU, 5x5 average pool with stride 3 (8x8 -> 2x2), 1x1 conv
// to 128, BN, ReLU, 2x2 conv to 768, BN, ReLU, linear. Other input sizes than 8-10 pixels
// (Fashion-MNIST's 7x7) pool adaptively to 2x2 instead, which keeps the head's shape.
class AuxiliaryHeadImpl : public torch::nn::Module {
 public:
  AuxiliaryHeadImpl(int64_t channels, int64_t classes);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  torch::nn::Sequential features_{nullptr};
  CountedLinear classifier_{nullptr};
};
TORCH_MODULE(AuxiliaryHead);

class DartsNetworkImpl : public Network {
 public:
  DartsNetworkImpl(const Genotype& genotype, const DartsOptions& o, int64_t in_channels, int64_t classes);
  torch::Tensor forward(torch::Tensor x) override;
  // Drop-path probability = drop_path x fraction (the reference raises it linearly per epoch).
  void set_training_progress(double fraction) override { drop_prob_ = options_.drop_path * fraction; }
  std::vector<AuxiliaryOutput> take_auxiliary_outputs() override;
  int64_t num_parameters() const override;

 private:
  DartsOptions options_;
  double drop_prob_ = 0;
  ConvBn stem_{nullptr};
  std::vector<FixedCell> cells_;
  AuxiliaryHead auxiliary_{nullptr};
  torch::Tensor aux_logits_;
  CountedLinear classifier_{nullptr};
};

}  // namespace nascent::space::darts
