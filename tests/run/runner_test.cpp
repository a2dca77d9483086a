// The search loop on real (small) training: budget counting, outputs, rejected and failed
// candidates, exhaustion, resume after a crash in the middle of a trial, and parallel searches
// whose results arrive in any order.
#include "nascent/run/runner.h"

#include <gtest/gtest.h>

#include <deque>
#include <fstream>
#include <random>

#include "nascent/core/config.h"
#include "nascent/data/dataset.h"
#include "nascent/estimate/evaluator.h"
#include "nascent/space/chain.h"
#include "nascent/store/store.h"
#include "nascent/strategy/strategy.h"
#include "support/support.h"

namespace nascent::run {
namespace {

using nascent::test::TempDir;

const data::TaskData& tiny_data() { return test::fashion_task(1200); }  // 1080 train / 120 validation images

space::ChainOptions tiny_chain() {
  space::ChainOptions o;
  o.stem = 4;
  o.widths = {{4, 8}, {8, 12}};
  o.strides = {2, 2};
  o.blocks = {1, 2};
  return o;
}

struct Rig {
  explicit Rig(const std::string& dir, const std::string& strategy_name = "random", Objective obj = Objective(),
               space::ChainOptions so = tiny_chain(), estimate::TrainOptions to = {})
      : space(so), objective(std::move(obj)), train(to) {
    train.batch_size = 64;
    ConfigSection o(nlohmann::json::object(), "strategy." + strategy_name, "test");
    strategy = strategy::make_strategy(strategy_name, o, {&space, objective, Fidelity{3, 1, 0, 1}, 7, 6});
    const std::string db = dir + "/experiment.db";
    store = std::ifstream(db).good() ? store::Store::open(db, space) : store::Store::create(db, {}, 7, space);
    evaluator = std::make_unique<estimate::TrainingEvaluator>(space, tiny_data(), train, objective);
    executor = std::make_unique<InlineExecutor>(*evaluator);
    options.seed = 7;
    options.out_dir = dir;
    options.strategy_name = strategy_name;
  }
  RunOutcome run(int64_t max_trials, Executor* other = nullptr) {
    options.max_trials = max_trials;
    Runner r(space, *strategy, *store, other ? *other : *executor, objective, options, progress);
    return r.run();
  }
  space::ChainSpace space;
  Objective objective;
  estimate::TrainOptions train;
  std::unique_ptr<strategy::Strategy> strategy;
  std::unique_ptr<store::Store> store;
  std::unique_ptr<estimate::TrainingEvaluator> evaluator;
  std::unique_ptr<InlineExecutor> executor;
  RunnerOptions options;
  ProgressReporter progress{stdout, true};
};

struct Crash {};

// Stands in for worker processes: `capacity` evaluations at once, finishing in an order drawn
// from its own seed (as workers of different speed would), each evaluated for real. After
// `crash_after` results it throws, as a search killed between two results would stop.
class ShuffledExecutor : public Executor {
 public:
  ShuffledExecutor(estimate::Evaluator& e, int capacity, uint64_t seed, int crash_after = -1)
      : evaluator_(e), capacity_(capacity), rng_(seed), crash_after_(crash_after) {}
  int capacity() const override { return capacity_; }
  int pending() const override { return static_cast<int>(queue_.size()); }
  void submit(const Trial& t, uint64_t seed) override { queue_.emplace_back(t, seed); }
  Trial collect() override {
    if (crash_after_ >= 0 && collected_ >= crash_after_) throw Crash{};
    const size_t pick = std::uniform_int_distribution<size_t>(0, queue_.size() - 1)(rng_);
    auto [t, seed] = queue_[pick];
    queue_.erase(queue_.begin() + static_cast<std::ptrdiff_t>(pick));
    if (pick > 0) ++out_of_order;
    ++collected_;
    const estimate::Evaluation e = evaluator_.evaluate(t.proposal, seed, nullptr);
    t.status = e.status;
    t.metrics = e.metrics;
    t.worker = "shuffled";
    return t;
  }
  int out_of_order = 0;  // results that overtook an earlier submitted trial

