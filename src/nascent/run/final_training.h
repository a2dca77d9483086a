// Final training: once the search is over, the chosen architecture is trained from scratch on
// the training and validation splits together, at full data and resolution, with light
// augmentation, and its accuracy is measured once on the held-out test split.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "nascent/core/arch.h"
#include "nascent/estimate/trainer.h"

namespace nascent::space {
class SearchSpace;
}
namespace nascent::data {
struct TaskData;
}

namespace nascent::run {

class ProgressReporter;

struct FinalResult {
  double epochs = 0;
  double test_accuracy = 0;
  double test_loss = 0;
  double train_loss = 0;
  double train_seconds = 0;
  int64_t params = 0;
  double flops = 0;
  std::string weights;      // where the trained weights were saved
  std::string model;        // the TorchScript model (model.pt), "" if it could not be written
  std::string model_error;  // why not, then
  // Classification: the test split's per-class metrics and confusion matrix (ClassMetrics::to_json);
  // null otherwise.
  nlohmann::json test_classes;
  nlohmann::json to_json() const;
};

// Epochs of `arch` on the final training set (train + validation) that fit in `seconds` of wall
// time, including the test evaluation afterwards: times `steps` training steps after a few
// warm-up steps (oneDNN creates its kernels on the first ones) and divides. The result is clamped
// to [min_epochs, max_epochs] and rounded down to a tenth of an epoch.
struct EpochFit {
  double epochs = 0;
  int64_t batch_size = 0;       // the training batch size
  double step_seconds = 0;      // one training step at that batch size
  double epoch_seconds = 0;     // one epoch of the final training set, with the evaluation share
  double reserved_seconds = 0;  // the test evaluation and model export afterwards, estimated
  bool clamped = false;         // min_epochs or max_epochs decided, not the time
  nlohmann::json to_json() const;
};
EpochFit fit_epochs(const space::SearchSpace& space, const Arch& arch, const data::TaskData& data,
                    estimate::TrainOptions options, bool augment, double seconds, double min_epochs, double max_epochs,
                    int steps = 12);

// With `fit` (a time-budgeted training), the epochs are re-planned after the first epoch from its
// measured time, so that the training ends within fit->seconds; FinalResult::epochs says how many
// it trained.
struct TimeBudget {
  double seconds = 0;   // for training and the test pass, from the start of train_final
  double reserved = 0;  // of which the test pass and the model export
  double min_epochs = 1, max_epochs = 200;
};
// With `parallel` (final.ranks; estimate::DataParallel), every process of the group calls this
// with the same arguments; rank 0 alone re-plans, tests, saves and reports (the other ranks
// return after training with epochs, train_loss and train_seconds).
FinalResult train_final(const space::SearchSpace& space, const Arch& arch, const data::TaskData& data,
                        estimate::TrainOptions options, double epochs, bool augment, uint64_t seed,
                        const std::string& weights_path, ProgressReporter& progress, const TimeBudget* budget = nullptr,
                        const estimate::DataParallel* parallel = nullptr);

// Writes the TorchScript model of `arch` with the trained weights in `weights_path` to
// `model_path` (for a final training that ended before model.pt existed); returns "" on success,
// else why not (the weights stay usable with `nascent export`).
std::string write_model(const space::SearchSpace& space, const Arch& arch, const data::TaskData& data,
                        const std::string& weights_path, const std::string& model_path);

}  // namespace nascent::run
