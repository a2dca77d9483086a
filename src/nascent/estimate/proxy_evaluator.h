// Training-free evaluation: builds the candidate at the seed's initial weights, profiles it,
// and scores it with one zero-cost proxy (proxies.h) on a fixed mini-batch. The score lands in
// the trial's metrics under the proxy's name, with its cost in proxy_seconds.
#pragma once

#include <map>
#include <string>

#include "nascent/core/objective.h"
#include "nascent/estimate/evaluator.h"
#include "nascent/estimate/proxies.h"

namespace nascent::estimate {

struct ProxyOptions {
  std::string proxy = "synflow";  // one of proxy_names()
  int64_t batch_size = 64;        // examples in the scoring mini-batch (the same batch for every candidate)
};

class ProxyEvaluator : public Evaluator {
 public:
  ProxyEvaluator(const space::SearchSpace& space, const data::TaskData& data, ProxyOptions options, Objective objective,
                 LatencyOptions latency = {});
  Evaluation evaluate(const Proposal& p, uint64_t seed, const ProgressFn& progress) override;

 private:
  const ProxyBatch& batch(int resolution);
  const space::SearchSpace& space_;
  const data::TaskData& data_;
  ProxyOptions options_;
  Objective objective_;
  LatencyOptions latency_;
  std::map<int, ProxyBatch> batches_;  // by resolution
};

}  // namespace nascent::estimate
