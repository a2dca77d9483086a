// Training a network at a Fidelity: SGD with Nesterov momentum (or AdamW), linear warm-up then
// cosine decay per step, optional light augmentation, and evaluation on a split. Cross-entropy
// over [batch, classes] (images, tabular, text classification) or over every position of
// [batch, seq, vocab] (language modelling). A NaN or infinite loss stops training with a TrialFailure.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "nascent/core/fidelity.h"
#include "nascent/estimate/class_metrics.h"
#include "nascent/estimate/median_stopping.h"

namespace nascent {
class ConfigSection;
}
namespace nascent::space {
class Network;
}
namespace nascent::data {
struct TaskData;
struct Split;
}  // namespace nascent::data

namespace nascent::estimate {

struct TrainOptions {
  int64_t batch_size = 128;        // training mini-batch
  int64_t eval_batch_size = 1000;  // evaluation mini-batch
  std::string optimizer = "sgd";   // sgd | adamw
  double lr = 0.05;                // peak learning rate
  double momentum = 0.9;           // SGD (Nesterov) momentum
  double weight_decay = 5e-4;      // L2 for sgd, decoupled for adamw
  double warmup_fraction = 0.05;   // share of steps with linear warm-up
  double label_smoothing = 0.0;    // cross-entropy label smoothing
  double grad_clip = 5.0;          // max gradient norm (0 = none)
  bool augment = false;            // random 2-pixel shifts and horizontal flips
  int64_t cutout = 0;              // with augment: side of a random square zeroed per image (0 = none)
  // Imbalanced classes (one label per example): auto weights the cross-entropy of each class by
  // n / (classes x its examples), as scikit-learn's "balanced"; none = every example alike.
  std::string class_weights = "none";
  // balanced: each epoch draws its examples (with replacement) so that every class is equally
  // likely; uniform: every example once per epoch, in a shuffled order.
  std::string sampler = "uniform";
  // > 0: every candidate trains fidelity.epochs x clamp(this / its FLOPs, 1/4, 4), so about the
  // same compute: a network that trains 3x faster is ranked by what it learns in the same time,
  // as its final training will be. Deterministic (FLOPs, not measured time). 0 = off.
  double equal_cost_flops = 0;
  // The exponent of that ratio: 1 = equal compute; below 1 a milder scaling (0.5: a network of a
  // quarter of the FLOPs trains twice as long, not four times), which ranks candidates closer to
  // how they do after a long final training, where larger networks catch up.
  double equal_cost_power = 1.0;
  int64_t max_params = 20000000;        // larger candidates fail without training
  double max_memory_mb = 8192;          // estimated training memory above which a candidate fails
  EarlyStoppingOptions early_stopping;  // from the config's early_stopping section, not train

  static TrainOptions from_config(ConfigSection& section);
};

struct TrainProgress {
  int64_t step = 0, total_steps = 0;
  double epoch = 0;  // fractional epochs done
  double loss = 0;   // running mean of recent training loss
};
using ProgressFn = std::function<void(const TrainProgress&)>;
// Called after each full epoch k (1-based) that is not the last; returning true stops training.
using EpochEndFn = std::function<bool(int64_t epoch)>;
// Called after every full epoch before the last, with the steps done and the seconds they took;
// returns a new total number of steps (at least one more), or 0 to keep it. The cosine schedule
// follows the new total from there (time-budgeted final training).
using ReplanFn = std::function<int64_t(int64_t steps_done, double seconds)>;

// Data-parallel training (final.ranks): `size` processes call train_network with the same
// arguments and seed. Each draws the batch one process would draw (same shuffle, same
// augmentation) and trains on its share of it, rows [rank*b/size, (rank+1)*b/size); the
// gradients, weighted by share, are summed over the processes before every step, so every
// process takes the step one process would take on the whole batch and the weights stay equal.
// BatchNorm normalises each share by its own statistics (as PyTorch's DistributedDataParallel
// without SyncBatchNorm does); the running statistics are averaged over the processes at the
// end. Only rank 0 re-plans the steps (the others follow its plan) and may ask to stop.
struct DataParallel {
  int rank = 0;
  int size = 1;
  // Sums `count` floats element-wise over the processes, in place; every process calls it at the
  // same points with the same count.
  std::function<void(float* values, int64_t count)> sum;
  // Rank 0's stop request (Ctrl-C), polled every step and shared with the others, who then all
  // call `stopped` (it throws).
  std::function<bool()> stop_requested;
  std::function<void()> stopped;
  bool replans = false;  // rank 0 passes a ReplanFn; every process must know it does
};

struct TrainResult {
  double train_loss = 0;  // mean loss over the last epoch's worth of steps
  double train_seconds = 0;
  int64_t steps = 0;
  int64_t examples = 0;             // training examples used (after data_fraction)
  int64_t stopped_after_epoch = 0;  // the epoch after which on_epoch stopped training; 0 = ran to the end
};

// Trains `net` on `train` at fidelity f (epochs, data_fraction, resolution). `subset_seed` fixes
// which examples a data fraction keeps (the same for every trial); `seed` drives shuffling and
// augmentation. Throws TrialFailure on a non-finite loss. on_epoch may stop training early.
// With `parallel` (size > 1) the processes train together (DataParallel; no on_epoch).
TrainResult train_network(space::Network& net, const data::TaskData& data, const data::Split& train, const Fidelity& f,
                          const TrainOptions& o, uint64_t seed, uint64_t subset_seed,
                          const ProgressFn& progress = nullptr, const EpochEndFn& on_epoch = nullptr,
                          const ReplanFn& replan = nullptr, const DataParallel* parallel = nullptr);

// Bilinear resize of images [N, C, H, W] to resolution x resolution; 0 or other inputs pass through.
torch::Tensor resize_images(const torch::Tensor& x, int resolution);

struct EvalResult {
  double accuracy = 0;  // share of correct predictions: per example, or per position (next_token)
  double loss = 0;      // mean cross-entropy per prediction (for next_token, perplexity = exp(loss))
  // One label per example: the confusion matrix, balanced accuracy, macro-F1, AUROC, per class.
  std::optional<ClassMetrics> classes;
  // With `classes`: each example's predicted class and its probability, in the split's order.
  std::vector<int64_t> predicted;
  std::vector<float> confidence;
};
EvalResult evaluate_network(space::Network& net, const data::TaskData& data, const data::Split& split, int resolution,
                            int64_t batch_size);

}  // namespace nascent::estimate
