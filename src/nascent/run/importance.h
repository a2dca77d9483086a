// Which decisions mattered: functional ANOVA on a random forest (Hutter, Hoos & Leyton-Brown
// 2014, "An efficient approach for assessing hyperparameter importance"), as Optuna's
// FanovaImportanceEvaluator does. A forest of regression trees learns the objective from the
// finished trials; for each tree, the share of its prediction's variance over the whole space
// (every combination of options equally likely) that one decision explains alone is computed
// exactly from the leaves' boxes; the importance is its mean over the trees, with the spread over
// the trees as the uncertainty. Decisions are categorical; a decision that is inactive in an
// architecture (its condition does not hold) counts as one more option, "(inactive)".
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace nascent::run {

struct ImportanceOptions {
  int trees = 64;      // trees in the forest (each on a bootstrap sample of the trials)
  int max_depth = 16;  // deepest split
  int min_leaf = 2;    // fewest trials in a leaf
  // Share of the decisions considered at each split (at least one). 1, as scikit-learn's forest
  // regressor (and so Optuna's fANOVA) does: with fewer, splits on irrelevant decisions where the
  // relevant one is not a candidate leak variance to them.
  double feature_fraction = 1.0;
  uint64_t seed = 0;  // bootstrap samples and split candidates
};

struct DecisionImportance {
  std::string name;
  double importance = 0;      // mean over trees of the share of variance explained by this decision alone
  double importance_std = 0;  // its standard deviation over the trees
  std::vector<std::string> options;
  std::vector<double> effect;      // per option: the marginal prediction minus the overall mean (objective units)
  std::vector<double> effect_std;  // over the trees
  std::vector<int64_t> trials;     // trials that had this option
  nlohmann::json to_json() const;
};

// x[t][d]: the option index of decision d in trial t (0 .. options[d].size() - 1); y[t]: the
// objective (larger or smaller better alike: variance has no direction). Returns one entry per
// decision, most important first. Fewer than 4 trials, or a constant objective: every importance 0.
std::vector<DecisionImportance> fanova_importance(const std::vector<std::vector<int>>& x, const std::vector<double>& y,
                                                  const std::vector<std::string>& names,
                                                  const std::vector<std::vector<std::string>>& options,
                                                  const ImportanceOptions& o = {});

}  // namespace nascent::run
