#include "nascent/estimate/synthetic_evaluator.h"

#include <chrono>
#include <thread>

#include "nascent/core/rng.h"
#include "nascent/space/space.h"

namespace nascent::estimate {

SyntheticEvaluator::SyntheticEvaluator(const space::SearchSpace& space, double cost_seconds, Objective objective)
    : space_(space), cost_seconds_(cost_seconds), objective_(std::move(objective)) {}

Evaluation SyntheticEvaluator::evaluate(const Proposal& p, uint64_t /*seed*/, const ProgressFn& /*progress*/) {
  const auto start = std::chrono::steady_clock::now();
  Evaluation e;
  Rng rng = Rng::derive(0, "synthetic/" + space_.hash(p.arch) + "/" + p.fidelity.key());
  const double accuracy = 0.5 + 0.45 * rng.uniform();
  e.metrics["val_accuracy"] = accuracy;
  e.metrics["val_loss"] = 1.0 - accuracy;
  e.metrics["train_seconds"] = cost_seconds_;
  // Sleeping until a deadline rather than for a duration: the time spent above counts too.
  std::this_thread::sleep_until(start + std::chrono::duration<double>(cost_seconds_));
  return e;
}

}  // namespace nascent::estimate
