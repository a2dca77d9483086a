#include "nascent/strategy/evolution.h"

#include <gtest/gtest.h>

#include "nascent/core/config.h"
#include "nascent/core/error.h"
#include "nascent/space/chain.h"

namespace nascent::strategy {
namespace {

Trial told(int64_t id, const Proposal& p, double acc) {
  Trial t;
  t.id = id;
  t.proposal = p;
  t.status = TrialStatus::kOk;
  t.metrics["val_accuracy"] = acc;
  return t;
}

TEST(RegularizedEvolution, RandomUntilPopulationThenMutationsOfTheBest) {
  space::ChainSpace space;
  StrategyContext ctx{&space, Objective(), Fidelity{}, 3, 100};
  RegularizedEvolution evo(
      ctx, EvolutionOptions{4, 4, 20, nlohmann::json::array(), ""});  // S = P: the parent is always the best
  std::vector<Proposal> first;
  for (int i = 0; i < 4; ++i) {
    auto p = evo.ask();
    ASSERT_TRUE(p);
    EXPECT_EQ(p->meta["origin"], "random");
    first.push_back(*p);
  }
  const double accs[4] = {0.5, 0.9, 0.7, 0.6};
  for (int i = 0; i < 4; ++i) evo.tell(told(i + 1, first[i], accs[i]));
  for (int i = 0; i < 5; ++i) {
    auto p = evo.ask();
    ASSERT_TRUE(p);
    EXPECT_EQ(p->meta["origin"], "mutation");
    EXPECT_EQ(p->meta["parent"], 2);  // trial 2 is the fittest
    // One decision away from the parent.
    auto n = space.neighbors(first[1].arch);
    bool is_neighbor = false;
    for (const auto& a : n) is_neighbor |= space.hash(a) == space.hash(p->arch);
    EXPECT_TRUE(is_neighbor);
  }
}

TEST(RegularizedEvolution, OldestLeavesNotWorst) {
  space::ChainSpace space;
  StrategyContext ctx{&space, Objective(), Fidelity{}, 3, 100};
  RegularizedEvolution evo(ctx, EvolutionOptions{3, 2, 20, nlohmann::json::array(), ""});
  std::vector<double> accs = {0.9, 0.1, 0.2, 0.3, 0.4};
  for (size_t i = 0; i < accs.size(); ++i) evo.tell(told(static_cast<int64_t>(i) + 1, *evo.ask(), accs[i]));
  ASSERT_EQ(evo.population().size(), 3u);
  // The best (trial 1, 0.9) was the oldest and has aged out; trials 3, 4, 5 remain.
  EXPECT_EQ(evo.population()[0].trial, 3);
  EXPECT_EQ(evo.population()[2].trial, 5);
}

TEST(RegularizedEvolution, RejectedStayOutFailedAgeOut) {
  space::ChainSpace space;
  StrategyContext ctx{&space, Objective(), Fidelity{}, 3, 100};
  RegularizedEvolution evo(ctx, EvolutionOptions{3, 2, 20, nlohmann::json::array(), ""});
  Trial r = told(1, *evo.ask(), 0);
  r.status = TrialStatus::kRejected;
  evo.tell(r);
  EXPECT_TRUE(evo.population().empty());
  Trial f = told(2, *evo.ask(), 0);
  f.status = TrialStatus::kFailed;
  evo.tell(f);
  ASSERT_EQ(evo.population().size(), 1u);
  EXPECT_TRUE(std::isinf(evo.population()[0].fitness));
}

TEST(EvolutionOptions, SampleLargerThanPopulationIsAnError) {
  ConfigSection o(nlohmann::json{{"population", 4}, {"sample", 5}}, "strategy.evolution", "c.yaml");
  try {
    EvolutionOptions::from_config(o);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()), "c.yaml: strategy.evolution.sample: 5 is larger than population (4)");
  }
}

TEST(RegularizedEvolution, InitialArchitecturesComeFirstThenRandom) {
  space::ChainSpace space;
  StrategyContext ctx{&space, Objective(), Fidelity{}, 3, 100};
  const nlohmann::json a = {
      {"s1_blocks", 1}, {"s1_op", "conv"}, {"s1_kernel", 3}, {"s1_width", 16}, {"s1_act", "relu"}, {"s1_skip", "no"},
      {"s2_blocks", 1}, {"s2_op", "conv"}, {"s2_kernel", 3}, {"s2_width", 32}, {"s2_act", "relu"}, {"s2_skip", "no"},
      {"s3_blocks", 1}, {"s3_op", "conv"}, {"s3_kernel", 3}, {"s3_width", 64}, {"s3_act", "relu"}, {"s3_skip", "no"}};
  nlohmann::json b = a;
  b["s2_op"] = "mbconv";
  b["s2_expand"] = 4;
  ConfigSection sec(nlohmann::json{{"population", 4}, {"sample", 2}, {"initial", {a, b}}}, "strategy.evolution",
                    "c.yaml");
  RegularizedEvolution evo(ctx, EvolutionOptions::from_config(sec));
  auto p1 = evo.ask(), p2 = evo.ask(), p3 = evo.ask();
  EXPECT_EQ(p1->meta["origin"], "initial");
  EXPECT_EQ(space.to_json(p1->arch)["choices"]["s1_width"], "16");
  EXPECT_EQ(p2->meta["origin"], "initial");
  EXPECT_EQ(space.to_json(p2->arch)["choices"]["s2_expand"], "4");
  EXPECT_EQ(p3->meta["origin"], "random");
  // A resumed strategy does not propose them again.
  RegularizedEvolution again(ctx, EvolutionOptions::from_config(sec));
  again.load_state(evo.state());
  EXPECT_EQ(again.ask()->meta["origin"], "random");
}

TEST(RegularizedEvolution, BadInitialArchitectureIsNamed) {
  space::ChainSpace space;
  StrategyContext ctx{&space, Objective(), Fidelity{}, 3, 100};
  ConfigSection sec(nlohmann::json{{"initial", {{{"s1_blocks", 7}}}}}, "strategy.evolution", "c.yaml");
  try {
    RegularizedEvolution evo(ctx, EvolutionOptions::from_config(sec));
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()),
              "c.yaml: strategy.evolution.initial[0]: choices.s1_blocks: unknown option '7'; options are: 1, 2, 3");
  }
}

}  // namespace
}  // namespace nascent::strategy
