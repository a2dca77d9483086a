// Multi-fidelity scheduling over any sampling strategy: successive halving (Jamieson & Talwalkar
// 2016) and Hyperband (Li et al. 2018). New candidates come from the wrapped strategy's ask() at
// a bracket's lowest fidelity; the best 1/eta of each finished rung are proposed again at eta
// times the resource. The scheduler is itself a Strategy, so its brackets are saved with the
// wrapped strategy's state after every ask and tell, and a resumed search continues them.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "nascent/schedule/brackets.h"
#include "nascent/strategy/strategy.h"

namespace nascent::schedule {

struct SchedulerOptions {
  std::string name = "none";        // none | sha | hyperband
  int eta = 3;                      // keep the best 1/eta of a rung; each rung has eta times the resource
  std::string resource = "epochs";  // what a rung scales: epochs | data_fraction
  double min_epochs = 1;            // resource = epochs: the least a candidate trains
  double max_epochs = 9;            // resource = epochs: what the last rung trains
  double min_fraction = 1.0 / 9.0;  // resource = data_fraction: the smallest share of the data
  double max_fraction = 1;          // resource = data_fraction: the last rung's share
  int64_t candidates = 0;           // sha only: candidates in the first rung; 0 = eta^s_max

  // Reads scheduler.<name> (name = sha or hyperband); calls finish().
  static SchedulerOptions from_config(const std::string& name, ConfigSection& section);
  double min_resource() const { return resource == "epochs" ? min_epochs : min_fraction; }
  double max_resource() const { return resource == "epochs" ? max_epochs : max_fraction; }
  // "hyperband (eta 3, epochs 1..9)" for progress lines.
  std::string describe() const;
};

// The rung plan of the k-th bracket of a run (k = 0, 1, ...): successive halving repeats its one
// bracket; Hyperband cycles s = s_max, s_max - 1, ..., 0, then starts again at s_max.
Bracket bracket_plan(const SchedulerOptions& o, int64_t k);

class BracketScheduler : public strategy::Strategy {
 public:
  BracketScheduler(const strategy::StrategyContext& ctx, SchedulerOptions options,
                   std::unique_ptr<strategy::Strategy> inner);

  // The wrapped strategy's name: outputs report the strategy, the scheduler is in the config.
  std::string name() const override { return inner_->name(); }
  std::optional<Proposal> ask() override;
  void tell(const Trial& trial) override;
  bool exhausted() const override { return exhausted_; }
  nlohmann::json state() const override;
  void load_state(const nlohmann::json& state) override;

  const strategy::Strategy& inner() const { return *inner_; }

  struct Entry {
    int64_t trial = -1;  // the trial that measured it (for promotions: the one it was promoted from)
    Arch arch;
    double score = 0;  // the objective's score; -inf when failed or pruned (never promoted)
  };
  struct RungState {
    int64_t target = 0;  // results this rung waits for before its best move up
    Fidelity fidelity;
    int64_t issued = 0;          // proposals handed out (a rejected one gives its slot back)
    std::vector<Entry> results;  // trials told, in the order they finished
    std::deque<Entry> waiting;   // promoted from the rung below, not proposed yet
    bool promoted = false;       // its best have been moved to the next rung
  };

 private:
  void start_bracket();
  // Moves the best of the lowest finished, unpromoted rung up; false if no rung is ready.
  bool promote();
  Proposal tagged(Proposal p, size_t rung) const;

  SchedulerOptions options_;
  std::unique_ptr<strategy::Strategy> inner_;
  int64_t brackets_started_ = 0;
  std::vector<RungState> rungs_;  // the current bracket (index brackets_started_ - 1)
  bool exhausted_ = false;
};

// The strategy itself when o.name is "none", else the strategy under a BracketScheduler.
std::unique_ptr<strategy::Strategy> with_scheduler(const SchedulerOptions& o, const strategy::StrategyContext& ctx,
                                                   std::unique_ptr<strategy::Strategy> inner);

// Sorts a rung's results best first (score, then earlier trial) and keeps the first k distinct
// architectures with a finite score: the rung's promotions.
std::vector<BracketScheduler::Entry> top_of_rung(const std::vector<BracketScheduler::Entry>& results, int64_t k,
                                                 const space::SearchSpace& space);

}  // namespace nascent::schedule
