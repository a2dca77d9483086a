// The NAS-Bench-201 macro skeleton, shared by the standalone network and the supernet: stem
// (3x3 conv, BN), three stages of N cells at C, 2C, 4C channels joined by ResNet basic blocks
// with stride 2, then BN-ReLU, global average pooling and a linear classifier (the reference
// code's TinyNetwork).
#pragma once

#include <torch/torch.h>

#include <vector>

#include "nascent/space/cell_ops.h"
#include "nascent/space/nb201_cell.h"
#include "nascent/space/network.h"
#include "nascent/space/ops.h"

namespace nascent::space::nb201 {

// One position of the skeleton: a cell (reduction = false) or a residual reduction block.
struct Layer {
  int64_t channels;
  bool reduction;
};
// N cells at C, a block to 2C, N cells at 2C, a block to 4C, N cells at 4C.
std::vector<Layer> skeleton(int64_t C, int64_t N);

// ResNet basic block (He et al. 2016) as NAS-Bench-201 builds it: ReLU-Conv-BN 3x3 (stride),
// ReLU-Conv-BN 3x3, plus a shortcut of 2x2 average pooling and a 1x1 conv when it reduces.
class ResidualBlockImpl : public torch::nn::Module {
 public:
  ResidualBlockImpl(int64_t in, int64_t out, int64_t stride);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  std::shared_ptr<ReluConvBnImpl> conv_a_, conv_b_, project_;
  CountedConv2d shortcut_{nullptr};
  int64_t stride_;
};
TORCH_MODULE(ResidualBlock);

// One cell with a fixed operation per edge; node j = sum of its incoming edges.
class FixedCellImpl : public torch::nn::Module {
 public:
  FixedCellImpl(const Cell& cell, int64_t channels);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  Cell cell_;
  std::vector<CellOp> edges_;
};
TORCH_MODULE(FixedCell);

// The standalone network of one architecture.
class Nb201NetworkImpl : public Network {
 public:
  Nb201NetworkImpl(const Cell& cell, int64_t in_channels, int64_t C, int64_t N, int64_t classes);
  torch::Tensor forward(torch::Tensor x) override;

 private:
  ConvBn stem_{nullptr};
  std::vector<torch::nn::AnyModule> layers_;  // cells and residual blocks, "cell{i}" as the reference
  torch::nn::BatchNorm2d lastact_{nullptr};
  CountedLinear classifier_{nullptr};
};

// Stem and head, shared so that both networks name their parameters alike.
ConvBn make_stem(int64_t in_channels, int64_t C);
// [B, C, H, W] -> BN -> ReLU -> mean over H, W -> [B, C] -> classifier
torch::Tensor head(const torch::Tensor& x, torch::nn::BatchNorm2d& lastact, CountedLinear& classifier);

}  // namespace nascent::space::nb201
