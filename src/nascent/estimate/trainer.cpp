#include "nascent/estimate/trainer.h"

#include <fmt/format.h>
#include <torch/torch.h>

#include <chrono>
#include <cmath>

#include "nascent/core/config.h"
#include "nascent/core/error.h"
#include "nascent/core/rng.h"
#include "nascent/data/dataset.h"
#include "nascent/space/network.h"

namespace nascent::estimate {
torch::Tensor resize_images(const torch::Tensor& x, int resolution) {
  if (resolution <= 0 || x.dim() != 4 || (x.size(2) == resolution && x.size(3) == resolution)) return x;
  return torch::nn::functional::interpolate(x, torch::nn::functional::InterpolateFuncOptions()
                                                   .size(std::vector<int64_t>{resolution, resolution})
                                                   .mode(torch::kBilinear)
                                                   .align_corners(false));
}

namespace {

// Random shifts of up to 2 pixels (zero fill) and horizontal flips, per example. x holds rows
// [first, first + x.size(0)) of a batch of `batch` examples: the draws are those of the whole
// batch, so a data-parallel share is augmented as that part of the batch would be.
torch::Tensor augment(const torch::Tensor& x, Rng& rng, int64_t batch, int64_t first) {
  const int64_t b = x.size(0), h = x.size(2), w = x.size(3);
  std::vector<float> theta(static_cast<size_t>(b) * 6);
  for (int64_t j = 0; j < batch; ++j) {
    const float flip = rng.below(2) ? -1.f : 1.f;
    const float dx = 2.f * static_cast<float>(rng.between(-2, 2)) / static_cast<float>(w);
    const float dy = 2.f * static_cast<float>(rng.between(-2, 2)) / static_cast<float>(h);
    const int64_t i = j - first;
    if (i < 0 || i >= b) continue;
    float* t = &theta[static_cast<size_t>(i) * 6];
    t[0] = flip;
    t[1] = 0;
    t[2] = dx;
    t[3] = 0;
    t[4] = 1;
    t[5] = dy;
  }
  auto th = torch::from_blob(theta.data(), {b, 2, 3}, torch::kFloat32).clone();
  auto grid = torch::nn::functional::affine_grid(th, x.sizes(), /*align_corners=*/false);
  return torch::nn::functional::grid_sample(x, grid,
                                            torch::nn::functional::GridSampleFuncOptions()
                                                .mode(torch::kNearest)
                                                .padding_mode(torch::kZeros)
                                                .align_corners(false));
}

// Cutout (DeVries & Taylor 2017): one size x size square per image, centred anywhere (so it may
// be clipped at the border), set to zero, which after normalisation is the data's mean. Rows
// [first, first + x.size(0)) of a batch of `batch`, as augment().
torch::Tensor cutout(const torch::Tensor& x, int64_t size, Rng& rng, int64_t batch, int64_t first) {
  const int64_t b = x.size(0), h = x.size(2), w = x.size(3);
  std::vector<int64_t> cy(b), cx(b);
  for (int64_t j = 0; j < batch; ++j) {
    const int64_t y = rng.between(0, h - 1), x0 = rng.between(0, w - 1);
    if (j < first || j >= first + b) continue;
    cy[j - first] = y;
    cx[j - first] = x0;
  }
  auto ys = torch::arange(h, torch::kInt64).view({1, h, 1});
  auto xs = torch::arange(w, torch::kInt64).view({1, 1, w});
  auto y0 = torch::tensor(cy).view({b, 1, 1}) - size / 2;
  auto x0 = torch::tensor(cx).view({b, 1, 1}) - size / 2;
  // [b, h, w]: true inside the square
  auto inside = (ys >= y0) & (ys < y0 + size) & (xs >= x0) & (xs < x0 + size);
  return x.masked_fill(inside.unsqueeze(1), 0.0);
}

// Every floating-point tensor of `tensors` (undefined ones count as zeros), summed over the
// processes of `dp` into one buffer and back; `extra` floats ride along after them.
void sum_over_processes(std::vector<torch::Tensor>& tensors, const DataParallel& dp, std::vector<float>& extra) {
  int64_t n = 0;
  for (const auto& t : tensors) n += t.defined() ? t.numel() : 0;
  torch::Tensor flat = torch::empty({n + static_cast<int64_t>(extra.size())}, torch::kFloat32);
  int64_t at = 0;
  for (const auto& t : tensors) {
    if (!t.defined()) continue;
    flat.slice(0, at, at + t.numel()).copy_(t.reshape({-1}));
    at += t.numel();
  }
  float* p = flat.data_ptr<float>();
  std::copy(extra.begin(), extra.end(), p + n);
  dp.sum(p, flat.numel());
  at = 0;
  torch::NoGradGuard no_grad;
  for (auto& t : tensors) {
    if (!t.defined()) continue;
    t.copy_(flat.slice(0, at, at + t.numel()).view(t.sizes()));
    at += t.numel();
  }
  std::copy(p + n, p + n + static_cast<int64_t>(extra.size()), extra.begin());
}

// Logits [batch, classes] against labels [batch], or, for language modelling, logits
// [batch, seq, vocab] against next tokens [batch, seq]: every position is one prediction.
torch::Tensor flat_logits(const torch::Tensor& logits) {
  return logits.dim() == 3 ? logits.reshape({-1, logits.size(2)}) : logits;
}

}  // namespace

TrainOptions TrainOptions::from_config(ConfigSection& sec) {
  TrainOptions o;
  o.batch_size = sec.get_int("batch_size", o.batch_size, 2, 65536);
  o.eval_batch_size = sec.get_int("eval_batch_size", o.eval_batch_size, 1, 65536);
  o.optimizer = sec.get_choice("optimizer", o.optimizer, {"sgd", "adamw"});
  const bool adam = o.optimizer == "adamw";
  o.lr = sec.get_double("lr", adam ? 0.002 : o.lr, 1e-6, 10);
  o.momentum = sec.get_double("momentum", o.momentum, 0, 0.999);
  o.weight_decay = sec.get_double("weight_decay", adam ? 0.05 : o.weight_decay, 0, 1);
  o.warmup_fraction = sec.get_double("warmup_fraction", o.warmup_fraction, 0, 0.5);
  o.label_smoothing = sec.get_double("label_smoothing", o.label_smoothing, 0, 0.5);
  o.grad_clip = sec.get_double("grad_clip", o.grad_clip, 0, 1e6);
  o.augment = sec.get_bool("augment", o.augment);
  o.cutout = sec.get_int("cutout", o.cutout, 0, 1024);
  o.class_weights = sec.get_choice("class_weights", o.class_weights, {"none", "auto"});
  o.sampler = sec.get_choice("sampler", o.sampler, {"uniform", "balanced"});
  o.equal_cost_flops = sec.get_double("equal_cost_flops", o.equal_cost_flops, 0, 1e15);
  o.equal_cost_power = sec.get_double("equal_cost_power", o.equal_cost_power, 0, 2);
  o.max_params = sec.get_int("max_params", o.max_params, 1, INT64_MAX);
  o.max_memory_mb = sec.get_double("max_memory_mb", o.max_memory_mb, 1, 1e7);
  sec.finish();
  return o;
}

TrainResult train_network(space::Network& net, const data::TaskData& data, const data::Split& train, const Fidelity& f,
                          const TrainOptions& o, uint64_t seed, uint64_t subset_seed, const ProgressFn& progress,
                          const EpochEndFn& on_epoch, const ReplanFn& replan, const DataParallel* parallel) {
  const auto t0 = std::chrono::steady_clock::now();
  const DataParallel* dp = parallel && parallel->size > 1 ? parallel : nullptr;
  NASCENT_CHECK(!dp || (!on_epoch && dp->sum), "data-parallel training takes no on_epoch and needs a sum");
  Rng rng = Rng::derive(seed, "train");
  // The data fraction keeps a fixed subset, so every trial at that fidelity sees the same data.
  const int64_t n_all = train.size();
  int64_t n = std::max<int64_t>(1, static_cast<int64_t>(std::llround(f.data_fraction * static_cast<double>(n_all))));
  std::vector<int64_t> subset(n_all);
  for (int64_t i = 0; i < n_all; ++i) subset[i] = i;
  if (n < n_all) {
    Rng subset_rng = Rng::derive(subset_seed, "fidelity-subset");
    subset_rng.shuffle(subset);
    subset.resize(n);
  }
  const int64_t bs = std::min(o.batch_size, n);
  const int64_t steps_per_epoch = std::max<int64_t>(1, n / bs);  // full batches only (BatchNorm)
  int64_t total =
      std::max<int64_t>(1, static_cast<int64_t>(std::ceil(f.epochs * static_cast<double>(steps_per_epoch))));
  const int64_t warmup = static_cast<int64_t>(o.warmup_fraction * static_cast<double>(total));
  // This process's share of every batch (all of it without data parallelism).
  const int64_t first = dp ? bs * dp->rank / dp->size : 0;
  const int64_t share = dp ? bs * (dp->rank + 1) / dp->size - first : bs;
  // Rank 0's weights and buffers for every process: at the start, and after every epoch (a sum
  // over processes need not round the same way on each of them, so their copies could drift apart).
  auto take_rank0_weights = [&] {
    std::vector<torch::Tensor> state;
    for (auto& p : net.parameters()) state.push_back(p.data());
    for (auto& b : net.buffers())
      if (b.is_floating_point()) state.push_back(b);
    if (dp->rank != 0)
      for (auto& t : state) t.zero_();
    std::vector<float> none;
    sum_over_processes(state, *dp, none);
  };
  if (dp) {
    NASCENT_CHECK(share > 0, fmt::format("a batch of {} cannot be shared by {} processes", bs, dp->size));
    take_rank0_weights();
  }
  std::vector<torch::Tensor> params = net.parameters();
  std::vector<float> extra(2);  // rides with the gradients: the loss, the stop request

  std::unique_ptr<torch::optim::Optimizer> opt;
  if (o.optimizer == "adamw") {
    opt = std::make_unique<torch::optim::AdamW>(net.parameters(),
                                                torch::optim::AdamWOptions(o.lr).weight_decay(o.weight_decay));
  } else {
    opt = std::make_unique<torch::optim::SGD>(
        net.parameters(),
        torch::optim::SGDOptions(o.lr).momentum(o.momentum).nesterov(o.momentum > 0).weight_decay(o.weight_decay));
  }
  auto set_lr = [&](double lr) {
    for (auto& g : opt->param_groups()) {
      if (o.optimizer == "adamw")
        static_cast<torch::optim::AdamWOptions&>(g.options()).lr(lr);
      else
        static_cast<torch::optim::SGDOptions&>(g.options()).lr(lr);
    }
  };

  net.train();
  TrainResult r;
  r.examples = n;
  double recent = 0, recent_n = 0, last_epoch_sum = 0;
  int64_t last_epoch_count = 0;
  int64_t last_epoch_from = std::max<int64_t>(0, total - steps_per_epoch);
  std::vector<int64_t> order;
  auto ls = torch::nn::functional::CrossEntropyFuncOptions().label_smoothing(o.label_smoothing);
  // The training subset's examples per class, for class weights and the balanced sampler.
  const bool per_example = train.y.dim() == 1 && data.task.num_classes >= 2;
  std::vector<std::vector<int64_t>> by_class;
  if (per_example && (o.class_weights == "auto" || o.sampler == "balanced")) {
    by_class.resize(static_cast<size_t>(data.task.num_classes));
    const torch::Tensor y_all = train.y.to(torch::kInt64).contiguous();
    const int64_t* y = y_all.data_ptr<int64_t>();
    for (int64_t i : subset) by_class[static_cast<size_t>(y[i])].push_back(i);
  }
  if (per_example && o.class_weights == "auto") {
    std::vector<float> w;
    const double k = static_cast<double>(by_class.size());
    for (const auto& members : by_class)
      w.push_back(members.empty()
                      ? 1.0f
                      : static_cast<float>(static_cast<double>(n) / (k * static_cast<double>(members.size()))));
    ls = ls.weight(torch::tensor(w));
  }
  std::vector<size_t> present;  // classes with examples, for the balanced sampler
  for (size_t c = 0; c < by_class.size(); ++c)
    if (!by_class[c].empty()) present.push_back(c);
  const bool balanced = per_example && o.sampler == "balanced" && !present.empty();
  for (int64_t step = 0; step < total; ++step) {
    const int64_t in_epoch = step % steps_per_epoch;
    if (in_epoch == 0) {
      if (balanced) {
        // A class uniformly, then one of its examples uniformly: every class equally often.
        order.resize(subset.size());
        for (auto& i : order) {
          const auto& members = by_class[present[rng.below(present.size())]];
          i = members[rng.below(members.size())];
        }
      } else {
        order = subset;
        rng.shuffle(order);
      }
    }
    // Warm-up then cosine to zero (Loshchilov & Hutter 2017), per step.
    double lr;
    if (step < warmup) {
      lr = o.lr * static_cast<double>(step + 1) / static_cast<double>(warmup + 1);
    } else {
      const double p = static_cast<double>(step - warmup) / static_cast<double>(std::max<int64_t>(1, total - warmup));
      lr = 0.5 * o.lr * (1.0 + std::cos(M_PI * p));
    }
    set_lr(lr);
    auto idx = torch::from_blob(order.data() + in_epoch * bs + first, {share}, torch::kInt64);
    torch::Tensor x = data::normalize(train.x.index_select(0, idx), data);
    torch::Tensor y = train.y.index_select(0, idx);
    x = resize_images(x, f.resolution);
    if (o.augment && x.dim() == 4) {
      x = augment(x, rng, bs, first);
      if (o.cutout > 0) x = cutout(x, o.cutout, rng, bs, first);
    }
    opt->zero_grad();
    net.set_training_progress(static_cast<double>(step) / static_cast<double>(total));
    torch::Tensor logits = net.forward(x);
    torch::Tensor loss = torch::nn::functional::cross_entropy(flat_logits(logits), y.reshape({-1}), ls);
    double lv = loss.item<double>();
    if (!dp && !std::isfinite(lv))
      throw TrialFailure(fmt::format("loss became {} at step {} of {}", lv, step + 1, total));
    // Training-only heads (DARTS' auxiliary tower) add their weighted loss; the reported loss
    // stays the main head's, comparable across networks with and without them.
    for (const auto& aux : net.take_auxiliary_outputs())
      loss = loss + aux.weight * torch::nn::functional::cross_entropy(flat_logits(aux.logits), y.reshape({-1}), ls);
    if (dp) {
      // The mean over the whole batch: each share's mean weighted by its size, summed.
      const double weight = static_cast<double>(share) / static_cast<double>(bs);
      (loss * weight).backward();
      std::vector<torch::Tensor> grads;
      for (const auto& p : params) grads.push_back(p.grad());
      extra[0] = static_cast<float>(lv * weight);
      extra[1] = dp->rank == 0 && dp->stop_requested && dp->stop_requested() ? 1.f : 0.f;
      sum_over_processes(grads, *dp, extra);
      lv = extra[0];
      if (!std::isfinite(lv)) throw TrialFailure(fmt::format("loss became {} at step {} of {}", lv, step + 1, total));
      if (extra[1] > 0 && dp->stopped) dp->stopped();
    } else {
      loss.backward();
    }
    if (o.grad_clip > 0) torch::nn::utils::clip_grad_norm_(net.parameters(), o.grad_clip);
    opt->step();
    recent = recent_n < 20 ? (recent * recent_n + lv) / (recent_n + 1) : 0.95 * recent + 0.05 * lv;
    recent_n += 1;
    if (step >= last_epoch_from) {
      last_epoch_sum += lv;
      ++last_epoch_count;
    }
    if (progress && (step % 10 == 0 || step + 1 == total)) {
      progress(
          TrainProgress{step + 1, total, static_cast<double>(step + 1) / static_cast<double>(steps_per_epoch), recent});
    }
    if (dp && (step + 1) % steps_per_epoch == 0 && total > step + 1) {
      // Buffers too: BatchNorm's running statistics are rank 0's until the end averages them.
      take_rank0_weights();
    }
    if ((replan || (dp && dp->replans)) && (step + 1) % steps_per_epoch == 0 && total > step + 1) {
      const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      int64_t next = replan && (!dp || dp->rank == 0) ? replan(step + 1, secs) : 0;
      if (dp) {  // rank 0's plan for everybody (exact in a float up to 2^24 steps)
        float plan = dp->rank == 0 ? static_cast<float>(next) : 0.f;
        dp->sum(&plan, 1);
        next = std::llround(plan);
      }
      if (next > step + 1) {
        total = next;
        last_epoch_from = std::max<int64_t>(0, total - steps_per_epoch);
      }
    }
    if (on_epoch && (step + 1) % steps_per_epoch == 0 && step + 1 < total && on_epoch((step + 1) / steps_per_epoch)) {
      r.stopped_after_epoch = (step + 1) / steps_per_epoch;
      r.steps = step + 1;
      r.train_loss = recent;
      r.train_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      return r;
    }
  }
  if (dp) {
    // BatchNorm's running statistics: the mean over the processes.
    std::vector<torch::Tensor> stats;
    for (auto& b : net.buffers())
      if (b.is_floating_point()) stats.push_back(b);
    std::vector<float> none;
    sum_over_processes(stats, *dp, none);
    for (auto& b : stats) b.div_(static_cast<double>(dp->size));
  }
  r.steps = total;
  r.train_loss = last_epoch_sum / static_cast<double>(std::max<int64_t>(1, last_epoch_count));
  r.train_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

EvalResult evaluate_network(space::Network& net, const data::TaskData& data, const data::Split& split, int resolution,
                            int64_t batch_size) {
  torch::NoGradGuard no_grad;
  net.eval();
  int64_t correct = 0, predictions = 0;
  double loss_sum = 0;
  const int64_t n = split.size();
  const bool per_example = !data.task.per_position() && data.task.num_classes >= 2;
  std::vector<float> probabilities;  // [n, classes] row-major, for the per-class metrics
  if (per_example) probabilities.reserve(static_cast<size_t>(n * data.task.num_classes));
  for (int64_t start = 0; start < n; start += batch_size) {
    const int64_t end = std::min(n, start + batch_size);
    torch::Tensor x = resize_images(data::normalize(split.x.slice(0, start, end), data), resolution);
    torch::Tensor y = split.y.slice(0, start, end);
    torch::Tensor logits = flat_logits(net.forward(x));
    y = y.reshape({-1});
    loss_sum += torch::nn::functional::cross_entropy(
                    logits, y, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum))
                    .item<double>();
    correct += logits.argmax(1).eq(y).sum().item<int64_t>();
    predictions += y.size(0);
    if (per_example) {
      const torch::Tensor p = torch::softmax(logits.to(torch::kFloat32), 1).contiguous();
      probabilities.insert(probabilities.end(), p.data_ptr<float>(), p.data_ptr<float>() + p.numel());
    }
  }
  net.train();
  EvalResult r;
  if (per_example && n > 0) {
    const torch::Tensor y = split.y.to(torch::kInt64).contiguous();
    const std::vector<int64_t> labels(y.data_ptr<int64_t>(), y.data_ptr<int64_t>() + n);
    r.classes = class_metrics(labels, probabilities, data.task.num_classes);
    const size_t k = static_cast<size_t>(data.task.num_classes);
    for (size_t i = 0; i < static_cast<size_t>(n); ++i) {
      const float* p = probabilities.data() + i * k;
      const float* top = std::max_element(p, p + k);
      r.predicted.push_back(top - p);
      r.confidence.push_back(*top);
    }
  }
  r.accuracy = predictions ? static_cast<double>(correct) / static_cast<double>(predictions) : 0;
  r.loss = predictions ? loss_sum / static_cast<double>(predictions) : 0;
  if (!std::isfinite(r.loss)) throw TrialFailure("validation loss is not finite");
  return r;
}

}  // namespace nascent::estimate
