#include "nascent/strategy/nsga2.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "nascent/core/config.h"
#include "nascent/core/error.h"
#include "nascent/space/chain.h"

namespace nascent::strategy {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

Nsga2Point pt(double a, double b) { return Nsga2Point{{a, b}, 0}; }
Nsga2Point infeasible(double violation) { return Nsga2Point{{}, violation}; }

TEST(Nsga2Sort, FrontsOfAHandMadeSet) {
  // Both objectives maximised.
  //   0 (4,1)  1 (3,3)  2 (1,4)        front 1: nothing beats them
  //   3 (2,2)  4 (3,1)                 front 2: 3 < 1; 4 < 0 and 1
  //   5 (1,1)                          front 3: below 3 and 4
  //   6 (2,2) equal to 3: same front   front 2
  //   7 infeasible 0.5, 8 infeasible 2, 9 failed: after every feasible point, by violation
  const std::vector<Nsga2Point> p = {pt(4, 1), pt(3, 3), pt(1, 4),        pt(2, 2),      pt(3, 1),
                                     pt(1, 1), pt(2, 2), infeasible(0.5), infeasible(2), infeasible(kInf)};
  const auto fronts = non_dominated_fronts(p);
  ASSERT_EQ(fronts.size(), 6u);
  EXPECT_EQ(fronts[0], (std::vector<size_t>{0, 1, 2}));
  EXPECT_EQ(fronts[1], (std::vector<size_t>{3, 4, 6}));
  EXPECT_EQ(fronts[2], (std::vector<size_t>{5}));
  EXPECT_EQ(fronts[3], (std::vector<size_t>{7}));
  EXPECT_EQ(fronts[4], (std::vector<size_t>{8}));
  EXPECT_EQ(fronts[5], (std::vector<size_t>{9}));
}

TEST(Nsga2Sort, ConstrainedDomination) {
  EXPECT_TRUE(constrained_dominates(pt(0, 0), infeasible(0.01)));  // feasible beats infeasible
  EXPECT_FALSE(constrained_dominates(infeasible(0.01), pt(0, 0)));
  EXPECT_TRUE(constrained_dominates(infeasible(0.1), infeasible(0.2)));
  EXPECT_TRUE(constrained_dominates(infeasible(5), infeasible(kInf)));  // a rejection beats a failure
  EXPECT_FALSE(constrained_dominates(infeasible(kInf), infeasible(kInf)));
  EXPECT_FALSE(constrained_dominates(pt(1, 2), pt(2, 1)));
  EXPECT_FALSE(constrained_dominates(pt(1, 1), pt(1, 1)));
  EXPECT_TRUE(constrained_dominates(pt(1, 2), pt(1, 1)));
}

TEST(Nsga2Sort, CrowdingDistances) {
  // One front: (0,4) (1,3) (2,1) (4,0); both ranges are 4.
  // (1,3): objective 1 gap (2 - 0)/4 = 0.5, objective 2 gap (4 - 1)/4 = 0.75 -> 1.25
  // (2,1): objective 1 gap (4 - 1)/4 = 0.75, objective 2 gap (3 - 0)/4 = 0.75 -> 1.5
  const std::vector<Nsga2Point> p = {pt(2, 1), pt(0, 4), pt(4, 0), pt(1, 3)};
  const auto d = crowding_distances(p, {0, 1, 2, 3});
  EXPECT_DOUBLE_EQ(d[0], 1.5);
  EXPECT_EQ(d[1], kInf);
  EXPECT_EQ(d[2], kInf);
  EXPECT_DOUBLE_EQ(d[3], 1.25);
  EXPECT_EQ(crowding_distances(p, {0, 3}), (std::vector<double>{kInf, kInf}));
}

TEST(Nsga2Sort, SurvivorsFillWholeFrontsThenTheLeastCrowded) {
  // Front 1: points 0 and 1; front 2: points 2..5, the set of CrowdingDistances. Keeping 5
  // takes front 1 and the three least crowded of front 2: both ends (inf) and (2,1) (1.5 against
  // 1.25 for (1,3)).
  const std::vector<Nsga2Point> p = {pt(10, 10), pt(11, 9), pt(0, 4), pt(1, 3), pt(2, 1), pt(4, 0)};
  EXPECT_EQ(select_survivors(p, 5), (std::vector<size_t>{0, 1, 2, 4, 5}));
  EXPECT_EQ(select_survivors(p, 2), (std::vector<size_t>{0, 1}));
  EXPECT_EQ(select_survivors(p, 10).size(), 6u);
  // Infeasible points survive only when feasible ones run out, smallest violation first.
  const std::vector<Nsga2Point> q = {infeasible(kInf), infeasible(3), pt(0, 0), infeasible(1)};
  EXPECT_EQ(select_survivors(q, 2), (std::vector<size_t>{2, 3}));
}

Trial told(int64_t id, const Proposal& p, double acc, double params) {
  Trial t;
  t.id = id;
  t.proposal = p;
  t.status = TrialStatus::kOk;
  t.metrics = {{"val_accuracy", acc}, {"params", params}};
  return t;
}

TEST(Nsga2, GenerationsWaitForTellsAndKeepTheFirstFront) {
  space::ChainSpace space;
  StrategyContext ctx{&space, Objective({{"val_accuracy", true}, {"params", false}}, {}), Fidelity{}, 4, 100};
  Nsga2 nsga(ctx, Nsga2Options{4, 3, 0.9, 1.0, 20});
  std::vector<Proposal> gen0;
  for (int i = 0; i < 4; ++i) gen0.push_back(*nsga.ask());
  EXPECT_FALSE(nsga.ask().has_value());  // the generation is out
  for (const auto& p : gen0) EXPECT_EQ(p.meta["generation"], 0);
  // Trial 2 dominates trial 4; 1 and 3 are a trade-off with 2.
  nsga.tell(told(1, gen0[0], 0.90, 900));
  nsga.tell(told(2, gen0[1], 0.85, 300));
  nsga.tell(told(3, gen0[2], 0.70, 100));
  EXPECT_EQ(nsga.generation(), 0);
  nsga.tell(told(4, gen0[3], 0.80, 400));
  EXPECT_EQ(nsga.generation(), 1);
  ASSERT_EQ(nsga.population().size(), 4u);

  std::vector<Proposal> gen1;
  for (int i = 0; i < 3; ++i) gen1.push_back(*nsga.ask());
  EXPECT_FALSE(nsga.ask().has_value());
  for (const auto& p : gen1) {
    EXPECT_EQ(p.meta["generation"], 1);
    EXPECT_EQ(p.meta["origin"], "offspring");
  }
  // Children: one new non-dominated point, one dominated by everything, one failure.
  nsga.tell(told(5, gen1[0], 0.95, 2000));
  nsga.tell(told(6, gen1[1], 0.10, 5000));
  Trial f = told(7, gen1[2], 0, 0);
  f.status = TrialStatus::kFailed;
  f.metrics.clear();
  nsga.tell(f);
  EXPECT_EQ(nsga.generation(), 2);
  std::vector<int64_t> ids;
  for (const auto& m : nsga.population()) ids.push_back(m.trial);
  std::sort(ids.begin(), ids.end());
  // (mu + lambda) from 7: front 1 = {1, 2, 3, 5}; 4, 6 and the failure 7 drop out.
  EXPECT_EQ(ids, (std::vector<int64_t>{1, 2, 3, 5}));
}

TEST(Nsga2, InfeasibleChildrenLoseToFeasibleOnes) {
  space::ChainSpace space;
  StrategyContext ctx{&space, Objective({{"val_accuracy", true}}, {Constraint::parse("params <= 1000")}), Fidelity{}, 4,
                      100};
  Nsga2 nsga(ctx, Nsga2Options{2, 2, 0.9, 1.0, 20});
  auto a = *nsga.ask(), b = *nsga.ask();
  Trial r = told(1, a, 0, 5000);  // rejected before training: params only
  r.status = TrialStatus::kRejected;
  r.metrics.erase("val_accuracy");
  nsga.tell(r);
  nsga.tell(told(2, b, 0.5, 800));
  auto c = *nsga.ask(), d = *nsga.ask();
  nsga.tell(told(3, c, 0.99, 1500));  // most accurate, but breaks the constraint
  nsga.tell(told(4, d, 0.4, 900));
  std::vector<int64_t> ids;
  for (const auto& m : nsga.population()) ids.push_back(m.trial);
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(ids, (std::vector<int64_t>{2, 4}));
}

TEST(Nsga2Options, ReadsAndChecksFields) {
  ConfigSection o(nlohmann::json{{"population", 8}, {"offspring", 4}, {"crossover_prob", 0.5}}, "strategy.nsga2", "c");
  const auto opt = Nsga2Options::from_config(o);
  EXPECT_EQ(opt.population, 8);
  EXPECT_EQ(opt.offspring, 4);
  EXPECT_DOUBLE_EQ(opt.crossover_prob, 0.5);
  ConfigSection bad(nlohmann::json{{"crossover_prob", 1.5}}, "strategy.nsga2", "c.yaml");
  try {
    Nsga2Options::from_config(bad);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()).rfind("c.yaml: strategy.nsga2.crossover_prob: ", 0), 0u) << e.what();
  }
}

}  // namespace
}  // namespace nascent::strategy
