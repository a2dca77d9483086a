// `random`: uniform sampling of the space, without repeats (up to the space's size). The honest
// baseline every other strategy has to beat (Li & Talwalkar 2019; Yang et al. 2020).
#pragma once

#include <set>

#include "nascent/core/rng.h"
#include "nascent/strategy/strategy.h"

namespace nascent::strategy {

struct RandomOptions {
  int64_t max_attempts = 1000;  // draws to find an unseen architecture before giving up
  static RandomOptions from_config(ConfigSection& section);
};

class RandomSearch : public Strategy {
 public:
  RandomSearch(const StrategyContext& ctx, RandomOptions options = {});
  std::string name() const override { return "random"; }
  std::optional<Proposal> ask() override;
  void tell(const Trial&) override {}
  bool exhausted() const override { return exhausted_; }
  nlohmann::json state() const override;
  void load_state(const nlohmann::json& s) override;

 private:
  RandomOptions options_;
  Rng rng_;
  std::set<std::string> seen_;
  bool exhausted_ = false;
};

}  // namespace nascent::strategy
