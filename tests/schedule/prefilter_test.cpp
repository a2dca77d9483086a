// The zero-cost pre-filter over a real strategy (random) on nb201 with real Fashion-MNIST
// images: which candidates survive a pool, what the strategy is told about the others, and that
// a resumed pre-filter proposes exactly what an uninterrupted one does.
#include "nascent/schedule/prefilter.h"

#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <vector>

#include "nascent/core/config.h"
#include "nascent/core/rng.h"
#include "nascent/data/dataset.h"
#include "nascent/estimate/proxy_evaluator.h"
#include "nascent/space/nb201.h"
#include "support/support.h"

namespace nascent::schedule {
namespace {

const data::TaskData& tiny_data() { return test::fashion_task(600); }

space::Nb201Options small() {
  space::Nb201Options o;
  o.C = 4;
  o.N = 1;
  return o;
}

// Random search that remembers how often it was asked and what it was told.
class Recorder : public strategy::Strategy {
 public:
  explicit Recorder(const strategy::StrategyContext& ctx) : Strategy(ctx) {
    ConfigSection none(nlohmann::json::object(), "strategy.random", "test");
    inner_ = strategy::make_strategy("random", none, ctx);
  }
  std::string name() const override { return "random"; }
  std::optional<Proposal> ask() override {
    ++asked;
    return inner_->ask();
  }
  void tell(const Trial& t) override {
    told.push_back(t);
    inner_->tell(t);
  }
  nlohmann::json state() const override { return {{"inner", inner_->state()}, {"asked", asked}}; }
  void load_state(const nlohmann::json& s) override {
    inner_->load_state(s.at("inner"));
    asked = s.at("asked").get<int>();
  }
  int asked = 0;
  std::vector<Trial> told;