 private:
  estimate::Evaluator& evaluator_;
  int capacity_;
  std::mt19937_64 rng_;
  int crash_after_;
  int collected_ = 0;
  std::deque<std::pair<Trial, uint64_t>> queue_;
};

void expect_same_trials(const std::vector<Trial>& a, const std::vector<Trial>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].id, b[i].id);
    EXPECT_EQ(a[i].status, b[i].status) << "trial " << a[i].id;
    EXPECT_EQ(a[i].proposal.arch, b[i].proposal.arch) << "trial " << a[i].id;
    EXPECT_EQ(a[i].proposal.fidelity.key(), b[i].proposal.fidelity.key()) << "trial " << a[i].id;
    EXPECT_EQ(a[i].metric("val_accuracy"), b[i].metric("val_accuracy")) << "trial " << a[i].id;
  }
}

TEST(Runner, RunsTheBudgetAndWritesOutputs) {
  TempDir dir;
  Rig s(dir.path());
  const RunOutcome out = s.run(4);
  EXPECT_EQ(out.status, "done");
  EXPECT_EQ(out.counted, 4);
  auto trials = s.store->trials();
  ASSERT_EQ(trials.size(), 4u);
  double best = 0;
  for (const auto& t : trials) {
    EXPECT_EQ(t.status, TrialStatus::kOk) << t.reason;
    EXPECT_GT(t.metrics.at("val_accuracy"), 0.25);  // well above chance (0.1) after three epochs
    EXPECT_GT(t.metrics.at("params"), 0);
    best = std::max(best, t.metrics.at("val_accuracy"));
  }
  const auto summary = nlohmann::json::parse(nascent::test::read_file(dir.file("summary.json")));
  EXPECT_DOUBLE_EQ(summary["best"]["metrics"]["val_accuracy"].get<double>(), best);
  EXPECT_EQ(summary["trials"], 4);
  EXPECT_EQ(summary["strategy"], "random");
  const std::string csv = nascent::test::read_file(dir.file("trials.csv"));
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 5);
  EXPECT_EQ(csv.substr(0, 28), "trial,status,fidelity,arch,e");
  const auto best_arch = nlohmann::json::parse(nascent::test::read_file(dir.file("best_arch.json")));
  EXPECT_EQ(s.space.from_json(best_arch, "best_arch.json"), trials[*s.objective.best(trials)].proposal.arch);
  // Where the coordinator's time went: the parts add up to at most the session, and nearly all of
  // it here is the inline evaluations (inside submit or collect).
  const auto events = s.store->events("coordinator");
  ASSERT_EQ(events.size(), 1u);
  const nlohmann::json& c = events[0].data;
  EXPECT_EQ(c["trials"], 4);
  EXPECT_EQ(c["workers"], 1);
  double parts = 0;
  for (const char* k : {"ask_s", "tell_s", "strategy_state_s", "store_s", "outputs_s", "submit_s", "wait_s"}) {
    EXPECT_GE(c[k].get<double>(), 0) << k;
    parts += c[k].get<double>();
  }
  EXPECT_LE(parts, c["session_s"].get<double>() + 1e-6);
  EXPECT_GT(c["submit_s"].get<double>() + c["wait_s"].get<double>(), 0.5 * c["session_s"].get<double>());
}

TEST(Runner, RejectsConstraintBreakersWithoutTrainingThem) {
  TempDir dir;
  Rig s(dir.path(), "random", Objective({{"val_accuracy", true}}, {Constraint::parse("params <= 700")}));
  const RunOutcome out = s.run(3);
  EXPECT_EQ(out.counted, 3);
  int rejected = 0;
  for (const auto& t : s.store->trials()) {
    if (t.status == TrialStatus::kRejected) {
      ++rejected;
      EXPECT_GT(t.metrics.at("params"), 700);
      EXPECT_EQ(t.metrics.count("train_seconds"), 0u);
      EXPECT_EQ(t.reason.substr(0, 36), "breaks constraint params <= 700 (is ");
    } else {
      EXPECT_LE(t.metrics.at("params"), 700);
    }
  }
  EXPECT_GT(rejected, 0);
}

TEST(Runner, FailedCandidatesAreRecordedAndTheSearchGoesOn) {
  TempDir dir;
  estimate::TrainOptions to;
  to.max_params = 900;
  Rig s(dir.path(), "evolution", Objective(), tiny_chain(), to);
  const RunOutcome out = s.run(6);
  EXPECT_EQ(out.counted, 6);
  int failed = 0, ok = 0;
  for (const auto& t : s.store->trials()) {
    if (t.status == TrialStatus::kFailed) {
      ++failed;
      EXPECT_NE(t.reason.find("exceed train.max_params = 900"), std::string::npos) << t.reason;
    }
    ok += t.status == TrialStatus::kOk;
  }
  EXPECT_GT(failed, 0);
  EXPECT_GT(ok, 0);
}

