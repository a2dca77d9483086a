#include "nascent/run/importance.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "nascent/core/error.h"
#include "nascent/core/rng.h"

namespace nascent::run {
namespace {

// A leaf of a regression tree: the box of options per decision that reaches it, and its value.
struct Leaf {
  std::vector<std::vector<bool>> allowed;  // [decision][option]
  double value = 0;
};

// CART regression on categorical inputs. A split sends a subset of a decision's options left:
// the best subset is a prefix of the options ordered by their mean objective (Breiman et al.
// 1984, for squared error). Options of the box that no trial at the node has go with the larger
// side, so that the leaves partition the whole space.
class TreeBuilder {
 public:
  TreeBuilder(const std::vector<std::vector<int>>& x, const std::vector<double>& y, const std::vector<int>& card,
              const ImportanceOptions& o, Rng& rng)
      : x_(x), y_(y), card_(card), o_(o), rng_(rng) {}

  std::vector<Leaf> build(const std::vector<size_t>& rows) {
    std::vector<std::vector<bool>> all;
    for (int k : card_) all.emplace_back(static_cast<size_t>(k), true);
    leaves_.clear();
    grow(rows, all, 0);
    return leaves_;
  }

 private:
  void grow(const std::vector<size_t>& rows, const std::vector<std::vector<bool>>& box, int depth) {
    double sum = 0;
    for (size_t r : rows) sum += y_[r];
    const double n = static_cast<double>(rows.size());
    const double mean = rows.empty() ? 0.0 : sum / n;
    double sse = 0;
    for (size_t r : rows) sse += (y_[r] - mean) * (y_[r] - mean);
    if (depth >= o_.max_depth || static_cast<int>(rows.size()) < 2 * o_.min_leaf || sse <= 1e-12) {
      leaves_.push_back({box, mean});
      return;
    }
    // Decisions to try at this split.
    std::vector<size_t> decisions(card_.size());
    std::iota(decisions.begin(), decisions.end(), 0);
    rng_.shuffle(decisions);
    const size_t tries =
        std::max<size_t>(1, static_cast<size_t>(std::lround(o_.feature_fraction * static_cast<double>(card_.size()))));
    decisions.resize(std::min(tries, decisions.size()));

    double best_gain = 1e-12;
    size_t best_d = 0;
    std::vector<bool> best_left;
    for (size_t d : decisions) {
      const size_t k = static_cast<size_t>(card_[d]);
      std::vector<double> s(k, 0.0);
      std::vector<int64_t> c(k, 0);
      for (size_t r : rows) {
        s[static_cast<size_t>(x_[r][d])] += y_[r];
        ++c[static_cast<size_t>(x_[r][d])];
      }
      std::vector<size_t> present;
      for (size_t v = 0; v < k; ++v)
        if (c[v] > 0) present.push_back(v);
      if (present.size() < 2) continue;
      std::sort(present.begin(), present.end(), [&](size_t a, size_t b) { return s[a] / c[a] < s[b] / c[b]; });
      double ls = 0;
      int64_t lc = 0;
      for (size_t i = 0; i + 1 < present.size(); ++i) {
        ls += s[present[i]];
        lc += c[present[i]];
        const int64_t rc = static_cast<int64_t>(rows.size()) - lc;
        if (lc < o_.min_leaf || rc < o_.min_leaf) continue;
        const double rs = sum - ls;
        const double gain = ls * ls / static_cast<double>(lc) + rs * rs / static_cast<double>(rc) - sum * sum / n;
        if (gain > best_gain) {
          best_gain = gain;
          best_d = d;
          best_left.assign(k, false);
          for (size_t j = 0; j <= i; ++j) best_left[present[j]] = true;
          // Options absent here go with the larger side.
          const bool left_larger = lc >= rc;
          for (size_t v = 0; v < k; ++v)
            if (c[v] == 0) best_left[v] = left_larger;
        }
      }
    }
    if (best_left.empty()) {
      leaves_.push_back({box, mean});
      return;
    }
    std::vector<size_t> left, right;
    for (size_t r : rows) (best_left[static_cast<size_t>(x_[r][best_d])] ? left : right).push_back(r);
    std::vector<std::vector<bool>> lbox = box, rbox = box;
    for (size_t v = 0; v < best_left.size(); ++v) {
      lbox[best_d][v] = box[best_d][v] && best_left[v];
      rbox[best_d][v] = box[best_d][v] && !best_left[v];
    }
    grow(left, lbox, depth + 1);
    grow(right, rbox, depth + 1);
  }

