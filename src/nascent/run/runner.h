// The search loop: ask the strategy, record the proposal, evaluate it through the executor,
// tell the strategy, and commit the trial with the strategy's state before the next ask. With
// several workers, up to twice as many trials as workers are outstanding and results are told in
// trial order (one that finishes early is stored and waits), so the proposals depend on the seed
// and the number of workers, not on timing. On resume, trials that were running when the process
// died are evaluated again under their own ids, stored results not yet told are told in turn, and
// the strategy continues from its stored state, so the search proposes exactly what an
// uninterrupted run would have.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "nascent/core/objective.h"
#include "nascent/estimate/median_stopping.h"
#include "nascent/run/executor.h"
#include "nascent/run/progress.h"

namespace nascent::space {
class SearchSpace;
}
namespace nascent::strategy {
class Strategy;
}
namespace nascent::store {
class Store;
}

namespace nascent::run {

struct RunnerOptions {
  int64_t max_trials = 20;                    // trials counted (ok, failed, pruned); rejected ones are free
  double time_budget_s = 0;                   // no new proposals after this much search time; 0 = none
  bool simulated_time = false;                // time is the trials' recorded train_seconds (table estimator)
  bool reuse_results = true;                  // an architecture already trained at a fidelity is not retrained
  int64_t max_consecutive_rejections = 1000;  // then the constraints are too tight to search
  uint64_t seed = 0;                          // experiment seed (evaluation seeds derive from it)
  std::string out_dir;                        // trials.csv, summary.json and best_arch.json are kept current here
  std::string strategy_name;
  nlohmann::json space_options;                   // written into best_arch.json
  nlohmann::json task;                            // the task's signature, written into best_arch.json
  estimate::EarlyStoppingOptions early_stopping;  // median rule: each trial is sent the median curve of earlier ones
};

struct RunOutcome {
  std::string status;    // done | interrupted | exhausted
  int64_t counted = 0;   // trials that count against the budget
  double elapsed_s = 0;  // search time over all sessions
};

class Runner {
 public:
  Runner(const space::SearchSpace& space, strategy::Strategy& strategy, store::Store& store, Executor& executor,
         const Objective& objective, RunnerOptions options, ProgressReporter& progress);
  // Runs (or, when the store already holds trials, resumes) the search until the budget is
  // spent, the strategy is exhausted, or a stop is requested.
  RunOutcome run();
  // Rewrites trials.csv, summary.json and best_arch.json from the store.
  void write_outputs(const std::string& status, const nlohmann::json& final = nullptr,
                     const std::string& final_skipped = "", const std::vector<std::string>& warnings = {}) const;

 private:
  uint64_t eval_seed(const Proposal& p) const;
  const space::SearchSpace& space_;
  strategy::Strategy& strategy_;
  store::Store& store_;
  Executor& executor_;
  const Objective& objective_;
  RunnerOptions options_;
  ProgressReporter& progress_;
};

// Counts against the trial budget: everything that finished except rejected candidates.
bool counts_against_budget(const Trial& t);
// The seed of a candidate's evaluation: the same architecture at the same fidelity always starts
// from the same weights, whatever order it is proposed in.
uint64_t evaluation_seed(uint64_t seed, const space::SearchSpace& space, const Proposal& p);
// Simulated search time: the recorded train_seconds of every trial that was not a reused result.
double simulated_seconds(const std::vector<Trial>& trials);

}  // namespace nascent::run
