// The operations of the cell spaces (NAS-Bench-201, DARTS), as in their reference code:
// ReLU-Conv-BN, DARTS' separable and dilated convolutions, factorized reduce, pooling, identity
// and zero. Built from counted convolutions, so one profiled forward pass counts their FLOPs.
#pragma once

#include <torch/torch.h>

#include <memory>
#include <string>

namespace nascent::space {

// One operation on an edge of a cell: [B, c_in, H, W] -> [B, c_out, H/stride, W/stride].
class CellOpImpl : public torch::nn::Module {
 public:
  virtual torch::Tensor forward(const torch::Tensor& x) = 0;
  // DARTS drops paths through every op except identities.
  virtual bool is_identity() const { return false; }
};
using CellOp = std::shared_ptr<CellOpImpl>;

struct CellOpOptions {
  int64_t c_in = 0, c_out = 0;  // input and output channels
  int64_t stride = 1;           // 2 on the input edges of a reduction cell
  bool affine = true;           // BN with learnable scale and shift (false in search networks, as DARTS)
  bool pool_bn = false;         // pooling followed by a BN without affine (DARTS' search MixedOp)
};

// Operations by name: none, skip_connect, nor_conv_1x1, nor_conv_3x3, avg_pool_3x3,
// max_pool_3x3, sep_conv_3x3, sep_conv_5x5, dil_conv_3x3, dil_conv_5x5.
CellOp make_cell_op(const std::string& name, const CellOpOptions& o);
bool is_cell_op(const std::string& name);

// ReLU -> Conv(k, stride, same padding, dilation) -> BN: NAS-Bench-201's nor_conv_kxk and the
// 1x1 preprocessing of DARTS cells.
class ReluConvBnImpl : public CellOpImpl {
 public:
  ReluConvBnImpl(int64_t c_in, int64_t c_out, int64_t kernel, int64_t stride, bool affine);
  torch::Tensor forward(const torch::Tensor& x) override;

 private:
  torch::nn::Sequential body_{nullptr};
};

// ReLU, then two 1x1 convs with stride 2 on the input and on it shifted by one pixel, concatenated
// (DARTS' FactorizedReduce; halves the resolution without losing every other pixel). The shifted
// branch pads one row/column of zeros (as NAS-Bench-201's version), so odd sizes work too; for
// even sizes this equals DARTS' version. Stride 1 is a plain 1x1 conv + BN.
class FactorizedReduceImpl : public CellOpImpl {
 public:
  FactorizedReduceImpl(int64_t c_in, int64_t c_out, int64_t stride, bool affine);
  torch::Tensor forward(const torch::Tensor& x) override;

 private:
  int64_t stride_;
  torch::nn::ModuleList convs_{nullptr};
  torch::nn::BatchNorm2d bn_{nullptr};
};

// Drop path (Larsson et al. 2017, FractalNet; as DARTS' final training): zeroes the whole tensor
// of each example with probability p and scales the rest by 1/(1-p). Training only.
torch::Tensor drop_path(const torch::Tensor& x, double p);
// ShuffleNet's channel shuffle, used by PC-DARTS to mix the bypassed and processed channels.
torch::Tensor shuffle_channels(const torch::Tensor& x, int64_t groups);

}  // namespace nascent::space
