// The trainer on every kind of task: tabular features, text classification and per-position
// language modelling, on real data from Debian packages.
#include "nascent/estimate/trainer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "nascent/core/rng.h"
#include "nascent/data/dataset.h"
#include "nascent/space/mlp.h"
#include "nascent/space/network.h"
#include "nascent/space/transformer.h"
#include "support/support.h"

namespace nascent::estimate {
namespace {

// Predicts the input shifted by one position: exactly right at every position but the last
// of a language-modelling window, where it predicts padding (never a target).
class CopyNextNetwork : public space::Network {
 public:
  explicit CopyNextNetwork(int64_t vocab) : vocab_(vocab) {}
  torch::Tensor forward(torch::Tensor ids) override {
    auto next = torch::cat({ids.slice(1, 1), torch::zeros_like(ids.slice(1, 0, 1))}, 1);  // [B, T]
    return torch::one_hot(next, vocab_).to(torch::kFloat32) * 20.0;                       // [B, T, V]
  }

 private:
  int64_t vocab_;
};

data::TaskOptions literature_lm(int64_t seq_len) {
  data::TaskOptions o;
  o.dataset = "text";
  o.path = std::string(test::kFortunesDir) + "/literature";
  o.seq_len = seq_len;
  o.test_fraction = 0.1;
  return o;
}

// A one-hidden-layer ReLU MLP of `width` units for the task, with seeded weights.
std::shared_ptr<space::Network> one_layer_mlp(const Task& task, int64_t width) {
  space::MlpOptions mo;
  mo.layers = {1};
  mo.widths = {width};
  mo.activations = {"relu"};
  mo.dropouts = {0.0};
  mo.norms = {"none"};
  space::MlpSpace space(mo);
  Rng rng(0);
  torch::manual_seed(0);
  return space.build(space.sample(rng), task, 1.0);
}

TEST(Trainer, LanguageModelAccuracyCountsEveryPosition) {
  const data::TaskData d = data::load_task(literature_lm(16));
  CopyNextNetwork net(d.task.vocab_size);
  const EvalResult r = evaluate_network(net, d, d.val, 0, 100);
  // 15 of 16 positions right in every window; a wrong prediction at logit margin 20 costs ~20 nats.
  EXPECT_DOUBLE_EQ(r.accuracy, 15.0 / 16.0);
  EXPECT_NEAR(r.loss, 20.0 / 16.0, 0.1);
}

TEST(Trainer, TransformerLearnsCharactersOfFortunes) {
  data::TaskOptions o = literature_lm(32);
  o.limit = 600;
  const data::TaskData d = data::load_task(o);
  space::TransformerOptions so;
  so.layers = {1};
  so.embed_dims = {32};
  so.heads = {2};
  so.ffn_dims = {64};
  so.activations = {"gelu"};
  space::TransformerSpace space(so);
  Rng rng(0);
  torch::manual_seed(0);
  auto net = space.build(space.sample(rng), d.task, 1.0);
  const EvalResult before = evaluate_network(*net, d, d.val, 0, 256);
  TrainOptions t;
  t.optimizer = "adamw";
  t.lr = 0.01;
  t.weight_decay = 0.01;
  t.batch_size = 32;
  const TrainResult tr = train_network(*net, d, d.train, Fidelity::full(2), t, 1, 0);
  const EvalResult after = evaluate_network(*net, d, d.val, 0, 256);
  EXPECT_EQ(tr.steps, 2 * (540 / 32));
  // From uniform guessing (log V nats) to at least the character frequencies of English.
  EXPECT_NEAR(before.loss, std::log(static_cast<double>(d.task.vocab_size)), 0.5);
  EXPECT_LT(after.loss, 3.0);
  EXPECT_GT(after.accuracy, 0.2);  // ' ' and 'e' alone are about a quarter of English text
}

TEST(Trainer, MlpClassifiesPenguins) {
  data::TaskOptions o;
  o.dataset = "csv";
  o.path = test::kPenguinsCsv;
  o.label_column = "species";
  o.features = {"bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"};
  o.missing = "drop";
  const data::TaskData d = data::load_task(o);
  auto net = one_layer_mlp(d.task, 32);
  TrainOptions t;
  t.batch_size = 32;
  t.lr = 0.05;
  train_network(*net, d, d.train, Fidelity::full(30), t, 1, 0);
  // The three species are nearly separable by these measurements.
  EXPECT_GT(evaluate_network(*net, d, d.val, 0, 1000).accuracy, 0.9);
  EXPECT_GT(evaluate_network(*net, d, d.test, 0, 1000).accuracy, 0.9);
}

// One feature, two classes 10:1: the minority's values ~ N(1, 1), the majority's ~ N(0, 1). The
// unweighted optimum predicts the minority only above x ~ 2.8 (recall ~ 4%); weighting the classes
// equally moves the threshold to 0.5 (recall ~ 69%).
data::TaskData weak_signal_imbalanced() {
  data::TaskData d;
  d.task.name = "synthetic";
  d.task.kind = "tabular";
  d.task.input_shape = {1};
  d.task.num_classes = 2;
  Rng rng(11);
  std::vector<float> x;
  std::vector<int64_t> y;
  for (int i = 0; i < 2200; ++i) {
    const int64_t label = i % 11 == 0 ? 1 : 0;
    x.push_back(static_cast<float>(rng.normal() + (label == 1 ? 1.0 : 0.0)));
    y.push_back(label);
  }
  d.train.x = torch::tensor(x).view({-1, 1});
  d.train.y = torch::tensor(y);
  return d;
}

double minority_recall(const TrainOptions& t) {
  const data::TaskData d = weak_signal_imbalanced();
  auto net = one_layer_mlp(d.task, 8);
  train_network(*net, d, d.train, Fidelity::full(15), t, 1, 0);
  return evaluate_network(*net, d, d.train, 0, 1000).classes->recall[1];
}

TEST(Trainer, ClassWeightsAndTheBalancedSamplerLiftTheMinorityRecall) {
  TrainOptions t;
  t.batch_size = 64;
  t.lr = 0.05;
  const double plain = minority_recall(t);
  EXPECT_LT(plain, 0.3);
  t.class_weights = "auto";
  const double weighted = minority_recall(t);
  EXPECT_GT(weighted, 0.5);
  t.class_weights = "none";
  t.sampler = "balanced";
  const double sampled = minority_recall(t);
  EXPECT_GT(sampled, 0.5);
}

// Processes training together through a shared sum; here threads of one process stand in for
// MPI ranks (tests/cli/mpi_slow_test.cpp runs the real thing), summing in arrival order.
class ThreadSum {
 public:
  explicit ThreadSum(int n) : n_(n) {}
  void sum(float* v, int64_t count) {
    std::unique_lock<std::mutex> lock(mutex_);
    const int64_t generation = generation_;
    if (arrived_ == 0)
      partial_.assign(v, v + count);
    else
      for (int64_t i = 0; i < count; ++i) partial_[static_cast<size_t>(i)] += v[i];
    if (++arrived_ == n_) {
      total_ = partial_;
      arrived_ = 0;
      ++generation_;
      done_.notify_all();
    } else {
      done_.wait(lock, [&] { return generation_ != generation; });
    }
    std::copy(total_.begin(), total_.end(), v);
  }

