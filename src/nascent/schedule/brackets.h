// Bracket arithmetic of successive halving and Hyperband (Li et al. 2018, "Hyperband: A Novel
// Bandit-Based Approach to Hyperparameter Optimization", JMLR 18, Algorithm 1): how many
// candidates each rung holds and how much resource (epochs or data) each rung trains with.
#pragma once

#include <cstdint>
#include <vector>

namespace nascent::schedule {

struct Rung {
  int64_t candidates = 0;  // n_i: trials evaluated in this rung
  double resource = 0;     // r_i: epochs (or data fraction) each of them trains with
};

// One bracket: rung 0 has the most candidates at the least resource; each later rung keeps the
// best 1/eta of the one before at eta times the resource.
struct Bracket {
  int s = 0;  // the bracket's index in Hyperband: s + 1 rungs
  std::vector<Rung> rungs;
};

// s_max = floor(log_eta(max_resource / min_resource)), computed without floating-point drift.
int max_bracket(int eta, double min_resource, double max_resource);

// Hyperband's bracket s (0 <= s <= s_max): n = ceil((s_max + 1) / (s + 1) * eta^s) candidates
// at r = R * eta^-s, rung i keeps floor(n * eta^-i) at r * eta^i (Algorithm 1, lines 3-9).
// Resources are in the caller's units: R * eta^-s units of max_resource / R.
Bracket hyperband_bracket(int eta, double min_resource, double max_resource, int s);

// Successive halving as one bracket of s_max + 1 rungs (the most aggressive Hyperband bracket);
// `candidates` > 0 replaces its first rung's n, and later rungs keep floor(n * eta^-i) (at least 1).
Bracket halving_bracket(int eta, double min_resource, double max_resource, int64_t candidates);

}  // namespace nascent::schedule
