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

inline StrategyContext context(const space::SearchSpace& s, uint64_t seed, const std::string& checkpoints = "") {
  StrategyContext c;
  c.space = &s;
  c.seed = seed;
  c.max_trials = 1;
  c.data = &small_task();
  c.checkpoint_dir = checkpoints;
  c.threads = 1;
  return c;
}

// Keeps every strategy event (one per supernet epoch).
class Events : public EventSink {
 public:
  void record(const StrategyEvent& e) override { events.push_back(e); }
  std::vector<StrategyEvent> events;
};

// softmax(alpha) of every edge, flattened.
inline std::vector<double> alphas_of(OneShotStrategy& s) {
  std::vector<double> out;
  for (const auto& [_, row] : s.supernet().alpha_table()) out.insert(out.end(), row.begin(), row.end());
  return out;
}

}  // namespace nascent::strategy::oneshot_test
