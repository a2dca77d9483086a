#include "nascent/space/mixed_op.h"

#include <fmt/format.h>

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

torch::Tensor MixedOpImpl::forward_weighted(const torch::Tensor& x, const torch::Tensor& w) {
  return partial(x, [&](const torch::Tensor& in) {
    torch::Tensor sum;
    for (size_t k = 0; k < ops_.size(); ++k) {
      torch::Tensor y = ops_[k]->forward(in) * w[static_cast<int64_t>(k)];
      sum = sum.defined() ? sum + y : y;
    }
    return sum;
  });
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

GumbelSample gumbel_hard_sample(const torch::Tensor& alpha, double tau) {
  GumbelSample s;
  for (int attempt = 0; attempt < 100; ++attempt) {
    torch::Tensor gumbels = -torch::empty_like(alpha).exponential_().log();
    torch::Tensor probs = torch::softmax((torch::log_softmax(alpha, 1) + gumbels) / tau, 1);
    // An exponential draw of exactly 0 gives an infinite Gumbel; draw again (as the reference).
    if (torch::isinf(gumbels).any().item<bool>() || !torch::isfinite(probs).all().item<bool>()) continue;
    torch::Tensor index = std::get<1>(probs.max(1, /*keepdim=*/true));
    torch::Tensor one_hot = torch::zeros_like(probs).scatter_(1, index, 1.0);
    s.hard = one_hot - probs.detach() + probs;
    s.index.clear();
    auto acc = index.accessor<int64_t, 2>();
    for (int64_t e = 0; e < index.size(0); ++e) s.index.push_back(acc[e][0]);
    return s;
  }
  throw InternalError("Gumbel sampling kept producing non-finite values");
}

}  // namespace nascent::space
