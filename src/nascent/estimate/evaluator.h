// Evaluators turn a proposal into metrics. They never choose what to evaluate (that is the
// strategy's job) and never throw for a bad candidate: a candidate that fails, or breaks a
// constraint known before training, comes back as an Evaluation with that status and reason.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "nascent/core/objective.h"
#include "nascent/core/trial.h"
#include "nascent/estimate/latency.h"
#include "nascent/estimate/trainer.h"

namespace nascent::space {
class SearchSpace;
}
namespace nascent::data {
struct TaskData;
}

namespace nascent::estimate {

struct Evaluation {
  TrialStatus status = TrialStatus::kOk;  // ok, failed, rejected or pruned
  std::string reason;
  Metrics metrics;
};

class Evaluator {
 public:
  virtual ~Evaluator() = default;
  // seed fixes the candidate's initial weights and data order.
  virtual Evaluation evaluate(const Proposal& p, uint64_t seed, const ProgressFn& progress) = 0;
};

// Builds the candidate, profiles it (params, FLOPs, memory; with latency.enabled also latency,
// model size and peak inference memory), rejects it if it breaks a constraint on those, then trains it at the
// proposal's fidelity and measures validation accuracy. With options.early_stopping (median rule) it also records
// validation accuracy after every epoch and stops, as pruned, against p.meta["median_curve"].
class TrainingEvaluator : public Evaluator {
 public:
  TrainingEvaluator(const space::SearchSpace& space, const data::TaskData& data, TrainOptions options,
                    Objective objective, LatencyOptions latency = {});
  Evaluation evaluate(const Proposal& p, uint64_t seed, const ProgressFn& progress) override;

 private:
  const space::SearchSpace& space_;
  const data::TaskData& data_;
  TrainOptions options_;
  Objective objective_;
  LatencyOptions latency_;
};

// The first line of an exception message, trimmed of torch's C++ stack trace.
std::string short_reason(const std::string& what);

// Runs body on a fresh Evaluation; a candidate that fails inside it (TrialFailure, a torch
// error, out of memory, a broken invariant) comes back failed with the reason, keeping the
// metrics measured before the failure.
Evaluation evaluate_guarded(const std::function<void(Evaluation&)>& body);

// Marks e rejected when its metrics (so far: the profile) break a constraint of the objective.
bool reject_on_constraints(const Objective& objective, Evaluation& e);

// With latency.enabled, measures the candidate as it will be deployed (`net` itself, or a copy
// at full width when the fidelity narrows it; at the task's own resolution) and adds the latency
// metrics to e. Then, as reject_on_constraints, returns true when e breaks a constraint.
bool measure_deployed(const space::SearchSpace& space, const data::TaskData& data, const Proposal& p,
                      space::Network& net, const LatencyOptions& latency, const Objective& objective, Evaluation& e);

}  // namespace nascent::estimate
