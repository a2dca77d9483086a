#include "nascent/strategy/mlp_ensemble.h"

#include <torch/torch.h>

#include <cmath>

#include "nascent/core/error.h"

namespace nascent::strategy {
namespace {

// [rows, cols] float tensor of equal-length rows.
torch::Tensor to_tensor(const std::vector<std::vector<float>>& x) {
  NASCENT_CHECK(!x.empty(), "MlpEnsemble: no rows");
  const int64_t cols = static_cast<int64_t>(x[0].size());
  std::vector<float> flat;
  flat.reserve(x.size() * x[0].size());
  for (const auto& row : x) {
    NASCENT_CHECK(static_cast<int64_t>(row.size()) == cols, "MlpEnsemble: rows of different lengths");
    flat.insert(flat.end(), row.begin(), row.end());
  }
  return torch::from_blob(flat.data(), {static_cast<int64_t>(x.size()), cols}, torch::kFloat32).clone();
}

torch::Tensor uniform(Rng& rng, std::vector<int64_t> shape, double bound) {
  int64_t n = 1;
  for (auto s : shape) n *= s;
  std::vector<float> v(static_cast<size_t>(n));
  for (auto& x : v) x = static_cast<float>((2 * rng.uniform() - 1) * bound);
  return torch::from_blob(v.data(), shape, torch::kFloat32).clone();
}

}  // namespace

struct MlpEnsemble::Net {
  std::vector<torch::Tensor> weights;  // layer l: [members, in, out]
  std::vector<torch::Tensor> biases;   // layer l: [members, 1, out]
  double y_mean = 0, y_std = 1;

  // [rows, in] -> [members, rows]
  torch::Tensor forward(const torch::Tensor& x) const {
    torch::Tensor h = x.unsqueeze(0).expand({weights[0].size(0), x.size(0), x.size(1)});
    for (size_t l = 0; l < weights.size(); ++l) {
      h = torch::baddbmm(biases[l], h, weights[l]);
      if (l + 1 < weights.size()) h = torch::relu(h);
    }
    return h.squeeze(2);
  }
};

MlpEnsemble::MlpEnsemble(MlpEnsembleOptions options) : options_(options) {
  NASCENT_CHECK(options_.members >= 1 && options_.layers >= 1 && options_.width >= 1 && options_.steps >= 1,
                "MlpEnsemble: members, layers, width and steps must be positive");
}
MlpEnsemble::~MlpEnsemble() = default;
MlpEnsemble::MlpEnsemble(MlpEnsemble&&) noexcept = default;
MlpEnsemble& MlpEnsemble::operator=(MlpEnsemble&&) noexcept = default;

bool MlpEnsemble::fitted() const { return net_ != nullptr; }

void MlpEnsemble::fit(const std::vector<std::vector<float>>& x, const std::vector<double>& y, Rng& rng) {
  NASCENT_CHECK(x.size() == y.size() && !y.empty(), "MlpEnsemble: x and y must be non-empty and the same length");
  auto net = std::make_unique<Net>();
  double mean = 0, var = 0;
  for (double v : y) mean += v;
  mean /= static_cast<double>(y.size());
  for (double v : y) var += (v - mean) * (v - mean);
  net->y_mean = mean;
  net->y_std = std::sqrt(var / static_cast<double>(y.size()));
  if (!(net->y_std > 0)) net->y_std = 1;
  std::vector<float> ys;
  for (double v : y) ys.push_back(static_cast<float>((v - mean) / net->y_std));
  const torch::Tensor target = torch::from_blob(ys.data(), {1, static_cast<int64_t>(ys.size())}, torch::kFloat32)
                                   .clone()
                                   .expand({options_.members, static_cast<int64_t>(ys.size())});
  const torch::Tensor input = to_tensor(x);

  // PyTorch's default Linear initialisation bound, 1/sqrt(fan_in), drawn from our own Rng.
  int64_t in = input.size(1);
  for (int64_t l = 0; l <= options_.layers; ++l) {
    const int64_t out = l < options_.layers ? options_.width : 1;
    const double bound = 1.0 / std::sqrt(static_cast<double>(in));
    net->weights.push_back(uniform(rng, {options_.members, in, out}, bound).requires_grad_());
    net->biases.push_back(uniform(rng, {options_.members, 1, out}, bound).requires_grad_());
    in = out;
  }
  std::vector<torch::Tensor> params = net->weights;
  params.insert(params.end(), net->biases.begin(), net->biases.end());
  // Summing the members' losses trains each independently: Adam's update is per element.
  torch::optim::Adam adam(params, torch::optim::AdamOptions(options_.lr));
  for (int64_t step = 0; step < options_.steps; ++step) {
    adam.zero_grad();
    const torch::Tensor loss = (net->forward(input) - target).abs().mean(1).sum();
    loss.backward();
    adam.step();
  }
  for (auto& p : params) p.requires_grad_(false);
  net_ = std::move(net);
}

MlpEnsemble::Prediction MlpEnsemble::predict(const std::vector<std::vector<float>>& x) const {
  NASCENT_CHECK(net_, "MlpEnsemble: predict before fit");
  torch::NoGradGuard no_grad;
  const torch::Tensor p = net_->forward(to_tensor(x)).to(torch::kFloat64);  // [members, rows]
  const torch::Tensor mean = p.mean(0).contiguous();
  const torch::Tensor std = p.std(0, /*unbiased=*/false).contiguous();
  Prediction out;
  const double* m = mean.data_ptr<double>();
  const double* s = std.data_ptr<double>();
  for (int64_t i = 0; i < mean.size(0); ++i) {
    out.mean.push_back(net_->y_mean + net_->y_std * m[i]);
    out.std.push_back(net_->y_std * s[i]);
  }
  return out;
}

}  // namespace nascent::strategy
