// Every registered sampling strategy on every registered space: strategies only see decisions,
// so each must propose valid, canonical architectures of each space (conditional decisions
// included) and learn from what it is told. New strategies and spaces are covered as they
// register.
#include <gtest/gtest.h>

#include <cmath>
#include <optional>
#include <set>

#include "nascent/core/config.h"
#include "nascent/space/registry.h"
#include "nascent/strategy/strategy.h"

namespace nascent::strategy {
namespace {

// Options for spaces that need them (declared); the others use their defaults.
nlohmann::json space_options(const std::string& name) {
  if (name != "declared") return nlohmann::json::object();
  return parse_yaml_value(R"({layers: [
      {type: conv, channels: {choice: [8, 16]}},
      {repeat: {choice: [0, 1, 2]}, layers: [{type: conv, channels: {choice: [8, 16]}, kernel: {choice: [3, 5]}}]},
      {type: global_pool}, {type: linear, units: {choice: [16, 32]}}]})",
                          "test");
}

TEST(StrategiesOnSpaces, ProposalsAreValidCanonicalArchitecturesOfEverySpace) {
  // One-shot strategies train supernets and fixed proposes a configured list: not samplers.
  const std::set<std::string> one_shot = {"darts", "gdas", "spos", "fixed"};
  for (const auto& sinfo : space::registered_spaces()) {
    ConfigSection so(space_options(sinfo.name), "space." + sinfo.name, "test");
    auto space = sinfo.factory(so);
    for (const auto& info : registered_strategies()) {
      if (one_shot.count(info.name)) continue;
      SCOPED_TRACE(sinfo.name + " / " + info.name);
      ConfigSection o(nlohmann::json::object(), "strategy." + info.name, "test");
      StrategyContext ctx{space.get(), Objective({{"score", true}}, {}), Fidelity{}, 3, 40};
      auto strategy = make_strategy(info.name, o, ctx);
      std::set<std::string> seen;
      for (int i = 0; i < 25; ++i) {
        auto p = strategy->ask();
        if (!p) break;
        const Arch& a = p->arch;
        ASSERT_EQ(a.space, space->name());
        ASSERT_EQ(space->canonical(a), a);
        ASSERT_EQ(space->from_json(space->to_json(a), "proposal"), a);
        seen.insert(space->hash(a));
        Trial t;
        t.id = i + 1;
        t.proposal = *p;
        t.status = TrialStatus::kOk;
        double score = 0;
        for (size_t d = 0; d < space->num_decisions(); ++d)
          if (space->active(a, d)) score += std::sin(1.3 * static_cast<double>(d) + a.choices[d]);
        t.metrics["score"] = score;
        strategy->tell(t);
      }
      EXPECT_GT(seen.size(), 5u);
    }
  }
}

// What the runner does on resume, for every sampling strategy on every space: the process dies
// during trial 13, after its ask was recorded with the strategy's state; a fresh strategy loads
// that state, is told the re-evaluated trial 13 and goes on. The proposals must be exactly those
// of an uninterrupted search with the same seed.
TEST(StrategiesOnSpaces, ResumeFromTheStateAfterAnAskProposesWhatAnUninterruptedSearchDoes) {
  const std::set<std::string> one_shot = {"darts", "gdas", "spos", "fixed"};
  for (const auto& sinfo : space::registered_spaces()) {
    ConfigSection so(space_options(sinfo.name), "space." + sinfo.name, "test");
    auto space = sinfo.factory(so);
    auto score = [&](const Arch& a) {
      double v = 0;
      for (size_t d = 0; d < space->num_decisions(); ++d)
        if (space->active(a, d)) v += std::sin(0.7 * static_cast<double>(d) + 1.9 * a.choices[d]);
      return v;
    };
    auto told = [&](int64_t id, const Proposal& p) {
      Trial t;
      t.id = id;
      t.proposal = p;
      t.status = id % 9 == 0 ? TrialStatus::kFailed : TrialStatus::kOk;
      if (t.status == TrialStatus::kOk) t.metrics["score"] = score(p.arch);
      return t;
    };
    for (const auto& info : registered_strategies()) {
      if (one_shot.count(info.name)) continue;
      SCOPED_TRACE(sinfo.name + " / " + info.name);
      auto make = [&] {
        ConfigSection o(nlohmann::json::object(), "strategy." + info.name, "test");
        StrategyContext ctx{space.get(), Objective({{"score", true}}, {}), Fidelity{}, 11, 30};
        return make_strategy(info.name, o, ctx);
      };
      std::vector<std::string> uninterrupted, resumed;
      auto a = make();
      for (int64_t id = 1; id <= 30; ++id) {
        auto p = a->ask();
        if (!p) break;
        uninterrupted.push_back(space->hash(p->arch));
        a->tell(told(id, *p));
      }
      auto b = make();
      std::optional<Proposal> running;
      std::string saved;
      for (int64_t id = 1; id <= 13; ++id) {
        auto p = b->ask();
        if (!p) break;
        resumed.push_back(space->hash(p->arch));
        if (id == 13) {
          running = p;
          saved = b->state().dump();  // stored with the running trial; then the process dies
        } else {
          b->tell(told(id, *p));
        }
      }
      ASSERT_TRUE(running.has_value());
      auto c = make();
      c->load_state(nlohmann::json::parse(saved));
      c->tell(told(13, *running));
      for (int64_t id = 14; id <= 30; ++id) {
        auto p = c->ask();
        if (!p) break;
        resumed.push_back(space->hash(p->arch));
        c->tell(told(id, *p));
      }
      EXPECT_EQ(resumed, uninterrupted);
    }
  }
}

}  // namespace
}  // namespace nascent::strategy
