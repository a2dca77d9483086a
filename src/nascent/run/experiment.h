// An experiment's configuration, read and checked as a whole: every section of the config file
// (after --set overrides) is validated up front, including the options of every space and
// strategy named in it, so a typo anywhere is reported before any training starts.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "nascent/core/fidelity.h"
#include "nascent/core/objective.h"
#include "nascent/data/dataset.h"
#include "nascent/estimate/estimator.h"
#include "nascent/estimate/trainer.h"
#include "nascent/schedule/bracket_scheduler.h"
#include "nascent/schedule/prefilter.h"
#include "nascent/space/space.h"
#include "nascent/strategy/strategy.h"

namespace nascent::run {

struct BudgetOptions {
  int64_t max_trials = 20;  // trials to evaluate (rejected candidates do not count)
  double time_minutes = 0;  // stop proposing after this much search time (0 = no limit)
  static BudgetOptions from_config(ConfigSection& section);
};

struct FinalOptions {
  // Unset in a search config: auto with budget.time_minutes, else this many epochs.
  static constexpr double kDefaultEpochs = 5;
  double epochs = 0;            // final training of the best architecture from scratch; 0 = none
  bool auto_epochs = false;     // epochs: auto = the epochs that fill the rest of budget.time_minutes
  double time_fraction = 0.6;   // with epochs: auto, the share of budget.time_minutes kept for it
  double min_epochs = 1;        // with epochs: auto, never fewer ...
  double max_epochs = 200;      // ... nor more epochs than these
  bool augment = true;          // random 2-pixel shifts and flips (images) during final training
  double label_smoothing = -1;  // overrides train.label_smoothing for final training (-1 = keep)
  int64_t cutout = -1;          // overrides train.cutout for final training (-1 = keep)
  // final.reevaluate: before the final training, the `top` best distinct architectures of the
  // search are trained again at this fidelity (more epochs on all the data) and the best of them
  // is the one trained (run/reevaluate.h); top 0 = the search's best as it is.
  int64_t reevaluate_top = 0;
  Fidelity reevaluate = Fidelity::full(3);
  // final.pareto: with several objective metrics, this many Pareto-optimal architectures besides
  // the chosen one are trained the same way (best first by the first metric), each into
  // pareto/trial-N/ with its weights and model.pt; with epochs: auto they share the final time.
  int64_t pareto = 0;
  // final.ranks: under mpirun, the final training is data-parallel over this many ranks (rank 0
  // and the first worker ranks; estimate::DataParallel); 0 = all of them, 1 = rank 0 alone.
  int64_t ranks = 1;
  static FinalOptions from_config(ConfigSection& section);
  // The training options of the final training: `train` with this section's overrides.
  estimate::TrainOptions apply(estimate::TrainOptions train) const;
};

struct RunOptions {
  int64_t workers = 1;  // evaluations at once: 1 = in the search process, N > 1 = N worker processes
  int64_t threads = 0;  // torch threads per training process; 0 = the cores divided among the workers
  static RunOptions from_config(ConfigSection& section);
  // Threads each training process should use.
  int threads_per_worker() const;
};

struct ExperimentConfig {
  std::string file;    // for messages
  nlohmann::json raw;  // the whole config after overrides, as stored in the database
  uint64_t seed = 0;
  data::TaskOptions task;
  std::string space_name = "chain";
  nlohmann::json space_options;  // the section space.<space_name>
  std::string strategy_name = "evolution";
  nlohmann::json strategy_options;       // the section strategy.<strategy_name>
  schedule::SchedulerOptions scheduler;  // scheduler.name and scheduler.<name>; name none = one fidelity
  schedule::PrefilterOptions prefilter;  // prefilter: a zero-cost proxy ranks pools of candidates (proxy none = off)
  Fidelity fidelity;
  Objective objective;
  BudgetOptions budget;
  FinalOptions final;
  estimate::TrainOptions train;
  estimate::EstimatorOptions estimator;  // train | proxy:NAME | table
  RunOptions run;

  // Validates every section; throws InputError naming the file and field.
  static ExperimentConfig parse(const nlohmann::json& raw, const std::string& file);

  std::unique_ptr<space::SearchSpace> make_space() const;
  // The strategy's context from this config: space, objective, fidelity, seed, budget and the
  // training options; the caller adds the run's data, checkpoint directory and event sink.
  strategy::StrategyContext strategy_context(const space::SearchSpace& space) const;
  // The strategy, under the zero-cost pre-filter when prefilter.proxy is not none, under the
  // multi-fidelity scheduler when scheduler.name is not none.
  std::unique_ptr<strategy::Strategy> make_strategy(const space::SearchSpace& space) const;
  std::unique_ptr<strategy::Strategy> make_strategy(const strategy::StrategyContext& ctx) const;
};

Fidelity fidelity_from_config(ConfigSection& section);

// Applies run.threads (0 = all cores) to torch.
void set_threads(int64_t threads);

}  // namespace nascent::run
