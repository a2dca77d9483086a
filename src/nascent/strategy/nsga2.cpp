#include "nascent/strategy/nsga2.h"

#include <cmath>
#include <limits>

#include "nascent/core/config.h"
#include "nascent/core/error.h"
#include "nascent/space/space.h"
#include "nascent/strategy/feasibility.h"

namespace nascent::strategy {
namespace {

nlohmann::json number_or_null(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }
double number_or_inf(const nlohmann::json& j) {
  return j.is_null() ? std::numeric_limits<double>::infinity() : j.get<double>();
}

}  // namespace

Nsga2Options Nsga2Options::from_config(ConfigSection& sec) {
  Nsga2Options o;
  o.population = sec.get_int("population", o.population, 2, 100000);
  o.offspring = sec.get_int("offspring", o.offspring, 1, 100000);
  o.crossover_prob = sec.get_double("crossover_prob", o.crossover_prob, 0, 1);
  o.mutation_prob = sec.get_double("mutation_prob", o.mutation_prob, 0, 1);
  o.max_retries = sec.get_int("max_retries", o.max_retries, 0, 100000);
  sec.finish();
  return o;
}

Nsga2::Nsga2(const StrategyContext& ctx, Nsga2Options options)
    : Strategy(ctx), options_(options), rng_(Rng::derive(ctx.seed, "strategy/nsga2")) {
  NASCENT_CHECK(options_.population >= 2 && options_.offspring >= 1, "nsga2: population >= 2 and offspring >= 1");
}

Nsga2Point Nsga2::point_of(const Trial& trial) const {
  Nsga2Point p;
  p.violation = constraint_violation(ctx_.objective, trial);
  if (auto v = ctx_.objective.values(trial)) {
    p.values = *v;
    p.violation = 0;
  } else if (p.violation == 0) {
    p.violation = std::numeric_limits<double>::infinity();  // not ok, yet nothing broken: no values
  }
  return p;
}

size_t Nsga2::tournament() {
  // Binary tournament with the crowded-comparison operator (Deb et al. 2002, sec. III-C):
  // lower rank wins, then larger crowding distance; a full tie goes to the first drawn.
  const auto pick = rng_.choose(population_.size(), 2);
  const size_t a = pick[0], b = pick[1];
  if (ranking_.rank[a] != ranking_.rank[b]) return ranking_.rank[a] < ranking_.rank[b] ? a : b;
  return ranking_.crowding[b] > ranking_.crowding[a] ? b : a;
}

Arch Nsga2::child() {
  const auto& space = *ctx_.space;
  const Arch& p1 = population_[tournament()].arch;
  const Arch& p2 = population_[tournament()].arch;
  Arch c = rng_.uniform() < options_.crossover_prob ? space.crossover(p1, p2, rng_) : space.canonical(p1);
  if (rng_.uniform() < options_.mutation_prob) c = space.mutate(c, rng_);
  // A repeat teaches nothing (the runner would only reuse its stored result): walk on.
  for (int64_t i = 0; i < options_.max_retries && seen_.count(space.hash(c)); ++i) c = space.mutate(c, rng_);
  return c;
}

std::optional<Proposal> Nsga2::ask() {
  const int64_t size = generation_ == 0 ? options_.population : options_.offspring;
  if (asked_ >= size) return std::nullopt;  // this generation is out; wait for its tells
  const auto& space = *ctx_.space;
  Proposal p{Arch{}, ctx_.fidelity, nlohmann::json::object()};
  if (generation_ == 0) {
    p.arch = space.sample(rng_);
    for (int64_t i = 0; i < options_.max_retries && seen_.count(space.hash(p.arch)); ++i) p.arch = space.sample(rng_);
    p.meta["origin"] = "random";
  } else {
    p.arch = child();
    p.meta["origin"] = "offspring";
  }
  p.meta["generation"] = generation_;
  seen_.insert(space.hash(p.arch));
  ++asked_;
  ++waiting_;
  return p;
}

void Nsga2::tell(const Trial& trial) {
  const auto g = trial.proposal.meta.find("generation");
  if (g == trial.proposal.meta.end() || !g->is_number_integer() || g->get<int64_t>() != generation_) return;
  children_.push_back(Member{trial.proposal.arch, point_of(trial), trial.id});
  if (--waiting_ == 0 && asked_ >= (generation_ == 0 ? options_.population : options_.offspring)) next_generation();
}

void Nsga2::next_generation() {
  // (mu + lambda): parents and children compete; the best `population` survive.
  std::vector<Member> all = population_;
  all.insert(all.end(), children_.begin(), children_.end());
  std::vector<Nsga2Point> points;
  for (const auto& m : all) points.push_back(m.point);
  std::vector<Member> next;
  for (size_t i : select_survivors(points, static_cast<size_t>(options_.population))) next.push_back(all[i]);
  population_ = std::move(next);
  children_.clear();
  ++generation_;
  asked_ = waiting_ = 0;
  rerank();
}

void Nsga2::rerank() {
  std::vector<Nsga2Point> points;
  for (const auto& m : population_) points.push_back(m.point);
  ranking_ = rank_and_crowd(points);
}

nlohmann::json Nsga2::state() const {
  auto members = [](const std::vector<Member>& ms) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& m : ms) {
      nlohmann::json values = nlohmann::json::array();
      for (double v : m.point.values) values.push_back(v);
      out.push_back({{"arch", choices_to_json(m.arch)},
                     {"values", values},
                     {"violation", number_or_null(m.point.violation)},
                     {"trial", m.trial}});
    }
    return out;
  };
  return {{"rng", rng_.state()}, {"generation", generation_},          {"asked", asked_},
          {"waiting", waiting_}, {"population", members(population_)}, {"children", members(children_)},
          {"seen", seen_}};
}

void Nsga2::load_state(const nlohmann::json& s) {
  auto members = [&](const nlohmann::json& j) {
    std::vector<Member> out;
    for (const auto& m : j)
      out.push_back(Member{arch_from_choices(ctx_.space->name(), m.at("arch")),
                           Nsga2Point{m.at("values").get<std::vector<double>>(), number_or_inf(m.at("violation"))},
                           m.at("trial").get<int64_t>()});
    return out;
  };
  rng_.load_state(s.at("rng"));
  generation_ = s.at("generation").get<int64_t>();
  asked_ = s.at("asked").get<int64_t>();
  waiting_ = s.at("waiting").get<int64_t>();
  population_ = members(s.at("population"));
  children_ = members(s.at("children"));
  seen_ = s.at("seen").get<std::set<std::string>>();
  rerank();
}

}  // namespace nascent::strategy
