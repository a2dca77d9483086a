#include <gtest/gtest.h>

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
