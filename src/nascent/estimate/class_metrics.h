// Classification metrics beyond accuracy, for imbalanced data: the confusion matrix, per-class
// precision and recall, balanced accuracy, macro-F1 and AUROC (binary, or the macro average of
// one-vs-rest for several classes). Definitions follow scikit-learn's, so numbers compare.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace nascent::estimate {

struct ClassMetrics {
  std::vector<std::vector<int64_t>> confusion;  // [true class][predicted class]
  std::vector<int64_t> support;                 // examples of each true class
  std::vector<double> precision, recall, f1;    // per class; 0 where undefined (nothing predicted / present)
  double accuracy = 0;
  double balanced_accuracy = 0;  // mean recall over the classes present in the labels
  double macro_f1 = 0;           // mean F1 over the classes present in the labels or the predictions
  double auroc = 0;              // NaN when no class has both positives and negatives

  // {"accuracy", "balanced_accuracy", "macro_f1", "auroc", "per_class": [{name, precision, recall,
  // f1, support}], "confusion": [[...]], "classes": [...]}; a NaN AUROC is null.
  nlohmann::json to_json(const std::vector<std::string>& class_names) const;
};

// From true labels (0..classes-1) and the predicted probabilities, row-major [n, classes]; the
// predicted class is the most probable one (the first on ties).
ClassMetrics class_metrics(const std::vector<int64_t>& labels, const std::vector<float>& probabilities,
                           int64_t classes);

// Area under the ROC curve of `scores` for the examples where `positive` is true against the
// rest: the Mann-Whitney statistic with tied scores counted one half. NaN without both kinds.
double auroc(const std::vector<double>& scores, const std::vector<bool>& positive);

}  // namespace nascent::estimate