  const std::vector<std::vector<int>>& x_;
  const std::vector<double>& y_;
  const std::vector<int>& card_;
  const ImportanceOptions& o_;
  Rng& rng_;
  std::vector<Leaf> leaves_;
};

// One tree's exact decomposition under the uniform distribution over the space: the share of
// variance of each decision's main effect, and its per-option effect.
struct TreeAnova {
  std::vector<double> share;                // [decision]
  std::vector<std::vector<double>> effect;  // [decision][option]
};

TreeAnova decompose(const std::vector<Leaf>& leaves, const std::vector<int>& card) {
  const size_t dims = card.size();
  // Each leaf's probability mass and its share along each decision.
  std::vector<double> mass(leaves.size(), 1.0);
  std::vector<std::vector<double>> frac(leaves.size(), std::vector<double>(dims, 0.0));
  for (size_t l = 0; l < leaves.size(); ++l)
    for (size_t d = 0; d < dims; ++d) {
      const auto& a = leaves[l].allowed[d];
      frac[l][d] = static_cast<double>(std::count(a.begin(), a.end(), true)) / static_cast<double>(card[d]);
      mass[l] *= frac[l][d];
    }
  double mean = 0, second = 0;
  for (size_t l = 0; l < leaves.size(); ++l) {
    mean += mass[l] * leaves[l].value;
    second += mass[l] * leaves[l].value * leaves[l].value;
  }
  const double total = std::max(0.0, second - mean * mean);
  TreeAnova t;
  t.share.assign(dims, 0.0);
  t.effect.resize(dims);
  for (size_t d = 0; d < dims; ++d) {
    t.effect[d].assign(static_cast<size_t>(card[d]), 0.0);
    double var = 0;
    for (size_t v = 0; v < static_cast<size_t>(card[d]); ++v) {
      // The mean prediction with decision d fixed to option v: the other decisions' mass only.
      double a = 0;
      for (size_t l = 0; l < leaves.size(); ++l)
        if (leaves[l].allowed[d][v] && frac[l][d] > 0) a += leaves[l].value * mass[l] / frac[l][d];
      t.effect[d][v] = a - mean;
      var += (a - mean) * (a - mean);
    }
    var /= static_cast<double>(card[d]);
    t.share[d] = total > 1e-15 ? var / total : 0.0;
  }
  return t;
}

}  // namespace

nlohmann::json DecisionImportance::to_json() const {
  nlohmann::json opts = nlohmann::json::array();
  for (size_t v = 0; v < options.size(); ++v)
    opts.push_back(
        {{"option", options[v]}, {"effect", effect[v]}, {"effect_std", effect_std[v]}, {"trials", trials[v]}});
  return {{"decision", name}, {"importance", importance}, {"importance_std", importance_std}, {"options", opts}};
}

std::vector<DecisionImportance> fanova_importance(const std::vector<std::vector<int>>& x, const std::vector<double>& y,
                                                  const std::vector<std::string>& names,
                                                  const std::vector<std::vector<std::string>>& options,
                                                  const ImportanceOptions& o) {
  NASCENT_CHECK(x.size() == y.size(), "fanova_importance: one objective value per trial");
  NASCENT_CHECK(names.size() == options.size(), "fanova_importance: options for every decision");
  std::vector<int> card;
  for (const auto& opts : options) card.push_back(std::max<int>(1, static_cast<int>(opts.size())));
  std::vector<DecisionImportance> out(names.size());
  for (size_t d = 0; d < names.size(); ++d) {
    out[d].name = names[d];
    out[d].options = options[d];
    out[d].effect.assign(options[d].size(), 0.0);
    out[d].effect_std.assign(options[d].size(), 0.0);
    out[d].trials.assign(options[d].size(), 0);
  }
  for (const auto& row : x) {
    NASCENT_CHECK(row.size() == names.size(), "fanova_importance: one option per decision");
    for (size_t d = 0; d < row.size(); ++d) {
      NASCENT_CHECK(row[d] >= 0 && row[d] < card[d], "fanova_importance: option index out of range");
      ++out[d].trials[static_cast<size_t>(row[d])];
    }
  }
  const bool constant = std::all_of(y.begin(), y.end(), [&](double v) { return v == y.front(); });
  if (x.size() < 4 || constant) return out;

  Rng rng = Rng::derive(o.seed, "fanova");
  TreeBuilder builder(x, y, card, o, rng);
  std::vector<TreeAnova> trees;
  for (int t = 0; t < o.trees; ++t) {
    std::vector<size_t> rows(x.size());
    for (auto& r : rows) r = static_cast<size_t>(rng.below(x.size()));  // bootstrap
    trees.push_back(decompose(builder.build(rows), card));
  }
  const double n = static_cast<double>(trees.size());
  for (size_t d = 0; d < names.size(); ++d) {
    double s = 0, s2 = 0;
    for (const auto& t : trees) {
      s += t.share[d];
      s2 += t.share[d] * t.share[d];
    }
    out[d].importance = s / n;
    out[d].importance_std = std::sqrt(std::max(0.0, s2 / n - (s / n) * (s / n)));
    for (size_t v = 0; v < out[d].effect.size(); ++v) {
      double e = 0, e2 = 0;
      for (const auto& t : trees) {
        e += t.effect[d][v];
        e2 += t.effect[d][v] * t.effect[d][v];
      }
      out[d].effect[v] = e / n;
      out[d].effect_std[v] = std::sqrt(std::max(0.0, e2 / n - (e / n) * (e / n)));
    }
  }
  std::stable_sort(out.begin(), out.end(), [](const DecisionImportance& a, const DecisionImportance& b) {
    return a.importance > b.importance;
  });
  return out;
}

}  // namespace nascent::run
