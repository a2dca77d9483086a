#include "nascent/strategy/spos_search.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "nascent/core/config.h"
#include "nascent/core/error.h"
#include "nascent/space/space.h"

namespace nascent::strategy {

SposSearchOptions SposSearchOptions::from_config(ConfigSection& s) {
  SposSearchOptions o;
  o.train.read(s);
  o.population = s.get_int("population", o.population, 2, 100000);
  o.generations = s.get_int("generations", o.generations, 0, 100000);
  o.parents = s.get_int("parents", o.parents, 1, 100000);
  o.mutation_share = s.get_double("mutation_share", o.mutation_share, 0, 1);
  o.recalibrate_batches = s.get_int("recalibrate_batches", o.recalibrate_batches, 0, 100000);
  o.eval_batches = s.get_int("eval_batches", o.eval_batches, 1, 100000);
  o.top_k = s.get_int("top_k", o.top_k, 1, 1000);
  if (o.parents > o.population)
    throw InputError(s.file(), s.field_path("parents"),
                     fmt::format("{} is more than the population ({})", o.parents, o.population));
  s.finish();
  return o;
}

nlohmann::json SposSearchOptions::to_json() const {
  nlohmann::json j = train.to_json();
  j.update({{"population", population},
            {"generations", generations},
            {"parents", parents},
            {"mutation_share", mutation_share},
            {"recalibrate_batches", recalibrate_batches},
            {"eval_batches", eval_batches},
            {"top_k", top_k}});
  return j;
}

SposSearch::SposSearch(const StrategyContext& ctx, const SposSearchOptions& o)
    : OneShotStrategy(ctx, o.train, o.to_json()), o_(o), paths_(Rng::derive(ctx.seed, "spos/paths")) {}

void SposSearch::prepare() { net_->set_mode(space::MixMode::kPath); }

nlohmann::json SposSearch::train_epoch(int64_t) {
  EpochMeter weights;
  const int64_t steps = weight_batches_.batches_per_pass();
  for (int64_t step = 0; step < steps; ++step) {
    poll();
    // Guo et al. 2020, eq. 5: one path drawn uniformly per step, only its weights trained.
    net_->set_path(ctx_.space->sample(paths_));
    weight_step(weight_batches_.next(), weights);
  }
  return {{"train_loss", weights.mean_loss()}, {"train_accuracy", weights.accuracy()}, {"steps", steps}};
}

void SposSearch::recalibrate_bn() {
  // Guo et al. 2020, sec. 3.4: the shared BN statistics do not fit a single path; recompute
  // them for the path on training batches (cumulative averages: momentum unset), no gradient.
  std::vector<std::pair<torch::nn::BatchNorm2dImpl*, c10::optional<double>>> bns;
  for (const auto& m : net_->modules(/*include_self=*/false))
    if (auto* bn = dynamic_cast<torch::nn::BatchNorm2dImpl*>(m.get()); bn && bn->options.track_running_stats()) {
      bns.emplace_back(bn, bn->options.momentum());
      bn->reset_running_stats();
      bn->options.momentum(c10::nullopt);
    }
  torch::NoGradGuard no_grad;
  net_->train();
  BatchStream batches(*ctx_.data, rows_.weights, train_.batch_size, Rng::derive(ctx_.seed, "spos/recalibrate").next());
  for (int64_t i = 0; i < o_.recalibrate_batches; ++i) net_->forward(batches.next().x);
  for (auto& [bn, momentum] : bns) bn->options.momentum(momentum);
}

double SposSearch::score(const Arch& arch) {
  net_->set_path(arch);
  if (o_.recalibrate_batches > 0) recalibrate_bn();
  torch::NoGradGuard no_grad;
  net_->eval();
  // The same held-out batches for every candidate.
  BatchStream batches(*ctx_.data, rows_.arch, train_.batch_size, Rng::derive(ctx_.seed, "spos/eval").next());
  double correct = 0, count = 0;
  const int64_t n = std::min(o_.eval_batches, batches.batches_per_pass());
  for (int64_t i = 0; i < n; ++i) {
    Batch b = batches.next();
    correct += net_->forward(b.x).argmax(1).eq(b.y).sum().item<double>();
    count += static_cast<double>(b.y.size(0));
  }
  net_->train();
  return correct / count;
}

std::vector<std::pair<Arch, nlohmann::json>> SposSearch::select() {
  // Evolution over inherited weights (Guo et al. 2020, sec. 3.3 and Alg. 1): a random first
  // generation, then each generation bred from the best `parents` by mutation and crossover.
  const space::SearchSpace& space = *ctx_.space;
  Rng rng = Rng::derive(ctx_.seed, "spos/evolution");
  std::map<std::string, std::pair<Arch, double>> scored;  // hash -> (arch, supernet accuracy)
  auto evaluate = [&](const Arch& a) {
    const Arch c = space.canonical(a);
    const std::string h = space.hash(c);
    if (scored.count(h)) return false;
    poll();
    scored.emplace(h, std::make_pair(c, score(c)));
    return true;
  };
  auto ranked = [&] {
    std::vector<std::pair<Arch, double>> all;
    for (const auto& [_, v] : scored) all.push_back(v);
    std::stable_sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
    return all;
  };
  const auto tries = static_cast<size_t>(o_.population) * 20;  // small spaces run out of new candidates
  for (size_t t = 0; t < tries && static_cast<int64_t>(scored.size()) < o_.population; ++t) evaluate(space.sample(rng));
  for (int64_t g = 0; g < o_.generations; ++g) {
    const auto best = ranked();
    const size_t parents = std::min(best.size(), static_cast<size_t>(o_.parents));
    int64_t made = 0;
    for (size_t t = 0; t < tries && made < o_.population; ++t) {
      const Arch& p = best[rng.below(parents)].first;
      const Arch child = rng.uniform() < o_.mutation_share || parents < 2
                             ? space.mutate(p, rng)
                             : space.crossover(p, best[rng.below(parents)].first, rng);
      made += evaluate(child);
    }
    // The generation's record: the best candidates' supernet scores, for the report and dashboard.
    nlohmann::json top = nlohmann::json::array();
    for (const auto& [arch, s] : ranked()) {
      if (top.size() == 5) break;
      top.push_back({{"arch", space.describe(arch)}, {"score", s}});
    }
    emit("spos_generation", g + 1,
         {{"generation", g + 1}, {"evaluated", scored.size()}, {"best", ranked()[0].second}, {"top", top}},
         fmt::format("spos generation {}/{}: {} paths scored, best supernet accuracy {:.3f}", g + 1, o_.generations,
                     scored.size(), ranked()[0].second));
  }
  std::vector<std::pair<Arch, nlohmann::json>> out;
  const auto best = ranked();
  for (size_t i = 0; i < best.size() && static_cast<int64_t>(i) < o_.top_k; ++i)
    out.push_back({best[i].first, {{"supernet_accuracy", best[i].second}, {"rank", i + 1}}});
  return out;
}

}  // namespace nascent::strategy
