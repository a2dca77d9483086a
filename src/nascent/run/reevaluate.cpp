#include "nascent/run/reevaluate.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "nascent/estimate/evaluator.h"
#include "nascent/run/executor.h"
#include "nascent/run/interrupt.h"
#include "nascent/run/runner.h"
#include "nascent/space/space.h"
#include "nascent/store/store.h"

namespace nascent::run {

bool is_reevaluation(const Trial& t) { return t.proposal.meta.is_object() && t.proposal.meta.contains(kReevaluates); }

std::vector<size_t> reevaluation_candidates(const std::vector<Trial>& trials, const space::SearchSpace& space,
                                            const Objective& objective, int64_t top) {
  std::vector<size_t> order;
  for (size_t i = 0; i < trials.size(); ++i)
    if (!is_reevaluation(trials[i]) && objective.score(trials[i])) order.push_back(i);
  // Best first; ties keep trial order.
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return *objective.score(trials[a]) > *objective.score(trials[b]); });
  std::vector<size_t> out;
  std::set<std::string> seen;
  for (size_t i : order) {
    if (static_cast<int64_t>(out.size()) >= top) break;
    if (seen.insert(space.hash(trials[i].proposal.arch)).second) out.push_back(i);
  }
  return out;
}

nlohmann::json Reevaluation::to_json(const std::vector<Trial>& all, const Objective& objective) const {
  const std::string m = objective.metrics().front().name;
  auto find = [&](int64_t id) -> const Trial* {
    for (const auto& t : all)
      if (t.id == id) return &t;
    return nullptr;
  };
  nlohmann::json rows = nlohmann::json::array();
  for (size_t i = 0; i < candidates.size() && i < trials.size(); ++i) {
    const Trial* c = find(candidates[i]);
    const Trial* r = find(trials[i]);
    nlohmann::json row = {{"search_trial", candidates[i]}, {"trial", trials[i]}};
    if (c && c->metric(m)) row["search_" + m] = *c->metric(m);
    if (r) {
      row["status"] = to_string(r->status);
      if (r->metric(m)) row[m] = *r->metric(m);
      if (!r->reason.empty()) row["reason"] = r->reason;
    }
    rows.push_back(row);
  }
  nlohmann::json j = {{"candidates", rows}, {"seconds", seconds}, {"reused", reused}};
  j["chosen"] = chosen ? nlohmann::json(*chosen) : nlohmann::json(nullptr);
  return j;
}

Reevaluation reevaluate_top(const space::SearchSpace& space, store::Store& store, estimate::Evaluator& evaluator,
                            const Objective& objective, int64_t top, const Fidelity& f, uint64_t seed,
                            ProgressReporter& progress) {
  Reevaluation out;
  std::vector<Trial> trials = store.trials();
  const std::vector<size_t> picks = reevaluation_candidates(trials, space, objective, top);
  const std::string m = objective.metrics().front().name;
  const nlohmann::json state = store.strategy_state().value_or(nlohmann::json(nullptr));
  progress.message(fmt::format("re-evaluating the {} best architectures at fidelity {} before the final training",
                               picks.size(), f.key()));
  for (size_t k = 0; k < picks.size(); ++k) {
    const Trial& c = trials[picks[k]];
    out.candidates.push_back(c.id);
    // A re-evaluation of the same candidate from an earlier session: taken when finished, trained
    // again under its own id when that session was cut off during it.
    std::optional<Trial> earlier;
    for (const auto& t : trials)
      if (is_reevaluation(t) && t.proposal.meta.value(kReevaluates, int64_t{0}) == c.id && t.proposal.fidelity == f)
        earlier = t;
    if (earlier && earlier->status != TrialStatus::kRunning) {
      out.trials.push_back(earlier->id);
      ++out.reused;
      continue;
    }
    Trial t;
    t.proposal.arch = c.proposal.arch;
    t.proposal.fidelity = f;
    t.proposal.meta = {{kReevaluates, c.id}};
    t.id = earlier ? earlier->id : store.begin_trial(t.proposal, state, "reevaluate");
    const std::string label = fmt::format("re-evaluation {}/{} (trial #{} of the search)", k + 1, picks.size(), c.id);
    t.started = unix_now();
    t.worker = "reevaluate";
    const estimate::Evaluation e = evaluator.evaluate(t.proposal, evaluation_seed(seed, space, t.proposal),
                                                      [&progress, &label](const estimate::TrainProgress& p) {
                                                        check_stop();
                                                        progress.training(label, p);
                                                      });
    t.ended = unix_now();
    t.status = e.status;
    t.reason = e.reason;
    t.metrics = e.metrics;
    progress.clear_bar();
    store.finish_trial(t, state, store.info().elapsed_s);
    out.trials.push_back(t.id);
    progress.message(fmt::format(
        "  trial #{}: {} {} -> {}", c.id, m, c.metric(m) ? fmt::format("{:.4f}", *c.metric(m)) : "-",
        t.status == TrialStatus::kOk && t.metric(m) ? fmt::format("{:.4f} at {}", *t.metric(m), f.key())
                                                    : fmt::format("{} ({})", to_string(t.status), t.reason)));
  }
  trials = store.trials();
  for (const auto& t : trials)
    if (std::find(out.trials.begin(), out.trials.end(), t.id) != out.trials.end())
      out.seconds += std::max(0.0, t.ended - t.started);
  if (const auto b = chosen_trial(trials, objective)) out.chosen = trials[*b].id;
  return out;
}

std::optional<size_t> chosen_trial(const std::vector<Trial>& trials, const Objective& objective) {
  std::optional<size_t> best;
  for (size_t i = 0; i < trials.size(); ++i) {
    if (!is_reevaluation(trials[i])) continue;
    const auto s = objective.score(trials[i]);
    if (s && (!best || *s > *objective.score(trials[*best]))) best = i;
  }
  return best ? best : objective.best(trials);
}

}  // namespace nascent::run
