// `evolution`: regularized (aging) evolution, Real et al. 2019, "Regularized Evolution for Image
// Classifier Architecture Search" (Algorithm 1). The first `population` proposals are the
// `initial` architectures (known good designs to start from, as AutoKeras starts from its
// defaults), then random ones;
// after that each proposal mutates one decision of the best of `sample` members drawn at random
// from the population, and every told trial pushes out the oldest member rather than the worst.
#pragma once

#include <deque>
#include <set>

#include "nascent/core/rng.h"
#include "nascent/strategy/strategy.h"

namespace nascent::strategy {

struct EvolutionOptions {
  int64_t population = 20;   // P: members kept; the oldest leaves when a new one arrives
  int64_t sample = 5;        // S: tournament size
  int64_t max_retries = 20;  // mutations tried to find an unseen child before accepting a repeat
  nlohmann::json initial = nlohmann::json::array();  // choices objects proposed first, in order
  std::string initial_source;                        // where `initial` was read, for messages
  static EvolutionOptions from_config(ConfigSection& section);
};

class RegularizedEvolution : public Strategy {
 public:
  RegularizedEvolution(const StrategyContext& ctx, EvolutionOptions options = {});
  std::string name() const override { return "evolution"; }
  std::optional<Proposal> ask() override;
  void tell(const Trial& trial) override;
  nlohmann::json state() const override;
  void load_state(const nlohmann::json& s) override;

  struct Member {
    Arch arch;
    double fitness;
    int64_t trial;
  };
  const std::deque<Member>& population() const { return population_; }

 private:
  Arch random_unseen();
  EvolutionOptions options_;
  std::vector<Arch> initial_;
  Rng rng_;
  int64_t asked_ = 0;
  std::deque<Member> population_;
  std::set<std::string> seen_;
};

}  // namespace nascent::strategy
