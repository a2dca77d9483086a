// `reinforce`: RL NAS with the REINFORCE policy gradient (Williams 1992), as in Zoph & Le 2017
// and the ENAS controller (Pham et al. 2018): an LSTM policy (policy_lstm.h) samples `batch`
// architectures; once all are told, one Adam step on -(R - b) log pi(arch) - beta * entropy, with
// b an exponential moving average of the rewards. Samples that repeat an architecture already
// evaluated are not proposed again: they enter the update with their known reward.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "nascent/core/rng.h"
#include "nascent/strategy/feasibility.h"
#include "nascent/strategy/strategy.h"

namespace nascent::strategy {

struct ReinforceOptions {
  int64_t batch = 5;             // proposals per policy update (parallel workers can take them at once)
  int64_t hidden = 64;           // LSTM units and embedding size (ENAS: 100)
  double lr = 0.01;              // Adam learning rate (ENAS uses 3.5e-4 for ~2000 updates; budgets here are small)
  double entropy_weight = 1e-3;  // beta: bonus on the policy's entropy, keeps it exploring (ENAS: 1e-4)
  double baseline_decay = 0.9;   // b <- decay * b + (1 - decay) * R (ENAS: 0.99)
  double tanh_constant = 2.5;    // logits bounded to c * tanh(logits), 0 = unbounded (ENAS: 2.5)
  double init_range = 0.1;       // weights start uniform in [-r, r] (ENAS: 0.1)
  bool normalize = true;         // divide each update's advantages by their root mean square
  int64_t max_resample = 50;     // samples of already-evaluated architectures per ask before repeating one
  static ReinforceOptions from_config(ConfigSection& section);
};

class Reinforce : public Strategy {
 public:
  Reinforce(const StrategyContext& ctx, ReinforceOptions options = {});
  ~Reinforce() override;
  std::string name() const override { return "reinforce"; }
  std::optional<Proposal> ask() override;
  void tell(const Trial& trial) override;
  nlohmann::json state() const override;
  void load_state(const nlohmann::json& s) override;

  // The policy's distribution over decision i's options, given the earlier choices in arch.
  std::vector<double> policy(const Arch& arch, size_t decision) const;
  int64_t updates() const { return updates_; }
  double baseline() const { return baseline_.value_or(0.0); }

 private:
  struct Sample {
    Arch arch;
    std::string hash;
    bool proposed = false;  // asked (else: a repeat, learnt from at its known result)
    bool told = false;
    Standing standing;  // feasible score, or how far from feasible, or failed
  };
  struct Controller;  // the LSTM and its Adam optimiser (torch, kept out of this header)

  void update();
  double reward(const Standing& s) const;

  ReinforceOptions options_;
  Rng rng_;
  std::unique_ptr<Controller> controller_;
  std::vector<Sample> batch_;              // this update's samples, in draw order
  int64_t proposed_ = 0;                   // proposals in this batch
  std::map<std::string, Standing> known_;  // every told architecture's result
  std::optional<double> baseline_;
  std::optional<double> best_, worst_;  // best and worst feasible scores seen
  double max_violation_ = 0;            // largest finite constraint violation seen
  int64_t updates_ = 0;
};

}  // namespace nascent::strategy
