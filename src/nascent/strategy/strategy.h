// The ask/tell interface every search strategy implements. A strategy sees only the space's
// decisions and the objective; it never trains a candidate and never touches the store. The
// runner saves state() after every ask and tell, and a resumed search calls load_state().
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "nascent/core/fidelity.h"
#include "nascent/core/objective.h"
#include "nascent/core/trial.h"
#include "nascent/estimate/trainer.h"

namespace nascent {
class ConfigSection;
}
namespace nascent::space {
class SearchSpace;
}
namespace nascent::data {
struct TaskData;
}

namespace nascent::strategy {

// Progress of a strategy's own work, e.g. one epoch of a supernet search: `kind` names it
// ("supernet_epoch"), `step` numbers it (recording the same kind and step again replaces it, so
// work redone after a resume is not logged twice), `data` holds the numbers.
struct StrategyEvent {
  std::string kind;
  int64_t step = 0;
  nlohmann::json data;
  std::string line;  // one line for the user
};

// Where a strategy's events go: the run stores them in the experiment database and prints them.
class EventSink {
 public:
  virtual ~EventSink() = default;
  virtual void record(const StrategyEvent& event) = 0;
};

struct StrategyContext {
  const space::SearchSpace* space = nullptr;
  Objective objective;
  Fidelity fidelity;       // fidelity of proposals unless the strategy decides otherwise
  uint64_t seed = 0;       // experiment seed; strategies derive their own generators from it
  int64_t max_trials = 0;  // the trial budget, for strategies that plan ahead (0 = unknown)

  // For one-shot strategies, which train a supernet themselves (darts, gdas, spos); sampling
  // strategies ignore these. Left unset where nothing is searched (checking a config): then a
  // one-shot strategy may be built but not asked.
  const data::TaskData* data = nullptr;  // the task's splits; the supernet trains on `train` only
  estimate::TrainOptions train{};        // the experiment's training options (batch sizes, clipping)
  std::string checkpoint_dir{};          // supernet checkpoints go here ("" = none)
  int threads = 0;                       // torch threads while the supernet trains (0 = as set)
  EventSink* events = nullptr;           // per-epoch progress (null = not recorded)
  std::function<void()> poll{};          // called between training steps; may throw to stop
};

class Strategy {
 public:
  explicit Strategy(StrategyContext ctx) : ctx_(std::move(ctx)) {}
  virtual ~Strategy() = default;

  virtual std::string name() const = 0;
  // The next proposal, or nullopt when the strategy has nothing to propose until it is told
  // more (or, with exhausted(), ever again).
  virtual std::optional<Proposal> ask() = 0;
  // The finished trial for an earlier proposal (status ok, failed, rejected or pruned).
  virtual void tell(const Trial& trial) = 0;
  // True once the strategy will never propose again (e.g. the space is used up).
  virtual bool exhausted() const { return false; }

  virtual nlohmann::json state() const = 0;
  virtual void load_state(const nlohmann::json& state) = 0;

  const StrategyContext& context() const { return ctx_; }

 protected:
  // The objective's score of a trial (larger is better); -inf when failed or infeasible.
  double fitness(const Trial& trial) const;
  StrategyContext ctx_;
};

// Reads the strategy's own options section (calling finish() on it) and builds the strategy.
using StrategyFactory = std::function<std::unique_ptr<Strategy>(ConfigSection& options, const StrategyContext& ctx)>;

struct StrategyInfo {
  std::string name;
  std::string summary;
  StrategyFactory factory;
};

void register_strategy(StrategyInfo info);
// Throws InputError (field strategy.name) for an unknown name.
std::unique_ptr<Strategy> make_strategy(const std::string& name, ConfigSection& options, const StrategyContext& ctx);
std::vector<StrategyInfo> registered_strategies();

// JSON helpers for strategy states.
nlohmann::json choices_to_json(const Arch& a);
Arch arch_from_choices(const std::string& space, const nlohmann::json& j);

}  // namespace nascent::strategy
