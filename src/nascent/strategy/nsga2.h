// `nsga2`: NSGA-II (Deb et al. 2002) for one or several objectives, in generations over the
// ask/tell interface: the first generation is `population` random architectures; each later one
// asks `offspring` children of parents picked by binary tournament on (rank, crowding), made by
// uniform crossover and mutation, waits for all their tells, and keeps the best `population` of
// parents and children ((mu + lambda) selection) under Deb's constrained domination.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "nascent/core/rng.h"
#include "nascent/strategy/nsga2_sort.h"
#include "nascent/strategy/strategy.h"

namespace nascent::strategy {

struct Nsga2Options {
  int64_t population = 10;      // mu: survivors kept from parents and children each generation
  int64_t offspring = 10;       // lambda: children asked per generation
  double crossover_prob = 0.9;  // chance a child is a uniform crossover of two parents, else a copy of one
  double mutation_prob = 0.5;   // chance a child then gets one mutation (more when it repeats a proposal)
  int64_t max_retries = 20;     // extra mutations tried to find an architecture not proposed before
  static Nsga2Options from_config(ConfigSection& section);
};

class Nsga2 : public Strategy {
 public:
  Nsga2(const StrategyContext& ctx, Nsga2Options options = {});
  std::string name() const override { return "nsga2"; }
  std::optional<Proposal> ask() override;
  void tell(const Trial& trial) override;
  nlohmann::json state() const override;
  void load_state(const nlohmann::json& s) override;

  struct Member {
    Arch arch;
    Nsga2Point point;
    int64_t trial = -1;
  };
  const std::vector<Member>& population() const { return population_; }
  int64_t generation() const { return generation_; }

 private:
  Nsga2Point point_of(const Trial& trial) const;
  size_t tournament();
  Arch child();
  void next_generation();
  void rerank();

  Nsga2Options options_;
  Rng rng_;
  int64_t generation_ = 0;  // 0 = the random initial generation
  int64_t asked_ = 0;       // proposals made in this generation
  int64_t waiting_ = 0;     // of those, not yet told
  std::vector<Member> population_;
  std::vector<Member> children_;  // told members of this generation
  Nsga2Ranking ranking_;          // of population_, for tournaments
  std::set<std::string> seen_;    // hashes of every proposal
};

}  // namespace nascent::strategy
