#include "nascent/core/rng.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>

namespace nascent {
namespace {

TEST(Rng, SameSeedSameSequenceAndKnownFirstValue) {
  Rng a(42), b(42);
  const uint64_t first = a.next();
  EXPECT_EQ(first, b.next());
  // Pinned: a change of generator or seeding would silently change every experiment.
  EXPECT_EQ(Rng(0).next(), 11091344671253066420ULL);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(a.next(), b.next());
}

TEST(Rng, DerivedStreamsDiffer) {
  Rng a = Rng::derive(7, "strategy/random");
  Rng b = Rng::derive(7, "strategy/evolution");
  Rng c = Rng::derive(7, "strategy/random");
  const uint64_t x = a.next();
  EXPECT_NE(x, b.next());
  EXPECT_EQ(x, c.next());
}

TEST(Rng, BelowIsInRangeAndCoversAllValues) {
  Rng r(1);
  std::vector<int> counts(7, 0);
  for (int i = 0; i < 7000; ++i) {
    const uint64_t v = r.below(7);
    ASSERT_LT(v, 7u);
    ++counts[v];
  }
  for (int c : counts) {
    EXPECT_GT(c, 850);
    EXPECT_LT(c, 1150);
  }
}

TEST(Rng, StateRoundTripContinuesTheSameSequence) {
  Rng a(3);
  for (int i = 0; i < 10; ++i) a.next();
  const nlohmann::json s = a.state();
  Rng b(999);
  b.load_state(nlohmann::json::parse(s.dump()));
  for (int i = 0; i < 50; ++i) EXPECT_EQ(a.next(), b.next());
}

TEST(Rng, ChooseGivesDistinctIndices) {
  Rng r(5);
  for (int t = 0; t < 100; ++t) {
    auto c = r.choose(10, 4);
    ASSERT_EQ(c.size(), 4u);
    std::set<size_t> s(c.begin(), c.end());
    EXPECT_EQ(s.size(), 4u);
    for (size_t i : c) EXPECT_LT(i, 10u);
  }
}

TEST(Rng, CategoricalFollowsWeights) {
  Rng r(9);
  int zero = 0, two = 0;
  for (int i = 0; i < 10000; ++i) {
    const size_t k = r.categorical({1.0, 0.0, 3.0});
    ASSERT_NE(k, 1u);
    (k == 0 ? zero : two)++;
  }
  EXPECT_NEAR(static_cast<double>(two) / 10000, 0.75, 0.02);
}

}  // namespace
}  // namespace nascent
