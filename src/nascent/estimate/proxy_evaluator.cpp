#include "nascent/estimate/proxy_evaluator.h"

#include <torch/torch.h>

#include <chrono>
#include <cmath>

#include "nascent/core/error.h"
#include "nascent/core/rng.h"
#include "nascent/data/dataset.h"
#include "nascent/estimate/profile.h"
#include "nascent/space/network.h"
#include "nascent/space/space.h"

namespace nascent::estimate {

ProxyEvaluator::ProxyEvaluator(const space::SearchSpace& space, const data::TaskData& data, ProxyOptions options,
                               Objective objective, LatencyOptions latency)
    : space_(space),
      data_(data),
      options_(std::move(options)),
      objective_(std::move(objective)),
      latency_(std::move(latency)) {
  NASCENT_CHECK(is_proxy(options_.proxy), "unknown proxy '" + options_.proxy + "'");
}

const ProxyBatch& ProxyEvaluator::batch(int resolution) {
  auto it = batches_.find(resolution);
  if (it == batches_.end()) {
    // Every candidate is scored on the same examples, fixed by the data's split seed.
    const uint64_t seed = Rng::derive(data_.split_seed, "proxy/batch").next();
    it = batches_.emplace(resolution, proxy_batch(data_, options_.batch_size, resolution, seed)).first;
  }
  return it->second;
}

Evaluation ProxyEvaluator::evaluate(const Proposal& p, uint64_t seed, const ProgressFn& /*progress*/) {
  return evaluate_guarded([&](Evaluation& e) {
    torch::manual_seed(seed);
    std::shared_ptr<space::Network> net = space_.build(p.arch, data_.task, p.fidelity.width_mult);
    profile_network(*net, data_.task, p.fidelity.resolution).add_to(e.metrics, options_.batch_size);
    if (reject_on_constraints(objective_, e)) return;
    if (measure_deployed(space_, data_, p, *net, latency_, objective_, e)) return;
    const auto t0 = std::chrono::steady_clock::now();
    const double value = compute_proxy(options_.proxy, *net, batch(p.fidelity.resolution));
    e.metrics["proxy_seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (!std::isfinite(value)) throw TrialFailure(options_.proxy + " is not finite for this network");
    e.metrics[options_.proxy] = value;
  });
}

}  // namespace nascent::estimate
