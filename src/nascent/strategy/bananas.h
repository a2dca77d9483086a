// `bananas`: BANANAS (White, Neiswanger & Savani, "BANANAS: Bayesian Optimization with Neural
// Architectures for Neural Architecture Search", AAAI 2021): random proposals until `initial`
// trials are told; then, per batch, an MLP ensemble (mlp_ensemble.h) is trained on every told
// trial, candidates are mutations of the best architectures so far plus a few random ones, and
// the `batch` candidates with the best acquisition value (independent Thompson sampling or UCB)
// are proposed. The encoding is the space's one-hot decision encoding (the paper's path encoding
// exists only for cell spaces), so the strategy works on every space.
#pragma once

#include <deque>
#include <set>
#include <string>
#include <vector>

#include "nascent/core/rng.h"
#include "nascent/strategy/feasibility.h"
#include "nascent/strategy/mlp_ensemble.h"
#include "nascent/strategy/strategy.h"

namespace nascent::strategy {

struct BananasOptions {
  int64_t initial = 10;             // random proposals until this many trials are told (BANANAS: 10)
  int64_t batch = 5;                // proposals per predictor fit (BANANAS: k = 10)
  int64_t candidates = 100;         // candidates scored by the acquisition per fit (BANANAS: 100)
  int64_t parents = 10;             // best architectures so far that candidates are mutated from
  int64_t mutations = 1;            // edits per mutated candidate: uniform in 1..mutations
  double random_fraction = 0.1;     // share of the candidates drawn uniformly from the space
  std::string acquisition = "its";  // its: independent Thompson sampling; ucb: mean + ucb_beta * std
  double ucb_beta = 1.0;            // exploration weight of ucb
  MlpEnsembleOptions ensemble;      // predictor: members, layers, width, steps, lr
  int64_t max_attempts = 1000;      // draws to find an unseen random architecture
  static BananasOptions from_config(ConfigSection& section);
};

class Bananas : public Strategy {
 public:
  Bananas(const StrategyContext& ctx, BananasOptions options = {});
  std::string name() const override { return "bananas"; }
  std::optional<Proposal> ask() override;
  void tell(const Trial& trial) override;
  bool exhausted() const override { return exhausted_; }
  nlohmann::json state() const override;
  void load_state(const nlohmann::json& s) override;

  int64_t fits() const { return fits_; }

 private:
  struct Told {
    Arch arch;
    std::optional<double> score;  // nullopt: failed or infeasible
    Standing standing;
    int64_t trial = -1;
  };
  std::optional<Arch> random_unseen();
  void plan_batch();  // fills queue_
  std::vector<Arch> make_candidates();

  BananasOptions options_;
  Rng rng_;
  std::vector<Told> told_;
  std::deque<Proposal> queue_;  // chosen by the last fit, not yet asked
  std::set<std::string> seen_;  // every proposal's hash
  int64_t fits_ = 0;
  bool exhausted_ = false;
};

}  // namespace nascent::strategy
