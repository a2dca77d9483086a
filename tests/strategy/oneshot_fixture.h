// Shared by the one-shot strategy tests: a small real Fashion-MNIST task, a tiny nb201 space
// and a strategy context over them.
#pragma once

#include <string>
#include <vector>

#include "nascent/data/dataset.h"
#include "nascent/space/nb201.h"
#include "nascent/space/supernet.h"
#include "nascent/strategy/oneshot.h"
#include "support/support.h"

namespace nascent::strategy::oneshot_test {

inline const data::TaskData& small_task() { return test::fashion_task(600); }  // 540 training images: two halves of 270

inline space::Nb201Space tiny_nb201() {
  space::Nb201Options o;
  o.C = 4;
  o.N = 1;
  return space::Nb201Space(o);
}

// Keeps every strategy event (one per supernet epoch).
class Events : public EventSink {
 public:
  void record(const StrategyEvent& e) override { events.push_back(e); }
  std::vector<StrategyEvent> events;
};

// The strategy context of the one-shot tests; with `events`, every event lands there.
inline StrategyContext context(const space::SearchSpace& s, uint64_t seed, const std::string& checkpoints = "",
                               EventSink* events = nullptr) {
  StrategyContext c;
  c.space = &s;
  c.seed = seed;
  c.max_trials = 1;
  c.data = &small_task();
  c.checkpoint_dir = checkpoints;
  c.threads = 1;
  c.events = events;
  return c;
}

// softmax(alpha) of every edge, flattened.
inline std::vector<double> alphas_of(OneShotStrategy& s) {
  std::vector<double> out;
  for (const auto& [_, row] : s.supernet().alpha_table()) out.insert(out.end(), row.begin(), row.end());
  return out;
}

}  // namespace nascent::strategy::oneshot_test
