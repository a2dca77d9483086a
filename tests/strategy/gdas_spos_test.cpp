#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "nascent/core/config.h"
#include "nascent/core/error.h"
#include "nascent/data/dataset.h"
#include "nascent/space/nb201.h"
#include "nascent/space/supernet.h"
#include "nascent/strategy/gdas_search.h"
#include "nascent/strategy/spos_search.h"
#include "strategy/oneshot_fixture.h"
#include "support/support.h"

namespace nascent::strategy {
namespace {

using namespace oneshot_test;

GdasSearchOptions gdas_options() {
  GdasSearchOptions o;
  o.warmup_fraction = 0;  // alphas trained from the first epoch unless a test says otherwise
  o.train.epochs = 3;
  o.train.batch_size = 32;
  o.arch.lr = 0.01;
  return o;
}

SposSearchOptions spos_options() {
  SposSearchOptions o;
  o.train.epochs = 2;
  o.train.batch_size = 32;
  o.population = 6;
  o.generations = 2;
  o.parents = 3;
  o.top_k = 3;
  o.eval_batches = 2;
  o.recalibrate_batches = 2;
  return o;
}

TEST(GdasSearch, TemperatureAnnealsLinearlyAndSameSeedGivesSameAlphas) {
  auto space = tiny_nb201();
  GdasSearch a(context(space, 4), gdas_options()), b(context(space, 4), gdas_options());
  EXPECT_DOUBLE_EQ(a.tau_at(0), 10.0);
  EXPECT_NEAR(a.tau_at(1), 5.05, 1e-12);
  EXPECT_NEAR(a.tau_at(2), 0.1, 1e-12);
  a.search();
  b.search();
  EXPECT_EQ(alphas_of(a), alphas_of(b));  // the Gumbel noise comes from the seeded generator
  EXPECT_EQ(a.proposals().at(0).arch.choices, b.proposals().at(0).arch.choices);
  EXPECT_EQ(a.supernet().mode(), space::MixMode::kGumbelHard);
  EXPECT_NEAR(a.supernet().tau(), 0.1, 1e-12);
}

TEST(GdasSearch, TauMinAboveTauMaxIsAnInputError) {
  ConfigSection s(nlohmann::json{{"tau_min", 20}}, "strategy.gdas", "c.yaml");
  EXPECT_THROW(GdasSearchOptions::from_config(s), InputError);
}

TEST(GdasSearch, WarmupKeepsTheAlphasUniformThenTrainsThem) {
  auto space = tiny_nb201();
  Events sink;
  StrategyContext ctx = context(space, 4, "", &sink);
  GdasSearchOptions o = gdas_options();
  o.warmup_fraction = 0.7;  // of 3 epochs: 2
  GdasSearch s(ctx, o);
  s.search();
  ASSERT_EQ(sink.events.size(), 3u);
  for (size_t e = 0; e < 3; ++e) EXPECT_EQ(sink.events[e].data.at("alphas_trained").get<bool>(), e == 2) << e;
  // The alphas start near zero (1e-3 * N(0, 1), as DARTS'), so the warm-up samples each operation
  // with probability 1/5 +- 0.1%, and they do not move until the warm-up ends.
  EXPECT_EQ(sink.events[0].data.at("alphas"), sink.events[1].data.at("alphas"));
  EXPECT_NE(sink.events[1].data.at("alphas"), sink.events[2].data.at("alphas"));
  for (const auto& [label, row] : sink.events[1].data.at("alphas").items())
    for (const auto& p : row) EXPECT_NEAR(p.get<double>(), 0.2, 1e-3) << label;
  EXPECT_EQ(s.proposals().at(0).meta.at("warmup_epochs").get<int64_t>(), 2);
}

TEST(GdasSearch, BetaDecayRegularisesTheAlphas) {
  auto space = tiny_nb201();
  Events sink;
  StrategyContext ctx = context(space, 4, "", &sink);
  GdasSearchOptions o = gdas_options();
  o.remedy = "beta_decay";
  o.beta_decay_max = 300;
  GdasSearch beta(ctx, o), plain(context(space, 4), gdas_options());
  beta.search();
  plain.search();
  ASSERT_EQ(sink.events.size(), 3u);
  EXPECT_DOUBLE_EQ(sink.events[0].data.at("beta_decay").get<double>(), 0.0);
  EXPECT_DOUBLE_EQ(sink.events[2].data.at("beta_decay").get<double>(), 200.0);  // 300 * 2 / 3
  // The regulariser pulls each edge's largest alphas down: the weights spread less than without it.
  auto max_weight = [](const std::vector<double>& w) { return *std::max_element(w.begin(), w.end()); };
  EXPECT_LT(max_weight(alphas_of(beta)), max_weight(alphas_of(plain)));
}

TEST(GdasSearch, OptionsFromConfigAndErrors) {
  ConfigSection defaults(nlohmann::json::object(), "strategy.gdas", "c.yaml");
  const GdasSearchOptions d = GdasSearchOptions::from_config(defaults);
  EXPECT_EQ(d.remedy, "none");
  EXPECT_DOUBLE_EQ(d.warmup_fraction, 0.375);  // the default (see docs/strategies/gdas.md)
  EXPECT_EQ(d.warmup_epochs(), 3);             // of the default 10 epochs
  GdasSearchOptions eight = d;
  eight.train.epochs = 8;
  EXPECT_EQ(eight.warmup_epochs(), 3);
  eight.train.epochs = 2;
  EXPECT_EQ(eight.warmup_epochs(), 0);
  ConfigSection bad(nlohmann::json{{"remedy", "auxiliary_skip"}}, "strategy.gdas", "c.yaml");
  EXPECT_NE(test::error_of([&] { GdasSearchOptions::from_config(bad); }).find("strategy.gdas.remedy"),
            std::string::npos);
  ConfigSection warm(nlohmann::json{{"epochs", 4}, {"warmup_fraction", 1}}, "strategy.gdas", "c.yaml");
  const std::string e = test::error_of([&] { GdasSearchOptions::from_config(warm); });
  EXPECT_NE(e.find("strategy.gdas.warmup_fraction"), std::string::npos) << e;
}

TEST(SposSearch, ScoresCandidatesOn32HeldOutBatchesByDefault) {
  ConfigSection defaults(nlohmann::json::object(), "strategy.spos", "c.yaml");
  EXPECT_EQ(SposSearchOptions::from_config(defaults).eval_batches, 32);  // see docs/strategies/spos.md
}

TEST(SposSearch, ProposesDistinctTopArchitecturesBestFirstReproducibly) {
  auto space = tiny_nb201();
  SposSearch a(context(space, 7), spos_options()), b(context(space, 7), spos_options());
  a.search();
  b.search();
  ASSERT_EQ(a.proposals().size(), 3u);
  std::set<std::string> hashes;
  double last = 2;
  for (size_t i = 0; i < 3; ++i) {
    const auto& p = a.proposals()[i];
    hashes.insert(space.hash(p.arch));
    EXPECT_EQ(p.arch.choices, b.proposals()[i].arch.choices);
    const double acc = p.meta.at("supernet_accuracy").get<double>();
    EXPECT_LE(acc, last);
    EXPECT_GT(acc, 0.15);  // above chance (0.1) after two epochs of path training
    last = acc;
  }
  EXPECT_EQ(hashes.size(), 3u);
  // The score is the proposal's supernet accuracy, and the same again (recalibration restarts).
  EXPECT_DOUBLE_EQ(a.score(a.proposals()[0].arch), a.proposals()[0].meta.at("supernet_accuracy").get<double>());
}

TEST(SposSearch, ResumesPathSamplingExactlyFromTheCheckpoint) {
  auto space = tiny_nb201();
  test::TempDir dir;
  SposSearch whole(context(space, 3), spos_options());
  whole.search();
  struct Stop {};
  StrategyContext ctx = context(space, 3, dir.path());
  int polls = 0;
  ctx.poll = [&polls] {
    if (++polls == 11) throw Stop{};  // 8 steps per epoch: inside the second epoch
  };
  SposSearch stopped(ctx, spos_options());
  EXPECT_THROW(stopped.search(), Stop);
  ctx.poll = nullptr;
  SposSearch resumed(ctx, spos_options());
  resumed.search();
  ASSERT_EQ(resumed.proposals().size(), whole.proposals().size());
  for (size_t i = 0; i < whole.proposals().size(); ++i) {
    EXPECT_EQ(resumed.proposals()[i].arch.choices, whole.proposals()[i].arch.choices);
    EXPECT_DOUBLE_EQ(resumed.proposals()[i].meta.at("supernet_accuracy").get<double>(),
                     whole.proposals()[i].meta.at("supernet_accuracy").get<double>());
  }
}

}  // namespace
}  // namespace nascent::strategy
