#include "nascent/run/executor.h"

#include <chrono>

#include "nascent/core/error.h"

namespace nascent::run {

double unix_now() { return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count(); }

InlineExecutor::InlineExecutor(estimate::Evaluator& evaluator, ProgressFactory progress)
    : evaluator_(evaluator), progress_(std::move(progress)) {}

void InlineExecutor::submit(const Trial& trial, uint64_t seed) { queue_.emplace_back(trial, seed); }

Trial InlineExecutor::collect() {
  NASCENT_CHECK(!queue_.empty(), "collect() with nothing submitted");
  auto [trial, seed] = queue_.front();
  queue_.pop_front();
  trial.started = unix_now();
  trial.worker = "inline";
  estimate::Evaluation e = evaluator_.evaluate(trial.proposal, seed, progress_ ? progress_(trial) : nullptr);
  trial.ended = unix_now();
  trial.status = e.status;
  trial.reason = e.reason;
  trial.metrics = e.metrics;
  return trial;
}

}  // namespace nascent::run
