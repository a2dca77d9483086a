#include "nascent/space/darts_network.h"

#include <fmt/format.h>

#include <set>

namespace nascent::space::darts {

std::vector<CellLayout> layout(int64_t C, int64_t layers) {
  std::vector<CellLayout> out;
  int64_t c_pp = kStemMultiplier * C, c_p = kStemMultiplier * C, c = C;
  bool reduction_prev = false;
  for (int64_t i = 0; i < layers; ++i) {
    const bool reduction = i == layers / 3 || i == 2 * layers / 3;
    if (reduction) c *= 2;
    out.push_back({c_pp, c_p, c, reduction, reduction_prev});
    reduction_prev = reduction;
    c_pp = c_p;
    c_p = kSteps * c;  // the concatenation of the 4 intermediate nodes
  }
  return out;
}

ConvBn make_stem(int64_t in_channels, int64_t C) {
  return ConvBn(ConvBnOptions{in_channels, kStemMultiplier * C, 3, 1, 1, 1, true, "none"});
}

CellOp make_preprocess0(const CellLayout& l, bool affine) {
  if (l.reduction_prev) return std::make_shared<FactorizedReduceImpl>(l.c_prev_prev, l.c, 2, affine);
  return std::make_shared<ReluConvBnImpl>(l.c_prev_prev, l.c, 1, 1, affine);
}

CellOp make_preprocess1(const CellLayout& l, bool affine) {
  return std::make_shared<ReluConvBnImpl>(l.c_prev, l.c, 1, 1, affine);
}

FixedCellImpl::FixedCellImpl(const std::vector<Gene>& genes, const CellLayout& l) : genes_(genes) {
  pre0_ = register_module("preprocess0", make_preprocess0(l, true));
  pre1_ = register_module("preprocess1", make_preprocess1(l, true));
  std::set<std::string> names;
  for (size_t g = 0; g < genes.size(); ++g) {
    const int node = static_cast<int>(g) / 2 + 2, input = genes[g].input;
    const int64_t stride = l.reduction && input < 2 ? 2 : 1;
    // Named by the search cell's edge it sits on, so supernet and network parameters line up.
    std::string name = fmt::format("edge{}", edge_index(node, input));
    if (!names.insert(name).second) name += "_twice";
    ops_.push_back(register_module(name, make_cell_op(op_names()[genes[g].op], CellOpOptions{l.c, l.c, stride})));
  }
}

torch::Tensor FixedCellImpl::forward(const torch::Tensor& s0, const torch::Tensor& s1, double drop_prob) {
  std::vector<torch::Tensor> states{pre0_->forward(s0), pre1_->forward(s1)};
  for (int k = 0; k < kSteps; ++k) {
    torch::Tensor sum;
    for (int j = 0; j < 2; ++j) {
      const size_t g = static_cast<size_t>(2 * k + j);
      torch::Tensor h = ops_[g]->forward(states[static_cast<size_t>(genes_[g].input)]);
      if (is_training() && drop_prob > 0 && !ops_[g]->is_identity()) h = drop_path(h, drop_prob);
      sum = sum.defined() ? sum + h : h;
    }
    states.push_back(sum);
  }
  // [B, C, H, W] x 4 -> [B, 4C, H, W]
  torch::Tensor out = torch::cat({states[2], states[3], states[4], states[5]}, 1);
  count_activation(out);
  return out;
}

AuxiliaryHeadImpl::AuxiliaryHeadImpl(int64_t channels, int64_t classes) {
  auto conv = [](int64_t in, int64_t out, int64_t k) {
    return CountedConv2d(torch::nn::Conv2dOptions(in, out, k).bias(false));
  };
  features_ =
      register_module("features", torch::nn::Sequential(conv(channels, 128, 1), torch::nn::BatchNorm2d(128), Relu(),
                                                        conv(128, 768, 2), torch::nn::BatchNorm2d(768), Relu()));
  classifier_ = register_module("classifier", CountedLinear(768, classes));
}

torch::Tensor AuxiliaryHeadImpl::forward(const torch::Tensor& input) {
  namespace F = torch::nn::functional;
  torch::Tensor x = space::relu(input);
  const int64_t side = x.size(2);
  // [B, C, 8..10, 8..10] -> [B, C, 2, 2] as the reference; other sizes adaptively.
  x = side >= 8 && side <= 10 && x.size(3) == side
          ? F::avg_pool2d(x, F::AvgPool2dFuncOptions(5).stride(3).padding(0).count_include_pad(false))
          : F::adaptive_avg_pool2d(x, F::AdaptiveAvgPool2dFuncOptions({2, 2}));
  // [B, C, 2, 2] -> [B, 768, 1, 1] -> [B, 768]
  return classifier_(features_->forward(x).flatten(1));
}

DartsNetworkImpl::DartsNetworkImpl(const Genotype& genotype, const DartsOptions& o, int64_t in_channels,
                                   int64_t classes)
    : options_(o) {
  stem_ = register_module("stem", make_stem(in_channels, o.C));
  const auto cells = layout(o.C, o.layers);
  int64_t c_last = 0, c_aux = 0;
  for (size_t i = 0; i < cells.size(); ++i) {
    const CellLayout& l = cells[i];
    cells_.push_back(
        register_module(fmt::format("cell{}", i), FixedCell(l.reduction ? genotype.reduce : genotype.normal, l)));
    c_last = kSteps * l.c;
    if (static_cast<int64_t>(i) == auxiliary_index(o.layers)) c_aux = c_last;
  }
  if (o.auxiliary) auxiliary_ = register_module("auxiliary", AuxiliaryHead(c_aux, classes));
  classifier_ = register_module("classifier", CountedLinear(c_last, classes));
}

torch::Tensor DartsNetworkImpl::forward(torch::Tensor x) {
  torch::Tensor s0 = stem_(x), s1 = s0;
  const double p = is_training() ? drop_prob_ : 0.0;
  aux_logits_ = torch::Tensor();
  for (size_t i = 0; i < cells_.size(); ++i) {
    torch::Tensor s = cells_[i]->forward(s0, s1, p);
    s0 = s1;
    s1 = s;
    if (auxiliary_ && is_training() && static_cast<int64_t>(i) == auxiliary_index(options_.layers))
      aux_logits_ = auxiliary_->forward(s1);
  }
  // [B, C, H, W] -> [B, C]
  return classifier_(s1.mean({2, 3}));
}

std::vector<AuxiliaryOutput> DartsNetworkImpl::take_auxiliary_outputs() {
  std::vector<AuxiliaryOutput> out;
  if (aux_logits_.defined()) out.push_back({aux_logits_, options_.auxiliary_weight});
  aux_logits_ = torch::Tensor();
  return out;
}

int64_t DartsNetworkImpl::num_parameters() const {
  // As the paper counts: the auxiliary head is for training only.
  return count_parameters(*this) - (auxiliary_ ? count_parameters(*auxiliary_) : 0);
}

}  // namespace nascent::space::darts
