// Zero-cost pre-filtering (Abdelfattah et al. 2021, "warm-up" and "move proposal"): the wrapped
// strategy proposes a pool of candidates, each is scored at initialisation by a zero-cost proxy
// (a second or less each), and only the best few of the pool are proposed for training. The
// others are told back to the strategy as rejected (reason "prefilter", with the proxy's score
// in their metrics), so every strategy learns from them as it learns from any candidate it may
// not train. One stored event per pool lists every score, and the pool's survivors wait in the
// strategy state, so a resumed search proposes exactly what it would have.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>

#include "nascent/strategy/strategy.h"

namespace nascent::estimate {
class Evaluator;
}

namespace nascent::schedule {

struct PrefilterOptions {
  std::string proxy =
      "none";          // none | a zero-cost proxy: synflow, jacob_cov, naswot, snip, grad_norm, fisher, params, flops
  int64_t pool = 100;  // candidates asked of the strategy and scored per round
  int64_t keep = 10;   // the best of a full pool proposed for training (of a smaller pool: the same share)
  int64_t batch_size = 64;  // examples in the proxy's scoring mini-batch

  bool on() const { return proxy != "none"; }
  // Reads the `prefilter` section; an unknown proxy or keep > pool is an InputError naming the field.
  static PrefilterOptions from_config(ConfigSection& section);
  // "synflow (keep 10 of 100)" for progress lines.
  std::string describe() const;
};

// How many of a pool of n candidates survive: keep of a full pool, the same share (at least one)
// of a smaller one.
int64_t survivors(const PrefilterOptions& o, int64_t n);

class Prefilter : public strategy::Strategy {
 public:
  Prefilter(const strategy::StrategyContext& ctx, PrefilterOptions options, std::unique_ptr<strategy::Strategy> inner);
  ~Prefilter() override;

  // The wrapped strategy's name: outputs report the strategy; the pre-filter is in the config.
  std::string name() const override { return inner_->name(); }
  std::optional<Proposal> ask() override;
  void tell(const Trial& trial) override { inner_->tell(trial); }
  bool exhausted() const override { return queue_.empty() && inner_->exhausted(); }
  nlohmann::json state() const override;
  void load_state(const nlohmann::json& state) override;

  const strategy::Strategy& inner() const { return *inner_; }

 private:
  // Asks the strategy for a pool, scores it and queues the survivors; false if it gave none.
  bool fill();

  PrefilterOptions options_;
  std::unique_ptr<strategy::Strategy> inner_;
  std::unique_ptr<estimate::Evaluator> scorer_;  // made on first use (needs the task's data)
  std::deque<Proposal> queue_;                   // survivors of the last pool, best first
  int64_t rounds_ = 0;                           // pools scored so far
  int64_t scored_ = 0;                           // candidates scored so far
};

// The strategy itself when the pre-filter is off, else the strategy under a Prefilter.
std::unique_ptr<strategy::Strategy> with_prefilter(const PrefilterOptions& o, const strategy::StrategyContext& ctx,
                                                   std::unique_ptr<strategy::Strategy> inner);

}  // namespace nascent::schedule
