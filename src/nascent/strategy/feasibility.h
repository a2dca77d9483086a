// How far a told trial is from feasible, for strategies that must rank infeasible candidates
// (NSGA-II's constrained domination, Deb et al. 2002 sec. VI; local search and BANANAS use it
// to walk out of a region that breaks a constraint instead of restarting blindly).
#pragma once

#include "nascent/core/objective.h"
#include "nascent/core/trial.h"

namespace nascent::strategy {

// 0 for a feasible ok trial; for a trial that breaks constraints (rejected, or ok with a broken
// constraint on a measured metric) the sum over broken constraints of |value - bound| /
// max(|bound|, 1); +inf for failed or pruned trials and for ok trials lacking an objective metric
// (nothing is known about how close they came).
double constraint_violation(const Objective& objective, const Trial& trial);

// A total order on told trials, larger is better: feasible trials by the objective's score,
// then infeasible ones by smaller violation, then failed ones. Lets a strategy compare any two
// trials without special cases.
struct Standing {
  int tier = 0;      // 2 feasible, 1 infeasible with known violation, 0 failed
  double value = 0;  // tier 2: score; tier 1: -violation; tier 0: 0

  static Standing of(const Objective& objective, const Trial& trial);
  static Standing worst() { return Standing{}; }
  bool operator<(const Standing& o) const { return tier != o.tier ? tier < o.tier : value < o.value; }
  bool operator>(const Standing& o) const { return o < *this; }
  bool feasible() const { return tier == 2; }
};

}  // namespace nascent::strategy
