// `fixed`: proposes the architectures listed in the config, in order, once each. For training a
// known list at the experiment's fidelity: baselines from a paper, the best few of another run at
// a higher fidelity, or one cell under several seeds (`--seed N`; each experiment seed gives a
// trial its own initial weights and data order).
#pragma once

#include <vector>

#include "nascent/strategy/strategy.h"

namespace nascent::strategy {

struct FixedOptions {
  nlohmann::json archs = nlohmann::json::array();  // each: the space's text form (nb201, darts) or an arch object

  static FixedOptions from_config(ConfigSection& section);
};

class FixedList : public Strategy {
 public:
  // Throws InputError naming strategy.fixed.archs when the list is empty or an item is not an
  // architecture of the context's space.
  FixedList(const StrategyContext& ctx, const FixedOptions& options, const std::string& file = "");
  std::string name() const override { return "fixed"; }
  std::optional<Proposal> ask() override;
  void tell(const Trial&) override {}
  bool exhausted() const override { return next_ >= archs_.size(); }
  nlohmann::json state() const override { return {{"next", next_}}; }
  void load_state(const nlohmann::json& s) override { next_ = s.at("next").get<size_t>(); }

 private:
  std::vector<Arch> archs_;
  size_t next_ = 0;
};

}  // namespace nascent::strategy
