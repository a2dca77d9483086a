// The scheduler's bookkeeping without training: scores come from a fixed function of the
// architecture, so that which trials move up, when, and at what fidelity can be checked exactly.
#include "nascent/schedule/bracket_scheduler.h"

#include <gtest/gtest.h>

#include <functional>
#include <map>

#include "nascent/core/config.h"
#include "nascent/core/error.h"
#include "nascent/space/chain.h"
#include "support/support.h"

namespace nascent::schedule {
namespace {

SchedulerOptions options(const std::string& name, int eta, double min_epochs, double max_epochs) {
  SchedulerOptions o;
  o.name = name;
  o.eta = eta;
  o.min_epochs = min_epochs;
  o.max_epochs = max_epochs;
  return o;
}

struct Rig {
  Rig(SchedulerOptions o, space::ChainOptions so = {}) : space(so) {
    strategy::StrategyContext ctx{&space, Objective(), Fidelity{1, 0.5, 0, 1}, 11, 100};
    ConfigSection none(nlohmann::json::object(), "strategy.random", "test");
    sched = std::make_unique<BracketScheduler>(ctx, o, strategy::make_strategy("random", none, ctx));
  }
  // A made-up accuracy: fixed per architecture, a little higher with more epochs.
  double accuracy(const Proposal& p) const {
    return static_cast<double>(std::hash<std::string>{}(space.hash(p.arch)) % 1000) / 1000.0 +
           0.0001 * p.fidelity.epochs;
  }
  Trial result(const Proposal& p, TrialStatus status = TrialStatus::kOk) {
    Trial t;
    t.id = ++next_id;
    t.proposal = p;
    t.status = status;
    if (status == TrialStatus::kOk) t.metrics["val_accuracy"] = accuracy(p);
    trials[t.id] = t;
    return t;
  }
  // Asks and immediately tells, n times; returns the trials.
  std::vector<Trial> run(int n) {
    std::vector<Trial> out;
    for (int i = 0; i < n; ++i) {
      auto p = sched->ask();
      if (!p) break;
      out.push_back(result(*p));
      sched->tell(out.back());
    }
    return out;
  }
  space::ChainSpace space;
  std::unique_ptr<BracketScheduler> sched;
  int64_t next_id = 0;
  std::map<int64_t, Trial> trials;
};

std::vector<double> epochs_of(const std::vector<Trial>& ts) {
  std::vector<double> e;
  for (const auto& t : ts) e.push_back(t.proposal.fidelity.epochs);
  return e;
}

TEST(BracketScheduler, HyperbandCyclesItsBracketsAtTheirFidelities) {
  Rig r(options("hyperband", 3, 1, 9));
  const auto ts = r.run(22 + 9);
  // s = 2: 9 at 1 epoch, 3 at 3, 1 at 9; s = 1: 5 at 3, 1 at 9; s = 0: 3 at 9; then s = 2 again.
  std::vector<double> expected;
  for (auto [n, e] : std::vector<std::pair<int, double>>{{9, 1}, {3, 3}, {1, 9}, {5, 3}, {1, 9}, {3, 9}, {9, 1}})
    expected.insert(expected.end(), n, e);
  EXPECT_EQ(epochs_of(ts), expected);
  for (const auto& t : ts) {
    EXPECT_EQ(t.proposal.fidelity.data_fraction, 0.5);  // the rest of the fidelity is the config's
    EXPECT_TRUE(t.proposal.meta.contains("bracket"));
  }
  EXPECT_EQ(ts[12].proposal.meta["bracket"], 0);
  EXPECT_EQ(ts[13].proposal.meta["bracket"], 1);
  EXPECT_EQ(ts[13].proposal.meta["rung"], 0);
  EXPECT_EQ(ts[18].proposal.meta["rung"], 1);
  EXPECT_EQ(ts[19].proposal.meta["bracket"], 2);
  EXPECT_EQ(ts[22].proposal.meta["bracket"], 3);
}

TEST(BracketScheduler, PromotesExactlyTheTopThirdOfARung) {
  Rig r(options("hyperband", 3, 1, 9));
  const auto ts = r.run(13);
  std::vector<Trial> rung0(ts.begin(), ts.begin() + 9);
  std::sort(rung0.begin(), rung0.end(),
            [](const Trial& a, const Trial& b) { return a.metrics.at("val_accuracy") > b.metrics.at("val_accuracy"); });
  for (int i = 0; i < 3; ++i) {
    const Trial& promoted = ts[9 + i];
    EXPECT_EQ(promoted.proposal.arch, rung0[i].proposal.arch) << "promotion " << i;
    EXPECT_EQ(promoted.proposal.meta["promoted_from"], rung0[i].id);
    EXPECT_EQ(promoted.proposal.meta["origin"], "promotion");
  }
  // The last rung holds the best of the three at 3 epochs.
  const Trial* best = &ts[9];
  for (int i = 10; i < 12; ++i)
    if (ts[i].metrics.at("val_accuracy") > best->metrics.at("val_accuracy")) best = &ts[i];
  EXPECT_EQ(ts[12].proposal.arch, best->proposal.arch);
  EXPECT_EQ(ts[12].proposal.meta["promoted_from"], best->id);
}

TEST(BracketScheduler, SuccessiveHalvingRepeatsOneBracket) {
  SchedulerOptions o = options("sha", 2, 0.25, 1);
  Rig r(o);
  EXPECT_EQ(epochs_of(r.run(14)), (std::vector<double>{.25, .25, .25, .25, .5, .5, 1, .25, .25, .25, .25, .5, .5, 1}));
}

TEST(BracketScheduler, WaitsForTheWholeRungAndRefillsRejectedSlots) {
  Rig r(options("sha", 2, 0.25, 1));
  std::vector<Proposal> asked;
  for (int i = 0; i < 4; ++i) asked.push_back(*r.sched->ask());
  EXPECT_FALSE(r.sched->ask());  // the first rung is out; nothing moves up before it is back
  r.sched->tell(r.result(asked[0]));
  r.sched->tell(r.result(asked[1], TrialStatus::kRejected));  // free: another candidate takes the slot
  auto refill = r.sched->ask();
  ASSERT_TRUE(refill);
  EXPECT_EQ(refill->fidelity.epochs, 0.25);
  EXPECT_FALSE(r.sched->ask());
  r.sched->tell(r.result(asked[2], TrialStatus::kFailed));  // fills its slot, never moves up
  r.sched->tell(r.result(asked[3]));
  EXPECT_FALSE(r.sched->ask());
  r.sched->tell(r.result(*refill));
  auto up1 = r.sched->ask(), up2 = r.sched->ask();
  ASSERT_TRUE(up1 && up2);
  EXPECT_EQ(up1->fidelity.epochs, 0.5);
  for (const auto& p : {*up1, *up2}) {
    EXPECT_NE(p.arch, asked[1].arch);
    EXPECT_NE(p.arch, asked[2].arch);
  }
}

TEST(BracketScheduler, StateRoundTripContinuesTheSameBrackets) {
  const SchedulerOptions o = options("hyperband", 3, 1, 9);
  Rig whole(o);
  const auto all = whole.run(40);
  for (int cut : {5, 10, 12, 20, 31}) {
    Rig first(o);
    auto a = first.run(cut);
    // Asked but not told when the process died: the runner re-runs it after load_state.
    auto running = first.sched->ask();
    ASSERT_TRUE(running);
    const std::string saved = first.sched->state().dump();
    Rig second(o);
    second.next_id = first.next_id;
    second.sched->load_state(nlohmann::json::parse(saved));
    second.sched->tell(second.result(*running));
    a.push_back(second.trials.at(second.next_id));
    auto b = second.run(40 - cut - 1);
    a.insert(a.end(), b.begin(), b.end());
    ASSERT_EQ(a.size(), all.size());
    for (size_t i = 0; i < all.size(); ++i) {
      EXPECT_EQ(a[i].proposal.arch, all[i].proposal.arch) << "cut " << cut << " trial " << i + 1;
      EXPECT_EQ(a[i].proposal.fidelity, all[i].proposal.fidelity) << "cut " << cut << " trial " << i + 1;
      EXPECT_EQ(a[i].proposal.meta, all[i].proposal.meta) << "cut " << cut << " trial " << i + 1;
    }
  }
}

TEST(BracketScheduler, AUsedUpSpaceEndsWithASmallerBracket) {
  space::ChainOptions so;
  so.widths = {{4}};
  so.strides = {2};
  so.blocks = {1};
  so.kernels = {3};
  so.expansions = {2};
  so.activations = {"relu"};  // 6 architectures
  Rig r(options("sha", 2, 0.25, 1), so);
  const auto ts = r.run(100);
  // 4 + 2 + 1, then the last 2 architectures: 2 at 0.25, the better at 0.5, then at 1.
  EXPECT_EQ(epochs_of(ts), (std::vector<double>{.25, .25, .25, .25, .5, .5, 1, .25, .25, .5, 1}));
  EXPECT_TRUE(r.sched->exhausted());
  EXPECT_FALSE(r.sched->ask());
}

using ::nascent::test::error_of;

TEST(SchedulerOptions, ReadsItsSectionAndNamesBadFields) {
  ConfigSection ok(nlohmann::json{{"eta", 2}, {"min_epochs", 0.5}, {"max_epochs", 4}}, "scheduler.hyperband", "f.yaml");
  const SchedulerOptions o = SchedulerOptions::from_config("hyperband", ok);
  EXPECT_EQ(o.eta, 2);
  EXPECT_EQ(o.describe(), "hyperband (eta 2, epochs 0.5..4)");
  ConfigSection narrow(nlohmann::json{{"min_epochs", 1}, {"max_epochs", 2}}, "scheduler.sha", "f.yaml");
  EXPECT_EQ(error_of([&] { SchedulerOptions::from_config("sha", narrow); }),
            "f.yaml: scheduler.sha.max_epochs: 2 leaves no room for halving: it must be at least eta (3) times "
            "min_epochs (1)");
  ConfigSection typo(nlohmann::json{{"candidates", 5}}, "scheduler.hyperband", "f.yaml");
  EXPECT_NE(error_of([&] {
              SchedulerOptions::from_config("hyperband", typo);
            }).find("scheduler.hyperband.candidates: unknown field"),
            std::string::npos);
}

}  // namespace
}  // namespace nascent::schedule
