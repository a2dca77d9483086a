// `local`: local search as in White, Nolen & Savani, "Exploring the Loss Landscape in Neural
// Architecture Search" (UAI 2021; first "Local Search is State of the Art for NAS Benchmarks",
// arXiv 2005.02960) and NASLib: the best of `initial` random architectures is the first centre;
// its neighbours (one decision away) are evaluated in random order; the search moves to the first
// improving neighbour (improvement: best -- to the best of the whole neighbourhood) and, at a
// local optimum, restarts from a new random architecture.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "nascent/core/rng.h"
#include "nascent/strategy/feasibility.h"
#include "nascent/strategy/strategy.h"

namespace nascent::strategy {

struct LocalSearchOptions {
  int64_t initial = 10;               // random architectures evaluated before the first climb (NASLib num_init)
  std::string improvement = "first";  // first: move to the first improving neighbour; best: to the best one
  int64_t max_attempts = 1000;        // draws to find an unseen random start before the space counts as used up
  static LocalSearchOptions from_config(ConfigSection& section);
};

class LocalSearch : public Strategy {
 public:
  LocalSearch(const StrategyContext& ctx, LocalSearchOptions options = {});
  std::string name() const override { return "local"; }
  std::optional<Proposal> ask() override;
  void tell(const Trial& trial) override;
  bool exhausted() const override { return exhausted_; }
  nlohmann::json state() const override;
  void load_state(const nlohmann::json& s) override;

  struct Known {
    Arch arch;
    Standing standing;
    int64_t trial = -1;
  };
  // The architecture whose neighbourhood is being searched, if any.
  const std::optional<Known>& centre() const { return centre_; }
  int64_t restarts() const { return restarts_; }

 private:
  enum class Mode { kInitial, kStart, kClimb };
  Proposal propose(const Arch& arch, const std::string& origin);
  std::optional<Arch> random_unseen();
  void set_centre(const Known& k);
  void consider(const Known& k);  // a result for a neighbour of the centre
  bool neighbourhood_pending() const;

  LocalSearchOptions options_;
  Rng rng_;
  std::map<std::string, Known> known_;  // told results by hash
  std::set<std::string> pending_;       // asked, not told
  std::set<std::string> proposed_;      // every hash ever proposed
  Mode mode_ = Mode::kInitial;
  int64_t initial_asked_ = 0;
  std::string start_;  // kStart: hash of the random restart whose result becomes the centre
  std::optional<Known> centre_;
  std::vector<Arch> queue_;              // neighbours of the centre not yet tried, next at the back
  std::set<std::string> neighbourhood_;  // hashes of all neighbours of the centre
  std::optional<Known> best_neighbour_;  // improvement: best
  int64_t restarts_ = 0;
  bool exhausted_ = false;
};

}  // namespace nascent::strategy
