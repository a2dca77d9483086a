// Top-k re-evaluation before the final training. The search ranks candidates by a cheap estimate
// (by default one epoch on a quarter of the training split), which is noisy and favours networks
// that learn fast over ones that end better after a long training. Training the few best distinct
// architectures again at a higher fidelity (more epochs on all the data) and handing on the best
// of them corrects the pick for a few minutes of the budget. The re-evaluations are ordinary
// trials in the store (meta "reevaluates": the search trial they repeat, worker "reevaluate"),
// each committed before the next starts; the strategy is never told them, and a resumed run
// reuses the finished ones and trains again one that was cut off, under its own id.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

#include "nascent/core/fidelity.h"
#include "nascent/core/objective.h"
#include "nascent/core/trial.h"
#include "nascent/run/progress.h"

namespace nascent::space {
class SearchSpace;
}
namespace nascent::store {
class Store;
}
namespace nascent::estimate {
class Evaluator;
}

namespace nascent::run {

// The meta key of a re-evaluation trial: the id of the search trial it trains again.
inline constexpr const char* kReevaluates = "reevaluates";

// Whether t is a re-evaluation trial.
bool is_reevaluation(const Trial& t);

// Indices of the `top` best feasible ok search trials (re-evaluations left out) of distinct
// architectures, best first by the objective.
std::vector<size_t> reevaluation_candidates(const std::vector<Trial>& trials, const space::SearchSpace& space,
                                            const Objective& objective, int64_t top);

struct Reevaluation {
  std::vector<int64_t> candidates;  // the search trials re-evaluated, best first by the search's estimate
  std::vector<int64_t> trials;      // their re-evaluation trials, in the same order
  std::optional<int64_t> chosen;    // the re-evaluation trial the final training takes (none ok: nullopt)
  int64_t reused = 0;               // re-evaluations finished in an earlier session
  double seconds = 0;               // wall time of the re-evaluation trials, over every session
  nlohmann::json to_json(const std::vector<Trial>& trials, const Objective& objective) const;
};

// Trains the candidates again at fidelity f, one at a time with the evaluator, and picks the
// best. seed is the experiment's seed: each re-evaluation's weights derive from it, the
// architecture and f, so a resumed run repeats an interrupted one exactly.
Reevaluation reevaluate_top(const space::SearchSpace& space, store::Store& store, estimate::Evaluator& evaluator,
                            const Objective& objective, int64_t top, const Fidelity& f, uint64_t seed,
                            ProgressReporter& progress);

// The trial a search hands on: the best re-evaluation trial when there are any, else the best
// trial by the objective.
std::optional<size_t> chosen_trial(const std::vector<Trial>& trials, const Objective& objective);

}  // namespace nascent::run
