// The C++ example of docs/spaces/custom.md, compiled and run: a space registered with
// register_space() is made by name from a config section and searched by a strategy like a
// built-in one. Keep the two in step.
#include <gtest/gtest.h>

#include "nascent/core/config.h"
#include "nascent/core/error.h"
#include "nascent/estimate/profile.h"
#include "nascent/space/network.h"
#include "nascent/space/ops.h"
#include "nascent/space/registry.h"
#include "nascent/strategy/strategy.h"

namespace {

// --- begin docs/spaces/custom.md example ---
struct TinyOptions {
  int64_t width = 8;  // channels of the one convolution
};

class TinyNetwork : public nascent::space::Network {
 public:
  TinyNetwork(int64_t kernel, const std::string& act, int64_t width, const nascent::Task& task) : act_(act) {
    conv_ = register_module("conv", nascent::space::ConvBn(nascent::space::ConvBnOptions{task.input_shape[0], width,
                                                                                         kernel, 2, 1, 1, true, act}));
    head_ = register_module("head", nascent::space::CountedLinear(width, task.num_classes));
  }
  torch::Tensor forward(torch::Tensor x) override { return head_(conv_(x).mean({2, 3})); }

 private:
  std::string act_;
  nascent::space::ConvBn conv_{nullptr};
  nascent::space::CountedLinear head_{nullptr};
};

class TinySpace : public nascent::space::SearchSpace {
 public:
  explicit TinySpace(TinyOptions o)
      : SearchSpace("tiny", {{"kernel", {"3", "5"}, std::nullopt}, {"act", {"relu", "gelu"}, std::nullopt}}), o_(o) {}

  std::shared_ptr<nascent::space::Network> build(const nascent::Arch& a, const nascent::Task& task,
                                                 double width_mult) const override {
    const int64_t kernel = std::stoll(decisions()[0].options[a.choices[0]]);
    const std::string& act = decisions()[1].options[a.choices[1]];
    return std::make_shared<TinyNetwork>(kernel, act, nascent::space::scale_units(o_.width, width_mult), task);
  }

 private:
  TinyOptions o_;
};

void register_tiny_space() {
  nascent::space::register_space({"tiny", "two decisions, one conv", [](nascent::ConfigSection& opts) {
                                    TinyOptions o;
                                    o.width = opts.get_int("width", o.width, 1, 1024);
                                    opts.finish();  // unknown options become errors that name them
                                    return std::make_unique<TinySpace>(o);
                                  }});
}
// --- end docs/spaces/custom.md example ---

TEST(CustomSpace, RegisteredSpaceIsMadeByNameAndSearched) {
  register_tiny_space();
  EXPECT_TRUE(nascent::space::has_space("tiny"));
  nascent::ConfigSection opts(nlohmann::json{{"width", 12}}, "space.tiny", "c.yaml");
  auto space = nascent::space::make_space("tiny", opts);
  EXPECT_DOUBLE_EQ(space->size(), 4);
  nascent::Task task;
  const nascent::Arch a = space->from_json({{"space", "tiny"}, {"choices", {{"kernel", "5"}, {"act", "gelu"}}}}, "t");
  auto net = space->build(a, task, 1.0);
  // conv 1->12 5x5 + BN, head 12->10: the width option reached the network.
  EXPECT_EQ(nascent::estimate::profile_network(*net, task).params, 300 + 24 + 130);
  // A strategy proposes the space's architectures without knowing the space.
  nascent::strategy::StrategyContext ctx;
  ctx.space = space.get();
  ctx.seed = 1;
  nascent::ConfigSection none(nlohmann::json::object(), "strategy.random", "c.yaml");
  auto strategy = nascent::strategy::make_strategy("random", none, ctx);
  auto p = strategy->ask();
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->arch.space, "tiny");
  nascent::ConfigSection bad(nlohmann::json{{"widht", 4}}, "space.tiny", "c.yaml");
  EXPECT_THROW(nascent::space::make_space("tiny", bad), nascent::InputError);
}

}  // namespace
