#include "nascent/core/objective.h"

#include <gtest/gtest.h>

#include "nascent/core/config.h"
#include "nascent/core/error.h"

namespace nascent {
namespace {

Trial ok_trial(int64_t id, double acc, double params) {
  Trial t;
  t.id = id;
  t.status = TrialStatus::kOk;
  t.metrics = {{"val_accuracy", acc}, {"params", params}};
  return t;
}

TEST(Constraint, ParsesAndChecks) {
  Constraint c = Constraint::parse("params <= 100000");
  EXPECT_EQ(c.metric, "params");
  EXPECT_TRUE(c.satisfied(100000));
  EXPECT_FALSE(c.satisfied(100001));
  EXPECT_TRUE(Constraint::parse("latency_ms<2.5").satisfied(2.4));
  EXPECT_FALSE(Constraint::parse("val_accuracy >= 0.9").satisfied(0.89));
  EXPECT_THROW(Constraint::parse("params <= lots"), std::invalid_argument);
  EXPECT_THROW(Constraint::parse("params ~ 3"), std::invalid_argument);
}

TEST(Objective, ScoresRespectDirectionAndConstraints) {
  Objective o({{"val_accuracy", true}}, {Constraint::parse("params <= 1000")});
  EXPECT_DOUBLE_EQ(*o.score(ok_trial(1, 0.8, 500)), 0.8);
  EXPECT_FALSE(o.score(ok_trial(2, 0.9, 5000)).has_value());
  Trial failed = ok_trial(3, 0.99, 10);
  failed.status = TrialStatus::kFailed;
  EXPECT_FALSE(o.score(failed).has_value());
  Objective m({{"params", false}}, {});
  EXPECT_DOUBLE_EQ(*m.score(ok_trial(1, 0.8, 500)), -500);
}

TEST(Objective, BestAndParetoFront) {
  Objective o({{"val_accuracy", true}, {"params", false}}, {});
  std::vector<Trial> ts = {ok_trial(1, 0.80, 100), ok_trial(2, 0.85, 400), ok_trial(3, 0.82, 500),
                           ok_trial(4, 0.90, 900), ok_trial(5, 0.79, 100)};
  EXPECT_EQ(*o.best(ts), 3u);
  // 3 is dominated by 2 (less accurate, larger); 5 by 1.
  EXPECT_EQ(o.pareto_front(ts), (std::vector<size_t>{3, 1, 0}));
  EXPECT_TRUE(o.dominates(ts[1], ts[2]));
  EXPECT_FALSE(o.dominates(ts[0], ts[3]));
}

TEST(Objective, ParetoFrontOfThreeMetricsIsTheNonDominatedFeasibleOkTrials) {
  // Maximise accuracy, minimise params and latency, with a params bound.
  Objective o({{"val_accuracy", true}, {"params", false}, {"latency_ms", false}},
              {Constraint::parse("params <= 1000")});
  auto t = [](int64_t id, double acc, double params, double lat) {
    Trial x = ok_trial(id, acc, params);
    x.metrics["latency_ms"] = lat;
    x.proposal.arch = Arch{"s", {static_cast<int>(id)}};
    return x;
  };
  std::vector<Trial> ts = {
      t(1, 0.90, 800, 3.0),   // front: most accurate feasible
      t(2, 0.80, 200, 1.0),   // front: small and fast
      t(3, 0.85, 900, 0.5),   // front: fastest
      t(4, 0.80, 300, 1.5),   // dominated by 2 in all three
      t(5, 0.99, 5000, 0.1),  // breaks params <= 1000: never on the front, dominates nothing
      t(6, 0.95, 100, 0.1),   // failed: its metrics do not count
      t(7, 0.70, 50, 2.0),    // front: smallest
      t(8, 0.90, 800, 3.0),   // ties 1 exactly (another architecture): both are on the front
      t(9, 0.88, 900, 2.0),   // front: 1 is more accurate and smaller, but slower
  };
  ts[5].status = TrialStatus::kFailed;
  Trial reused = ts[1];  // the runner reused trial 2's result: same architecture, same fidelity
  reused.id = 10;
  ts.push_back(reused);
  Trial missing = t(11, 0.97, 10, 0.2);  // ok but without latency: cannot be compared
  missing.metrics.erase("latency_ms");
  ts.push_back(missing);
  // Best first by accuracy; the tie between 1 and 8 keeps trial order.
  EXPECT_EQ(o.pareto_front(ts), (std::vector<size_t>{0, 7, 8, 2, 1, 6}));
}

TEST(Objective, FromConfigNamesBadFields) {
  ConfigSection s(nlohmann::json{{"metrics", {{{"name", "val_accuracy"}, {"direction", "up"}}}}}, "objective",
                  "f.yaml");
  try {
    Objective::from_config(s);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()), "f.yaml: objective.metrics[0].direction: 'up' is not one of: max, min");
  }
  ConfigSection c(nlohmann::json{{"constraints", {"params <= x"}}}, "objective", "f.yaml");
  EXPECT_THROW(Objective::from_config(c), InputError);
}

}  // namespace
}  // namespace nascent