TEST(Runner, StopsWhenTheSpaceIsUsedUp) {
  TempDir dir;
  space::ChainOptions o = tiny_chain();
  o.widths = {{4}};
  o.strides = {2};
  o.blocks = {1};
  o.kernels = {3};
  o.expansions = {2};
  o.activations = {"relu"};
  // 3 ops (mbconv with one expansion) x 2 skips = 6 architectures.
  Rig s(dir.path(), "random", Objective(), o);
  ASSERT_DOUBLE_EQ(s.space.size(), 6);
  const RunOutcome out = s.run(10);
  EXPECT_EQ(out.status, "exhausted");
  EXPECT_EQ(out.counted, 6);
}

TEST(Runner, ResumeAfterACrashMidTrialMatchesAnUninterruptedRun) {
  TempDir a, b;
  {
    Rig s(a.path(), "evolution");
    s.run(6);
  }
  {
    Rig s(b.path(), "evolution");
    s.run(3);
    // Crash in the middle of trial 4: it was asked and recorded as running, never finished.
    auto p = s.strategy->ask();
    s.store->begin_trial(*p, s.strategy->state(), "inline");
  }
  Rig resumed(b.path(), "evolution");
  const RunOutcome out = resumed.run(6);
  EXPECT_EQ(out.counted, 6);
  auto ta = Rig(a.path(), "evolution").store->trials();
  auto tb = resumed.store->trials();
  ASSERT_EQ(ta.size(), 6u);
  ASSERT_EQ(tb.size(), 6u);
  for (size_t i = 0; i < 6; ++i) {
    EXPECT_EQ(tb[i].id, static_cast<int64_t>(i) + 1);
    EXPECT_EQ(tb[i].status, TrialStatus::kOk);
    EXPECT_EQ(ta[i].proposal.arch, tb[i].proposal.arch) << "trial " << i + 1;
    EXPECT_DOUBLE_EQ(ta[i].metrics.at("val_accuracy"), tb[i].metrics.at("val_accuracy")) << "trial " << i + 1;
  }
}

TEST(Runner, ParallelResultsInAnyOrderGiveTheSameSearch) {
  // Evolution's proposals depend on the results, so telling them in the order they arrive would
  // make the search depend on the workers' speed.
  TempDir a, b;
  Rig ra(a.path(), "evolution"), rb(b.path(), "evolution");
  ShuffledExecutor xa(*ra.evaluator, 3, 1), xb(*rb.evaluator, 3, 2);
  EXPECT_EQ(ra.run(10, &xa).counted, 10);
  EXPECT_EQ(rb.run(10, &xb).counted, 10);
  EXPECT_GT(xa.out_of_order + xb.out_of_order, 3);
  expect_same_trials(ra.store->trials(), rb.store->trials());
  EXPECT_TRUE(ra.store->untold().empty());
}

TEST(Runner, ParallelResumeWithResultsWaitingForTheirTurnMatchesAnUninterruptedRun) {
  TempDir a, b;
  Rig ra(a.path(), "evolution");
  ShuffledExecutor xa(*ra.evaluator, 3, 5);
  ra.run(10, &xa);
  {
    Rig rb(b.path(), "evolution");
    // Killed after five results: some of them finished ahead of a trial still running, so they
    // are stored but not yet told to the strategy.
    ShuffledExecutor crashing(*rb.evaluator, 3, 6, 5);
    EXPECT_THROW(rb.run(10, &crashing), Crash);
    EXPECT_FALSE(rb.store->untold().empty());
    int running = 0;
    for (const auto& t : rb.store->trials()) running += t.status == TrialStatus::kRunning;
    EXPECT_GT(running, 0);
  }
  Rig resumed(b.path(), "evolution");
  ShuffledExecutor xr(*resumed.evaluator, 3, 7);
  EXPECT_EQ(resumed.run(10, &xr).counted, 10);
  expect_same_trials(ra.store->trials(), resumed.store->trials());
}

}  // namespace
}  // namespace nascent::run
