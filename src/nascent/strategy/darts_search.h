// DARTS (Liu et al. 2019): a softmax mixture of every option on every supernet edge, trained by
// alternating SGD steps on the weights (weight half of the training split) and Adam steps on the
// architecture weights (architecture half), first order or with the paper's second-order
// approximation (eq. 7); the discrete architecture is derived from the alphas at the end.
// Against collapse, beta-DARTS' regulariser (Ye et al. 2022) is on by default; DARTS- (Chu et
// al. 2021) is the alternative (bench/results/oneshot_quality.md compares them over seeds).
#pragma once

#include <string>

#include "nascent/strategy/oneshot.h"

namespace nascent::strategy {

struct DartsSearchOptions {
  SupernetTrainOptions train;         // supernet training (strategy.darts.epochs, lr, batch_size, ...)
  ArchOptimizerOptions arch;          // Adam on the alphas (arch_lr, arch_beta1, arch_beta2, arch_weight_decay)
  int64_t order = 1;                  // 1: first-order gradient; 2: the unrolled gradient of eq. 7
  std::string remedy = "beta_decay";  // against collapse: beta_decay (beta-DARTS) | auxiliary_skip (DARTS-) | none
  double aux_skip_init = 1.0;         // DARTS-: the auxiliary skip's weight at epoch 0, decayed linearly to 0
  double beta_decay_max = 50;         // beta-DARTS: the regulariser's weight, rising linearly from 0 at epoch 0
  int64_t partial_channels = 1;       // PC-DARTS: 1/K of the channels through the mixed ops (1 = off)
  bool edge_normalization = false;    // PC-DARTS: softmax-weighted incoming edges per node
  double unrolled_r = 0.01;           // eq. 8's finite-difference step: eps = r / ||grad_w' L_val||
  int64_t warmup_epochs = 0;          // first epochs train the weights only, alphas frozen (PC-DARTS' warm-up)
  std::string selection = "argmax";   // argmax (DARTS' rule) | perturbation (DARTS-PT; nb201 only)
  int64_t selection_batches = 4;      // perturbation: held-out batches that score each masked supernet

  static DartsSearchOptions from_config(ConfigSection& section);
  nlohmann::json to_json() const;
};

class DartsSearch : public OneShotStrategy {
 public:
  DartsSearch(const StrategyContext& ctx, const DartsSearchOptions& o);
  std::string name() const override { return "darts"; }

 protected:
  space::SupernetOptions supernet_options() const override;
  void prepare() override;
  nlohmann::json train_epoch(int64_t epoch) override;
  std::vector<std::pair<Arch, nlohmann::json>> select() override;

 private:
  void arch_step(const Batch& train, const Batch& val, double lr, double beta_weight, EpochMeter& meter);
  Arch perturbation_select();
  DartsSearchOptions o_;
};

}  // namespace nascent::strategy
