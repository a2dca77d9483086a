#include "nascent/run/final_training.h"

#include <fmt/format.h>
#include <torch/torch.h>

#include <filesystem>

#include "nascent/data/dataset.h"
#include "nascent/estimate/profile.h"
#include "nascent/export/torchscript.h"
#include "nascent/run/interrupt.h"
#include "nascent/run/progress.h"
#include "nascent/space/network.h"
#include "nascent/space/space.h"

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

}  // namespace

std::string write_model(const space::SearchSpace& space, const Arch& arch, const data::TaskData& data,
                        const std::string& weights_path, const std::string& model_path) {
  auto net = space.build(arch, data.task, 1.0);
  if (const std::string why = exporting::load_weights(net, weights_path); !why.empty())
    return weights_path + ": " + why;
  return save_model(space, arch, *net, data, model_path);
}

FinalResult train_final(const space::SearchSpace& space, const Arch& arch, const data::TaskData& data,
                        estimate::TrainOptions options, double epochs, bool augment, uint64_t seed,
                        const std::string& weights_path, ProgressReporter& progress) {
  torch::manual_seed(seed);
  auto net = space.build(arch, data.task, 1.0);
  const estimate::Profile prof = estimate::profile_network(*net, data.task);
  options.augment = augment;
  const data::Split train = data::join(data.train, data.val);
  progress.message(fmt::format("final training: {} epochs on {} examples, {} parameters, {:.1f} MFLOPs", epochs,
                               train.size(), prof.params, prof.flops / 1e6));
  const auto tr = estimate::train_network(*net, data, train, Fidelity::full(epochs), options, seed, data.split_seed,
                                          [&](const estimate::TrainProgress& p) {
                                            check_stop();
                                            progress.training("final", p, /*log_epochs=*/true);
                                          });
  const auto ev = estimate::evaluate_network(*net, data, data.test, 0, options.eval_batch_size);
  progress.clear_bar();
  FinalResult r;
  r.epochs = epochs;
  r.test_accuracy = ev.accuracy;
  r.test_loss = ev.loss;
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
