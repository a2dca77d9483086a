#include "quality/table_objective.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include "nascent/core/error.h"

namespace nascent::bench {

TableObjective::TableObjective(const space::SearchSpace& space, TableOptions options)
    : space_(space), options_(options) {
  const auto& ds = space.decisions();
  const size_t n = ds.size();
  for (size_t i = 0; i < n; ++i) {
    int p = -1;
    std::vector<bool> allows;
    if (ds[i].condition) {
      p = space.index_of(ds[i].condition->decision);
      allows.assign(ds[p].options.size(), false);
      for (const auto& o : ds[i].condition->any_of)
        for (size_t k = 0; k < ds[p].options.size(); ++k)
          if (ds[p].options[k] == o) allows[k] = true;
    }
    parent_.push_back(p);
    allows_.push_back(allows);
  }
  Rng r = Rng::derive(options.seed, "bench/table");
  for (size_t i = 0; i < n; ++i) {
    const size_t m = ds[i].options.size();
    // Log-normal importance: a few decisions matter much more than the rest.
    const double importance = std::exp(0.7 * r.normal());
    std::vector<double> log_cost(m), c(m), e(m);
    double mean = 0, var = 0;
    for (size_t o = 0; o < m; ++o) mean += (log_cost[o] = 0.5 * r.normal()) / static_cast<double>(m);
    for (size_t o = 0; o < m; ++o) var += (log_cost[o] - mean) * (log_cost[o] - mean) / static_cast<double>(m);
    for (size_t o = 0; o < m; ++o) {
      c[o] = std::exp(log_cost[o]);
      const double z = var > 0 ? (log_cost[o] - mean) / std::sqrt(var) : 0.0;
      e[o] = importance * (r.normal() + options.cost_link * z) / std::sqrt(1 + options.cost_link * options.cost_link);
    }
    main_.push_back(e);
    cost_.push_back(c);
  }
  pair_.resize(n);
  for (size_t i = 0; i < n; ++i)
    for (int d = 1; d <= options.band && i + d < n; ++d) {
      std::vector<double> t(ds[i].options.size() * ds[i + d].options.size());
      for (auto& x : t) x = options.interaction * r.normal();
      pair_[i].push_back(t);
    }

  // Optimum first (raw units); normalisation needs it.
  Arch best;
  auto exact = optimise(main_, true, 1.0, &best);
  if (exact && std::abs(raw(best) - *exact) < 1e-9) {
    optimum_ = *exact;
    optimum_method_ = "exact (dynamic programming)";
  } else {
    optimum_ = long_local_search(&best);
    optimum_method_ = "best of a long local search (lower bound)";
  }
  argmax_ = best;
  Rng s = Rng::derive(options.seed, "bench/table/sample");
  std::vector<double> v;
  for (int i = 0; i < 20000; ++i) v.push_back(raw(space.sample(s)));
  double mean = 0, var = 0;
  for (double x : v) mean += x / static_cast<double>(v.size());
  for (double x : v) var += (x - mean) * (x - mean) / static_cast<double>(v.size());
  random_mean_ = mean;
  random_sd_ = std::sqrt(var) / (optimum_ - random_mean_);
  noise_sd_ = options.noise * random_sd_;
  Arch unused;
  cost_min_ = optimise(cost_, false, -1.0, &unused).value_or(0.0);
  cost_max_ = optimise(cost_, false, 1.0, &unused).value_or(1.0);
}

double TableObjective::raw(const Arch& arch) const {
  const Arch a = space_.canonical(arch);
  const size_t n = space_.num_decisions();
  std::vector<bool> on(n);
  double v = 0;
  for (size_t i = 0; i < n; ++i) {
    on[i] = space_.active(a, i);
    if (on[i]) v += main_[i][a.choices[i]];
  }
  for (size_t i = 0; i < n; ++i)
    for (size_t d = 1; d <= pair_[i].size(); ++d)
      if (on[i] && on[i + d])
        v += pair_[i][d - 1][a.choices[i] * space_.decisions()[i + d].options.size() + a.choices[i + d]];
  return v;
}

double TableObjective::raw_cost(const Arch& arch) const {
  const Arch a = space_.canonical(arch);
  double c = 0;
  for (size_t i = 0; i < space_.num_decisions(); ++i)
    if (space_.active(a, i)) c += cost_[i][a.choices[i]];
  return c;
}

double TableObjective::cost(const Arch& arch) const {
  return (raw_cost(arch) - cost_min_) / std::max(cost_max_ - cost_min_, 1e-12);
}

std::optional<double> TableObjective::optimise(const std::vector<std::vector<double>>& main, bool with_pairs,
                                               double sign, Arch* best) const {
  // Variable elimination along the decision order: a state is the choices of the decisions a
  // later term still needs (the frontier; -1 = inactive), with the best prefix reaching it.
  const size_t n = space_.num_decisions();
  std::vector<size_t> last_use(n);
  for (size_t j = 0; j < n; ++j) last_use[j] = with_pairs ? std::min(n - 1, j + pair_[j].size()) : j;
  for (size_t m = 0; m < n; ++m)
    if (parent_[m] >= 0) last_use[parent_[m]] = std::max(last_use[parent_[m]], m);
  struct Entry {
    double value;
    std::vector<int> prefix;
  };
  std::vector<size_t> frontier;
  std::map<std::vector<int>, Entry> states{{{}, Entry{0.0, {}}}};
  for (size_t k = 0; k < n; ++k) {
    std::vector<size_t> next_frontier;
    for (size_t j : frontier)
      if (last_use[j] > k) next_frontier.push_back(j);
    if (last_use[k] > k) next_frontier.push_back(k);
    std::map<std::vector<int>, Entry> next;
    for (const auto& [key, e] : states) {
      auto value_of = [&](size_t j) {
        for (size_t f = 0; f < frontier.size(); ++f)
          if (frontier[f] == j) return key[f];
        NASCENT_CHECK(false, "table DP: decision left the frontier too early");
        return -1;
      };
      bool active = true;
      if (parent_[k] >= 0) {
        const int pv = value_of(static_cast<size_t>(parent_[k]));
        active = pv >= 0 && allows_[k][pv];
      }
      const int options = active ? static_cast<int>(main[k].size()) : 1;
      for (int o = 0; o < options; ++o) {
        const int x = active ? o : -1;
        double v = e.value;
        if (x >= 0) {
          v += sign * main[k][x];
          if (with_pairs)
            for (size_t d = 1; d <= k && d <= static_cast<size_t>(options_.band); ++d) {
              const size_t i = k - d;
              if (d > pair_[i].size()) continue;
              const int xi = value_of(i);
              if (xi >= 0) v += sign * pair_[i][d - 1][xi * main[k].size() + x];
            }
        }
        std::vector<int> nk;
        for (size_t j : next_frontier) nk.push_back(j == k ? x : value_of(j));
        auto it = next.find(nk);
        if (it == next.end() || v > it->second.value) {
          std::vector<int> prefix = e.prefix;
          prefix.push_back(std::max(x, 0));
          next[nk] = Entry{v, std::move(prefix)};
        }
      }
    }
    if (next.size() > 2000000) return std::nullopt;
    states = std::move(next);
    frontier = std::move(next_frontier);
  }
  const Entry* top = nullptr;
  for (const auto& [_, e] : states)
    if (!top || e.value > top->value) top = &e;
  *best = space_.canonical(Arch{space_.name(), top->prefix});
  return sign * top->value;
}

double TableObjective::long_local_search(Arch* best) const {
  // First-improvement hill climbing on the exact table from 200 random starts.
  Rng r = Rng::derive(options_.seed, "bench/table/local");
  double top = -std::numeric_limits<double>::infinity();
  for (int restart = 0; restart < 200; ++restart) {
    Arch a = space_.sample(r);
    double v = raw(a);
    for (bool moved = true; moved;) {
      moved = false;
      auto ns = space_.neighbors(a);
      r.shuffle(ns);
      for (const auto& b : ns)
        if (double w = raw(b); w > v) {
          a = b, v = w, moved = true;
          break;
        }
    }
    if (v > top) top = v, *best = a;
  }
  return top;
}

double hypervolume(std::vector<std::pair<double, double>> vc) {
  std::vector<std::pair<double, double>> in;  // (cost, value) inside the box
  for (auto [v, c] : vc)
    if (v > 0 && c < 1) in.emplace_back(std::max(c, 0.0), std::min(v, 1.0));
  std::sort(in.begin(), in.end());
  double area = 0, best = 0;
  for (size_t i = 0; i < in.size(); ++i) {
    best = std::max(best, in[i].second);
    const double next = i + 1 < in.size() ? in[i + 1].first : 1.0;
    area += (next - in[i].first) * best;
  }
  return area;
}

}  // namespace nascent::bench
