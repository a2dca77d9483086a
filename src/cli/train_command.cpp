// nascent train: an architecture file in, trained weights and test accuracy out.
#include <fmt/format.h>

#include <filesystem>

#include "cli/commands.h"
#include "nascent/core/config.h"
#include "nascent/core/error.h"
#include "nascent/core/rng.h"
#include "nascent/data/dataset.h"
#include "nascent/run/experiment.h"
#include "nascent/run/final_training.h"
#include "nascent/run/interrupt.h"
#include "nascent/run/outputs.h"
#include "nascent/run/progress.h"
#include "nascent/space/network.h"

namespace nascent::cli {
namespace fs = std::filesystem;

int run_train(const TrainFlags& f) {
  const nlohmann::json config = load_config(f.config, f.sets);
  const std::string cfg_name = f.config.empty() ? "--set" : f.config;
  ConfigSection root(config, "", cfg_name);
  // Only the sections that training uses are read; a search config works as it is.
  ConfigSection task_sec = root.child("task");
  const data::TaskOptions task = data::TaskOptions::from_config(task_sec);
  ConfigSection train_sec = root.child("train");
  const estimate::TrainOptions train = estimate::TrainOptions::from_config(train_sec);
  ConfigSection final_sec = root.child("final");
  const run::FinalOptions final = run::FinalOptions::from_config(final_sec);
  ConfigSection run_sec = root.child("run");
  const run::RunOptions run_opts = run::RunOptions::from_config(run_sec);
  const uint64_t seed =
      f.seed ? static_cast<uint64_t>(*f.seed) : static_cast<uint64_t>(root.get_int("seed", 0, 0, INT64_MAX));
  const double epochs = f.epochs ? *f.epochs : (final.epochs > 0 ? final.epochs : 10.0);

  ArchFile a = load_arch_file(f.arch, config, cfg_name);
  run::set_threads(run_opts.threads);
  const data::TaskData data = data::load_task(task);
  const std::string out = f.out.empty() ? fs::path(f.arch).parent_path().string() : f.out;
  std::error_code ec;
  if (!out.empty()) fs::create_directories(out, ec);
  if (ec) throw InputError(out, "--out", "cannot create directory: " + ec.message());
  const std::string dir = out.empty() ? "." : out;

  run::ProgressReporter progress(stdout);
  progress.message(fmt::format("training {} architecture [{}]", a.space->name(), a.space->describe(a.arch)));
  run::install_interrupt_handler();
  const run::FinalResult r = run::train_final(*a.space, a.arch, data, train, epochs, final.augment,
                                              Rng::derive(seed, "final").next(), dir + "/weights.pt", progress);
  nlohmann::json result = r.to_json();
  result["arch"] = run::arch_file_json(a.arch, *a.space, a.space_options);
  run::write_file_atomic(dir + "/train.json", result.dump(2) + "\n");
  fmt::print("test_accuracy {:.4f} after {} epochs ({} params, {:.2f} MFLOPs, {})\n", r.test_accuracy, epochs, r.params,
             r.flops / 1e6, run::format_duration(r.train_seconds));
  fmt::print("weights in {}/weights.pt, results in {}/train.json\n", dir, dir);
  if (!r.model.empty())
    fmt::print("model: {} (TorchScript; torch.jit.load in Python, torch::jit::load in C++)\n", r.model);
  else
    fmt::print("model: not written ({}); the weights still export with `nascent export`\n", r.model_error);
  return 0;
}

}  // namespace nascent::cli
