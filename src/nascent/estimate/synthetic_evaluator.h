// An evaluator for measuring the search machinery itself (bench/scale): it trains nothing, takes
// a fixed number of wall-clock seconds per candidate (sleeping, so that many oversubscribed MPI
// ranks on a few cores behave like ranks that each own their cores), and answers with metrics
// drawn deterministically from the architecture and fidelity. The numbers mean nothing about any
// task; they only let strategies, the store, the runner and the executors run as in a search.
#pragma once

#include "nascent/core/objective.h"
#include "nascent/estimate/evaluator.h"

namespace nascent::estimate {

class SyntheticEvaluator : public Evaluator {
 public:
  SyntheticEvaluator(const space::SearchSpace& space, double cost_seconds, Objective objective);
  // val_accuracy in [0.5, 0.95) and val_loss = 1 - val_accuracy, the same for the same
  // architecture and fidelity whatever the seed; train_seconds = the cost.
  Evaluation evaluate(const Proposal& p, uint64_t seed, const ProgressFn& progress) override;

 private:
  const space::SearchSpace& space_;
  double cost_seconds_;
  Objective objective_;
};

}  // namespace nascent::estimate