 private:
  std::unique_ptr<strategy::Strategy> inner_;
};

struct Rig {
  explicit Rig(int64_t pool = 8, int64_t keep = 3) : space(small()) {
    ctx = strategy::StrategyContext{&space, Objective(), Fidelity{1, 0.5, 0, 1}, 7, 100};
    ctx.data = &tiny_data();
    options.proxy = "synflow";
    options.pool = pool;
    options.keep = keep;
    options.batch_size = 16;
    auto inner = std::make_unique<Recorder>(ctx);
    recorder = inner.get();
    filter = std::make_unique<Prefilter>(ctx, options, std::move(inner));
  }
  // The proxy's score of an architecture as the pre-filter computes it, recomputed apart.
  double score(const Arch& a) const {
    estimate::ProxyEvaluator e(space, tiny_data(), estimate::ProxyOptions{"synflow", 16}, Objective());
    const uint64_t seed = Rng::derive(ctx.seed, "prefilter/" + space.hash(a)).next();
    return e.evaluate(Proposal{a, ctx.fidelity, nlohmann::json::object()}, seed, nullptr).metrics.at("synflow");
  }
  space::Nb201Space space;
  strategy::StrategyContext ctx;
  PrefilterOptions options;
  Recorder* recorder = nullptr;
  std::unique_ptr<Prefilter> filter;
};

TEST(Prefilter, SurvivorsAreKeepOfAFullPoolAndTheSameShareOfASmallerOne) {
  PrefilterOptions o;
  o.pool = 100;
  o.keep = 10;
  EXPECT_EQ(survivors(o, 100), 10);
  EXPECT_EQ(survivors(o, 250), 10);
  EXPECT_EQ(survivors(o, 30), 3);
  EXPECT_EQ(survivors(o, 4), 1);  // at least one
  EXPECT_EQ(survivors(o, 0), 0);
  o.keep = 100;
  EXPECT_EQ(survivors(o, 7), 7);
}

TEST(Prefilter, ProposesTheBestOfEachPoolAndTellsTheStrategyOfTheRest) {
  Rig rig(8, 3);
  std::vector<Proposal> kept;
  for (int i = 0; i < 3; ++i) kept.push_back(*rig.filter->ask());
  EXPECT_EQ(rig.recorder->asked, 8);  // one pool
  ASSERT_EQ(rig.recorder->told.size(), 5u);
  double previous = INFINITY;
  for (int i = 0; i < 3; ++i) {
    const auto& note = kept[static_cast<size_t>(i)].meta.at("prefilter");
    EXPECT_EQ(note.at("rank").get<int>(), i + 1);
    EXPECT_EQ(note.at("pool").get<int>(), 8);
    EXPECT_EQ(note.at("round").get<int>(), 0);
    const double s = note.at("score").get<double>();
    EXPECT_LE(s, previous);
    previous = s;
    EXPECT_DOUBLE_EQ(s, rig.score(kept[static_cast<size_t>(i)].arch));  // the proxy at the candidate's own seed
  }
  for (const Trial& t : rig.recorder->told) {
    EXPECT_EQ(t.status, TrialStatus::kRejected);
    EXPECT_NE(t.reason.find("prefilter: synflow ranks it "), std::string::npos) << t.reason;
    EXPECT_LE(t.metrics.at("synflow"), previous);  // below every survivor
    EXPECT_GT(t.metrics.at("params"), 0);          // with the profile
    EXPECT_GE(t.proposal.meta.at("prefilter").at("rank").get<int>(), 4);
  }
  // The fourth proposal starts the next pool.
  const Proposal next = *rig.filter->ask();
  EXPECT_EQ(rig.recorder->asked, 16);
  EXPECT_EQ(next.meta.at("prefilter").at("round").get<int>(), 1);
  EXPECT_EQ(next.meta.at("prefilter").at("rank").get<int>(), 1);
}

TEST(Prefilter, AResumedFilterProposesWhatAnUninterruptedOneDoes) {
  Rig a(6, 2), b(6, 2);
  ASSERT_TRUE(a.filter->ask());
  const nlohmann::json saved = a.filter->state();
  b.filter->load_state(saved);
  for (int i = 0; i < 5; ++i) {
    const Proposal pa = *a.filter->ask(), pb = *b.filter->ask();
    EXPECT_EQ(a.space.hash(pa.arch), b.space.hash(pb.arch)) << "proposal " << i;
    EXPECT_EQ(pa.meta, pb.meta);
  }
  // The same seed from the start gives the same proposals too.
  Rig c(6, 2), d(6, 2);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(c.space.hash(c.filter->ask()->arch), d.space.hash(d.filter->ask()->arch));
  // A state written by a filter with another proxy is refused.
  Rig e(6, 2);
  nlohmann::json other = saved;
  other["prefilter"]["proxy"] = "snip";
  EXPECT_ANY_THROW(e.filter->load_state(other));
}

TEST(PrefilterCli, BadOptionsAreOneLineNamingTheField) {
  const std::string never = "/tmp/nascent-never-created";
  auto r = test::run_nascent({"search", "--config", "examples/smoke.yaml", "--prefilter", "accuracy", "--out", never});
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find("examples/smoke.yaml: prefilter.proxy: 'accuracy' is not one of: none, synflow"),
            std::string::npos)
      << r.out;
  r = test::run_nascent({"search", "--config", "examples/smoke.yaml", "--prefilter", "synflow", "--set",
                         "prefilter.keep=20", "--set", "prefilter.pool=10", "--out", never});
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find("prefilter.keep: 20 is more than the pool (10)"), std::string::npos) << r.out;
  r = test::run_nascent({"search", "--config", "examples/smoke.yaml", "--prefilter", "synflow", "--strategy", "darts",
                         "--set", "space.name=nb201", "--out", never});
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find("prefilter.proxy: strategy darts derives its own architectures"), std::string::npos) << r.out;
  r = test::run_nascent({"search", "--config", "examples/smoke.yaml", "--prefilter", "synflow", "--estimator",
                         "proxy:snip", "--set", "space.name=nb201", "--set",
                         "objective.metrics=[{name: snip, direction: max}]", "--out", never});
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find("prefilter.proxy: the estimator is already the zero-cost proxy snip"), std::string::npos)
      << r.out;
  EXPECT_NE(test::run_nascent({"search", "--help"}).out.find("--prefilter"), std::string::npos);
}

}  // namespace
}  // namespace nascent::schedule
