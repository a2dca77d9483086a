#include "nascent/strategy/local_search.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "nascent/core/config.h"
#include "nascent/core/error.h"
#include "nascent/space/space.h"

namespace nascent::strategy {
namespace {

// Two decisions of three options: every architecture has exactly four neighbours.
class GridSpace : public space::SearchSpace {
 public:
  GridSpace() : SearchSpace("grid", {{"a", {"0", "1", "2"}, std::nullopt}, {"b", {"0", "1", "2"}, std::nullopt}}) {}
  std::shared_ptr<space::Network> build(const Arch&, const Task&, double) const override {
    throw InputError("", "", "grid builds no networks");
  }
};

Trial told(int64_t id, const Proposal& p, double score) {
  Trial t;
  t.id = id;
  t.proposal = p;
  t.status = TrialStatus::kOk;
  t.metrics["score"] = score;
  return t;
}

bool one_apart(const Arch& x, const Arch& y) {
  return (x.choices[0] != y.choices[0]) + (x.choices[1] != y.choices[1]) == 1;
}

StrategyContext grid_ctx(const GridSpace& g, uint64_t seed = 1) {
  return StrategyContext{&g, Objective({{"score", true}}, {}), Fidelity{}, seed, 100};
}

TEST(LocalSearch, FirstImprovementMovesToTheFirstBetterNeighbour) {
  GridSpace g;
  LocalSearch ls(grid_ctx(g), LocalSearchOptions{1, "first", 1000});
  const Proposal start = *ls.ask();
  EXPECT_EQ(start.meta["origin"], "initial");
  ls.tell(told(1, start, 5.0));
  const Proposal n1 = *ls.ask();
  EXPECT_EQ(n1.meta["origin"], "neighbor");
  EXPECT_EQ(n1.meta["centre"], 1);
  EXPECT_TRUE(one_apart(n1.arch, start.arch));
  ls.tell(told(2, n1, 4.0));  // worse: stay
  EXPECT_EQ(ls.centre()->trial, 1);
  const Proposal n2 = *ls.ask();
  EXPECT_TRUE(one_apart(n2.arch, start.arch));
  ls.tell(told(3, n2, 6.0));  // better: move at once
  ASSERT_TRUE(ls.centre());
  EXPECT_EQ(ls.centre()->trial, 3);
  const Proposal n3 = *ls.ask();
  EXPECT_EQ(n3.meta["centre"], 3);
  EXPECT_TRUE(one_apart(n3.arch, n2.arch));
  EXPECT_NE(g.hash(n3.arch), g.hash(start.arch));  // the old centre is known: not asked again
}

TEST(LocalSearch, RestartsFromARandomArchitectureAtALocalOptimum) {
  GridSpace g;
  LocalSearch ls(grid_ctx(g, 7), LocalSearchOptions{1, "first", 1000});
  const Proposal start = *ls.ask();
  ls.tell(told(1, start, 10.0));
  for (int i = 0; i < 4; ++i) {  // the four neighbours, all worse
    const Proposal n = *ls.ask();
    EXPECT_EQ(n.meta["origin"], "neighbor");
    EXPECT_TRUE(one_apart(n.arch, start.arch));
    ls.tell(told(2 + i, n, 1.0));
  }
  EXPECT_EQ(ls.restarts(), 0);
  const Proposal r = *ls.ask();
  EXPECT_EQ(r.meta["origin"], "restart");
  EXPECT_EQ(ls.restarts(), 1);
  EXPECT_FALSE(ls.centre().has_value());
  EXPECT_FALSE(ls.ask().has_value());  // the restart's result decides the next centre
  ls.tell(told(6, r, 0.5));
  ASSERT_TRUE(ls.centre());
  EXPECT_EQ(ls.centre()->trial, 6);
}

TEST(LocalSearch, BestImprovementScansTheWholeNeighbourhoodThenTakesTheBest) {
  GridSpace g;
  LocalSearch ls(grid_ctx(g, 3), LocalSearchOptions{1, "best", 1000});
  const Proposal start = *ls.ask();
  ls.tell(told(1, start, 0.0));
  std::map<int64_t, Proposal> ns;
  const double scores[4] = {1.0, 3.0, 2.0, 0.5};
  for (int i = 0; i < 4; ++i) {
    const Proposal n = *ls.ask();
    ns[2 + i] = n;
    ls.tell(told(2 + i, n, scores[i]));
    if (i < 3) {
      EXPECT_EQ(ls.centre()->trial, 1) << "moved before the neighbourhood was done";
    }
  }
  const Proposal next = *ls.ask();
  ASSERT_TRUE(ls.centre());
  EXPECT_EQ(ls.centre()->trial, 3);  // score 3.0, the best neighbour
  EXPECT_TRUE(one_apart(next.arch, ns[3].arch));
}

TEST(LocalSearch, InitialBestIsTheFirstCentreAndFailuresNeverAttract) {
  GridSpace g;
  LocalSearch ls(grid_ctx(g, 5), LocalSearchOptions{3, "first", 1000});
  std::vector<Proposal> init;
  for (int i = 0; i < 3; ++i) init.push_back(*ls.ask());
  EXPECT_FALSE(ls.ask().has_value());  // waits for all initial results
  ls.tell(told(1, init[0], 2.0));
  Trial f = told(2, init[1], 99.0);
  f.status = TrialStatus::kFailed;
  ls.tell(f);
  ls.tell(told(3, init[2], 1.0));
  const Proposal n = *ls.ask();
  EXPECT_EQ(ls.centre()->trial, 1);
  EXPECT_EQ(n.meta["centre"], 1);
}

TEST(LocalSearch, ExhaustsASmallSpaceWithoutRepeats) {
  GridSpace g;
  LocalSearch ls(grid_ctx(g, 9), LocalSearchOptions{2, "first", 200});
  std::set<std::string> seen;
  for (int i = 0; i < 20; ++i) {
    auto p = ls.ask();
    if (!p) break;
    EXPECT_TRUE(seen.insert(g.hash(p->arch)).second) << "repeat at ask " << i;
    ls.tell(told(i + 1, *p, p->arch.choices[0] * 3 + p->arch.choices[1] % 2));
  }
  EXPECT_EQ(seen.size(), 9u);
  EXPECT_TRUE(ls.exhausted());
}

TEST(LocalSearchOptions, ImprovementMustBeFirstOrBest) {
  ConfigSection o(nlohmann::json{{"improvement", "steepest"}}, "strategy.local", "c.yaml");
  try {
    LocalSearchOptions::from_config(o);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()), "c.yaml: strategy.local.improvement: 'steepest' is not one of: first, best");
  }
}

}  // namespace
}  // namespace nascent::strategy
