// Zero-cost proxies: training-free scores of a freshly initialised network from one mini-batch
// (Abdelfattah et al. 2021, "Zero-Cost Proxies for Lightweight NAS"; Mellor et al. 2021 for
// jacob_cov and naswot), plus params and flops. Larger is better for every proxy.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "nascent/core/task.h"

namespace nascent::space {
class Network;
}
namespace nascent::data {
struct TaskData;
}

namespace nascent::estimate {

// synflow, jacob_cov, naswot, snip, grad_norm, fisher, params, flops.
const std::vector<std::string>& proxy_names();
bool is_proxy(const std::string& name);

// The mini-batch every architecture is scored on, and how to shape inputs.
struct ProxyBatch {
  torch::Tensor x;     // normalised inputs at the resolution, [B, ...]
  torch::Tensor y;     // targets, int64 [B] (or [B, T] for language modelling)
  Task task;           // input shape and kind, for synflow's all-ones input and flops
  int resolution = 0;  // input side in pixels; 0 = the data's own
};

// batch_size training examples chosen by a generator seeded with `seed` (the same batch for
// every architecture when the seed is the same).
ProxyBatch proxy_batch(const data::TaskData& data, int64_t batch_size, int resolution, uint64_t seed);

// The named proxy of `net`, which must be freshly initialised. The proxy may change the network
// (synflow takes absolute weights and converts it to double), so build one network per proxy.
// Throws TrialFailure when the proxy is undefined for the network (jacob_cov on token inputs).
double compute_proxy(const std::string& name, space::Network& net, const ProxyBatch& batch);

// The individual proxies (see proxies.cpp for the definitions and equations).
double synflow(space::Network& net, const Task& task, int resolution);
double grad_norm(space::Network& net, const torch::Tensor& x, const torch::Tensor& y);
double snip(space::Network& net, const torch::Tensor& x, const torch::Tensor& y);
double fisher(space::Network& net, const torch::Tensor& x, const torch::Tensor& y);
double jacob_cov(space::Network& net, const torch::Tensor& x);
// The jacob_cov score of a [B, D] Jacobian: -sum_i (log(v_i + k) + 1 / (v_i + k)) over the
// eigenvalues v of its row correlation matrix, k = 1e-5.
double jacob_cov_score(const torch::Tensor& jacobian);
double naswot(space::Network& net, const torch::Tensor& x);
// The naswot score of a batch's binary activation codes [B, units]: log|det K| with
// K_ij = units where examples i and j agree (both active or both inactive), i.e. the number of
// units minus the Hamming distance of their codes.
double naswot_score(const torch::Tensor& codes);

}  // namespace nascent::estimate
