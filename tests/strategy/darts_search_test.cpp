#include "nascent/strategy/darts_search.h"

#include <gtest/gtest.h>

#include <cmath>

#include "nascent/core/config.h"
#include "nascent/core/error.h"
#include "nascent/data/dataset.h"
#include "nascent/space/chain.h"
#include "nascent/space/nb201.h"
#include "nascent/space/supernet.h"
#include "strategy/oneshot_fixture.h"
#include "support/support.h"

namespace nascent::strategy {
namespace {

using namespace oneshot_test;

DartsSearchOptions tiny_options(int64_t order = 1) {
  DartsSearchOptions o;
  o.train.epochs = 2;
  o.train.batch_size = 32;
  o.order = order;
  o.arch.lr = 0.01;  // large enough to move the alphas visibly in 16 steps
  return o;
}

TEST(DartsSearch, SameSeedSameDerivedArchitectureAndAlphas) {
  auto space = tiny_nb201();
  DartsSearch a(context(space, 5), tiny_options()), b(context(space, 5), tiny_options()),
      c(context(space, 6), tiny_options());
  a.search();
  b.search();
  c.search();
  ASSERT_EQ(a.proposals().size(), 1u);
  EXPECT_EQ(a.proposals()[0].arch.choices, b.proposals()[0].arch.choices);
  EXPECT_EQ(alphas_of(a), alphas_of(b));
  EXPECT_NE(alphas_of(a), alphas_of(c));
  // The alphas moved away from their near-uniform start (0.2 for five options).
  double spread = 0;
  for (double p : alphas_of(a)) spread = std::max(spread, std::abs(p - 0.2));
  EXPECT_GT(spread, 1e-3);
  EXPECT_EQ(a.proposals()[0].arch.space, "nb201");
  EXPECT_EQ(a.proposals()[0].meta.at("strategy"), "darts");
}

TEST(DartsSearch, LogsOneEventPerEpochWithLossesAlphasAndDerivedArch) {
  auto space = tiny_nb201();
  Events sink;
  StrategyContext ctx = context(space, 1, "", &sink);
  DartsSearchOptions o = tiny_options();
  o.remedy = "auxiliary_skip";
  DartsSearch s(ctx, o);
  auto p = s.ask();
  ASSERT_TRUE(p.has_value());
  EXPECT_FALSE(s.ask().has_value());
  EXPECT_TRUE(s.exhausted());
  ASSERT_EQ(sink.events.size(), 2u);
  for (int e = 0; e < 2; ++e) {
    const auto& ev = sink.events[static_cast<size_t>(e)];
    EXPECT_EQ(ev.kind, "supernet_epoch");
    EXPECT_EQ(ev.step, e + 1);
    EXPECT_GT(ev.data.at("train_loss").get<double>(), 0.1);
    EXPECT_GT(ev.data.at("arch_loss").get<double>(), 0.1);
    EXPECT_EQ(ev.data.at("alphas").size(), 6u);
    EXPECT_EQ(ev.data.at("steps"), 8);  // 270 rows / 32
    EXPECT_NE(ev.line.find("darts epoch"), std::string::npos);
  }
  // DARTS-: the auxiliary skip's weight decays linearly from 1 (epoch 1 of 2: 1, epoch 2: 0.5).
  EXPECT_DOUBLE_EQ(sink.events[0].data.at("aux_skip").get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(sink.events[1].data.at("aux_skip").get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(sink.events[1].data.at("beta_decay").get<double>(), 0.0);
  EXPECT_EQ(sink.events[1].data.at("derived"), space.to_json(p->arch));
}

TEST(DartsSearch, SecondOrderSearchRunsAndDiffersFromFirstOrder) {
  auto space = tiny_nb201();
  auto o1 = tiny_options(1), o2 = tiny_options(2);
  o1.train.epochs = o2.train.epochs = 1;
  DartsSearch first(context(space, 8), o1), second(context(space, 8), o2);
  first.search();
  second.search();
  const auto a1 = alphas_of(first), a2 = alphas_of(second);
  for (double p : a2) EXPECT_TRUE(std::isfinite(p));
  EXPECT_NE(a1, a2);  // the unrolled gradient of eq. 7 is not the first-order one
  EXPECT_EQ(second.proposals().at(0).meta.at("order"), 2);
}

TEST(DartsSearch, PerturbationSelectionIsReproducibleAndLeavesTheAlphas) {
  auto space = tiny_nb201();
  auto o = tiny_options();
  o.selection = "perturbation";
  DartsSearch a(context(space, 5), o), b(context(space, 5), o), argmax(context(space, 5), tiny_options());
  a.search();
  b.search();
  argmax.search();
  const Proposal& p = a.proposals().at(0);
  EXPECT_EQ(p.arch.choices, b.proposals().at(0).arch.choices);
  EXPECT_EQ(p.arch.choices, space.canonical(p.arch).choices);
  EXPECT_EQ(p.meta.at("selection"), "perturbation");
  // Selection masks alphas only temporarily: the trained alphas are those of the argmax run.
  EXPECT_EQ(alphas_of(a), alphas_of(argmax));
  EXPECT_EQ(p.meta.at("argmax"), space.to_json(argmax.proposals().at(0).arch));
}

TEST(DartsSearch, RemedyOffHasNoAuxiliarySkip) {
  auto space = tiny_nb201();
  Events sink;
  StrategyContext ctx = context(space, 1, "", &sink);
  auto o = tiny_options();
  o.remedy = "none";
  o.train.epochs = 1;
  DartsSearch s(ctx, o);
  s.search();
  EXPECT_DOUBLE_EQ(sink.events.at(0).data.at("aux_skip").get<double>(), 0.0);
  EXPECT_THROW(s.supernet().set_auxiliary_skip(0.5), InternalError);
}

// A search stopped in its second epoch (here by an exception from poll, as Ctrl-C does) resumes
// from the first epoch's checkpoint and ends exactly where an uninterrupted search ends.
TEST(DartsSearch, ResumesFromTheLastEpochCheckpointExactly) {
  auto space = tiny_nb201();
  test::TempDir dir;
  DartsSearch whole(context(space, 9), tiny_options());
  whole.search();

  struct Stop {};
  StrategyContext ctx = context(space, 9, dir.path());
  int polls = 0;
  ctx.poll = [&polls] {
    if (++polls == 12) throw Stop{};  // 8 steps per epoch: inside the second epoch
  };
  DartsSearch stopped(ctx, tiny_options());
  EXPECT_THROW(stopped.search(), Stop);
  ctx.poll = nullptr;
  Events sink;
  ctx.events = &sink;
  DartsSearch resumed(ctx, tiny_options());
  resumed.search();
  ASSERT_FALSE(sink.events.empty());
  EXPECT_EQ(sink.events[0].kind, "supernet_resume");
  EXPECT_EQ(sink.events[0].step, 1);
  EXPECT_EQ(alphas_of(resumed), alphas_of(whole));
  EXPECT_EQ(resumed.proposals()[0].arch.choices, whole.proposals()[0].arch.choices);

  // Another search's checkpoint (other options) is ignored, not loaded.
  Events other_sink;
  ctx.events = &other_sink;
  auto other = tiny_options();
  other.train.lr = 0.01;
  DartsSearch fresh(ctx, other);
  fresh.search();
  EXPECT_EQ(other_sink.events.at(0).kind, "supernet_checkpoint");
}

TEST(DartsSearch, StateKeepsTheProposalsWithoutRetraining) {
  auto space = tiny_nb201();
  DartsSearch s(context(space, 2), tiny_options());
  auto p = s.ask();
  ASSERT_TRUE(p);
  DartsSearch restored(context(space, 2), tiny_options());
  restored.load_state(s.state());
  EXPECT_TRUE(restored.exhausted());
  EXPECT_FALSE(restored.ask().has_value());
  EXPECT_EQ(restored.proposals().at(0).arch.choices, p->arch.choices);
}

TEST(DartsSearch, OptionsFromConfigAndErrors) {
  ConfigSection ok(nlohmann::json{{"order", 2}, {"epochs", 3}, {"remedy", "none"}}, "strategy.darts", "c.yaml");
  auto o = DartsSearchOptions::from_config(ok);
  EXPECT_EQ(o.order, 2);
  EXPECT_EQ(o.train.epochs, 3);
  EXPECT_EQ(o.remedy, "none");
  ConfigSection defaults(nlohmann::json::object(), "strategy.darts", "c.yaml");
  const auto d = DartsSearchOptions::from_config(defaults);
  EXPECT_EQ(d.remedy, "beta_decay");  // the default remedy (see docs/strategies/darts.md)
  EXPECT_DOUBLE_EQ(d.beta_decay_max, 50);
  EXPECT_DOUBLE_EQ(o.arch.lr, 3e-4);  // the paper's Adam settings by default
  EXPECT_DOUBLE_EQ(o.arch.beta1, 0.5);
  EXPECT_DOUBLE_EQ(o.arch.weight_decay, 1e-3);
  ConfigSection bad(nlohmann::json{{"order", 3}}, "strategy.darts", "c.yaml");
  EXPECT_THROW(DartsSearchOptions::from_config(bad), InputError);
  ConfigSection warm(nlohmann::json{{"epochs", 3}, {"warmup_epochs", 5}}, "strategy.darts", "c.yaml");
  EXPECT_THROW(DartsSearchOptions::from_config(warm), InputError);
  ConfigSection unknown(nlohmann::json{{"orderr", 1}}, "strategy.darts", "c.yaml");
  try {
    DartsSearchOptions::from_config(unknown);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("orderr"), std::string::npos);
  }
}

TEST(DartsSearch, SpaceWithoutSupernetIsAnInputError) {
  space::ChainSpace chain{space::ChainOptions{}};
  DartsSearch s(context(chain, 1), tiny_options());
  try {
    s.search();
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("nb201"), std::string::npos);
  }
}

TEST(DartsSearch, BetaDecayWeightRisesLinearlyFromZeroOverTheEpochs) {
  auto space = tiny_nb201();
  Events sink;
  StrategyContext ctx = context(space, 1, "", &sink);
  DartsSearch s(ctx, tiny_options());  // the default remedy
  ASSERT_TRUE(s.ask().has_value());
  ASSERT_EQ(sink.events.size(), 2u);
  EXPECT_DOUBLE_EQ(sink.events[0].data.at("beta_decay").get<double>(), 0.0);
  EXPECT_DOUBLE_EQ(sink.events[1].data.at("beta_decay").get<double>(), 25.0);  // 50 * 1 / 2
  EXPECT_DOUBLE_EQ(sink.events[1].data.at("aux_skip").get<double>(), 0.0);
}

TEST(DartsSearch, BetaDecayGradientIsThatOfTheMeanLogSumExpOfTheAlphas) {
  // beta-DARTS' regulariser weight * mean over rows of logsumexp(row), differentiated by autograd,
  // against the closed form add_beta_decay_grad adds to an existing gradient.
  torch::manual_seed(4);
  torch::Tensor a = torch::randn({6, 5}, torch::kDouble).requires_grad_(true);
  torch::Tensor b = a.detach().clone().requires_grad_(true);
  const double w = 7.5;
  (w * torch::logsumexp(a, -1).mean() + a.pow(2).sum()).backward();
  b.pow(2).sum().backward();  // the loss gradient already there
  add_beta_decay_grad({b}, w);
  EXPECT_TRUE(torch::allclose(a.grad(), b.grad(), 1e-12, 1e-12));
  // Without an earlier gradient it is the regulariser's alone.
  torch::Tensor c = a.detach().clone().requires_grad_(true);
  add_beta_decay_grad({c}, w);
  EXPECT_TRUE(torch::allclose(c.grad(), w * torch::softmax(a.detach(), -1) / 6.0, 1e-12, 1e-12));
}

}  // namespace
}  // namespace nascent::strategy
