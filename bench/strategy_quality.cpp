// Search-strategy quality on a synthetic objective with a known optimum (quality/
// table_objective.h): every strategy runs for N evaluations on many seeds through ask/tell
// directly (no training, no store); the table gives the true value of the architecture each run
// would pick (best observed), its regret to the optimum and the ratio of mean regrets to random
// search in the same run. nsga2 and random are also compared by hypervolume on (value, cost).
// Writes bench/results/strategy_quality.{json,md}.
//
//   build/bench/strategy_quality [--space chain] [--seeds 20] [--budgets 100,300]
//       [--strategies random,evolution,...] [--set reinforce.lr=0.01 ...] [--table-seed 0]
#include <fmt/format.h>
#include <torch/torch.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cmath>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "nascent/core/config.h"
#include "nascent/space/registry.h"
#include "nascent/strategy/strategy.h"
#include "quality/table_objective.h"

namespace {

using namespace nascent;

struct Run {
  double value = 0;  // truth of the best observed architecture
  double hv = 0;     // hypervolume of the observed front (multi-objective runs)
  double seconds = 0;
};

struct Setup {
  const space::SearchSpace* space;
  const bench::TableObjective* table;
  nlohmann::json options;  // strategy name -> options object
};

Run run_once(const Setup& s, const std::string& name, uint64_t seed, int budget, bool multi) {
  const auto t0 = std::chrono::steady_clock::now();
  Objective objective = multi ? Objective({{"score", true}, {"params", false}}, {}) : Objective({{"score", true}}, {});
  strategy::StrategyContext ctx{s.space, objective, Fidelity{}, seed, budget};
  ConfigSection o(s.options.value(name, nlohmann::json::object()), "strategy." + name, "strategy_quality");
  auto strat = strategy::make_strategy(name, o, ctx);
  Rng noise = Rng::derive(seed, "bench/noise");
  std::map<std::string, double> observed;  // like the runner's reuse of stored results
  std::vector<Trial> trials;
  for (int i = 0; i < budget; ++i) {
    auto p = strat->ask();
    if (!p) break;  // sequential ask/tell: nothing is pending, so the strategy is done
    const std::string h = s.space->hash(p->arch);
    auto it = observed.find(h);
    if (it == observed.end()) it = observed.emplace(h, s.table->observe(p->arch, noise)).first;
    Trial t;
    t.id = i + 1;
    t.proposal = *p;
    t.status = TrialStatus::kOk;
    t.metrics = {{"score", it->second}, {"params", s.table->cost(p->arch)}};
    strat->tell(t);
    trials.push_back(t);
  }
  Run r;
  if (auto b = objective.best(trials)) r.value = s.table->truth(trials[*b].proposal.arch);
  if (multi) {
    std::vector<std::pair<double, double>> front;
    for (size_t i : objective.pareto_front(trials))
      front.emplace_back(s.table->truth(trials[i].proposal.arch), s.table->cost(trials[i].proposal.arch));
    r.hv = bench::hypervolume(front);
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

struct Stats {
  double mean = 0, sd = 0;
};
Stats stats(const std::vector<double>& v) {
  Stats s;
  for (double x : v) s.mean += x / static_cast<double>(v.size());
  for (double x : v) s.sd += (x - s.mean) * (x - s.mean) / static_cast<double>(std::max<size_t>(1, v.size() - 1));
  s.sd = std::sqrt(s.sd);
  return s;
}

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    const size_t end = s.find(',', start);
    out.push_back(s.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Search-strategy quality on a synthetic objective with a known optimum"};
  std::string space_name = "chain", strategies = "random,evolution,local,reinforce,bananas,nsga2";
  std::string budgets_text = "100,300", out = std::string(NASCENT_SOURCE_DIR) + "/bench/results/strategy_quality";
  std::string tuning_note = "defaults";
  int seeds = 20;
  std::vector<std::string> sets;
  bench::TableOptions topt;
  app.add_option("--space", space_name, "registered space to search");
  app.add_option("--strategies", strategies, "comma-separated; random is always run as the reference");
  app.add_option("--budgets", budgets_text, "evaluations per run, comma-separated");
  app.add_option("--seeds", seeds, "runs per strategy and budget (seeds 0..N-1)");
  app.add_option("--set", sets, "strategy option override NAME.KEY=VALUE (YAML value)");
  app.add_option("--table-seed", topt.seed, "seed of the objective's table");
  app.add_option("--noise", topt.noise, "observation noise as a fraction of the value's spread");
  app.add_option("--band", topt.band, "decisions up to this far apart interact");
  app.add_option("--note", tuning_note, "how the strategies' options were chosen (written to the results)");
  app.add_option("--out", out, "output path without extension (.json and .md are written)");
  CLI11_PARSE(app, argc, argv);
  torch::set_num_threads(1);

  auto space = space::make_space(space_name);
  const bench::TableObjective table(*space, topt);
  nlohmann::json options = nlohmann::json::object();
  for (const auto& s : sets) apply_override(options, s);
  Setup setup{space.get(), &table, options};
  std::vector<std::string> names = split(strategies);
  names.erase(std::remove(names.begin(), names.end(), "random"), names.end());
  names.insert(names.begin(), "random");
  std::vector<int> budgets;
  for (const auto& b : split(budgets_text)) budgets.push_back(std::stoi(b));

  fmt::print("space {} ({:.3g} architectures); optimum: {}; noise sd {:.3f} (random architectures: sd {:.3f})\n",
             space_name, space->size(), table.optimum_method(), table.noise_sd(), table.random_sd());
  fmt::print(
      "value: 0 = mean random architecture, 1 = optimum; regret = 1 - value; ratio = mean regret / random's\n\n");
  nlohmann::json rows = nlohmann::json::array(), mo_rows = nlohmann::json::array();
  std::string md_rows, md_mo;
  for (int budget : budgets) {
    double random_regret = 0;
    std::vector<double> random_values;
    for (const auto& name : names) {
      std::vector<double> values, regrets, secs;
      for (int seed = 0; seed < seeds; ++seed) {
        const Run r = run_once(setup, name, static_cast<uint64_t>(seed), budget, false);
        values.push_back(r.value);
        regrets.push_back(1 - r.value);
        secs.push_back(r.seconds);
      }
      const Stats v = stats(values), g = stats(regrets), t = stats(secs);
      if (name == "random") random_regret = g.mean, random_values = values;
      int wins = 0;
      for (int i = 0; i < seeds; ++i) wins += values[i] > random_values[i];
      const double ratio = g.mean / random_regret;
      fmt::print(
          "N={:<4} {:<10} value {:.3f} ± {:.3f}   regret {:.3f} ± {:.3f}   ratio {:.2f}   beats random on {:>2}/{} "
          "seeds   {:.2f} s/run\n",
          budget, name, v.mean, v.sd, g.mean, g.sd, ratio, wins, seeds, t.mean);
      rows.push_back({{"budget", budget},
                      {"strategy", name},
                      {"value_mean", v.mean},
                      {"value_std", v.sd},
                      {"regret_mean", g.mean},
                      {"regret_std", g.sd},
                      {"regret_ratio_to_random", ratio},
                      {"seeds_better_than_random", wins},
                      {"seconds_per_run", t.mean}});
      const std::string better = name == "random" ? "(reference)" : fmt::format("{}/{}", wins, seeds);
      md_rows += fmt::format("| {} | {} | {:.3f} ± {:.3f} | {:.3f} ± {:.3f} | {:.2f} | {} | {:.2f} |\n", budget, name,
                             v.mean, v.sd, g.mean, g.sd, ratio, better, t.mean);
    }
    double random_hv = 0;
    for (const std::string name : {"random", "nsga2"}) {
      if (name != "random" && std::find(names.begin(), names.end(), name) == names.end()) continue;
      std::vector<double> hvs;
      for (int seed = 0; seed < seeds; ++seed)
        hvs.push_back(run_once(setup, name, static_cast<uint64_t>(seed), budget, true).hv);
      const Stats h = stats(hvs);
      if (name == "random") random_hv = h.mean;
      fmt::print("N={:<4} {:<10} hypervolume (value, cost) {:.3f} ± {:.3f}   ratio to random {:.2f}\n", budget, name,
                 h.mean, h.sd, h.mean / random_hv);
      mo_rows.push_back({{"budget", budget},
                         {"strategy", name},
                         {"hypervolume_mean", h.mean},
                         {"hypervolume_std", h.sd},
                         {"ratio_to_random", h.mean / random_hv}});
      md_mo += fmt::format("| {} | {} | {:.3f} ± {:.3f} | {:.2f} |\n", budget, name, h.mean, h.sd, h.mean / random_hv);
    }
    fmt::print("\n");
  }

  nlohmann::json j = {{"benchmark", "strategy_quality"},
                      {"space", space_name},
                      {"space_size", space->size()},
                      {"table",
                       {{"seed", topt.seed},
                        {"band", topt.band},
                        {"interaction", topt.interaction},
                        {"noise", topt.noise},
                        {"cost_link", topt.cost_link},
                        {"optimum", table.optimum_method()},
                        {"noise_sd", table.noise_sd()},
                        {"random_sd", table.random_sd()}}},
                      {"seeds", seeds},
                      {"strategy_options", options},
                      {"tuning", tuning_note},
                      {"single_objective", rows},
                      {"multi_objective", mo_rows}};
  std::ofstream(out + ".json") << j.dump(2) << "\n";
  std::ofstream md(out + ".md");
  md << fmt::format(
      "# Strategy quality on `{}`\n\n"
      "Synthetic objective (`bench/quality/table_objective.h`): table seed {}, per-decision effects plus "
      "interactions between decisions up to {} apart (scale {}), observation noise {} of the spread of random "
      "architectures. Optimum: {}. Value 0 = mean random architecture, 1 = optimum; a run's value is the true "
      "value of the architecture it observed as best; regret = 1 - value; ratio = mean regret / random search's "
      "mean regret (below 1 beats random). {} seeds per cell. Strategy options: {}. Tuning: {}.\n\n"
      "| N | strategy | value (mean ± std) | regret (mean ± std) | regret ratio to random | seeds better than "
      "random | s/run |\n| --- | --- | --- | --- | --- | --- | --- |\n{}\n"
      "## Two objectives: maximise value, minimise cost\n\n"
      "Hypervolume of the observed Pareto front, computed on true values and normalised cost, reference point "
      "(value 0, cost 1).\n\n| N | strategy | hypervolume (mean ± std) | ratio to random |\n| --- | --- | --- | --- "
      "|\n{}",
      space_name, topt.seed, topt.band, topt.interaction, topt.noise, table.optimum_method(), seeds,
      options.empty() ? "defaults" : options.dump(), tuning_note, md_rows, md_mo);
  fmt::print("wrote {}.json and {}.md\n", out, out);
  return 0;
}
