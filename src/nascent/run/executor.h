// Executors decide where evaluations run. The runner submits trials (id and proposal) and
// collects finished ones; it does not know whether they ran inline, in worker processes or on
// MPI ranks. The strategy and the store never see the executor.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>

#include "nascent/core/trial.h"
#include "nascent/estimate/evaluator.h"

namespace nascent::run {

class Executor {
 public:
  virtual ~Executor() = default;
  // How many evaluations may run at once.
  virtual int capacity() const = 0;
  // Evaluations submitted and not yet collected.
  virtual int pending() const = 0;
  // Starts (or queues) an evaluation of trial.proposal; seed fixes weights and data order.
  virtual void submit(const Trial& trial, uint64_t seed) = 0;
  // Blocks until an evaluation finishes; returns its trial with status, reason, metrics and
  // timings filled in. Only called with pending() > 0.
  virtual Trial collect() = 0;
};

// Runs each evaluation in this process, one at a time, when collect() is called.
class InlineExecutor : public Executor {
 public:
  using ProgressFactory = std::function<estimate::ProgressFn(const Trial&)>;
  InlineExecutor(estimate::Evaluator& evaluator, ProgressFactory progress = nullptr);
  int capacity() const override { return 1; }
  int pending() const override { return static_cast<int>(queue_.size()); }
  void submit(const Trial& trial, uint64_t seed) override;
  Trial collect() override;

 private:
  estimate::Evaluator& evaluator_;
  ProgressFactory progress_;
  std::deque<std::pair<Trial, uint64_t>> queue_;
};

double unix_now();

}  // namespace nascent::run
