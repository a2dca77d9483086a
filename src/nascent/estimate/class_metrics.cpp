#include "nascent/estimate/class_metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "nascent/core/error.h"

namespace nascent::estimate {

double auroc(const std::vector<double>& scores, const std::vector<bool>& positive) {
  NASCENT_CHECK(scores.size() == positive.size(), "auroc: one label per score");
  const size_t n = scores.size();
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return scores[a] < scores[b]; });
  // Sum of the positives' ranks, tied scores sharing their average rank.
  double rank_sum = 0;
  int64_t pos = 0;
  for (size_t i = 0; i < n;) {
    size_t j = i;
    while (j < n && scores[order[j]] == scores[order[i]]) ++j;
    const double avg_rank = (static_cast<double>(i + 1) + static_cast<double>(j)) / 2.0;
    for (size_t k = i; k < j; ++k)
      if (positive[order[k]]) {
        rank_sum += avg_rank;
        ++pos;
      }
    i = j;
  }
  const int64_t neg = static_cast<int64_t>(n) - pos;
  if (pos == 0 || neg == 0) return std::numeric_limits<double>::quiet_NaN();
  const double u = rank_sum - static_cast<double>(pos) * static_cast<double>(pos + 1) / 2.0;
  return u / (static_cast<double>(pos) * static_cast<double>(neg));
}

ClassMetrics class_metrics(const std::vector<int64_t>& labels, const std::vector<float>& probabilities,
                           int64_t classes) {
  NASCENT_CHECK(classes >= 2, "class_metrics: at least two classes");
  const size_t n = labels.size(), k = static_cast<size_t>(classes);
  NASCENT_CHECK(probabilities.size() == n * k, "class_metrics: [n, classes] probabilities");
  ClassMetrics m;
  m.confusion.assign(k, std::vector<int64_t>(k, 0));
  std::vector<int64_t> predicted_count(k, 0);
  int64_t correct = 0;
  for (size_t i = 0; i < n; ++i) {
    const float* p = probabilities.data() + i * k;
    const size_t pred = static_cast<size_t>(std::max_element(p, p + k) - p);
    const size_t truth = static_cast<size_t>(labels[i]);
    NASCENT_CHECK(truth < k, "class_metrics: label out of range");
    ++m.confusion[truth][pred];
    ++predicted_count[pred];
    if (pred == truth) ++correct;
  }
  m.accuracy = n ? static_cast<double>(correct) / static_cast<double>(n) : 0;
  m.support.assign(k, 0);
  m.precision.assign(k, 0);
  m.recall.assign(k, 0);
  m.f1.assign(k, 0);
  double recall_sum = 0, f1_sum = 0;
  int64_t present = 0, present_or_predicted = 0;
  for (size_t c = 0; c < k; ++c) {
    for (size_t j = 0; j < k; ++j) m.support[c] += m.confusion[c][j];
    const double tp = static_cast<double>(m.confusion[c][c]);
    if (predicted_count[c] > 0) m.precision[c] = tp / static_cast<double>(predicted_count[c]);
    if (m.support[c] > 0) m.recall[c] = tp / static_cast<double>(m.support[c]);
    if (m.precision[c] + m.recall[c] > 0) m.f1[c] = 2 * m.precision[c] * m.recall[c] / (m.precision[c] + m.recall[c]);
    if (m.support[c] > 0) {
      recall_sum += m.recall[c];
      ++present;
    }
    if (m.support[c] > 0 || predicted_count[c] > 0) {
      f1_sum += m.f1[c];
      ++present_or_predicted;
    }
  }
  m.balanced_accuracy = present ? recall_sum / static_cast<double>(present) : 0;
  m.macro_f1 = present_or_predicted ? f1_sum / static_cast<double>(present_or_predicted) : 0;
  // AUROC: binary on the second class's probability; else the mean one-vs-rest AUROC of the
  // classes that have both positives and negatives.
  std::vector<double> scores(n);
  std::vector<bool> positive(n);
  auto one_vs_rest = [&](size_t c) {
    for (size_t i = 0; i < n; ++i) {
      scores[i] = probabilities[i * k + c];
      positive[i] = static_cast<size_t>(labels[i]) == c;
    }
    return auroc(scores, positive);
  };
  if (k == 2) {
    m.auroc = one_vs_rest(1);
  } else {
    double sum = 0;
    int64_t used = 0;
    for (size_t c = 0; c < k; ++c) {
      const double a = one_vs_rest(c);
      if (std::isnan(a)) continue;
      sum += a;
      ++used;
    }
    m.auroc = used ? sum / static_cast<double>(used) : std::numeric_limits<double>::quiet_NaN();
  }
  return m;
}

nlohmann::json ClassMetrics::to_json(const std::vector<std::string>& class_names) const {
  auto name = [&](size_t c) { return c < class_names.size() ? class_names[c] : std::to_string(c); };
  nlohmann::json per_class = nlohmann::json::array();
  nlohmann::json names = nlohmann::json::array();
  for (size_t c = 0; c < confusion.size(); ++c) {
    names.push_back(name(c));
    per_class.push_back({{"name", name(c)},
                         {"precision", precision[c]},
                         {"recall", recall[c]},
                         {"f1", f1[c]},
                         {"support", support[c]}});
  }
  return {{"accuracy", accuracy},  {"balanced_accuracy", balanced_accuracy},
          {"macro_f1", macro_f1},  {"auroc", std::isnan(auroc) ? nlohmann::json() : nlohmann::json(auroc)},
          {"classes", names},      {"per_class", per_class},
          {"confusion", confusion}};
}

}  // namespace nascent::estimate
