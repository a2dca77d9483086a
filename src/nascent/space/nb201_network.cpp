#include "nascent/space/nb201_network.h"

#include <fmt/format.h>

namespace nascent::space::nb201 {

std::vector<Layer> skeleton(int64_t C, int64_t N) {
  std::vector<Layer> out;
  for (int stage = 0; stage < 3; ++stage) {
    const int64_t c = C << stage;
    if (stage > 0) out.push_back({c, true});
    for (int64_t i = 0; i < N; ++i) out.push_back({c, false});
  }
  return out;
}

ResidualBlockImpl::ResidualBlockImpl(int64_t in, int64_t out, int64_t stride) : stride_(stride) {
  conv_a_ = register_module("conv_a", std::make_shared<ReluConvBnImpl>(in, out, 3, stride, true));
  conv_b_ = register_module("conv_b", std::make_shared<ReluConvBnImpl>(out, out, 3, 1, true));
  if (stride == 2)
    shortcut_ = register_module("downsample", CountedConv2d(torch::nn::Conv2dOptions(in, out, 1).bias(false)));
  else if (in != out)
    project_ = register_module("downsample", std::make_shared<ReluConvBnImpl>(in, out, 1, 1, true));
}

torch::Tensor ResidualBlockImpl::forward(const torch::Tensor& x) {
  torch::Tensor y = conv_b_->forward(conv_a_->forward(x));
  torch::Tensor r = x;
  if (stride_ == 2) {
    // ceil_mode: odd sizes pool to the conv path's size; even sizes are unaffected.
    r = shortcut_(
        torch::nn::functional::avg_pool2d(x, torch::nn::functional::AvgPool2dFuncOptions(2).stride(2).ceil_mode(true)));
  } else if (project_) {
    r = project_->forward(x);
  }
  torch::Tensor out = r + y;
  count_activation(out);
  return out;
}

FixedCellImpl::FixedCellImpl(const Cell& cell, int64_t channels) : cell_(cell) {
  for (int e = 0; e < kEdges; ++e) {
    CellOpOptions o{channels, channels, 1, /*affine=*/true, false};
    edges_.push_back(register_module(fmt::format("edge{}", e), make_cell_op(op_names()[cell[e]], o)));
  }
}

torch::Tensor FixedCellImpl::forward(const torch::Tensor& x) {
  std::array<torch::Tensor, kNodes> nodes{x};
  for (int node = 1; node < kNodes; ++node) {
    torch::Tensor sum;
    for (int e = 0; e < kEdges; ++e) {
      // A `none` edge adds zero; skipping it saves the work and changes nothing.
      if (kEdgeList[e].to != node || cell_[e] == kNone) continue;
      torch::Tensor y = edges_[e]->forward(nodes[kEdgeList[e].from]);
      sum = sum.defined() ? sum + y : y;
    }
    // All inputs `none`: zero, kept in the graph as the reference's x.mul(0).
    nodes[node] = sum.defined() ? sum : x.mul(0.);
  }
  return nodes[kNodes - 1];
}

ConvBn make_stem(int64_t in_channels, int64_t C) {
  return ConvBn(ConvBnOptions{in_channels, C, 3, 1, 1, 1, true, "none"});
}

torch::Tensor head(const torch::Tensor& x, torch::nn::BatchNorm2d& lastact, CountedLinear& classifier) {
  // [B, C, H, W] -> [B, C]
  return classifier(space::relu(lastact(x)).mean({2, 3}));
}

Nb201NetworkImpl::Nb201NetworkImpl(const Cell& cell, int64_t in_channels, int64_t C, int64_t N, int64_t classes) {
  stem_ = register_module("stem", make_stem(in_channels, C));
  int64_t prev = C;
  int i = 0;
  for (const Layer& l : skeleton(C, N)) {
    const std::string name = fmt::format("cell{}", i++);
    if (l.reduction)
      layers_.emplace_back(register_module(name, ResidualBlock(prev, l.channels, 2)));
    else
      layers_.emplace_back(register_module(name, FixedCell(cell, l.channels)));
    prev = l.channels;
  }
  lastact_ = register_module("lastact", torch::nn::BatchNorm2d(prev));
  classifier_ = register_module("classifier", CountedLinear(prev, classes));
}

torch::Tensor Nb201NetworkImpl::forward(torch::Tensor x) {
  x = stem_(x);
  for (auto& l : layers_) x = l.forward(x);
  return head(x, lastact_, classifier_);
}

}  // namespace nascent::space::nb201
