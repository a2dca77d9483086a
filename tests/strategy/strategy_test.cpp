// Behaviour every sampling strategy must have: same seed -> same proposals, state round trip
// continues exactly, failed and rejected trials are handled.
#include "nascent/strategy/strategy.h"

#include <gtest/gtest.h>

#include <cmath>

#include "nascent/core/config.h"
#include "nascent/core/error.h"
#include "nascent/space/chain.h"
#include "nascent/strategy/evolution.h"

namespace nascent::strategy {
namespace {

// A cheap, deterministic objective on chain architectures: reward particular options, so that
// the order of proposals of score-driven strategies depends on what they were told.
double toy_score(const space::SearchSpace& s, const Arch& a) {
  double v = 0;
  for (size_t d = 0; d < s.num_decisions(); ++d)
    if (s.active(a, d)) v += std::sin(1.7 * static_cast<double>(d) + 2.3 * a.choices[d]);
  return v;
}

class StrategyBehaviour : public ::testing::TestWithParam<std::string> {
 protected:
  std::unique_ptr<Strategy> make(uint64_t seed) {
    ConfigSection o(nlohmann::json::object(), "strategy." + GetParam(), "test");
    StrategyContext ctx{&space_, Objective({{"score", true}}, {}), Fidelity{}, seed, 100};
    return make_strategy(GetParam(), o, ctx);
  }
  // Runs n ask/tell rounds; every 7th trial fails, every 11th is rejected.
  std::vector<std::string> drive(Strategy& s, int n, int64_t first_id = 1) {
    std::vector<std::string> out;
    for (int i = 0; i < n; ++i) {
      auto p = s.ask();
      if (!p) break;
      Trial t;
      t.id = first_id + i;
      t.proposal = *p;
      if (t.id % 7 == 0) {
        t.status = TrialStatus::kFailed;
        t.reason = "loss became nan";
      } else if (t.id % 11 == 0) {
        t.status = TrialStatus::kRejected;
      } else {
        t.status = TrialStatus::kOk;
        t.metrics["score"] = toy_score(space_, p->arch);
      }
      s.tell(t);
      out.push_back(space_.hash(p->arch));
    }
    return out;
  }
  space::ChainSpace space_;
};

TEST_P(StrategyBehaviour, SameSeedSameProposals) {
  auto a = make(5), b = make(5), c = make(6);
  auto pa = drive(*a, 40), pb = drive(*b, 40), pc = drive(*c, 40);
  EXPECT_EQ(pa.size(), 40u);
  EXPECT_EQ(pa, pb);
  EXPECT_NE(pa, pc);
}

TEST_P(StrategyBehaviour, StateRoundTripContinuesExactly) {
  auto a = make(9);
  drive(*a, 25);
  const std::string saved = a->state().dump();
  auto b = make(9);
  b->load_state(nlohmann::json::parse(saved));
  EXPECT_EQ(drive(*a, 20, 26), drive(*b, 20, 26));
}

TEST_P(StrategyBehaviour, ProposalsAreValidArchitectures) {
  auto s = make(1);
  for (int i = 0; i < 30; ++i) {
    auto p = s->ask();
    ASSERT_TRUE(p.has_value());
    EXPECT_EQ(space_.canonical(p->arch), p->arch);
    Trial t;
    t.id = i + 1;
    t.proposal = *p;
    t.status = TrialStatus::kFailed;  // every trial fails: the strategy must keep going
    s->tell(t);
  }
}

INSTANTIATE_TEST_SUITE_P(All, StrategyBehaviour, ::testing::Values("random", "evolution"),
                         [](const auto& info) { return info.param; });

TEST(Registry, UnknownStrategyIsNamed) {
  space::ChainSpace space;
  ConfigSection o(nlohmann::json::object(), "strategy.x", "c.yaml");
  StrategyContext ctx{&space, Objective(), Fidelity{}, 0, 10};
  try {
    make_strategy("bayes", o, ctx);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()).substr(0, 49), "c.yaml: strategy.name: unknown strategy 'bayes'; ");
  }
}

}  // namespace
}  // namespace nascent::strategy
