// summary.json's "importance" from real trials of a space: the decision the objective depends on
// comes first.
#include <gtest/gtest.h>

#include "nascent/core/rng.h"
#include "nascent/run/outputs.h"
#include "nascent/space/nb201.h"

namespace nascent::run {
namespace {

TEST(SummaryImportance, TheDecisionTheObjectiveFollowsComesFirst) {
  space::Nb201Space s;
  Rng rng(3);
  std::vector<Trial> trials;
  for (int i = 0; i < 60; ++i) {
    Trial t;
    t.id = i + 1;
    t.proposal.arch = s.sample(rng);
    t.status = TrialStatus::kOk;
    // The first edge's operation alone sets the accuracy.
    t.metrics["val_accuracy"] = 0.5 + 0.1 * t.proposal.arch.choices[0];
    trials.push_back(t);
  }
  const Objective objective;
  const nlohmann::json imp = importance_json(trials, s, objective);
  ASSERT_FALSE(imp.is_null());
  EXPECT_EQ(imp["trials"], 60);
  EXPECT_EQ(imp["decisions"][0]["decision"], s.decisions()[0].name);
  EXPECT_GT(imp["decisions"][0]["importance"].get<double>(), 0.8);
  // Too few trials: none.
  trials.resize(5);
  EXPECT_TRUE(importance_json(trials, s, objective).is_null());
}

}  // namespace
}  // namespace nascent::run
