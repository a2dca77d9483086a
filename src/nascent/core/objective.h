// What "better" means: one metric to maximise or minimise, or several (Pareto), plus hard
// constraints such as "params <= 100000". Constraints on metrics known before training (params,
// flops) let the runner reject a candidate without training it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "nascent/core/trial.h"

namespace nascent {

class ConfigSection;

struct ObjectiveMetric {
  std::string name;
  bool maximize = true;
};

struct Constraint {
  enum class Op { kLe, kLt, kGe, kGt };
  std::string metric;
  Op op = Op::kLe;
  double bound = 0;
  std::string text;  // as written, for messages: "params <= 100000"

  bool satisfied(double value) const;
  // Parses "metric <= number" (also <, >=, >); throws std::invalid_argument with the reason.
  static Constraint parse(const std::string& text);
};

class Objective {
 public:
  Objective();  // maximise val_accuracy, no constraints
  Objective(std::vector<ObjectiveMetric> metrics, std::vector<Constraint> constraints);
  // Reads `objective: {metrics: [{name, direction}], constraints: [...]}`.
  static Objective from_config(ConfigSection& section);

  const std::vector<ObjectiveMetric>& metrics() const { return metrics_; }
  const std::vector<Constraint>& constraints() const { return constraints_; }
  bool multi() const { return metrics_.size() > 1; }

  // The text of the first constraint the metrics break; metrics not present are not checked.
  std::optional<std::string> violation(const Metrics& m) const;
  // Signed values, larger is better, one per objective metric; nullopt if the trial is not ok,
  // lacks a metric, or breaks a constraint.
  std::optional<std::vector<double>> values(const Trial& t) const;
  // The first objective metric, signed so larger is better; nullopt as for values().
  std::optional<double> score(const Trial& t) const;
  // a dominates b: no worse in every objective, better in one (both must have values).
  bool dominates(const Trial& a, const Trial& b) const;
  // Indices of the non-dominated feasible ok trials, ordered by the first metric (best first);
  // an architecture evaluated again at the same fidelity appears once (its earliest trial).
  std::vector<size_t> pareto_front(const std::vector<Trial>& trials) const;
  // Index of the best feasible ok trial by the first metric (ties: earliest).
  std::optional<size_t> best(const std::vector<Trial>& trials) const;

  std::string describe() const;  // "maximise val_accuracy subject to params <= 100000"

 private:
  std::vector<ObjectiveMetric> metrics_;
  std::vector<Constraint> constraints_;
};

// Metrics known before any training; a constraint on them rejects a candidate up front.
bool is_static_metric(const std::string& name);

}  // namespace nascent
