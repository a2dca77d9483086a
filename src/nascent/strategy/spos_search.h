// Single-path one-shot (Guo et al. 2020): the supernet is trained with one path sampled
// uniformly per step (no architecture weights), then searched by evolution in which every
// candidate inherits the supernet's weights, has its batch-norm statistics recalibrated on
// training batches, and is scored on the held-out part of the training split. The best few
// architectures are proposed for standalone training.
#pragma once

#include <map>
#include <string>

#include "nascent/core/rng.h"
#include "nascent/strategy/oneshot.h"

namespace nascent::strategy {

struct SposSearchOptions {
  SupernetTrainOptions train;       // supernet training (strategy.spos.epochs, lr, batch_size, ...)
  int64_t population = 20;          // evolution: candidates per generation (the paper: 50)
  int64_t generations = 5;          // evolution: generations after the random first one (the paper: 20)
  int64_t parents = 5;              // evolution: the best this many breed the next generation (the paper: 10)
  double mutation_share = 0.5;      // share of children made by mutation (the rest by crossover)
  int64_t recalibrate_batches = 4;  // BN statistics re-estimated on this many training batches (0 = off)
  // Held-out batches that score a candidate (capped at the held-out part's size). 32 batches of
  // 64 put the standard error of an accuracy near 0.85 at 0.008; 4 (0.022) ranked mostly noise
  // (bench/results/oneshot_quality.md: 1 of 3 seeds above the random median, against 3 of 3).
  int64_t eval_batches = 32;
  int64_t top_k = 3;  // architectures proposed for standalone training

  static SposSearchOptions from_config(ConfigSection& section);
  nlohmann::json to_json() const;
};

class SposSearch : public OneShotStrategy {
 public:
  SposSearch(const StrategyContext& ctx, const SposSearchOptions& o);
  std::string name() const override { return "spos"; }
  // The supernet's accuracy for one architecture with inherited (and BN-recalibrated) weights.
  double score(const Arch& arch);

 protected:
  bool trains_alphas() const override { return false; }
  void prepare() override;
  nlohmann::json train_epoch(int64_t epoch) override;
  std::vector<std::pair<Arch, nlohmann::json>> select() override;
  nlohmann::json generators() const override { return {{"paths", paths_.state()}}; }
  void load_generators(const nlohmann::json& g) override { paths_.load_state(g.at("paths")); }

 private:
  void recalibrate_bn();
  SposSearchOptions o_;
  Rng paths_;
};

}  // namespace nascent::strategy
