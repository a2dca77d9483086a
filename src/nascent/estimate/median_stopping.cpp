#include "nascent/estimate/median_stopping.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

#include "nascent/core/config.h"

namespace nascent::estimate {

EarlyStoppingOptions EarlyStoppingOptions::from_config(ConfigSection& sec) {
  EarlyStoppingOptions o;
  o.rule = sec.get_choice("rule", o.rule, {"none", "median"});
  o.grace_epochs = sec.get_int("grace_epochs", o.grace_epochs, 1, 100000);
  o.min_trials = sec.get_int("min_trials", o.min_trials, 1, 100000);
  sec.finish();
  return o;
}

std::string curve_metric(int64_t epoch) { return fmt::format("val_accuracy_epoch_{}", epoch); }

std::vector<double> learning_curve(const Trial& t) {
  std::vector<double> c;
  for (int64_t k = 1;; ++k) {
    auto v = t.metric(curve_metric(k));
    if (!v) return c;
    c.push_back(*v);
  }
}

std::vector<double> median_curve(const std::vector<Trial>& done, const Fidelity& f, int64_t min_trials) {
  std::vector<std::vector<double>> at;  // at[k - 1]: values at epoch k
  for (const auto& t : done) {
    if (t.status != TrialStatus::kOk || t.worker == "reused" || t.proposal.fidelity != f) continue;
    const std::vector<double> c = learning_curve(t);
    if (at.size() < c.size()) at.resize(c.size());
    for (size_t k = 0; k < c.size(); ++k) at[k].push_back(c[k]);
  }
  std::vector<double> median;
  for (auto& v : at) {
    if (static_cast<int64_t>(v.size()) < min_trials) {
      median.push_back(std::numeric_limits<double>::quiet_NaN());
      continue;
    }
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    median.push_back(n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]));
  }
  while (!median.empty() && std::isnan(median.back())) median.pop_back();
  return median;
}

nlohmann::json median_curve_to_json(const std::vector<double>& median) {
  nlohmann::json j = nlohmann::json::array();
  for (double m : median) j.push_back(std::isnan(m) ? nlohmann::json(nullptr) : nlohmann::json(m));
  return j;
}

std::vector<double> median_curve_from_json(const nlohmann::json& j) {
  std::vector<double> m;
  if (!j.is_array()) return m;
  for (const auto& v : j) m.push_back(v.is_number() ? v.get<double>() : std::numeric_limits<double>::quiet_NaN());
  return m;
}

std::optional<std::string> median_stop(const std::vector<double>& curve, const std::vector<double>& median,
                                       const EarlyStoppingOptions& o) {
  const int64_t k = static_cast<int64_t>(curve.size());
  if (!o.enabled() || k < o.grace_epochs || k == 0 || k > static_cast<int64_t>(median.size())) return std::nullopt;
  const double ref = median[static_cast<size_t>(k - 1)];
  if (std::isnan(ref)) return std::nullopt;
  const double best = *std::max_element(curve.begin(), curve.end());
  if (best >= ref) return std::nullopt;
  return fmt::format("median stopping after epoch {}: best val_accuracy {:.4f} < median {:.4f} of earlier trials", k,
                     best, ref);
}

}  // namespace nascent::estimate
