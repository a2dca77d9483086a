#include "nascent/strategy/nsga2_sort.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "nascent/core/error.h"

namespace nascent::strategy {

bool constrained_dominates(const Nsga2Point& a, const Nsga2Point& b) {
  const bool fa = a.violation == 0, fb = b.violation == 0;
  if (fa != fb) return fa;
  if (!fa) return a.violation < b.violation;
  NASCENT_CHECK(a.values.size() == b.values.size(), "NSGA-II points need the same number of objectives");
  bool strictly = false;
  for (size_t k = 0; k < a.values.size(); ++k) {
    if (a.values[k] < b.values[k]) return false;
    if (a.values[k] > b.values[k]) strictly = true;
  }
  return strictly;
}

std::vector<std::vector<size_t>> non_dominated_fronts(const std::vector<Nsga2Point>& points) {
  // Deb et al. 2002, sec. III-A: S_p = points p dominates, n_p = how many dominate p.
  const size_t n = points.size();
  std::vector<std::vector<size_t>> dominated_by(n);
  std::vector<int> count(n, 0);
  for (size_t p = 0; p < n; ++p)
    for (size_t q = p + 1; q < n; ++q) {
      if (constrained_dominates(points[p], points[q])) {
        dominated_by[p].push_back(q);
        ++count[q];
      } else if (constrained_dominates(points[q], points[p])) {
        dominated_by[q].push_back(p);
        ++count[p];
      }
    }
  std::vector<std::vector<size_t>> fronts;
  std::vector<size_t> current;
  for (size_t p = 0; p < n; ++p)
    if (count[p] == 0) current.push_back(p);
  while (!current.empty()) {
    std::vector<size_t> next;
    for (size_t p : current)
      for (size_t q : dominated_by[p])
        if (--count[q] == 0) next.push_back(q);
    std::sort(next.begin(), next.end());
    fronts.push_back(std::move(current));
    current = std::move(next);
  }
  return fronts;
}

std::vector<double> crowding_distances(const std::vector<Nsga2Point>& points, const std::vector<size_t>& front) {
  constexpr double kInf = std::numeric_limits<double>::infinity();
  const size_t m = front.size();
  std::vector<double> d(m, 0.0);
  if (m == 0 || points[front[0]].violation != 0) return d;  // fronts of infeasible points: no values
  if (m <= 2) return std::vector<double>(m, kInf);
  const size_t objectives = points[front[0]].values.size();
  std::vector<size_t> order(m);
  for (size_t k = 0; k < objectives; ++k) {
    std::iota(order.begin(), order.end(), 0);
    auto val = [&](size_t i) { return points[front[i]].values[k]; };
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return val(a) < val(b); });
    d[order.front()] = d[order.back()] = kInf;
    const double range = val(order.back()) - val(order.front());
    if (range <= 0) continue;
    for (size_t i = 1; i + 1 < m; ++i) d[order[i]] += (val(order[i + 1]) - val(order[i - 1])) / range;
  }
  return d;
}

Nsga2Ranking rank_and_crowd(const std::vector<Nsga2Point>& points) {
  Nsga2Ranking r{std::vector<int>(points.size(), 0), std::vector<double>(points.size(), 0.0)};
  const auto fronts = non_dominated_fronts(points);
  for (size_t f = 0; f < fronts.size(); ++f) {
    const auto d = crowding_distances(points, fronts[f]);
    for (size_t i = 0; i < fronts[f].size(); ++i) {
      r.rank[fronts[f][i]] = static_cast<int>(f);
      r.crowding[fronts[f][i]] = d[i];
    }
  }
  return r;
}

std::vector<size_t> select_survivors(const std::vector<Nsga2Point>& points, size_t keep) {
  std::vector<size_t> out;
  for (const auto& front : non_dominated_fronts(points)) {
    if (out.size() >= keep) break;
    if (out.size() + front.size() <= keep) {
      out.insert(out.end(), front.begin(), front.end());
      continue;
    }
    // The last front does not fit: the least crowded members go on (sec. III-C).
    const auto d = crowding_distances(points, front);
    std::vector<size_t> order(front.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return d[a] > d[b]; });
    for (size_t i = 0; out.size() < keep; ++i) out.push_back(front[order[i]]);
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace nascent::strategy
