#include "nascent/store/store.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "nascent/core/error.h"
#include "nascent/space/chain.h"
#include "nascent/store/sqlite.h"
#include "nascent/store/trial_row.h"
#include "support/support.h"

namespace nascent::store {
namespace {

using nascent::test::TempDir;
namespace fs = std::filesystem;

Proposal proposal(const space::SearchSpace& s, uint64_t seed) {
  Rng rng(seed);
  return Proposal{s.sample(rng), Fidelity{2, 0.25, 0, 1}, {{"origin", "random"}}};
}

TEST(Store, WritesAndReadsTrialsWithStrategyState) {
  TempDir dir;
  space::ChainSpace space;
  auto store = Store::create(dir.file("e.db"), {{"seed", 4}}, 4, space);
  const Proposal p = proposal(space, 1);
  const int64_t id = store->begin_trial(p, {{"asked", 1}}, "inline");
  EXPECT_EQ(id, 1);
  EXPECT_EQ((*store->strategy_state())["asked"], 1);
  auto running = store->trial(id);
  ASSERT_TRUE(running);
  EXPECT_EQ(running->status, TrialStatus::kRunning);

  Trial t = *running;
  t.status = TrialStatus::kOk;
  t.metrics = {{"val_accuracy", 0.875}, {"params", 12345}};
  t.started = 100.5;
  t.ended = 110.25;
  store->finish_trial(t, {{"asked", 1}, {"told", 1}}, 9.75);

  auto back = store->trials();
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back[0].status, TrialStatus::kOk);
  EXPECT_EQ(back[0].proposal.arch, p.arch);
  EXPECT_EQ(back[0].proposal.fidelity, p.fidelity);
  EXPECT_EQ(back[0].proposal.meta["origin"], "random");
  EXPECT_DOUBLE_EQ(back[0].metrics.at("val_accuracy"), 0.875);
  EXPECT_DOUBLE_EQ(back[0].ended, 110.25);
  EXPECT_EQ((*store->strategy_state())["told"], 1);
  EXPECT_DOUBLE_EQ(store->info().elapsed_s, 9.75);
  EXPECT_EQ(store->info().seed, 4u);
}

TEST(Store, ReopenSeesCommittedTrialsAndRunningOnes) {
  TempDir dir;
  space::ChainSpace space;
  {
    auto store = Store::create(dir.file("e.db"), nlohmann::json::object(), 0, space);
    for (int i = 0; i < 3; ++i) {
      Trial t;
      t.proposal = proposal(space, i);
      t.id = store->begin_trial(t.proposal, {{"i", i}}, "inline");
      t.status = TrialStatus::kOk;
      t.metrics["val_accuracy"] = 0.1 * i;
      store->finish_trial(t, {{"i", i}}, i);
    }
    store->begin_trial(proposal(space, 99), {{"i", "asked 4"}}, "inline");
    // The process "dies" here: no finish for trial 4.
  }
  auto store = Store::open(dir.file("e.db"), space);
  auto trials = store->trials();
  ASSERT_EQ(trials.size(), 4u);
  EXPECT_EQ(trials[3].status, TrialStatus::kRunning);
  EXPECT_EQ(trials[3].id, 4);
  EXPECT_EQ((*store->strategy_state())["i"], "asked 4");
  // Finishing the re-queued trial keeps its id; no new row.
  Trial t = trials[3];
  t.status = TrialStatus::kFailed;
  t.reason = "loss became nan";
  store->finish_trial(t, {{"i", 4}}, 5);
  trials = store->trials();
  ASSERT_EQ(trials.size(), 4u);
  EXPECT_EQ(trials[3].reason, "loss became nan");
}

TEST(Store, FindResultMatchesArchitectureAndFidelity) {
  TempDir dir;
  space::ChainSpace space;
  auto store = Store::create(dir.file("e.db"), nlohmann::json::object(), 0, space);
  Trial t;
  t.proposal = proposal(space, 7);
  t.id = store->begin_trial(t.proposal, {}, "inline");
  t.status = TrialStatus::kOk;
  t.metrics["val_accuracy"] = 0.5;
  store->finish_trial(t, {}, 1);
  EXPECT_TRUE(store->find_result(t.proposal.arch, t.proposal.fidelity));
  Fidelity other = t.proposal.fidelity;
  other.epochs = 4;
  EXPECT_FALSE(store->find_result(t.proposal.arch, other));
  EXPECT_FALSE(store->find_result(proposal(space, 8).arch, t.proposal.fidelity));
}

TEST(Store, GroupedWritesCommitTogetherAndAFailedOneRollsTheGroupBack) {
  TempDir dir;
  space::ChainSpace space;
  {
    auto store = Store::create(dir.file("e.db"), nlohmann::json::object(), 0, space);
    // A told result and the next ask, in one commit.
    Trial t;
    t.proposal = proposal(space, 1);
    t.id = store->begin_trial(t.proposal, {{"i", 1}}, "inline");
    auto group = store->group_writes();
    t.status = TrialStatus::kOk;
    t.metrics["val_accuracy"] = 0.5;
    store->finish_trial(t, {{"i", "told 1"}}, 1);
    store->begin_trial(proposal(space, 2), {{"i", "asked 2"}}, "inline");
    // Before the group's commit, another connection (a resume after kill -9) sees neither write.
    {
      auto other = Store::open_read_only(dir.file("e.db"), space);
      const auto seen = other->trials();
      ASSERT_EQ(seen.size(), 1u);
      EXPECT_EQ(seen[0].status, TrialStatus::kRunning);
    }
    group->commit();
    // A group dropped without commit (the process failed) writes nothing.
    {
      auto dropped = store->group_writes();
      store->begin_trial(proposal(space, 3), {{"i", "asked 3"}}, "inline");
    }
    // A grouped write that failed (a finish for a trial that does not exist) rolls back the
    // whole group, and says so at the commit.
    auto failing = store->group_writes();
    store->begin_trial(proposal(space, 4), {{"i", "asked 4"}}, "inline");
    Trial missing = t;
    missing.id = 99;
    EXPECT_THROW(store->finish_trial(missing, {{"i", "told 99"}}, 2), InternalError);
    EXPECT_THROW(failing->commit(), InternalError);
  }
  auto store = Store::open(dir.file("e.db"), space);
  const auto trials = store->trials();
  ASSERT_EQ(trials.size(), 2u);
  EXPECT_EQ(trials[0].status, TrialStatus::kOk);
  EXPECT_EQ(trials[1].status, TrialStatus::kRunning);
  EXPECT_EQ((*store->strategy_state())["i"], "asked 2");
}

TEST(Store, CreateRefusesAnExistingExperimentAndOpenNeedsOne) {
  TempDir dir;
  space::ChainSpace space;
  Store::create(dir.file("e.db"), nlohmann::json::object(), 0, space);
  EXPECT_THROW(Store::create(dir.file("e.db"), nlohmann::json::object(), 0, space), InputError);
  EXPECT_THROW(Store::open(dir.file("none.db"), space), InputError);
  EXPECT_EQ(Store::read_config(dir.file("e.db")), nlohmann::json::object());
}

TEST(Store, UsesWriteAheadLogging) {
  TempDir dir;
  space::ChainSpace space;
  auto store = Store::create(dir.file("e.db"), nlohmann::json::object(), 0, space);
  Database db(dir.file("e.db"));
  Statement s(db, "PRAGMA journal_mode");
  ASSERT_TRUE(s.step());
  EXPECT_EQ(s.column_text(0), "wal");
}

// Found by bench/fuzz.sh (store): a trial cell that is not the JSON the store writes (here a decimal
// comma in the fidelity) escaped as nlohmann's parse_error, exit 1, with no word about recovery.
TEST(Store, ACellThatIsNotWhatTheStoreWritesIsReportedAsDamageNamingTheTrial) {
  TempDir dir;
  space::ChainSpace space;
  {
    auto store = Store::create(dir.file("e.db"), {{"seed", 1}}, 1, space);
    for (uint64_t i = 1; i <= 2; ++i) {
      Trial t;
      t.proposal = proposal(space, i);
      t.id = store->begin_trial(t.proposal, {}, "inline");
      t.status = TrialStatus::kOk;
      t.metrics = {{"val_accuracy", 0.5}};
      store->finish_trial(t, {}, 1);
    }
  }
  struct Case {
    std::string set, expected;
    bool salvage_reads_it;  // salvage drops rows whose JSON does not parse or whose status is unknown
  };
  const std::vector<Case> cases = {
      {"fidelity = '{\"epochs\": 1, \"data_fraction\": 0,25}'", "trial 2: fidelity is not valid JSON", false},
      {"metrics = '[1, 2]'", "trial 2: metrics is not a JSON object", true},
      {"status = 'finished'", "trial 2: unknown status", false},
      {"fidelity = '{\"epochs\": \"two\"}'", "trial 2: fidelity holds a value of the wrong type", true},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.set);
    fs::copy_file(dir.file("e.db"), dir.file("bad.db"), fs::copy_options::overwrite_existing);
    {
      Database db(dir.file("bad.db"));
      db.exec("UPDATE trial SET " + c.set + " WHERE id = 2");
    }
    const std::string error = test::error_of([&] { Store::open(dir.file("bad.db"), space)->trials(); });
    EXPECT_NE(error.find("the database is damaged (" + c.expected), std::string::npos) << error;
    EXPECT_NE(error.find("nascent recover --run"), std::string::npos) << error;
    // `nascent recover` keeps trial 1 and leaves trial 2 out: salvage does not read it, or the
    // check the store reads with rejects it.
    const Salvage salvage = salvage_database(dir.file("bad.db"));
    ASSERT_EQ(salvage.completed.size(), c.salvage_reads_it ? 2u : 1u);
    EXPECT_NO_THROW(trial_from_row(salvage.completed[0], space, "bad.db"));
    if (c.salvage_reads_it) {
      EXPECT_THROW(trial_from_row(salvage.completed[1], space, "bad.db"), InputError);
    }
  }
}

}  // namespace
}  // namespace nascent::store
