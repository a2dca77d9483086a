#include "nascent/run/experiment.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <torch/torch.h>

#include <set>
#include <thread>

#include "nascent/core/config.h"
#include "nascent/core/error.h"
#include "nascent/estimate/latency_table.h"
#include "nascent/space/registry.h"
#include "nascent/strategy/oneshot.h"

namespace nascent::run {

BudgetOptions BudgetOptions::from_config(ConfigSection& sec) {
  BudgetOptions o;
  o.max_trials = sec.get_int("max_trials", o.max_trials, 1, 10000000);
  o.time_minutes = sec.get_double("time_minutes", o.time_minutes, 0, 1e7);
  sec.finish();
  return o;
}

FinalOptions FinalOptions::from_config(ConfigSection& sec) {
  FinalOptions o;
  if (sec.has("epochs") && sec.node()["epochs"].is_string()) {
    if (sec.get_string("epochs", "") != "auto")
      sec.fail("epochs", "expected a number of epochs (0 = no final training) or auto");
    o.auto_epochs = true;
    o.epochs = 0;
  } else {
    o.epochs = sec.get_double("epochs", o.epochs, 0, 10000);
  }
  o.time_fraction = sec.get_double("time_fraction", o.time_fraction, 0.05, 0.95);
  o.min_epochs = sec.get_double("min_epochs", o.min_epochs, 0.1, 10000);
  o.max_epochs = sec.get_double("max_epochs", o.max_epochs, 0.1, 10000);
  if (o.max_epochs < o.min_epochs) sec.fail("max_epochs", "must be at least min_epochs");
  o.augment = sec.get_bool("augment", o.augment);
  o.label_smoothing = sec.get_double("label_smoothing", o.label_smoothing, -1, 0.5);
  o.cutout = sec.get_int("cutout", o.cutout, -1, 1024);
  {
    // A reevaluate section re-evaluates the 3 best unless it says otherwise.
    const bool given = sec.has("reevaluate");
    ConfigSection r = sec.child("reevaluate");
    o.reevaluate_top = r.get_int("top", given ? 3 : 0, 0, 100);
    o.reevaluate.epochs = r.get_double("epochs", o.reevaluate.epochs, 0.05, 10000);
    o.reevaluate.data_fraction = r.get_double("data_fraction", o.reevaluate.data_fraction, 0.001, 1);
    r.finish();
  }
  o.pareto = sec.get_int("pareto", o.pareto, 0, 100);
  if (sec.has("ranks") && sec.node()["ranks"].is_string()) {
    if (sec.get_string("ranks", "") != "all")
      sec.fail("ranks", "expected all or a number of MPI ranks (1 = rank 0 alone)");
    o.ranks = 0;
  } else {
    o.ranks = sec.get_int("ranks", o.ranks, 1, 1000000);
  }
  sec.finish();
  return o;
}

estimate::TrainOptions FinalOptions::apply(estimate::TrainOptions train) const {
  train.augment = augment;
  if (label_smoothing >= 0) train.label_smoothing = label_smoothing;
  if (cutout >= 0) train.cutout = cutout;
  return train;
}

RunOptions RunOptions::from_config(ConfigSection& sec) {
  RunOptions o;
  o.workers = sec.get_int("workers", o.workers, 1, 1024);
  o.threads = sec.get_int("threads", o.threads, 0, 1024);
  sec.finish();
  return o;
}

int RunOptions::threads_per_worker() const {
  if (threads > 0) return static_cast<int>(threads);
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  return std::max(1, cores / static_cast<int>(workers));
}

Fidelity fidelity_from_config(ConfigSection& sec) {
  Fidelity f;
  f.epochs = sec.get_double("epochs", 1, 0.01, 10000);
  f.data_fraction = sec.get_double("data_fraction", 1, 1e-4, 1);
  f.resolution = static_cast<int>(sec.get_int("resolution", 0, 0, 4096));
  if (f.resolution != 0 && f.resolution < 4) sec.fail("resolution", "expected 0 (the data's own) or at least 4");
  f.width_mult = sec.get_double("width_mult", 1, 0.05, 8);
  sec.finish();
  return f;
}

namespace {

// Reads `name` and validates every component section under a `space:` or `strategy:` section.
template <typename Validate>
std::string read_component_section(ConfigSection& sec, const std::string& def, const std::vector<std::string>& known,
                                   Validate validate, nlohmann::json& selected_options) {
  const std::string name = sec.get_string("name", def);
  if (std::find(known.begin(), known.end(), name) == known.end())
    sec.fail("name", fmt::format("unknown name '{}'; known: {}", name, fmt::join(known, ", ")));
  for (auto it = sec.node().begin(); it != sec.node().end(); ++it) {
    if (it.key() == "name") continue;
    if (std::find(known.begin(), known.end(), it.key()) == known.end())
      sec.fail(it.key(), fmt::format("unknown field; expected name or one of: {}", fmt::join(known, ", ")));
    ConfigSection child = sec.child(it.key());
    validate(it.key(), child);
  }
  selected_options = sec.node().contains(name) ? sec.node()[name] : nlohmann::json::object();
  sec.finish();
  return name;
}

}  // namespace

ExperimentConfig ExperimentConfig::parse(const nlohmann::json& raw, const std::string& file) {
  ExperimentConfig c;
  c.file = file;
  c.raw = raw;
  ConfigSection root(raw, "", file);
  c.seed = static_cast<uint64_t>(root.get_int("seed", 0, 0, INT64_MAX));
  {
    ConfigSection s = root.child("task");
    c.task = data::TaskOptions::from_config(s);
  }
  {
    ConfigSection s = root.child("space");
    std::vector<std::string> names;
    for (const auto& info : space::registered_spaces()) names.push_back(info.name);
    c.space_name = read_component_section(
        s, "chain", names, [](const std::string& n, ConfigSection& o) { space::make_space(n, o); }, c.space_options);
  }
  {
    ConfigSection s = root.child("fidelity");
    c.fidelity = fidelity_from_config(s);
  }
  {
    ConfigSection s = root.child("objective");
    c.objective = Objective::from_config(s);
    s.finish();
  }
  {
    // A proxy search optimises the proxy unless the config names its own metrics.
    ConfigSection s = root.child("estimator");
    c.estimator = estimate::EstimatorOptions::from_config(s);
    ConfigSection l = root.child("latency");
    c.estimator.latency = estimate::LatencyOptions::from_config(l);
    // The section (even empty), or a constraint or objective on latency, turns measuring on.
    c.estimator.latency.enabled = raw.contains("latency") || estimate::objective_needs_latency(c.objective);
    // A predicting search's table is read now, so a wrong path stops it before any trial.
    if (c.estimator.latency.enabled && c.estimator.latency.source != "measure")
      estimate::shared_latency_table(c.estimator.latency.table);
    const bool has_metrics =
        raw.contains("objective") && raw["objective"].is_object() && raw["objective"].contains("metrics");
    c.objective = estimate::estimator_objective(c.estimator, c.objective, has_metrics, file);
  }
  {
    ConfigSection s = root.child("budget");
    c.budget = BudgetOptions::from_config(s);
  }
  {
    ConfigSection s = root.child("final");
    c.final = FinalOptions::from_config(s);
    // Unset, a search still ends with a model: the epochs that fill the time budget, or a few.
    if (!(raw.contains("final") && raw["final"].is_object() && raw["final"].contains("epochs"))) {
      if (c.budget.time_minutes > 0)
        c.final.auto_epochs = true;
      else
        c.final.epochs = FinalOptions::kDefaultEpochs;
    }
    if (c.final.pareto > 0 && c.objective.metrics().size() < 2)
      throw InputError(file, "final.pareto",
                       "trains members of the Pareto front of several objective metrics; objective.metrics has one");
    if (c.final.auto_epochs && c.budget.time_minutes <= 0)
      throw InputError(file, "final.epochs",
                       "auto fills what is left of budget.time_minutes (--time-budget), which is not set; give a "
                       "number of epochs or a time budget");
  }
  {
    ConfigSection s = root.child("train");
    c.train = estimate::TrainOptions::from_config(s);
  }
  {
    ConfigSection s = root.child("early_stopping");
    c.train.early_stopping = estimate::EarlyStoppingOptions::from_config(s);
  }
  {
    ConfigSection s = root.child("run");
    c.run = RunOptions::from_config(s);
  }
  {
    ConfigSection s = root.child("scheduler");
    nlohmann::json selected;
    const std::string name = read_component_section(
        s, "none", {"none", "sha", "hyperband"},
        [](const std::string& n, ConfigSection& o) {
          if (n == "none") {
            o.finish();
          } else {
            schedule::SchedulerOptions::from_config(n, o);
          }
        },
        selected);
    ConfigSection o(selected, "scheduler." + name, file);
    if (name == "none") {
      o.finish();
    } else {
      c.scheduler = schedule::SchedulerOptions::from_config(name, o);
    }
  }
  {
    // Strategies are validated against the selected space (some options depend on it).
    ConfigSection s = root.child("strategy");
    std::vector<std::string> names;
    for (const auto& info : strategy::registered_strategies()) names.push_back(info.name);
    auto space = c.make_space();
    const strategy::StrategyContext ctx = c.strategy_context(*space);
    std::set<std::string> one_shot;  // of the strategies whose sections the config has
    c.strategy_name = read_component_section(
        s, "evolution", names,
        [&](const std::string& n, ConfigSection& o) {
          if (dynamic_cast<strategy::OneShotStrategy*>(strategy::make_strategy(n, o, ctx).get())) one_shot.insert(n);
        },
        c.strategy_options);
    ConfigSection p = root.child("prefilter");
    c.prefilter = schedule::PrefilterOptions::from_config(p);
    if (c.prefilter.on() && one_shot.count(c.strategy_name))
      throw InputError(file, "prefilter.proxy",
                       fmt::format("strategy {} derives its own architectures: a pre-filter needs a sampling "
                                   "strategy (random, evolution, reinforce, ...)",
                                   c.strategy_name));
    if (c.prefilter.on() && !c.estimator.proxy().empty())
      throw InputError(file, "prefilter.proxy",
                       "the estimator is already the zero-cost proxy " + c.estimator.proxy() +
                           ": pre-filter with estimator train or table");
  }
  root.finish();
  return c;
}

std::unique_ptr<space::SearchSpace> ExperimentConfig::make_space() const {
  ConfigSection o(space_options, "space." + space_name, file);
  return space::make_space(space_name, o);
}

strategy::StrategyContext ExperimentConfig::strategy_context(const space::SearchSpace& space) const {
  strategy::StrategyContext ctx{&space, objective, fidelity, seed, budget.max_trials};
  ctx.train = train;
  return ctx;
}

std::unique_ptr<strategy::Strategy> ExperimentConfig::make_strategy(const space::SearchSpace& space) const {
  return make_strategy(strategy_context(space));
}

std::unique_ptr<strategy::Strategy> ExperimentConfig::make_strategy(const strategy::StrategyContext& ctx) const {
  ConfigSection o(strategy_options, "strategy." + strategy_name, file);
  return schedule::with_scheduler(
      scheduler, ctx, schedule::with_prefilter(prefilter, ctx, strategy::make_strategy(strategy_name, o, ctx)));
}

void set_threads(int64_t threads) {
  const int n =
      threads > 0 ? static_cast<int>(threads) : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  torch::set_num_threads(n);
}

}  // namespace nascent::run
