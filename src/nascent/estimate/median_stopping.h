// Median stopping within a training run (Golovin et al. 2017, "Google Vizier", section 3.2.2; the
// variant of Optuna's MedianPruner): after epoch k, a trial whose best validation accuracy so far
// is below the median of earlier completed trials' accuracies at epoch k, at the same fidelity,
// stops and is recorded as pruned with its learning curve.
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "nascent/core/trial.h"

namespace nascent {
class ConfigSection;
}

namespace nascent::estimate {

struct EarlyStoppingOptions {
  std::string rule = "none";  // none | median
  int64_t grace_epochs = 1;   // never stop before this many epochs are done
  int64_t min_trials = 5;     // completed trials at the same fidelity and epoch before the rule applies

  // Reads the early_stopping section; calls finish().
  static EarlyStoppingOptions from_config(ConfigSection& section);
  bool enabled() const { return rule == "median"; }
};

// The metric holding validation accuracy after epoch k (1-based): "val_accuracy_epoch_3".
std::string curve_metric(int64_t epoch);
// A trial's learning curve from its metrics: epochs 1, 2, ... up to the first one missing.
std::vector<double> learning_curve(const Trial& t);

// Entry k - 1 is the median validation accuracy at epoch k over `done`'s ok trials at fidelity f
// whose curves reach epoch k, or NaN where fewer than min_trials do. Reused results (worker
// "reused") are copies and count once. Empty when no epoch has enough trials.
std::vector<double> median_curve(const std::vector<Trial>& done, const Fidelity& f, int64_t min_trials);
// The median curve as JSON (NaN as null) and back, to travel with a trial to any executor.
nlohmann::json median_curve_to_json(const std::vector<double>& median);
std::vector<double> median_curve_from_json(const nlohmann::json& j);

// After curve.size() epochs: the reason to stop, or nullopt to go on training.
std::optional<std::string> median_stop(const std::vector<double>& curve, const std::vector<double>& median,
                                       const EarlyStoppingOptions& o);

}  // namespace nascent::estimate
