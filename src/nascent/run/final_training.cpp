#include "nascent/run/final_training.h"

#include <fmt/format.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>

#include "nascent/core/error.h"
#include "nascent/data/dataset.h"
#include "nascent/data/image_file.h"
#include "nascent/estimate/profile.h"
#include "nascent/export/torchscript.h"
#include "nascent/run/interrupt.h"
#include "nascent/run/progress.h"
#include "nascent/space/network.h"
#include "nascent/space/space.h"
#include "nascent/strategy/torch_archive.h"

namespace nascent::run {

nlohmann::json FinalResult::to_json() const {
  nlohmann::json j = {{"epochs", epochs},
                      {"test_accuracy", test_accuracy},
                      {"test_loss", test_loss},
                      {"train_loss", train_loss},
                      {"train_seconds", train_seconds},
                      {"params", params},
                      {"flops", flops},
                      {"weights", weights},
                      {"model", model}};
  if (!model_error.empty()) j["model_error"] = model_error;
  if (!test_classes.is_null()) {
    j["test_balanced_accuracy"] = test_classes["balanced_accuracy"];
    j["test_macro_f1"] = test_classes["macro_f1"];
    j["test_auroc"] = test_classes["auroc"];
    j["test_classes"] = test_classes;
  }
  return j;
}

namespace {

std::string save_model(const space::SearchSpace& space, const Arch& arch, space::Network& net,
                       const data::TaskData& data, const std::string& model_path) {
  try {
    exporting::save_torchscript(net, data, model_path, space.to_json(arch));
    return "";
  } catch (const std::exception& e) {
    return e.what();
  }
}

// The `count` test images the model got wrong most confidently, as small PNGs for the report:
// [{index, true, predicted, probability, png (base64)}].
nlohmann::json misclassified_examples(const data::TaskData& data, const estimate::EvalResult& ev, size_t count) {
  std::vector<size_t> wrong;
  const torch::Tensor y = data.test.y.to(torch::kInt64).contiguous();
  for (size_t i = 0; i < ev.predicted.size(); ++i)
    if (ev.predicted[i] != y.data_ptr<int64_t>()[i]) wrong.push_back(i);
  std::stable_sort(wrong.begin(), wrong.end(), [&](size_t a, size_t b) { return ev.confidence[a] > ev.confidence[b]; });
  if (wrong.size() > count) wrong.resize(count);
  auto name = [&](int64_t c) {
    return static_cast<size_t>(c) < data.class_names.size() ? data.class_names[static_cast<size_t>(c)]
                                                            : std::to_string(c);
  };
  nlohmann::json out = nlohmann::json::array();
  for (size_t i : wrong) {
    const torch::Tensor img = data.test.x[static_cast<int64_t>(i)].contiguous();  // uint8 [C, H, W]
    const std::string png = data::encode_png(img.data_ptr<uint8_t>(), static_cast<int>(img.size(0)),
                                             static_cast<int>(img.size(1)), static_cast<int>(img.size(2)));
    out.push_back({{"index", i},
                   {"true", name(y.data_ptr<int64_t>()[i])},
                   {"predicted", name(ev.predicted[i])},
                   {"probability", ev.confidence[i]},
                   {"png", strategy::base64_encode(png)}});
  }
  return out;
}

}  // namespace

std::string write_model(const space::SearchSpace& space, const Arch& arch, const data::TaskData& data,
                        const std::string& weights_path, const std::string& model_path) {
  auto net = space.build(arch, data.task, 1.0);
  if (const std::string why = exporting::load_weights(net, weights_path); !why.empty())
    return weights_path + ": " + why;
  return save_model(space, arch, *net, data, model_path);
}

nlohmann::json EpochFit::to_json() const {
  return {{"epochs", epochs},
          {"batch_size", batch_size},
          {"step_seconds", step_seconds},
          {"images_per_s", step_seconds > 0 ? static_cast<double>(batch_size) / step_seconds : 0.0},
          {"epoch_seconds", epoch_seconds},
          {"reserved_seconds", reserved_seconds},
          {"clamped", clamped}};
}

EpochFit fit_epochs(const space::SearchSpace& space, const Arch& arch, const data::TaskData& data,
                    estimate::TrainOptions options, bool augment, double seconds, double min_epochs, double max_epochs,
                    int steps) {
  NASCENT_CHECK(steps >= 2 && min_epochs > 0 && max_epochs >= min_epochs, "bad fit_epochs arguments");
  options.augment = augment;
  options.early_stopping = {};
  const data::Split train = data::join(data.train, data.val);
  const int64_t n = train.size();
  const int64_t bs = std::min(options.batch_size, n);
  const int64_t steps_per_epoch = std::max<int64_t>(1, n / bs);
  // The trainer reports progress at steps 1, 11, 21, ...: the first 10 steps warm up, the
  // next `steps` (rounded up to tens) are timed.
  const int64_t timed = ((steps + 9) / 10) * 10;
  const int64_t total = 1 + 10 + timed;
  std::vector<std::pair<int64_t, std::chrono::steady_clock::time_point>> marks;
  {
    torch::manual_seed(0);
    auto net = space.build(arch, data.task, 1.0);
    Fidelity f = Fidelity::full((static_cast<double>(total) - 0.5) / static_cast<double>(steps_per_epoch));
    estimate::train_network(*net, data, train, f, options, 0, data.split_seed, [&](const estimate::TrainProgress& p) {
      check_stop();
      marks.emplace_back(p.step, std::chrono::steady_clock::now());
    });
  }
  EpochFit fit;
  fit.batch_size = bs;
  const auto from = std::find_if(marks.begin(), marks.end(), [](const auto& m) { return m.first == 11; });
  NASCENT_CHECK(from != marks.end() && marks.back().first > 11, "fit_epochs: too few training steps were timed");
  fit.step_seconds = std::chrono::duration<double>(marks.back().second - from->second).count() /
                     static_cast<double>(marks.back().first - 11);
  fit.epoch_seconds = fit.step_seconds * static_cast<double>(steps_per_epoch);
  // The test pass costs about a third of a training step per example; saving and exporting
  // the model a few seconds.
  fit.reserved_seconds = fit.step_seconds * static_cast<double>(data.test.size()) / static_cast<double>(bs) / 3.0 + 5.0;
  // The first plan; train_final re-plans from the first epoch's time (the few dozen steps timed
  // here were 2% fast for one network and 8% slow for another over a 30-minute training).
  const double raw = (seconds - fit.reserved_seconds) / fit.epoch_seconds;
  fit.epochs = std::floor(std::clamp(raw, min_epochs, max_epochs) * 10.0) / 10.0;
  fit.clamped = raw < min_epochs || raw > max_epochs;
  return fit;
}

FinalResult train_final(const space::SearchSpace& space, const Arch& arch, const data::TaskData& data,
                        estimate::TrainOptions options, double epochs, bool augment, uint64_t seed,
                        const std::string& weights_path, ProgressReporter& progress, const TimeBudget* budget,
                        const estimate::DataParallel* parallel) {
  const bool worker = parallel && parallel->rank != 0;
  if (worker) budget = nullptr;  // rank 0 plans for the group
  torch::manual_seed(seed);
  auto net = space.build(arch, data.task, 1.0);
  const estimate::Profile prof = estimate::profile_network(*net, data.task);
  options.augment = augment;
  const data::Split train = data::join(data.train, data.val);
  const bool shared = parallel && parallel->size > 1;
  progress.message(fmt::format("final training: {} epochs on {} examples, {} parameters, {:.1f} MFLOPs{}", epochs,
                               train.size(), prof.params, prof.flops / 1e6,
                               shared ? fmt::format(", data-parallel over {} MPI ranks", parallel->size) : ""));
  const int64_t steps_per_epoch = std::max<int64_t>(1, train.size() / std::min(options.batch_size, train.size()));
  estimate::ReplanFn replan;
  if (budget) {
    // After every epoch the measured time decides the rest: a few dozen timed steps before
    // training can be off by several percent either way, and a long training drifts (a 60-minute
    // job planned 18.2 s per epoch and averaged 20.4 s, ending 8% over the budget when the first
    // epoch alone re-planned). The last three epochs' pace is the estimate.
    replan = [&, marks = std::vector<std::pair<int64_t, double>>{{0, 0.0}}, shown = 0.0](
                 int64_t done, double secs) mutable -> int64_t {
      marks.emplace_back(done, secs);
      const auto& from = marks[marks.size() > 4 ? marks.size() - 4 : 0];
      const double per_step = (secs - from.second) / static_cast<double>(done - from.first);
      const double left = budget->seconds - budget->reserved - secs;
      const double steps = static_cast<double>(done) + std::max(0.0, left) / per_step;
      const double lo = budget->min_epochs * static_cast<double>(steps_per_epoch);
      const double hi = budget->max_epochs * static_cast<double>(steps_per_epoch);
      const auto next = std::max(static_cast<int64_t>(std::clamp(steps, lo, hi)), done + 1);
      const double planned = static_cast<double>(next) / static_cast<double>(steps_per_epoch);
      if (marks.size() == 2 || std::abs(planned - shown) >= std::max(1.0, 0.02 * shown)) {
        progress.message(fmt::format("  after epoch {}: {:.1f} s per epoch, {:.1f} epochs fit the budget",
                                     done / steps_per_epoch, per_step * static_cast<double>(steps_per_epoch), planned));
        shown = planned;
      }
      return next;
    };
  }
  const auto tr = estimate::train_network(
      *net, data, train, Fidelity::full(epochs), options, seed, data.split_seed,
      [&](const estimate::TrainProgress& p) {
        if (!shared) check_stop();  // a group stops together, through parallel->stop_requested
        progress.training("final", p, /*log_epochs=*/true);
      },
      nullptr, replan, parallel);
  if (worker) {
    FinalResult r;
    r.epochs = static_cast<double>(tr.steps) / static_cast<double>(steps_per_epoch);
    r.train_loss = tr.train_loss;
    r.train_seconds = tr.train_seconds;
    return r;
  }
  const auto ev = estimate::evaluate_network(*net, data, data.test, 0, options.eval_batch_size);
  progress.clear_bar();
  FinalResult r;
  r.epochs = budget || shared
                 ? std::round(static_cast<double>(tr.steps) / static_cast<double>(steps_per_epoch) * 100.0) / 100.0
                 : epochs;
  r.test_accuracy = ev.accuracy;
  r.test_loss = ev.loss;
  if (ev.classes) {
    r.test_classes = ev.classes->to_json(data.class_names);
    // The class balance of each split: the search's training and validation splits (which the
    // final training joins) and the test split.
    const int64_t k = static_cast<int64_t>(ev.classes->confusion.size());
    r.test_classes["balance"] = {{"train", data::class_counts(data.train, k)},
                                 {"val", data::class_counts(data.val, k)},
                                 {"test", data::class_counts(data.test, k)}};
    if (data.task.kind == "image") r.test_classes["misclassified"] = misclassified_examples(data, ev, 8);
  }
  r.train_loss = tr.train_loss;
  r.train_seconds = tr.train_seconds;
  r.params = prof.params;
  r.flops = prof.flops;
  r.weights = weights_path;
  torch::save(net, weights_path);
  // The deployable model beside the weights: model.pt in the same directory.
  const std::string model_path = (std::filesystem::path(weights_path).parent_path() / "model.pt").string();
  r.model_error = save_model(space, arch, *net, data, model_path);
  if (r.model_error.empty()) r.model = model_path;
  return r;
}

}  // namespace nascent::run
