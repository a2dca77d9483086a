#include "nascent/strategy/reinforce.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "nascent/core/config.h"
#include "nascent/core/error.h"
#include "nascent/space/chain.h"
#include "nascent/strategy/policy_lstm.h"
#include "nascent/strategy/torch_archive.h"

namespace nascent::strategy {
namespace {

Trial told(int64_t id, const Proposal& p, std::optional<double> score) {
  Trial t;
  t.id = id;
  t.proposal = p;
  if (score) {
    t.status = TrialStatus::kOk;
    t.metrics["score"] = *score;
  } else {
    t.status = TrialStatus::kFailed;
    t.reason = "loss became nan";
  }
  return t;
}

StrategyContext ctx_for(const space::SearchSpace& s, uint64_t seed) {
  return StrategyContext{&s, Objective({{"score", true}}, {}), Fidelity{}, seed, 1000};
}

// Runs `updates` batches, rewarding with reward(arch).
template <typename Reward>
void train(Reinforce& rl, int updates, Reward reward) {
  int64_t id = 0;
  for (int u = 0; u < updates; ++u) {
    std::vector<Proposal> batch;
    while (auto p = rl.ask()) batch.push_back(*p);
    for (const auto& p : batch) rl.tell(told(++id, p, reward(p.arch)));
  }
}

TEST(Reinforce, ProbabilityOfARewardedOptionRises) {
  space::ChainSpace space;
  const int op = space.index_of("s2_op");
  const int mbconv = 2;
  Reinforce rl(ctx_for(space, 1), ReinforceOptions{});
  Rng rng0(0);
  const Arch any = space.sample(rng0);
  // s2_op is conditioned on earlier choices through the LSTM; measure it after `any`'s prefix.
  const double before = rl.policy(any, op)[mbconv];
  EXPECT_NEAR(before, 1.0 / 3, 0.1);  // near-uniform at initialisation
  train(rl, 15, [&](const Arch& a) { return a.choices[op] == mbconv ? 1.0 : 0.0; });
  EXPECT_EQ(rl.updates(), 15);
  const double after = rl.policy(any, op)[mbconv];
  EXPECT_GT(after, before + 0.3) << "before " << before << " after " << after;
}

TEST(Reinforce, FailedSamplesArePushedAway) {
  space::ChainSpace space;
  const int act = space.index_of("s1_act");
  Reinforce rl(ctx_for(space, 2), ReinforceOptions{});
  Rng rng0(0);
  const Arch any = space.sample(rng0);
  const double before = rl.policy(any, act)[0];
  // relu always fails; everything else scores the same.
  train(rl, 15, [&](const Arch& a) { return a.choices[act] == 0 ? std::nullopt : std::optional<double>(0.5); });
  const double after = rl.policy(any, act)[0];
  EXPECT_LT(after, before - 0.1) << "before " << before << " after " << after;
}

TEST(Reinforce, AsksABatchThenWaitsForItsRewards) {
  space::ChainSpace space;
  ReinforceOptions o;
  o.batch = 3;
  Reinforce rl(ctx_for(space, 3), o);
  std::vector<Proposal> b;
  for (int i = 0; i < 3; ++i) b.push_back(*rl.ask());
  EXPECT_FALSE(rl.ask().has_value());
  rl.tell(told(1, b[0], 0.1));
  rl.tell(told(2, b[1], 0.2));
  EXPECT_FALSE(rl.ask().has_value());
  EXPECT_EQ(rl.updates(), 0);
  rl.tell(told(3, b[2], 0.3));
  EXPECT_EQ(rl.updates(), 1);
  EXPECT_TRUE(rl.ask().has_value());
}

TEST(Reinforce, StateCarriesTheWeightsAndTheOptimiser) {
  space::ChainSpace space;
  Reinforce a(ctx_for(space, 4), ReinforceOptions{});
  train(a, 4, [](const Arch& x) { return 0.1 * x.choices[0]; });
  Rng rng1(1);
  const Arch probe = space.sample(rng1);
  Reinforce b(ctx_for(space, 99), ReinforceOptions{});  // another seed: other weights until loaded
  EXPECT_NE(a.policy(probe, 0), b.policy(probe, 0));
  b.load_state(nlohmann::json::parse(a.state().dump()));
  EXPECT_EQ(a.policy(probe, 0), b.policy(probe, 0));
  EXPECT_EQ(a.baseline(), b.baseline());
  // Adam's moments came along too: one more identical update keeps the policies identical.
  train(a, 1, [](const Arch& x) { return 0.2 * x.choices[1]; });
  train(b, 1, [](const Arch& x) { return 0.2 * x.choices[1]; });
  EXPECT_EQ(a.policy(probe, 3), b.policy(probe, 3));
}

TEST(Reinforce, StateBeforeTheFirstUpdateRoundTripsToo) {
  space::ChainSpace space;
  Reinforce a(ctx_for(space, 5), ReinforceOptions{});
  const Proposal first = *a.ask();  // the runner saves the state right after an ask
  Reinforce b(ctx_for(space, 5), ReinforceOptions{});
  b.load_state(nlohmann::json::parse(a.state().dump()));
  a.tell(told(1, first, 0.3));
  b.tell(told(1, first, 0.3));
  for (int i = 0; i < 12; ++i) {
    const Proposal pa = *a.ask(), pb = *b.ask();
    EXPECT_EQ(pa.arch, pb.arch) << "ask " << i;
    a.tell(told(i + 2, pa, 0.01 * i));
    b.tell(told(i + 2, pb, 0.01 * i));
  }
  EXPECT_EQ(a.updates(), 2);
  EXPECT_EQ(b.updates(), 2);
}

TEST(PolicyLstm, BatchedLogProbIsTheSumOfEachDecisionsLogProbability) {
  space::ChainSpace space;  // has conditional decisions (expand exists only for mbconv)
  PolicyLstm policy(space, 16, 2.5);
  Rng init(3), r(4);
  policy->init_uniform(init, 0.5);
  std::vector<Arch> archs;
  for (int i = 0; i < 6; ++i) archs.push_back(policy->sample(r));
  auto [log_prob, entropy] = policy->log_prob_and_entropy(archs);
  ASSERT_EQ(log_prob.size(0), 6);
  for (size_t j = 0; j < archs.size(); ++j) {
    double expected = 0, expected_entropy = 0;
    for (size_t i = 0; i < space.num_decisions(); ++i) {
      if (!space.active(archs[j], i)) continue;
      const auto p = policy->probabilities(archs[j], i);
      expected += std::log(p[archs[j].choices[i]]);
      for (double q : p) expected_entropy -= q * std::log(q);
    }
    EXPECT_NEAR(log_prob[j].item<double>(), expected, 1e-4) << "architecture " << j;
    EXPECT_NEAR(entropy[j].item<double>(), expected_entropy, 1e-4) << "architecture " << j;
  }
}

TEST(TorchArchive, Base64RoundTripsEveryByte) {
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes += static_cast<char>(i);
  for (size_t n : {0, 1, 2, 3, 4, 255, 256})
    EXPECT_EQ(base64_decode(base64_encode(bytes.substr(0, n))), bytes.substr(0, n));
  EXPECT_EQ(base64_encode("Man"), "TWFu");
  EXPECT_EQ(base64_encode("Ma"), "TWE=");
  EXPECT_EQ(base64_encode("M"), "TQ==");
  EXPECT_THROW(base64_decode("TW!u"), InternalError);
}

TEST(ReinforceOptions, UnknownFieldIsNamed) {
  ConfigSection o(nlohmann::json{{"batch", 4}, {"learning_rate", 0.1}}, "strategy.reinforce", "c.yaml");
  try {
    ReinforceOptions::from_config(o);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("strategy.reinforce.learning_rate"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace nascent::strategy
