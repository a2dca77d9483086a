#include <gtest/gtest.h>

#include "nascent/space/chain.h"
#include "nascent/store/sqlite.h"
#include "nascent/store/store.h"
#include "support/support.h"

namespace nascent::store {
namespace {

TEST(StrategyEvents, RecordedByKindAndStepAndReplacedWhenRedone) {
  test::TempDir dir;
  space::ChainSpace space;
  {
    auto store = Store::create(dir.file("e.db"), {{"seed", 1}}, 1, space);
    store->record_event("supernet_epoch", 2, {{"loss", 1.5}});
    store->record_event("supernet_epoch", 1, {{"loss", 2.0}});
    store->record_event("spos_generation", 1, {{"best", 0.5}});
    store->record_event("supernet_epoch", 2, {{"loss", 1.25}});  // epoch 2 redone after a resume
  }
  auto store = Store::open(dir.file("e.db"), space);
  const auto epochs = store->events("supernet_epoch");
  ASSERT_EQ(epochs.size(), 2u);
  EXPECT_EQ(epochs[0].step, 1);
  EXPECT_EQ(epochs[1].step, 2);
  EXPECT_DOUBLE_EQ(epochs[1].data.at("loss").get<double>(), 1.25);
  EXPECT_GT(epochs[1].time, 1e9);
  EXPECT_EQ(store->events().size(), 3u);
}

TEST(StrategyEvents, VersionOneDatabaseIsUpgradedOnOpen) {
  test::TempDir dir;
  space::ChainSpace space;
  Store::create(dir.file("old.db"), {{"seed", 1}}, 1, space);
  {
    Database db(dir.file("old.db"));  // as written before strategy events existed
    db.exec("DROP TABLE strategy_event");
    db.exec("DROP TABLE salvaged_trial");           // nor salvaged trials (version 3)
    db.exec("ALTER TABLE trial DROP COLUMN told");  // nor results waiting to be told (version 4)
    db.exec("PRAGMA user_version = 1");
  }
  auto store = Store::open(dir.file("old.db"), space);
  store->record_event("supernet_epoch", 1, {{"loss", 1.0}});
  EXPECT_EQ(store->events("supernet_epoch").size(), 1u);
  EXPECT_EQ(store->salvaged_count(), 0);
  EXPECT_TRUE(store->untold().empty());  // reads the added column
}

}  // namespace
}  // namespace nascent::store
