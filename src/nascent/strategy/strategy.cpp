#include "nascent/strategy/strategy.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <limits>
#include <map>
#include <mutex>

#include "nascent/core/config.h"
#include "nascent/core/error.h"
#include "nascent/strategy/bananas.h"
#include "nascent/strategy/darts_search.h"
#include "nascent/strategy/evolution.h"
#include "nascent/strategy/fixed.h"
#include "nascent/strategy/gdas_search.h"
#include "nascent/strategy/local_search.h"
#include "nascent/strategy/nsga2.h"
#include "nascent/strategy/random_search.h"
#include "nascent/strategy/reinforce.h"
#include "nascent/strategy/spos_search.h"

namespace nascent::strategy {
namespace {

std::map<std::string, StrategyInfo>& table() {
  static std::map<std::string, StrategyInfo> t;
  static std::once_flag builtins;
  std::call_once(builtins, [] {
    t["random"] = {"random", "uniform random sampling without repeats (baseline)",
                   [](ConfigSection& o, const StrategyContext& c) {
                     return std::make_unique<RandomSearch>(c, RandomOptions::from_config(o));
                   }};
    t["evolution"] = {"evolution", "regularized (aging) evolution, Real et al. 2019",
                      [](ConfigSection& o, const StrategyContext& c) {
                        return std::make_unique<RegularizedEvolution>(c, EvolutionOptions::from_config(o));
                      }};
    t["reinforce"] = {"reinforce", "REINFORCE with an LSTM controller, Zoph & Le 2017 / ENAS",
                      [](ConfigSection& o, const StrategyContext& c) {
                        return std::make_unique<Reinforce>(c, ReinforceOptions::from_config(o));
                      }};
    t["nsga2"] = {"nsga2", "NSGA-II multi-objective evolution, Deb et al. 2002",
                  [](ConfigSection& o, const StrategyContext& c) {
                    return std::make_unique<Nsga2>(c, Nsga2Options::from_config(o));
                  }};
    t["local"] = {"local", "local search with restarts, White et al. 2021",
                  [](ConfigSection& o, const StrategyContext& c) {
                    return std::make_unique<LocalSearch>(c, LocalSearchOptions::from_config(o));
                  }};
    t["bananas"] = {"bananas", "BANANAS: MLP-ensemble Bayesian optimisation, White et al. 2021",
                    [](ConfigSection& o, const StrategyContext& c) {
                      return std::make_unique<Bananas>(c, BananasOptions::from_config(o));
                    }};
    t["fixed"] = {"fixed", "the architectures listed in strategy.fixed.archs, in order (baselines, re-evaluation)",
                  [](ConfigSection& o, const StrategyContext& c) {
                    const std::string file = o.file();
                    return std::make_unique<FixedList>(c, FixedOptions::from_config(o), file);
                  }};
    t["darts"] = {"darts", "DARTS supernet search (first/second order, beta-DARTS or DARTS- remedy), Liu et al. 2019",
                  [](ConfigSection& o, const StrategyContext& c) {
                    return std::make_unique<DartsSearch>(c, DartsSearchOptions::from_config(o));
                  }};
    t["gdas"] = {"gdas", "GDAS: Gumbel-softmax single-path supernet search, Dong & Yang 2019",
                 [](ConfigSection& o, const StrategyContext& c) {
                   return std::make_unique<GdasSearch>(c, GdasSearchOptions::from_config(o));
                 }};
    t["spos"] = {"spos", "single-path one-shot: uniform path training + evolution, Guo et al. 2020",
                 [](ConfigSection& o, const StrategyContext& c) {
                   return std::make_unique<SposSearch>(c, SposSearchOptions::from_config(o));
                 }};
  });
  return t;
}

}  // namespace

double Strategy::fitness(const Trial& trial) const {
  auto s = ctx_.objective.score(trial);
  return s ? *s : -std::numeric_limits<double>::infinity();
}

void register_strategy(StrategyInfo info) {
  NASCENT_CHECK(!info.name.empty() && info.factory, "a strategy needs a name and a factory");
  table()[info.name] = std::move(info);
}

std::unique_ptr<Strategy> make_strategy(const std::string& name, ConfigSection& options, const StrategyContext& ctx) {
  auto& t = table();
  auto it = t.find(name);
  if (it == t.end()) {
    std::vector<std::string> names;
    for (const auto& [n, _] : t) names.push_back(n);
    throw InputError(options.file(), "strategy.name",
                     fmt::format("unknown strategy '{}'; known: {}", name, fmt::join(names, ", ")));
  }
  return it->second.factory(options, ctx);
}

std::vector<StrategyInfo> registered_strategies() {
  std::vector<StrategyInfo> out;
  for (const auto& [_, info] : table()) out.push_back(info);
  return out;
}

nlohmann::json choices_to_json(const Arch& a) { return a.choices; }

Arch arch_from_choices(const std::string& space, const nlohmann::json& j) {
  return Arch{space, j.get<std::vector<int>>()};
}

}  // namespace nascent::strategy
