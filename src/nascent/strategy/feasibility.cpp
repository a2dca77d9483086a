#include "nascent/strategy/feasibility.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace nascent::strategy {

double constraint_violation(const Objective& objective, const Trial& trial) {
  constexpr double kUnknown = std::numeric_limits<double>::infinity();
  if (trial.status != TrialStatus::kOk && trial.status != TrialStatus::kRejected) return kUnknown;
  double total = 0;
  for (const auto& c : objective.constraints()) {
    auto v = trial.metric(c.metric);
    if (!v) continue;  // as Objective::violation: metrics not present are not checked
    if (!std::isfinite(*v)) return kUnknown;
    if (!c.satisfied(*v)) total += std::max(std::abs(*v - c.bound), 1e-12) / std::max(std::abs(c.bound), 1.0);
  }
  if (trial.status == TrialStatus::kRejected) {
    // Rejected for a reason the metrics do not show (should not happen): nothing to rank by.
    return total > 0 ? total : kUnknown;
  }
  if (total == 0 && !objective.values(trial)) return kUnknown;  // ok but an objective metric is missing
  return total;
}

Standing Standing::of(const Objective& objective, const Trial& trial) {
  if (auto s = objective.score(trial)) return Standing{2, *s};
  const double v = constraint_violation(objective, trial);
  if (std::isfinite(v)) return Standing{1, -v};
  return Standing{};
}

}  // namespace nascent::strategy
