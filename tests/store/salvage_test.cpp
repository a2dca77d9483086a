#include "nascent/store/salvage.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "nascent/core/error.h"
#include "nascent/space/chain.h"
#include "nascent/store/store.h"
#include "support/support.h"

namespace nascent::store {
namespace {

namespace fs = std::filesystem;
using nascent::test::TempDir;

// An experiment of n finished trials (every third failed) and one running, closed cleanly so
// that everything is in the main file.
void make_experiment(const std::string& path, const space::SearchSpace& space, int n) {
  auto store = Store::create(path, {{"seed", 3}, {"note", "kept"}}, 3, space);
  for (int i = 0; i < n; ++i) {
    Trial t;
    Rng rng(100 + i);
    t.proposal = Proposal{space.sample(rng), Fidelity{1, 0.5, 0, 1}, {{"i", i}}};
    t.id = store->begin_trial(t.proposal, {{"asked", i}}, "inline");
    t.status = i % 3 == 2 ? TrialStatus::kFailed : TrialStatus::kOk;
    t.metrics = {{"val_accuracy", 0.5 + 0.01 * i}};
    t.reason = i % 3 == 2 ? "loss is NaN" : "";
    t.started = 1000 + i;
    t.ended = 1010 + i;
    // A long reason spreads the rows over several pages.
    t.reason += std::string(600, 'x');
    store->finish_trial(t, {{"told", i}}, i);
  }
  Trial r;
  Rng rng(99);
  r.proposal = Proposal{space.sample(rng), Fidelity{1, 0.5, 0, 1}, {}};
  store->begin_trial(r.proposal, {{"asked", n}}, "inline");
}

TEST(Salvage, AnUndamagedFileGivesEveryCompletedTrial) {
  TempDir dir;
  space::ChainSpace space;
  make_experiment(dir.file("e.db"), space, 12);
  EXPECT_EQ(integrity_problem(dir.file("e.db")), "");
  const Salvage s = salvage_database(dir.file("e.db"));
  EXPECT_EQ(s.problem, "");
  ASSERT_TRUE(s.has_experiment);
  EXPECT_EQ(s.seed, 3);
  EXPECT_EQ(nlohmann::json::parse(s.config)["note"], "kept");
  ASSERT_EQ(s.completed.size(), 12u);
  EXPECT_EQ(s.running, 1);
  EXPECT_TRUE(s.lost.empty());
  EXPECT_EQ(s.completed[2].status, "failed");
  EXPECT_DOUBLE_EQ(s.completed[4].ended, 1014);
}

TEST(Salvage, AnOverwrittenPageCostsOnlyItsRowsAndTheFileIsNotTouched) {
  TempDir dir;
  space::ChainSpace space;
  const std::string db = dir.file("e.db");
  make_experiment(db, space, 30);
  std::string bytes = test::read_file(db);
  ASSERT_GT(bytes.size(), 8u * 4096);
  // The page that holds trial 16's row (its meta is {"i":15}).
  const size_t at = bytes.find("{\"i\":15}");
  ASSERT_NE(at, std::string::npos);
  const size_t page = at / 4096 * 4096;
  for (size_t i = page; i < page + 4096; ++i) bytes[i] = static_cast<char>(i * 13);
  test::write_file(db, bytes);

  EXPECT_NE(integrity_problem(db), "");
  const Salvage s = salvage_database(db);
  EXPECT_TRUE(s.has_experiment);
  EXPECT_FALSE(s.lost.empty());
  EXPECT_GE(s.completed.size(), 20u);  // a 4 KiB page holds a few of these rows
  EXPECT_EQ(static_cast<int64_t>(s.completed.size() + s.lost.size()) + s.running, 31);
  EXPECT_NE(std::find(s.lost.begin(), s.lost.end(), 16), s.lost.end());
  for (const SalvagedRow& r : s.completed) EXPECT_DOUBLE_EQ(r.ended, 1010 + r.id - 1) << r.id;
  EXPECT_EQ(test::read_file(db), bytes) << "salvage must not write to the damaged file";
  // Opening it for a search is one InputError with the readable count and the way out.
  const std::string e = test::error_of([&] { Store::open(db, space); });
  EXPECT_NE(e.find(db + ": the database is damaged ("), std::string::npos) << e;
  EXPECT_NE(e.find(std::to_string(s.completed.size()) + " completed trials can still be read, " +
                   std::to_string(s.lost.size()) + " cannot"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("nascent recover --run " + dir.path() + " --out NEW_DIR"), std::string::npos) << e;
}

TEST(Salvage, RecoveredResultsAreTakenOnceWhenProposedAgain) {
  TempDir dir;
  space::ChainSpace space;
  make_experiment(dir.file("old.db"), space, 3);
  const Salvage s = salvage_database(dir.file("old.db"));
  auto store = Store::create(dir.file("new.db"), {}, 3, space);
  for (const auto& r : s.completed) store->add_salvaged(r);
  EXPECT_EQ(store->salvaged_count(), 3);

  Rng rng(101);  // the second trial's architecture
  Trial t;
  t.proposal = Proposal{space.sample(rng), Fidelity{1, 0.5, 0, 1}, {}};
  auto found = store->find_salvaged(t.proposal.arch, t.proposal.fidelity);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->id, 2);
  EXPECT_DOUBLE_EQ(found->metrics.at("val_accuracy"), 0.51);
  Fidelity other = t.proposal.fidelity;
  other.epochs = 2;
  EXPECT_FALSE(store->find_salvaged(t.proposal.arch, other));

  t.id = store->begin_trial(t.proposal, {}, "inline");
  t.status = found->status;
  t.metrics = found->metrics;
  store->finish_trial(t, {}, 1, found->id);
  EXPECT_FALSE(store->find_salvaged(t.proposal.arch, t.proposal.fidelity));
  EXPECT_EQ(store->salvaged_count(), 2);
}

TEST(Salvage, AnEmptyFileHasNothingToResume) {
  TempDir dir;
  test::write_file(dir.file("e.db"), "");
  EXPECT_EQ(integrity_problem(dir.file("e.db")), "the file is empty");
  const Salvage s = salvage_database(dir.file("e.db"));
  EXPECT_FALSE(s.has_experiment);
  EXPECT_TRUE(s.completed.empty());
  space::ChainSpace space;
  const std::string e = test::error_of([&] { Store::open(dir.file("e.db"), space); });
  EXPECT_NE(e.find("the database is damaged (the file is empty) and its experiment (config and seed) cannot be read"),
            std::string::npos)
      << e;
}

}  // namespace
}  // namespace nascent::store
