// Top-k re-evaluation: which search trials are trained again, which trial is handed on, how the
// config section reads, and how the plain summary words a re-evaluated pick.
#include "nascent/run/reevaluate.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "nascent/core/error.h"
#include "nascent/run/experiment.h"
#include "nascent/run/plain_summary.h"
#include "nascent/space/nb201.h"

namespace nascent::run {
namespace {

Trial trial(int64_t id, std::vector<int> choices, double acc, int64_t params = 400, Fidelity f = {1, 0.5, 0, 1}) {
  Trial t;
  t.id = id;
  t.proposal = Proposal{Arch{"nb201", std::move(choices)}, f, {}};
  t.status = TrialStatus::kOk;
  t.metrics = {{"val_accuracy", acc}, {"params", static_cast<double>(params)}};
  return t;
}

Trial reevaluation(int64_t id, const Trial& of, double acc) {
  Trial t = trial(id, of.proposal.arch.choices, acc, 400, Fidelity::full(3));
  t.proposal.meta = {{kReevaluates, of.id}};
  return t;
}

TEST(Reevaluation, CandidatesAreTheBestDistinctFeasibleSearchTrials) {
  const space::Nb201Space space;
  const Objective objective({{"val_accuracy", true}}, {Constraint::parse("params <= 1000")});
  std::vector<Trial> trials;
  trials.push_back(trial(1, {3, 3, 3, 3, 3, 3}, 0.70));
  trials.push_back(trial(2, {2, 2, 2, 2, 2, 2}, 0.90, 5000));  // best value, but breaks the constraint
  trials.push_back(trial(3, {2, 3, 2, 3, 2, 3}, 0.80));
  trials.push_back(trial(4, {2, 3, 2, 3, 2, 3}, 0.85));  // the same architecture as #3, measured again
  trials.push_back(trial(5, {3, 2, 3, 2, 3, 2}, 0.75));
  trials.push_back(trial(6, {4, 3, 4, 3, 4, 3}, 0.75));  // ties with #5: the earlier one first
  Trial failed = trial(7, {1, 3, 1, 3, 1, 3}, 0.99);
  failed.status = TrialStatus::kFailed;
  trials.push_back(failed);
  auto ids = [&](const std::vector<size_t>& idx) {
    std::vector<int64_t> out;
    for (size_t i : idx) out.push_back(trials[i].id);
    return out;
  };
  EXPECT_EQ(ids(reevaluation_candidates(trials, space, objective, 3)), (std::vector<int64_t>{4, 5, 6}));
  EXPECT_EQ(ids(reevaluation_candidates(trials, space, objective, 1)), (std::vector<int64_t>{4}));
  EXPECT_EQ(ids(reevaluation_candidates(trials, space, objective, 10)), (std::vector<int64_t>{4, 5, 6, 1}));
  // (Distinct by the space's hash: nb201 cells that differ only in dead edges are one network.)
  // Re-evaluations are never candidates themselves, however good.
  trials.push_back(reevaluation(8, trials[3], 0.97));
  EXPECT_EQ(ids(reevaluation_candidates(trials, space, objective, 2)), (std::vector<int64_t>{4, 5}));
}

TEST(Reevaluation, TheBestReevaluatedTrialIsHandedOnEvenWhenASearchTrialScoresHigher) {
  const space::Nb201Space space;
  const Objective objective({{"val_accuracy", true}}, {});
  std::vector<Trial> trials{trial(1, {0, 0, 0, 0, 0, 0}, 0.90), trial(2, {1, 0, 0, 0, 0, 0}, 0.80)};
  // Without re-evaluations: the best by the objective.
  EXPECT_EQ(chosen_trial(trials, objective), std::optional<size_t>(0));
  trials.push_back(reevaluation(3, trials[0], 0.84));
  trials.push_back(reevaluation(4, trials[1], 0.86));
  EXPECT_EQ(chosen_trial(trials, objective), std::optional<size_t>(3));
  // A failed re-evaluation is never chosen; none ok at all falls back to the search's best.
  trials[3].status = TrialStatus::kFailed;
  EXPECT_EQ(chosen_trial(trials, objective), std::optional<size_t>(2));
  trials[2].status = TrialStatus::kFailed;
  EXPECT_EQ(chosen_trial(trials, objective), std::optional<size_t>(0));
}

TEST(Reevaluation, PlainSummarySaysThePickWasTrainedAgain) {
  const space::Nb201Space space;
  const Objective objective({{"val_accuracy", true}}, {});
  std::vector<Trial> trials{trial(1, {0, 0, 0, 0, 0, 0}, 0.9), trial(2, {1, 0, 0, 0, 0, 0}, 0.8)};
  trials.push_back(reevaluation(3, trials[0], 0.84));
  trials.push_back(reevaluation(4, trials[1], 0.86));
  const std::vector<std::string> s = plain_summary(trials, space, objective, nlohmann::json());
  ASSERT_FALSE(s.empty());
  EXPECT_EQ(s[0], "The best architecture is trial #4 (" + space.describe(trials[1].proposal.arch) +
                      "), chosen by training the best of the search again before the final training: val_accuracy "
                      "0.86 at 3 epochs on all of the training split (it had 0.8 in the search as trial #2).");
}

std::string config_error(const nlohmann::json& final) {
  nlohmann::json raw = {{"space", {{"name", "nb201"}}}, {"strategy", {{"name", "random"}}}, {"final", final}};
  try {
    ExperimentConfig::parse(raw, "exp.yaml");
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(Reevaluation, ConfigSection) {
  nlohmann::json raw = {{"space", {{"name", "nb201"}}}, {"strategy", {{"name", "random"}}}};
  EXPECT_EQ(ExperimentConfig::parse(raw, "exp.yaml").final.reevaluate_top, 0);  // off unless asked for
  raw["final"] = {{"epochs", 2}, {"reevaluate", nlohmann::json::object()}};
  const ExperimentConfig c = ExperimentConfig::parse(raw, "exp.yaml");
  EXPECT_EQ(c.final.reevaluate_top, 3);
  EXPECT_EQ(c.final.reevaluate.key(), Fidelity::full(3).key());
  raw["final"]["reevaluate"] = {{"top", 5}, {"epochs", 2}, {"data_fraction", 0.5}};
  const ExperimentConfig d = ExperimentConfig::parse(raw, "exp.yaml");
  EXPECT_EQ(d.final.reevaluate_top, 5);
  EXPECT_EQ(d.final.reevaluate.key(), (Fidelity{2, 0.5, 0, 1}).key());
  EXPECT_NE(config_error({{"reevaluate", 3}}).find("exp.yaml: final.reevaluate: expected a mapping of options"),
            std::string::npos)
      << config_error({{"reevaluate", 3}});
  EXPECT_NE(config_error({{"reevaluate", {{"epoch", 2}}}}).find("final.reevaluate.epoch: unknown field"),
            std::string::npos)
      << config_error({{"reevaluate", {{"epoch", 2}}}});
  EXPECT_NE(config_error({{"reevaluate", {{"data_fraction", 2}}}}).find("final.reevaluate.data_fraction"),
            std::string::npos);
}

}  // namespace
}  // namespace nascent::run
