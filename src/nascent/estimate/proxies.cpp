#include "nascent/estimate/proxies.h"

#include <algorithm>
#include <cmath>

#include "nascent/core/error.h"
#include "nascent/core/rng.h"
#include "nascent/data/dataset.h"
#include "nascent/estimate/profile.h"
#include "nascent/estimate/trainer.h"
#include "nascent/space/network.h"
#include "nascent/space/ops.h"

namespace nascent::estimate {
namespace {

// The weights of conv and linear layers (the parameters the reference code scores): every
// parameter with two or more dimensions. BatchNorm scales and biases are left out.
std::vector<torch::Tensor> layer_weights(space::Network& net) {
  std::vector<torch::Tensor> w;
  for (const auto& p : net.parameters())
    if (p.requires_grad() && p.dim() >= 2) w.push_back(p);
  return w;
}

// Cross-entropy of the network on a batch: [B, classes] or [B, T, vocab] logits.
torch::Tensor batch_loss(space::Network& net, const torch::Tensor& x, const torch::Tensor& y) {
  torch::Tensor logits = net.forward(x);
  if (logits.dim() == 3) logits = logits.reshape({-1, logits.size(2)});
  return torch::nn::functional::cross_entropy(logits, y.reshape({-1}));
}

void zero_grads(space::Network& net) {
  for (auto& p : net.parameters())
    if (p.grad().defined()) p.grad().zero_();
}

}  // namespace

const std::vector<std::string>& proxy_names() {
  static const std::vector<std::string> names = {"synflow",   "jacob_cov", "naswot", "snip",
                                                 "grad_norm", "fisher",    "params", "flops"};
  return names;
}

bool is_proxy(const std::string& name) {
  const auto& n = proxy_names();
  return std::find(n.begin(), n.end(), name) != n.end();
}

ProxyBatch proxy_batch(const data::TaskData& data, int64_t batch_size, int resolution, uint64_t seed) {
  NASCENT_CHECK(data.train.size() > 0, "proxy batch from an empty training split");
  const auto n = static_cast<size_t>(data.train.size());
  Rng rng(seed);
  std::vector<int64_t> idx;
  for (size_t i : rng.choose(n, std::min(n, static_cast<size_t>(std::max<int64_t>(1, batch_size)))))
    idx.push_back(static_cast<int64_t>(i));
  const torch::Tensor sel = torch::tensor(idx, torch::kInt64);
  ProxyBatch b;
  b.x = resize_images(data::normalize(data.train.x.index_select(0, sel), data), resolution);
  b.y = data.train.y.index_select(0, sel);
  b.task = data.task;
  b.resolution = resolution;
  return b;
}

// SynFlow (Tanaka et al. 2020, eq. 2; Abdelfattah et al. 2021 sec. 3): with every weight replaced
// by its absolute value and an all-ones input, R = sum of the outputs, and the score is
// sum over layer weights of |theta * dR/dtheta|. BatchNorm is taken out as in the reference code
// (there by building the network without BN): a fresh BN in eval mode divides by sqrt(1 + eps)
// with |gamma| = 1 and beta = 0. Double precision keeps deep products from overflowing.
double synflow(space::Network& net, const Task& task, int resolution) {
  net.eval();
  net.to(torch::kDouble);
  {
    torch::NoGradGuard no_grad;
    for (auto& p : net.parameters()) p.abs_();
    for (auto& b : net.buffers())
      if (b.is_floating_point()) b.abs_();
  }
  zero_grads(net);
  std::vector<int64_t> shape = input_shape(task, resolution);
  shape.insert(shape.begin(), 1);
  const torch::Tensor x = task.kind == "text" ? torch::ones(shape, torch::kInt64) : torch::ones(shape, torch::kDouble);
  net.forward(x).sum().backward();
  double score = 0;
  for (const auto& w : layer_weights(net))
    if (w.grad().defined()) score += (w * w.grad()).abs().sum().item<double>();
  return score;
}

// Layer weights after one backward pass of the batch loss, in training mode (BatchNorm uses the
// batch statistics, as in the reference code).
std::vector<torch::Tensor> weights_after_backward(space::Network& net, const torch::Tensor& x, const torch::Tensor& y) {
  net.train();
  zero_grads(net);
  batch_loss(net, x, y).backward();
  std::vector<torch::Tensor> w;
  for (const auto& p : layer_weights(net))
    if (p.grad().defined()) w.push_back(p);
  return w;
}

// grad_norm (Abdelfattah et al. 2021, sec. 3): the sum over layers of the Euclidean norm of the
// loss gradient of the layer's weights, on one mini-batch.
double grad_norm(space::Network& net, const torch::Tensor& x, const torch::Tensor& y) {
  double score = 0;
  for (const auto& w : weights_after_backward(net, x, y)) score += w.grad().norm().item<double>();
  return score;
}

// SNIP (Lee et al. 2019, eq. 6 without normalisation, as the zero-cost paper sums it): the
// connection sensitivity |dL/dc| of a mask c = 1 on every weight, which is |theta * dL/dtheta|.
double snip(space::Network& net, const torch::Tensor& x, const torch::Tensor& y) {
  double score = 0;
  for (const auto& w : weights_after_backward(net, x, y)) score += (w * w.grad()).abs().sum().item<double>();
  return score;
}

// Fisher (Theis et al. 2018, eq. 5; Turner et al. 2020): per output channel k of each conv or
// linear layer, 0.5 * mean over examples n of (sum over positions of a * dL/da)^2, where a is the
// layer's output; the score sums over channels and layers.
double fisher(space::Network& net, const torch::Tensor& x, const torch::Tensor& y) {
  net.train();
  zero_grads(net);
  std::vector<torch::Tensor> outputs;
  space::OpCounter counter;
  counter.layer_outputs = &outputs;
  torch::Tensor loss;
  {
    space::CountScope scope(&counter);
    loss = batch_loss(net, x, y);
  }
  for (auto& a : outputs)
    if (a.requires_grad()) a.retain_grad();
  loss.backward();
  double score = 0;
  for (const auto& a : outputs) {
    if (!a.requires_grad() || !a.grad().defined()) continue;
    torch::Tensor g = a.detach() * a.grad();  // [B, K, ...]
    if (g.dim() > 2) {
      std::vector<int64_t> dims;
      for (int64_t d = 2; d < g.dim(); ++d) dims.push_back(d);
      g = g.sum(dims);  // -> [B, K]
    }
    score += (0.5 * g.pow(2).mean(0)).sum().item<double>();
  }
  return score;
}

double jacob_cov_score(const torch::Tensor& jacobian) {
  const torch::Tensor j = jacobian.reshape({jacobian.size(0), -1}).to(torch::kDouble);
  const torch::Tensor centred = j - j.mean(1, true);
  const torch::Tensor norm = centred.norm(2, 1, true);  // [B, 1]
  const torch::Tensor constant = norm.squeeze(1) == 0;
  torch::Tensor corr = torch::matmul(centred / norm.clamp_min(1e-300), (centred / norm.clamp_min(1e-300)).t());
  // A row with no variance has no defined correlation (NaN in numpy's corrcoef); it carries no
  // information about the input, so it counts as fully correlated with every row, which gives
  // it the lowest score rather than none.
  if (constant.any().item<bool>()) {
    const torch::Tensor mask = constant.unsqueeze(0) | constant.unsqueeze(1);
    corr = torch::where(mask, torch::ones_like(corr), corr);
  }
  const torch::Tensor v = torch::linalg::eigvalsh(corr, "L");
  const double k = 1e-5;
  return -(torch::log(v + k) + 1.0 / (v + k)).sum().item<double>();
}

// jacob_cov (Abdelfattah et al. 2021 sec. 3, after Mellor et al. 2021 v1): the Jacobians of the
// summed outputs with respect to each input of the batch should be uncorrelated for a network
// that tells examples apart; see jacob_cov_score.
double jacob_cov(space::Network& net, const torch::Tensor& x) {
  if (!x.is_floating_point()) throw TrialFailure("jacob_cov needs continuous inputs (it differentiates by the input)");
  net.train();
  zero_grads(net);
  torch::Tensor in = x.detach().clone().requires_grad_(true);
  torch::Tensor out = net.forward(in);
  out.backward(torch::ones_like(out));
  return jacob_cov_score(in.grad().detach());
}

double naswot_score(const torch::Tensor& codes) {
  const torch::Tensor c = codes.reshape({codes.size(0), -1}).to(torch::kDouble);
  const torch::Tensor k = torch::matmul(c, c.t()) + torch::matmul(1 - c, (1 - c).t());
  return std::get<1>(torch::linalg::slogdet(k)).item<double>();
}

// naswot (Mellor, Turner, Storkey, Crowley, "Neural Architecture Search without Training", ICML
// 2021, sec. 3): every ReLU's input gives each example a binary code (which units are active);
// networks whose codes tell the examples of a batch apart score high. Forward only, in training
// mode (BatchNorm on the batch's statistics), as the reference code scores a fresh network.
double naswot(space::Network& net, const torch::Tensor& x) {
  net.train();
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> inputs;
  space::OpCounter counter;
  counter.relu_inputs = &inputs;
  {
    space::CountScope scope(&counter);
    net.forward(x);
  }
  if (inputs.empty()) throw TrialFailure("naswot needs ReLU units and this network has none");
  std::vector<torch::Tensor> codes;
  for (const auto& a : inputs) codes.push_back((a > 0).reshape({a.size(0), -1}));
  const double score = naswot_score(torch::cat(codes, 1));
  if (!std::isfinite(score))
    throw TrialFailure("naswot: examples of the batch share one activation code (the network ignores its input)");
  return score;
}

double compute_proxy(const std::string& name, space::Network& net, const ProxyBatch& b) {
  if (name == "synflow") return synflow(net, b.task, b.resolution);
  if (name == "jacob_cov") return jacob_cov(net, b.x);
  if (name == "naswot") return naswot(net, b.x);
  if (name == "snip") return snip(net, b.x, b.y);
  if (name == "grad_norm") return grad_norm(net, b.x, b.y);
  if (name == "fisher") return fisher(net, b.x, b.y);
  if (name == "params") return static_cast<double>(net.num_parameters());
  if (name == "flops") return profile_network(net, b.task, b.resolution).flops;
  throw InternalError("unknown proxy '" + name + "'");
}

}  // namespace nascent::estimate
