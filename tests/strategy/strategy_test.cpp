// Behaviour every sampling strategy must have: same seed -> same proposals, state round trip
// continues exactly, failed and rejected trials are handled.
#include "nascent/strategy/strategy.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>

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

// Default options, except where the defaults cost seconds that these tests do not need.
nlohmann::json test_options(const std::string& name) {
  if (name == "bananas") return {{"steps", 40}, {"width", 16}};
  return nlohmann::json::object();
}

class StrategyBehaviour : public ::testing::TestWithParam<std::string> {
 protected:
  std::unique_ptr<Strategy> make(uint64_t seed) {
    ConfigSection o(test_options(GetParam()), "strategy." + GetParam(), "test");
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

// A stand-in for a parameter count, computed from the decoded stages (no network is built):
// grows with blocks, width, kernel and expansion like the real count does.
double toy_params(const space::ChainSpace& s, const Arch& a) {
  double p = 0;
  for (const auto& st : s.stages(a)) {
    const double w = static_cast<double>(st.width), k2 = st.kernel * st.kernel;
    const double per_block = st.op == "conv" ? w * w * k2 : st.op == "sepconv" ? w * (k2 + w) : w * w * st.expand * 2;
    p += st.blocks * per_block + (st.skip ? w * w : 0);
  }
  return p;
}

TEST_P(StrategyBehaviour, TightConstraintStillFindsFeasibleAndNeverRepeatsARejection) {
  // The bound lets through about 4% of the space: most proposals of a strategy that ignored
  // rejections would be rejected again and again.
  std::vector<double> sample;
  Rng r(123);
  for (int i = 0; i < 4000; ++i) sample.push_back(toy_params(space_, space_.sample(r)));
  std::sort(sample.begin(), sample.end());
  const double bound = sample[sample.size() / 25];
  ConfigSection o(test_options(GetParam()), "strategy." + GetParam(), "test");
  StrategyContext ctx{&space_, Objective({{"score", true}}, {Constraint::parse(fmt::format("params <= {}", bound))}),
                      Fidelity{}, 3, 200};
  auto s = make_strategy(GetParam(), o, ctx);
  int feasible = 0;
  std::set<std::string> rejected;
  for (int i = 0; i < 200; ++i) {
    auto p = s->ask();
    ASSERT_TRUE(p.has_value()) << "ask " << i;
    const std::string h = space_.hash(p->arch);
    EXPECT_FALSE(rejected.count(h)) << "a rejected architecture was proposed again at ask " << i;
    Trial t;
    t.id = i + 1;
    t.proposal = *p;
    t.metrics["params"] = toy_params(space_, p->arch);
    if (t.metrics["params"] > bound) {
      t.status = TrialStatus::kRejected;
      t.reason = "breaks constraint";
      rejected.insert(h);
    } else {
      t.status = TrialStatus::kOk;
      t.metrics["score"] = toy_score(space_, p->arch);
      ++feasible;
    }
    s->tell(t);
  }
  // Uniform sampling finds about 8 in 200. Every strategy must find some; one that learns from
  // rejections (all but random) stays near the feasible region and finds many.
  EXPECT_GE(feasible, 3) << GetParam();
  if (GetParam() != "random") {
    EXPECT_GE(feasible, 40) << GetParam();
  }
  RecordProperty("feasible_of_200", feasible);
}

INSTANTIATE_TEST_SUITE_P(All, StrategyBehaviour,
                         ::testing::Values("random", "evolution", "reinforce", "nsga2", "local", "bananas"),
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
