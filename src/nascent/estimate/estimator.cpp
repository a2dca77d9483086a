#include "nascent/estimate/estimator.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

#include "nascent/core/config.h"
#include "nascent/core/error.h"
#include "nascent/estimate/proxies.h"
#include "nascent/estimate/proxy_evaluator.h"
#include "nascent/estimate/synthetic_evaluator.h"
#include "nascent/estimate/table_evaluator.h"

namespace nascent::estimate {

EstimatorOptions EstimatorOptions::from_config(ConfigSection& sec) {
  EstimatorOptions o;
  o.file = sec.file();
  o.name = sec.get_string("name", o.name);
  if (o.name.rfind("proxy:", 0) == 0) {
    if (!is_proxy(o.proxy()))
      sec.fail("name", fmt::format("unknown proxy '{}'; known: {}", o.proxy(), fmt::join(proxy_names(), ", ")));
  } else if (o.name != "train" && o.name != "table" && o.name != "synthetic") {
    sec.fail("name",
             fmt::format("unknown estimator '{}'; expected train, table, synthetic or proxy:NAME with NAME one of {}",
                         o.name, fmt::join(proxy_names(), ", ")));
  }
  o.table = sec.get_string("table", o.table);
  if (o.name == "table" && o.table.empty()) sec.fail("table", "estimator table needs the CSV file of measured results");
  o.cost_seconds = sec.get_double("cost_seconds", o.cost_seconds, 0, 86400);
  o.batch_size = sec.get_int("batch_size", o.batch_size, 2, 100000);
  sec.finish();
  return o;
}

std::string EstimatorOptions::proxy() const { return name.rfind("proxy:", 0) == 0 ? name.substr(6) : ""; }

Objective estimator_objective(const EstimatorOptions& o, const Objective& configured, bool has_metrics,
                              const std::string& file) {
  const std::string proxy = o.proxy();
  if (proxy.empty()) return configured;
  if (!has_metrics) return Objective({{proxy, true}}, configured.constraints());
  std::vector<std::string> measured = {proxy, "params", "flops", "memory_mb", "proxy_seconds"};
  if (o.latency.enabled) measured.insert(measured.end(), latency_metric_names().begin(), latency_metric_names().end());
  for (const auto& m : configured.metrics())
    if (std::find(measured.begin(), measured.end(), m.name) == measured.end())
      throw InputError(file, "objective.metrics",
                       fmt::format("'{}' is never measured by estimator {}; it measures {}", m.name, o.name,
                                   fmt::join(measured, ", ")));
  return configured;
}

std::unique_ptr<Evaluator> make_evaluator(const EstimatorOptions& o, const space::SearchSpace& space,
                                          const data::TaskData& data, const TrainOptions& train,
                                          const Objective& objective) {
  if (!o.proxy().empty())
    return std::make_unique<ProxyEvaluator>(space, data, ProxyOptions{o.proxy(), o.batch_size}, objective, o.latency);
  if (o.name == "table") return std::make_unique<TableEvaluator>(space, o.table, objective);
  if (o.name == "synthetic") return std::make_unique<SyntheticEvaluator>(space, o.cost_seconds, objective);
  return std::make_unique<TrainingEvaluator>(space, data, train, objective, o.latency);
}

}  // namespace nascent::estimate
