// GDAS (Dong & Yang 2019): every step samples one operation per edge by Gumbel-softmax with a
// hard one-hot forward and a soft (straight-through) backward, so only the sampled path runs
// and memory is that of one architecture; the temperature anneals linearly from tau_max to
// tau_min. Weights and alphas alternate on the two halves of the training split, as in DARTS.
#pragma once

#include <string>
#include <vector>

#include "nascent/strategy/oneshot.h"

namespace nascent::strategy {

struct GdasSearchOptions {
  SupernetTrainOptions train;   // supernet training (strategy.gdas.epochs, lr, batch_size, ...)
  ArchOptimizerOptions arch;    // Adam on the alphas (the reference uses DARTS' settings)
  double tau_max = 10;          // Gumbel-softmax temperature at the first epoch
  double tau_min = 0.1;         // ... at the last epoch (linear in between)
  std::string remedy = "none";  // against collapse: beta_decay (beta-DARTS' regulariser on the alphas) | none
  double beta_decay_max = 50;   // beta_decay: the regulariser's weight, rising linearly from 0 at epoch 0
  // Share of the epochs (rounded down) that train the weights on uniformly sampled paths with the
  // alphas frozen, before the alphas start to choose (bench/results/oneshot_quality.md: 3 of 8
  // epochs doubled the seeds whose cell beat the random median).
  double warmup_fraction = 0.375;

  int64_t warmup_epochs() const;

  static GdasSearchOptions from_config(ConfigSection& section);
  nlohmann::json to_json() const;
};

class GdasSearch : public OneShotStrategy {
 public:
  GdasSearch(const StrategyContext& ctx, const GdasSearchOptions& o);
  std::string name() const override { return "gdas"; }
  // The temperature of an epoch: tau_max - (tau_max - tau_min) * epoch / (epochs - 1).
  double tau_at(int64_t epoch) const;

 protected:
  void prepare() override;
  nlohmann::json train_epoch(int64_t epoch) override;
  std::vector<std::pair<Arch, nlohmann::json>> select() override;

 private:
  GdasSearchOptions o_;
};

}  // namespace nascent::strategy
