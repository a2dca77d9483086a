// The ranking at the heart of NSGA-II (Deb, Pratap, Agarwal & Meyarivan, "A Fast and Elitist
// Multiobjective Genetic Algorithm: NSGA-II", IEEE TEC 2002): constrained domination (sec. VI),
// fast non-dominated sorting (sec. III-A) and crowding distance (sec. III-B).
#pragma once

#include <cstddef>
#include <vector>

namespace nascent::strategy {

struct Nsga2Point {
  std::vector<double> values;  // one per objective, signed so that larger is better
  double violation = 0;        // 0 feasible; > 0 infeasible; +inf failed (see feasibility.h)
};

// Deb's constrained domination: a feasible point beats an infeasible one; of two infeasible
// points the one with the smaller violation wins; of two feasible points, Pareto domination.
bool constrained_dominates(const Nsga2Point& a, const Nsga2Point& b);

// Fronts F1, F2, ... of indices into points: F1 holds the points nothing dominates, F2 those
// dominated only by F1, and so on. Within a front, indices are in increasing order.
std::vector<std::vector<size_t>> non_dominated_fronts(const std::vector<Nsga2Point>& points);

// Crowding distance of each member of one front (same order as `front`): per objective, the
// boundary points get +inf and interior points add the normalised gap between their neighbours.
// Points without values (infeasible) get 0.
std::vector<double> crowding_distances(const std::vector<Nsga2Point>& points, const std::vector<size_t>& front);

// Rank (0 = first front) and crowding distance of every point, for the crowded-comparison
// operator: lower rank wins, then larger crowding distance.
struct Nsga2Ranking {
  std::vector<int> rank;
  std::vector<double> crowding;
};
Nsga2Ranking rank_and_crowd(const std::vector<Nsga2Point>& points);

// Indices of the `keep` survivors of (mu + lambda) selection: whole fronts in rank order, and
// from the front that does not fit, the members with the largest crowding distance (ties: lower
// index). Returned in increasing index order.
std::vector<size_t> select_survivors(const std::vector<Nsga2Point>& points, size_t keep);

}  // namespace nascent::strategy
