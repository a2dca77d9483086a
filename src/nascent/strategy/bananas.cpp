#include "nascent/strategy/bananas.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "nascent/core/config.h"
#include "nascent/core/error.h"
#include "nascent/space/space.h"

namespace nascent::strategy {

BananasOptions BananasOptions::from_config(ConfigSection& sec) {
  BananasOptions o;
  o.initial = sec.get_int("initial", o.initial, 1, 1000000);
  o.batch = sec.get_int("batch", o.batch, 1, 100000);
  o.candidates = sec.get_int("candidates", o.candidates, 1, 1000000);
  o.parents = sec.get_int("parents", o.parents, 1, 1000000);
  o.mutations = sec.get_int("mutations", o.mutations, 1, 1000);
  o.random_fraction = sec.get_double("random_fraction", o.random_fraction, 0, 1);
  o.acquisition = sec.get_choice("acquisition", o.acquisition, {"its", "ucb"});
  o.ucb_beta = sec.get_double("ucb_beta", o.ucb_beta, 0, 1000);
  o.ensemble.members = sec.get_int("ensemble", o.ensemble.members, 1, 100);
  o.ensemble.layers = sec.get_int("layers", o.ensemble.layers, 1, 50);
  o.ensemble.width = sec.get_int("width", o.ensemble.width, 1, 4096);
  o.ensemble.steps = sec.get_int("steps", o.ensemble.steps, 1, 100000);
  o.ensemble.lr = sec.get_double("lr", o.ensemble.lr, 1e-8, 10);
  o.max_attempts = sec.get_int("max_attempts", o.max_attempts, 1, 1000000);
  sec.finish();
  return o;
}

Bananas::Bananas(const StrategyContext& ctx, BananasOptions options)
    : Strategy(ctx), options_(std::move(options)), rng_(Rng::derive(ctx.seed, "strategy/bananas")) {
  NASCENT_CHECK(options_.acquisition == "its" || options_.acquisition == "ucb", "bananas: acquisition is its or ucb");
}

std::optional<Arch> Bananas::random_unseen() {
  for (int64_t i = 0; i < options_.max_attempts; ++i) {
    Arch a = ctx_.space->sample(rng_);
    if (!seen_.count(ctx_.space->hash(a))) return a;
  }
  return std::nullopt;
}

std::vector<Arch> Bananas::make_candidates() {
  const auto& space = *ctx_.space;
  // Parents: the best told architectures (infeasible ones only when there are too few feasible,
  // and then those closest to feasible, which walks the search out of an infeasible region).
  std::vector<size_t> order(told_.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return told_[a].standing > told_[b].standing; });
  order.resize(std::min<size_t>(order.size(), static_cast<size_t>(options_.parents)));

  const int64_t n_random = std::llround(static_cast<double>(options_.candidates) * options_.random_fraction);
  const int64_t n_mutated = options_.candidates - n_random;
  std::vector<Arch> out;
  std::set<std::string> chosen;
  auto add = [&](const Arch& a) {
    const std::string h = space.hash(a);
    if (seen_.count(h) || !chosen.insert(h).second) return false;
    out.push_back(a);
    return true;
  };
  for (int64_t made = 0, tries = 0; made < n_mutated && tries < 10 * options_.candidates && !order.empty(); ++tries) {
    Arch a = told_[order[rng_.below(order.size())]].arch;
    const uint64_t edits = 1 + rng_.below(static_cast<uint64_t>(options_.mutations));
    for (uint64_t e = 0; e < edits; ++e) a = space.mutate(a, rng_);
    made += add(a);
  }
  for (int64_t made = 0, tries = 0; made < n_random && tries < 10 * options_.candidates; ++tries)
    made += add(space.sample(rng_));
  return out;
}