 private:
  int n_;
  int arrived_ = 0;
  int64_t generation_ = 0;
  std::vector<float> partial_, total_;
  std::mutex mutex_;
  std::condition_variable done_;
};

// Two or three processes that each train on their share of every batch take the steps one
// process takes on the whole batch: the same shuffle, the same augmentation of each example
// (shifts, flips and cutout drawn for the whole batch), the shares' mean losses weighted by
// their sizes (50 = 17 + 17 + 16 with three), and rank 0's weights for everybody at the start
// (the others start from other weights here).
TEST(Trainer, DataParallelSharesTrainAsOneProcessOnTheWholeBatch) {
  const data::TaskData& d = test::fashion_task(1000);
  TrainOptions t;
  t.batch_size = 50;
  t.augment = true;
  t.cutout = 6;
  t.label_smoothing = 0.1;
  auto one = one_layer_mlp(d.task, 24);
  const TrainResult alone = train_network(*one, d, d.train, Fidelity::full(2), t, 7, 0);
  for (int size : {2, 3}) {
    std::vector<std::shared_ptr<space::Network>> nets;
    for (int r = 0; r < size; ++r) {
      nets.push_back(one_layer_mlp(d.task, 24));
      torch::NoGradGuard no_grad;
      if (r > 0)
        for (auto& p : nets.back()->parameters()) p.add_(0.1 * static_cast<double>(r));
    }
    ThreadSum shared(size);
    std::vector<TrainResult> results(static_cast<size_t>(size));
    std::vector<std::thread> ranks;
    for (int r = 0; r < size; ++r) {
      ranks.emplace_back([&, r] {
        DataParallel dp;
        dp.rank = r;
        dp.size = size;
        dp.sum = [&shared](float* v, int64_t n) { shared.sum(v, n); };
        results[static_cast<size_t>(r)] = train_network(*nets[static_cast<size_t>(r)], d, d.train, Fidelity::full(2), t,
                                                        7, 0, nullptr, nullptr, nullptr, &dp);
      });
    }
    for (auto& th : ranks) th.join();
    const auto expected = one->parameters();
    for (int r = 0; r < size; ++r) {
      const auto got = nets[static_cast<size_t>(r)]->parameters();
      ASSERT_EQ(got.size(), expected.size());
      for (size_t i = 0; i < got.size(); ++i)
        EXPECT_LT((got[i] - expected[i]).abs().max().item<double>(), 1e-4) << size << " ranks, rank " << r;
      EXPECT_EQ(results[static_cast<size_t>(r)].steps, alone.steps);
      EXPECT_NEAR(results[static_cast<size_t>(r)].train_loss, alone.train_loss, 1e-4);
    }
  }
  // What the test would see if the shares were not weighted: the gradient of a sum of means.
  // (Guards the tolerance above: a wrong step moves the weights far more than 1e-4.)
  auto doubled = one_layer_mlp(d.task, 24);
  TrainOptions twice = t;
  twice.lr *= 2;
  train_network(*doubled, d, d.train, Fidelity::full(2), twice, 7, 0);
  double far = 0;
  for (size_t i = 0; i < one->parameters().size(); ++i)
    far = std::max(far, (doubled->parameters()[i] - one->parameters()[i]).abs().max().item<double>());
  EXPECT_GT(far, 1e-2);
}

}  // namespace
}  // namespace nascent::estimate
