#include "nascent/strategy/bananas.h"

#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

#include "nascent/core/config.h"
#include "nascent/core/error.h"
#include "nascent/space/chain.h"
#include "nascent/strategy/random_search.h"

namespace nascent::strategy {
namespace {

// A learnable toy objective: a fixed random effect per (decision, option), summed over the
// active decisions, plus one interaction.
struct ToyObjective {
  explicit ToyObjective(const space::SearchSpace& s) : space(s) {
    Rng r(42);
    for (const auto& d : s.decisions()) {
      effect.emplace_back();
      for (size_t o = 0; o < d.options.size(); ++o) effect.back().push_back(r.normal());
    }
  }
  double operator()(const Arch& a) const {
    double v = 0;
    for (size_t i = 0; i < space.num_decisions(); ++i)
      if (space.active(a, i)) v += effect[i][a.choices[i]];
    return v + (a.choices[0] == a.choices[3] ? 1.0 : 0.0);
  }
  const space::SearchSpace& space;
  std::vector<std::vector<double>> effect;
};

double correlation(const std::vector<double>& a, const std::vector<double>& b) {
  const double n = static_cast<double>(a.size());
  const double ma = std::accumulate(a.begin(), a.end(), 0.0) / n, mb = std::accumulate(b.begin(), b.end(), 0.0) / n;
  double sab = 0, saa = 0, sbb = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) * (a[i] - ma);
    sbb += (b[i] - mb) * (b[i] - mb);
  }
  return sab / std::sqrt(saa * sbb);
}

TEST(MlpEnsemble, FitsALearnableObjectiveFarBetterThanChance) {
  space::ChainSpace space;
  ToyObjective f(space);
  Rng r(7);
  std::vector<std::vector<float>> x, xt;
  std::vector<double> y, yt;
  for (int i = 0; i < 150; ++i) {
    const Arch a = space.sample(r);
    x.push_back(space.encode(a));
    y.push_back(f(a));
  }
  for (int i = 0; i < 300; ++i) {
    const Arch a = space.sample(r);
    xt.push_back(space.encode(a));
    yt.push_back(f(a));
  }
  MlpEnsemble model;
  Rng fit_rng(1);
  model.fit(x, y, fit_rng);
  const auto pred = model.predict(xt);
  const double rho = correlation(pred.mean, yt);
  // Unseen architectures: an untrained or shuffled predictor would score about 0.
  EXPECT_GT(rho, 0.7) << rho;
  double spread = 0;
  for (double s : pred.std) spread += s;
  EXPECT_GT(spread / static_cast<double>(pred.std.size()), 0.0);  // the members disagree somewhere
}

// Best toy value found in n evaluations.
double best_found(Strategy& s, const ToyObjective& f, int n) {
  double best = -1e300;
  for (int i = 0; i < n; ++i) {
    auto p = s.ask();
    if (!p) break;
    Trial t;
    t.id = i + 1;
    t.proposal = *p;
    t.status = TrialStatus::kOk;
    t.metrics["score"] = f(p->arch);
    best = std::max(best, t.metrics["score"]);
    s.tell(t);
  }
  return best;
}

TEST(Bananas, ProposalsBeatRandomOnALearnableObjective) {
  space::ChainSpace space;
  ToyObjective f(space);
  double bananas = 0, random = 0;
  for (uint64_t seed = 0; seed < 4; ++seed) {
    StrategyContext ctx{&space, Objective({{"score", true}}, {}), Fidelity{}, seed, 60};
    Bananas b(ctx, BananasOptions{});
    RandomSearch r(ctx, RandomOptions{});
    bananas += best_found(b, f, 60);
    random += best_found(r, f, 60);
  }
  EXPECT_GT(bananas, random + 4 * 1.0) << "bananas " << bananas / 4 << " random " << random / 4;
}

TEST(Bananas, RandomUntilInitialThenAcquisition) {
  space::ChainSpace space;
  ToyObjective f(space);
  StrategyContext ctx{&space, Objective({{"score", true}}, {}), Fidelity{}, 1, 60};
  BananasOptions o;
  o.initial = 6;
  o.batch = 3;
  Bananas b(ctx, o);
  for (int i = 0; i < 6; ++i) {
    auto p = b.ask();
    EXPECT_EQ(p->meta["origin"], "random");
    Trial t;
    t.id = i + 1;
    t.proposal = *p;
    t.status = TrialStatus::kOk;
    t.metrics["score"] = f(p->arch);
    b.tell(t);
  }
  EXPECT_EQ(b.fits(), 0);
  for (int i = 0; i < 3; ++i) {
    auto p = b.ask();
    EXPECT_EQ(p->meta["origin"], "acquisition");
    EXPECT_EQ(p->meta["fit"], 1);  // one fit serves the whole batch
    EXPECT_TRUE(p->meta.contains("predicted"));
  }
  EXPECT_EQ(b.fits(), 1);
}

TEST(BananasOptions, AcquisitionIsItsOrUcb) {
  ConfigSection o(nlohmann::json{{"acquisition", "ei"}}, "strategy.bananas", "c.yaml");
  try {
    BananasOptions::from_config(o);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()), "c.yaml: strategy.bananas.acquisition: 'ei' is not one of: its, ucb");
  }
}

}  // namespace
}  // namespace nascent::strategy
