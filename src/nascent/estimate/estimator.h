// Which performance estimator a search uses, from the config's `estimator:` section: training
// at the proposal's fidelity (train), a zero-cost proxy (proxy:NAME), a table of measured
// results (table), or a fixed-cost stand-in for benchmarking the search itself (synthetic). make_evaluator builds the
// matching Evaluator.
#pragma once

#include <memory>
#include <string>

#include "nascent/core/objective.h"
#include "nascent/estimate/evaluator.h"
#include "nascent/estimate/latency.h"

namespace nascent {
class ConfigSection;
}

namespace nascent::estimate {

struct EstimatorOptions {
  // train | proxy:NAME (synflow, jacob_cov, naswot, snip, grad_norm, fisher, params, flops) | table |
  // synthetic (no training: a fixed cost and made-up metrics, for benchmarking the search itself)
  std::string name = "train";
  std::string table;          // name table: CSV of measured results (see table_evaluator.h)
  double cost_seconds = 1.0;  // name synthetic: wall-clock seconds each candidate takes
  int64_t batch_size = 64;    // name proxy:*: examples in the scoring mini-batch
  std::string file;           // the config file, for messages about the table
  // The config's latency section (not estimator's): latency, size and peak memory of every
  // candidate as deployed, measured by the train and proxy estimators.
  LatencyOptions latency;

  // Reads and checks the section; an unknown name or proxy is an InputError naming the field.
  static EstimatorOptions from_config(ConfigSection& section);
  // NAME of proxy:NAME, or "" for the other estimators.
  std::string proxy() const;
};

// The objective of a search that uses estimator o. A proxy search maximises the proxy unless
// the config names objective metrics (has_metrics), which must then be ones a proxy measures.
Objective estimator_objective(const EstimatorOptions& o, const Objective& configured, bool has_metrics,
                              const std::string& file);

// Throws InputError when the table file is missing or malformed.
std::unique_ptr<Evaluator> make_evaluator(const EstimatorOptions& o, const space::SearchSpace& space,
                                          const data::TaskData& data, const TrainOptions& train,
                                          const Objective& objective);

}  // namespace nascent::estimate
