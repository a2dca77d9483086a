#include "nascent/space/mixed_op.h"

#include <fmt/format.h>

#include <cmath>

#include "nascent/core/error.h"

namespace nascent::space {

MixedOpImpl::MixedOpImpl(const std::vector<std::string>& ops, const MixedOpOptions& o) : o_(o) {
  NASCENT_CHECK(o.partial >= 1 && o.channels % o.partial == 0,
                fmt::format("partial channels {} must divide the edge's {} channels", o.partial, o.channels));
  const int64_t c = o.channels / o.partial;
  for (size_t k = 0; k < ops.size(); ++k) {
    CellOpOptions co{c, c, o.stride, /*affine=*/false, o.pool_bn};
    ops_.push_back(register_module(fmt::format("op{}", k), make_cell_op(ops[k], co)));
  }
  // On the whole input, beside the partial-channel mixture.
  if (o.auxiliary_skip)
    aux_ = register_module("aux_skip", make_cell_op("skip_connect", {o.channels, o.channels, o.stride, false, false}));
}

template <typename Fn>
torch::Tensor MixedOpImpl::partial(const torch::Tensor& x, Fn f) {
  if (o_.partial == 1) return f(x);
  const int64_t c = x.size(1) / o_.partial;
  torch::Tensor through = f(x.narrow(1, 0, c));
  torch::Tensor bypass = x.narrow(1, c, x.size(1) - c);
  if (through.size(2) != x.size(2))
    bypass = torch::nn::functional::max_pool2d(
        bypass, torch::nn::functional::MaxPool2dFuncOptions(2).stride(2).ceil_mode(true));
  return shuffle_channels(torch::cat({through, bypass}, 1), o_.partial);
}

torch::Tensor MixedOpImpl::forward_weighted(const torch::Tensor& x, const torch::Tensor& w, double aux_beta) {
  torch::Tensor out = partial(x, [&](const torch::Tensor& in) {
    torch::Tensor sum;
    for (size_t k = 0; k < ops_.size(); ++k) {
      torch::Tensor y = ops_[k]->forward(in) * w[static_cast<int64_t>(k)];
      sum = sum.defined() ? sum + y : y;
    }
    return sum;
  });
  if (aux_ && aux_beta != 0) out = out + aux_->forward(x) * aux_beta;
  return out;
}

torch::Tensor MixedOpImpl::forward_hard(const torch::Tensor& x, const torch::Tensor& w, int64_t index) {
  return partial(x, [&](const torch::Tensor& in) {
    // w_index * op(x) + sum_{k != index} w_k; the second term is zero in value.
    return ops_[static_cast<size_t>(index)]->forward(in) * w[index] + (w.sum() - w[index]);
  });
}

torch::Tensor MixedOpImpl::forward_one(const torch::Tensor& x, int64_t index) {
  return partial(x, [&](const torch::Tensor& in) { return ops_[static_cast<size_t>(index)]->forward(in); });
}

torch::Tensor gumbel_noise(const torch::Tensor& like, Rng& rng) {
  std::vector<double> g(static_cast<size_t>(like.numel()));
  for (double& v : g) {
    double u = rng.uniform();  // [0, 1): 0 would give an infinite draw, so it is drawn again
    while (u <= 0.0) u = rng.uniform();
    v = -std::log(-std::log(u));
  }
  return torch::from_blob(g.data(), like.sizes(), torch::kFloat64).to(like.dtype()).clone();
}

GumbelSample gumbel_hard_sample(const torch::Tensor& alpha, double tau, Rng& rng) {
  // [edges, ops]
  torch::Tensor probs = torch::softmax((torch::log_softmax(alpha, 1) + gumbel_noise(alpha, rng)) / tau, 1);
  NASCENT_CHECK(torch::isfinite(probs).all().item<bool>(), "Gumbel-softmax produced non-finite values");
  torch::Tensor index = std::get<1>(probs.max(1, /*keepdim=*/true));
  torch::Tensor one_hot = torch::zeros_like(probs).scatter_(1, index, 1.0);
  GumbelSample s;
  s.hard = one_hot - probs.detach() + probs;
  auto acc = index.accessor<int64_t, 2>();
  for (int64_t e = 0; e < index.size(0); ++e) s.index.push_back(acc[e][0]);
  return s;
}

torch::Tensor normalize_edges(const torch::Tensor& beta, const std::vector<int64_t>& inputs) {
  std::vector<torch::Tensor> parts;
  int64_t start = 0;
  for (int64_t n : inputs) {
    parts.push_back(torch::softmax(beta.narrow(0, start, n), 0));
    start += n;
  }
  NASCENT_CHECK(start == beta.size(0), "edge weights do not match the cell's edges");
  return torch::cat(parts);
}

}  // namespace nascent::space
