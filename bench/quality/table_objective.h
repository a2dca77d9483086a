// A synthetic architecture objective for measuring search strategies: a fixed random table of
// per-decision effects plus pairwise interaction effects between decisions up to `band` apart
// in the space's order, observed with Gaussian noise. Cheap to evaluate, shaped like a real one
// (some decisions matter far more than others, options interact, results are noisy), and its
// optimum is known exactly, by dynamic programming over the decisions in order.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "nascent/core/rng.h"
#include "nascent/space/space.h"

namespace nascent::bench {

struct TableOptions {
  uint64_t seed = 0;         // the table's own seed: the same seed gives the same objective
  int band = 3;              // decisions i < j interact when j - i <= band
  double interaction = 0.5;  // scale of interaction effects relative to main effects
  double noise = 0.1;        // observation noise, as a fraction of the value's spread over the space
  double cost_link = 0.8;    // how strongly costly options are better (the trade-off nsga2 faces)
};

class TableObjective {
 public:
  TableObjective(const space::SearchSpace& space, TableOptions options);

  // Raw table value of the canonical architecture.
  double raw(const Arch& arch) const;
  // Normalised value: 0 = mean over uniformly random architectures, 1 = the optimum.
  double truth(const Arch& arch) const { return (raw(arch) - random_mean_) / (optimum_ - random_mean_); }
  // A noisy observation of truth(), as a training run would give.
  double observe(const Arch& arch, Rng& rng) const { return truth(arch) + noise_sd_ * rng.normal(); }
  // A positive additive cost (a stand-in for parameters), normalised to [0, 1] over the space.
  double cost(const Arch& arch) const;

  // "exact (dynamic programming)" or "best of a long local search" (a lower bound).
  const std::string& optimum_method() const { return optimum_method_; }
  double noise_sd() const { return noise_sd_; }
  // Standard deviation of truth() over uniformly random architectures.
  double random_sd() const { return random_sd_; }
  const Arch& argmax() const { return argmax_; }

 private:
  // Max (or min, sign = -1) of sum of the given tables by dynamic programming; nullopt when the
  // frontier grows too large. Fills the maximiser.
  std::optional<double> optimise(const std::vector<std::vector<double>>& main, bool with_pairs, double sign,
                                 Arch* best) const;
  double long_local_search(Arch* best) const;
  double raw_cost(const Arch& arch) const;

  const space::SearchSpace& space_;
  TableOptions options_;
  std::vector<int> parent_;                // condition's decision, -1 if none
  std::vector<std::vector<bool>> allows_;  // parent's options that activate the decision
  std::vector<std::vector<double>> main_;  // [decision][option]
  std::vector<std::vector<double>> cost_;  // [decision][option], > 0
  // pair_[i][d][a * options(i + d) + b]: effect of (x_i = a, x_{i+d} = b), d in 1..band
  std::vector<std::vector<std::vector<double>>> pair_;
  double random_mean_ = 0, random_sd_ = 1, optimum_ = 1, noise_sd_ = 0;
  double cost_min_ = 0, cost_max_ = 1;
  std::string optimum_method_;
  Arch argmax_;
};

// Area dominated by 2-D points (value: larger better, cost: smaller better) inside the box from
// the reference (value 0, cost 1) to (value 1, cost 0); points outside the box count only within it.
double hypervolume(std::vector<std::pair<double, double>> value_cost);

}  // namespace nascent::bench