void Bananas::plan_batch() {
  const auto& space = *ctx_.space;
  const std::vector<Arch> cands = make_candidates();
  if (cands.empty()) return;
  // Targets: the objective's score; failed and infeasible trials count as the worst feasible
  // result seen, so the predictor learns to avoid where they are.
  std::optional<double> worst;
  size_t feasible = 0;
  for (const auto& t : told_) {
    if (!t.score) continue;
    worst = worst ? std::min(*worst, *t.score) : *t.score;
    ++feasible;
  }
  std::vector<double> acq(cands.size()), mean(cands.size(), 0.0), sd(cands.size(), 0.0);
  if (feasible >= 2) {
    std::vector<std::vector<float>> x, xc;
    std::vector<double> y;
    for (const auto& t : told_) {
      x.push_back(space.encode(t.arch));
      y.push_back(t.score.value_or(*worst));
    }
    for (const auto& a : cands) xc.push_back(space.encode(a));
    MlpEnsemble model(options_.ensemble);
    model.fit(x, y, rng_);
    ++fits_;
    const auto pred = model.predict(xc);
    mean = pred.mean;
    sd = pred.std;
    for (size_t i = 0; i < cands.size(); ++i) {
      // ITS (BANANAS sec. 5): one independent draw from each candidate's N(mean, std).
      acq[i] = options_.acquisition == "its" ? mean[i] + sd[i] * rng_.normal() : mean[i] + options_.ucb_beta * sd[i];
      if (!std::isfinite(acq[i])) acq[i] = -std::numeric_limits<double>::infinity();
    }
  } else {
    for (auto& a : acq) a = rng_.uniform();  // nothing to learn from yet: candidates in random order
  }
  std::vector<size_t> order(cands.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return acq[a] > acq[b]; });
  for (size_t i = 0; i < order.size() && static_cast<int64_t>(i) < options_.batch; ++i) {
    const size_t c = order[i];
    Proposal p{cands[c], ctx_.fidelity, {{"origin", "acquisition"}, {"fit", fits_}}};
    if (feasible >= 2) {
      p.meta["predicted"] = mean[c];
      p.meta["uncertainty"] = sd[c];
    }
    queue_.push_back(p);
  }
}

std::optional<Proposal> Bananas::ask() {
  if (exhausted_) return std::nullopt;
  const auto& space = *ctx_.space;
  if (queue_.empty() && static_cast<int64_t>(told_.size()) >= options_.initial) plan_batch();
  while (!queue_.empty()) {
    Proposal p = queue_.front();
    queue_.pop_front();
    if (seen_.insert(space.hash(p.arch)).second) return p;
  }
  auto a = random_unseen();
  if (!a) {
    exhausted_ = true;
    return std::nullopt;
  }
  seen_.insert(space.hash(*a));
  return Proposal{*a, ctx_.fidelity, {{"origin", "random"}}};
}

void Bananas::tell(const Trial& trial) {
  told_.push_back(Told{ctx_.space->canonical(trial.proposal.arch), ctx_.objective.score(trial),
                       Standing::of(ctx_.objective, trial), trial.id});
}

nlohmann::json Bananas::state() const {
  nlohmann::json told = nlohmann::json::array();
  for (const auto& t : told_)
    told.push_back({{"arch", choices_to_json(t.arch)},
                    {"score", t.score ? nlohmann::json(*t.score) : nlohmann::json(nullptr)},
                    {"tier", t.standing.tier},
                    {"value", t.standing.value},
                    {"trial", t.trial}});
  nlohmann::json queue = nlohmann::json::array();
  for (const auto& p : queue_) queue.push_back({{"arch", choices_to_json(p.arch)}, {"meta", p.meta}});
  return {{"rng", rng_.state()}, {"told", told},  {"queue", queue},
          {"seen", seen_},       {"fits", fits_}, {"exhausted", exhausted_}};
}

void Bananas::load_state(const nlohmann::json& s) {
  const std::string space_name = ctx_.space->name();
  rng_.load_state(s.at("rng"));
  told_.clear();
  for (const auto& t : s.at("told")) {
    std::optional<double> score;
    if (!t.at("score").is_null()) score = t.at("score").get<double>();
    told_.push_back(Told{arch_from_choices(space_name, t.at("arch")), score,
                         Standing{t.at("tier").get<int>(), t.at("value").get<double>()}, t.at("trial").get<int64_t>()});
  }
  queue_.clear();
  for (const auto& p : s.at("queue"))
    queue_.push_back(Proposal{arch_from_choices(space_name, p.at("arch")), ctx_.fidelity, p.at("meta")});
  seen_ = s.at("seen").get<std::set<std::string>>();
  fits_ = s.at("fits").get<int64_t>();
  exhausted_ = s.at("exhausted").get<bool>();
}

}  // namespace nascent::strategy
