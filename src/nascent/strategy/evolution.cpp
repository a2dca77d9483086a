#include "nascent/strategy/evolution.h"

#include <fmt/format.h>

#include "nascent/core/config.h"
#include "nascent/core/error.h"
#include "nascent/space/space.h"

namespace nascent::strategy {

EvolutionOptions EvolutionOptions::from_config(ConfigSection& sec) {
  EvolutionOptions o;
  o.population = sec.get_int("population", o.population, 2, 100000);
  o.sample = sec.get_int("sample", o.sample, 1, 100000);
  if (o.sample > o.population)
    sec.fail("sample", fmt::format("{} is larger than population ({})", o.sample, o.population));
  o.max_retries = sec.get_int("max_retries", o.max_retries, 1, 100000);
  const nlohmann::json initial = sec.get_json("initial");
  if (!initial.is_null()) {
    if (!initial.is_array()) sec.fail("initial", "expected a list of architectures ({decision: option, ...} each)");
    for (size_t i = 0; i < initial.size(); ++i)
      if (!initial[i].is_object())
        sec.fail(fmt::format("initial[{}]", i), "expected an object {decision: option, ...}");
    o.initial = initial;
    // The architectures themselves are checked against the space by the strategy.
    o.initial_source = sec.file().empty() ? sec.field_path("initial") : sec.file() + ": " + sec.field_path("initial");
  }
  sec.finish();
  return o;
}

RegularizedEvolution::RegularizedEvolution(const StrategyContext& ctx, EvolutionOptions options)
    : Strategy(ctx), options_(options), rng_(Rng::derive(ctx.seed, "strategy/evolution")) {
  NASCENT_CHECK(options_.sample <= options_.population, "evolution: sample must not exceed population");
  for (size_t i = 0; i < options_.initial.size(); ++i)
    initial_.push_back(ctx.space->canonical(ctx.space->from_json(
        {{"space", ctx.space->name()}, {"choices", options_.initial[i]}},
        fmt::format("{}[{}]", options_.initial_source.empty() ? "initial" : options_.initial_source, i))));
}

Arch RegularizedEvolution::random_unseen() {
  const auto& space = *ctx_.space;
  Arch a = space.sample(rng_);
  for (int64_t i = 0; i < options_.max_retries && seen_.count(space.hash(a)); ++i) a = space.sample(rng_);
  return a;
}

std::optional<Proposal> RegularizedEvolution::ask() {
  const auto& space = *ctx_.space;
  Proposal p{Arch{}, ctx_.fidelity, nlohmann::json::object()};
  // Initial population: random architectures; also while nothing has come back yet (parallel
  // workers can ask ahead of the first results).
  if (asked_ < static_cast<int64_t>(initial_.size())) {
    p.arch = initial_[static_cast<size_t>(asked_)];
    p.meta["origin"] = "initial";
  } else if (asked_ < options_.population || population_.empty()) {
    p.arch = random_unseen();
    p.meta["origin"] = "random";
  } else {
    // Tournament: S members drawn uniformly without replacement; the fittest is the parent
    // (ties go to the one drawn first).
    const size_t s = std::min<size_t>(options_.sample, population_.size());
    const Member* parent = nullptr;
    for (size_t i : rng_.choose(population_.size(), s))
      if (!parent || population_[i].fitness > parent->fitness) parent = &population_[i];
    Arch child = space.mutate(parent->arch, rng_);
    for (int64_t i = 0; i < options_.max_retries && seen_.count(space.hash(child)); ++i)
      child = space.mutate(parent->arch, rng_);
    p.arch = child;
    p.meta["origin"] = "mutation";
    p.meta["parent"] = parent->trial;
  }
  seen_.insert(space.hash(p.arch));
  ++asked_;
  return p;
}

void RegularizedEvolution::tell(const Trial& trial) {
  // A rejected candidate was never trained: it does not enter the population. A failed one
  // does, with -inf fitness, so that it ages out like any other member and is never a parent
  // while anything better is in the tournament.
  if (trial.status == TrialStatus::kRejected) return;
  population_.push_back(Member{trial.proposal.arch, fitness(trial), trial.id});
  while (static_cast<int64_t>(population_.size()) > options_.population) population_.pop_front();
}

nlohmann::json RegularizedEvolution::state() const {
  nlohmann::json pop = nlohmann::json::array();
  for (const auto& m : population_)
    pop.push_back({{"arch", choices_to_json(m.arch)},
                   {"fitness", std::isfinite(m.fitness) ? nlohmann::json(m.fitness) : nlohmann::json(nullptr)},
                   {"trial", m.trial}});
  return {{"rng", rng_.state()}, {"asked", asked_}, {"population", pop}, {"seen", seen_}};
}

void RegularizedEvolution::load_state(const nlohmann::json& s) {
  rng_.load_state(s.at("rng"));
  asked_ = s.at("asked").get<int64_t>();
  population_.clear();
  for (const auto& m : s.at("population")) {
    const double f =
        m.at("fitness").is_null() ? -std::numeric_limits<double>::infinity() : m.at("fitness").get<double>();
    population_.push_back(Member{arch_from_choices(ctx_.space->name(), m.at("arch")), f, m.at("trial").get<int64_t>()});
  }
  seen_ = s.at("seen").get<std::set<std::string>>();
}

}  // namespace nascent::strategy
