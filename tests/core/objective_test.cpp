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
