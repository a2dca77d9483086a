// `fixed`: the configured architectures, in order, canonical, once each; bad lists are one
// InputError naming the item.
#include "nascent/strategy/fixed.h"

#include <gtest/gtest.h>

#include "nascent/core/config.h"
#include "nascent/core/error.h"
#include "nascent/space/nb201.h"

namespace nascent::strategy {
namespace {

std::unique_ptr<Strategy> make(const space::SearchSpace& space, const std::string& yaml) {
  ConfigSection o(parse_yaml_value(yaml, "test"), "strategy.fixed", "run.yaml");
  StrategyContext ctx{&space, Objective(), Fidelity{2, 0.5, 0, 1}, 0, 10};
  return make_strategy("fixed", o, ctx);
}

TEST(Fixed, ProposesTheListInOrderAtTheFidelityThenIsExhausted) {
  space::Nb201Space space;
  const std::string a = "|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|none~2|";
  const std::string b = "|avg_pool_3x3~0|+|skip_connect~0|none~1|+|none~0|none~1|nor_conv_1x1~2|";
  auto s = make(space, "{archs: ['" + a + "', {space: nb201, string: '" + b + "'}, '" + a + "']}");
  std::vector<std::string> got;
  while (auto p = s->ask()) {
    EXPECT_EQ(p->fidelity.key(), "e=2,d=0.5");
    EXPECT_EQ(space.canonical(p->arch), p->arch);
    got.push_back(space.to_text(p->arch));
    if (got.size() == 1) {
      // A resumed search continues after the proposals already made.
      auto r = make(space, "{archs: ['" + a + "', '" + b + "']}");
      r->load_state(s->state());
      EXPECT_EQ(space.to_text(r->ask()->arch), space.to_text(space.canonical(space.from_text(b, "test"))));
    }
  }
  // Proposed in canonical form (edges that cannot reach the output become none).
  auto canon = [&](const std::string& t) { return space.to_text(space.canonical(space.from_text(t, "test"))); };
  EXPECT_EQ(got, (std::vector<std::string>{canon(a), canon(b), canon(a)}));
  EXPECT_NE(canon(b), b);
  EXPECT_TRUE(s->exhausted());
}

TEST(Fixed, AnEmptyListOrABadItemIsOneErrorNamingIt) {
  space::Nb201Space space;
  try {
    make(space, "{}");
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_EQ(e.field(), "strategy.fixed.archs");
  }
  try {
    make(space,
         "{archs: ['|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|none~2|', "
         "'|conv_9x9~0|+|none~0|none~1|+|none~0|none~1|none~2|']}");
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_EQ(e.file(), "run.yaml");
    EXPECT_EQ(e.field(), "strategy.fixed.archs[1]");
    EXPECT_NE(e.problem().find("conv_9x9"), std::string::npos) << e.problem();
  }
  EXPECT_THROW(make(space, "{archs: [{space: chain, choices: {}}]}"), InputError);
  EXPECT_THROW(make(space, "{archs: 3}"), InputError);
}

}  // namespace
}  // namespace nascent::strategy
