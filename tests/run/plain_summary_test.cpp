// The run in plain sentences: each sentence checked word for word on trials with known values.
#include "nascent/run/plain_summary.h"

#include <gtest/gtest.h>

#include "nascent/space/nb201.h"
#include "nascent/space/registry.h"

namespace nascent::run {
namespace {

Trial trial(int64_t id, std::vector<int> choices, TrialStatus status, Metrics m, std::string reason = "") {
  Trial t;
  t.id = id;
  t.proposal = Proposal{Arch{"nb201", std::move(choices)}, Fidelity{1, 0.5, 0, 1}, {}};
  t.status = status;
  t.metrics = std::move(m);
  t.reason = std::move(reason);
  return t;
}

TEST(PlainSummary, SaysWhatWasFoundHowItComparesWhatMatteredAndWhatFailed) {
  const space::Nb201Space space;
  const Objective objective({{"val_accuracy", true}}, {Constraint::parse("params <= 1000")});
  std::vector<Trial> trials;
  const double acc[] = {0.5, 0.6, 0.7, 0.8, 0.9};
  for (int i = 0; i < 5; ++i)
    trials.push_back(trial(i + 1, {i, 0, 0, 0, 0, 0}, TrialStatus::kOk,
                           {{"val_accuracy", acc[i]}, {"params", i == 4 ? 900 : 400}, {"flops", 2.5e6}}));
  trials.push_back(trial(6, {1, 1, 0, 0, 0, 0}, TrialStatus::kOk, {{"val_accuracy", 0.895}, {"params", 300}}));
  trials.push_back(trial(7, {2, 2, 0, 0, 0, 0}, TrialStatus::kFailed, {}, "loss became nan"));
  trials.push_back(trial(8, {3, 3, 0, 0, 0, 0}, TrialStatus::kRejected, {{"params", 2000}}, "params <= 1000"));
  trials.push_back(
      trial(9, {4, 4, 0, 0, 0, 0}, TrialStatus::kRejected, {{"params", 3000}}, "params <= 1000 (is 3000)"));
  nlohmann::json first = {{"decision", "1<-0"}, {"importance", 0.62}};
  first["options"] = {{{"option", "none"}, {"effect", -0.03}}, {{"option", "avg_pool_3x3"}, {"effect", 0.02}}};
  nlohmann::json second = {{"decision", "2<-0"}, {"importance", 0.004}, {"options", nlohmann::json::array()}};
  nlohmann::json summary;
  summary["final"] = {{"epochs", 12.0}, {"test_accuracy", 0.9123}, {"model", "runs/x/model.pt"}};
  summary["importance"]["decisions"] = nlohmann::json::array({first, second});
  const std::vector<std::string> s = plain_summary(trials, space, objective, summary);
  ASSERT_EQ(s.size(), 6u);
  EXPECT_EQ(s[0], "The best architecture is trial #5 (" + space.describe(trials[4].proposal.arch) +
                      "): val_accuracy 0.9 at the search's fidelity (1 epoch on 50% of the training split), an "
                      "estimate that ranks candidates rather than the model's final accuracy; the median of the 6 "
                      "comparable trials reached 0.8 and the worst 0.5.");
  EXPECT_EQ(s[1],
            "Trained from scratch on the training and validation data for 12 epochs, it reaches a test accuracy of "
            "0.9123 (deployable model: runs/x/model.pt).");
  EXPECT_EQ(s[2],
            "The best has 900 parameters and 2.5 MFLOPs; the smallest trial within 1% of it, #6, has 300 parameters "
            "(33% of them) for val_accuracy 0.895.");
  // The decision below 1% of the variance is left out.
  EXPECT_EQ(s[3], "What mattered most for val_accuracy: 1<-0 (62% of the variance, best with avg_pool_3x3).");
  EXPECT_EQ(s[4], "1 trial failed; the most common reason (all of them): loss became nan.");
  EXPECT_EQ(s[5], "2 candidates broke a constraint before training and cost nothing (most often: params <= 1000).");
}

TEST(PlainSummary, AMinimisedMetricAndATwoMetricFront) {
  const space::Nb201Space space;
  const Objective objective({{"val_loss", false}, {"params", false}}, {});
  std::vector<Trial> trials = {trial(1, {0, 0, 0, 0, 0, 0}, TrialStatus::kOk, {{"val_loss", 0.3}, {"params", 5000}}),
                               trial(2, {1, 0, 0, 0, 0, 0}, TrialStatus::kOk, {{"val_loss", 0.5}, {"params", 1000}}),
                               trial(3, {2, 0, 0, 0, 0, 0}, TrialStatus::kOk, {{"val_loss", 0.6}, {"params", 8000}})};
  const std::vector<std::string> s = plain_summary(trials, space, objective, nullptr);
  ASSERT_EQ(s.size(), 2u);
  EXPECT_NE(s[0].find("trial #1"), std::string::npos) << s[0];
  EXPECT_NE(s[0].find("reached 0.5 and the worst 0.6"), std::string::npos) << s[0];
  EXPECT_EQ(s[1],
            "The trade-off between val_loss and params: 2 architectures are not beaten in both, from val_loss 0.3 at "
            "params 5,000 to val_loss 0.5 at params 1,000.");
}

TEST(PlainSummary, NoTrialsAndFidelityWords) {
  const space::Nb201Space space;
  EXPECT_EQ(plain_summary({}, space, Objective(), nullptr), std::vector<std::string>{"No trial has run yet."});
  EXPECT_EQ(fidelity_words(Fidelity{0.5, 1, 16, 0.5}),
            "0.5 epochs on all of the training split, at 16 px, at 0.5x width");
  EXPECT_EQ(fidelity_words(Fidelity{2, 0.25, 0, 1}), "2 epochs on 25% of the training split");
  const Arch a{"nb201", {0, 1, 2, 3, 4, 0}};
  EXPECT_EQ(decision_list(space, a),
            "1<-0=none, 2<-0=skip_connect, 2<-1=nor_conv_1x1, 3<-0=nor_conv_3x3, 3<-1=avg_pool_3x3, 3<-2=none");
}

TEST(PlainSummary, EveryBuiltInSpaceExplainsItsShortForm) {
  size_t spaces = 0;
  for (const auto& info : space::registered_spaces()) {
    EXPECT_FALSE(short_form_legend(info.name).empty()) << info.name;
    ++spaces;
  }
  EXPECT_GE(spaces, 8u);
  EXPECT_EQ(short_form_legend("my_own_space"), "");
  EXPECT_NE(short_form_legend("nb201").find("skip_connect (identity)"), std::string::npos);
}

}  // namespace
}  // namespace nascent::run
