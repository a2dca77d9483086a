// nascent train: a run (or an architecture file) in, trained weights, a TorchScript model and
// the test accuracy out, in a new directory: a run's own model files are never overwritten.
#include <fmt/format.h>

#include <chrono>
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

namespace {

// The files a training writes into its output directory.
const std::vector<std::string> kTrainOutputs = {"weights.pt", "model.pt", "model.json", "train.json"};

// `base`/train-1, train-2, ...: the first that does not exist yet.
std::string fresh_train_dir(const fs::path& base) {
  for (int k = 1;; ++k) {
    fs::path p = base / fmt::format("train-{}", k);
    if (!fs::exists(p)) return p.string();
  }
}

}  // namespace

int run_train(const TrainFlags& f) {
  const auto job_start = std::chrono::steady_clock::now();
  // A run directory, or an architecture file inside one, brings the config the run was made
  // with (task, data paths, every --set of the search), so nothing has to be repeated.
  const RunInputs in = resolve_run_inputs("train", f.run, f.arch, f.config, f.sets);
  const nlohmann::json& config = in.config;
  const std::string& cfg_name = in.config_name;
  const std::string& run_dir = in.run_dir;
  const std::string& arch_path = in.arch_path;

  ConfigSection root(config, "", cfg_name);
  // Only the sections that training uses are read; a search config works as it is.
  ConfigSection task_sec = root.child("task");
  const data::TaskOptions task = data::TaskOptions::from_config(task_sec);
  ConfigSection train_sec = root.child("train");
  estimate::TrainOptions train = estimate::TrainOptions::from_config(train_sec);
  ConfigSection final_sec = root.child("final");
  const run::FinalOptions final = run::FinalOptions::from_config(final_sec);
  ConfigSection run_sec = root.child("run");
  const run::RunOptions run_opts = run::RunOptions::from_config(run_sec);
  const uint64_t seed =
      f.seed ? static_cast<uint64_t>(*f.seed) : static_cast<uint64_t>(root.get_int("seed", 0, 0, INT64_MAX));
  train = final.apply(train);

  ArchFile a = load_arch_file(arch_path, config, cfg_name);
  const std::string out =
      !f.out.empty()   ? f.out
      : !f.run.empty() ? fresh_train_dir(f.run)
                       : fresh_train_dir(fs::path(arch_path).parent_path().empty() ? fs::path(".")
                                                                                   : fs::path(arch_path).parent_path());
  for (const auto& name : kTrainOutputs) {
    const fs::path p = fs::path(out) / name;
    if (fs::exists(p) && !f.force)
      throw InputError(p.string(), "--out",
                       "exists and would be overwritten; choose another --out (the default is a new train-N folder) "
                       "or add --force");
  }
  run::set_threads(run_opts.threads);
  const data::TaskData data = data::load_task(task);
  check_arch_task(a, arch_path, data.task, cfg_name);
  if (!a.space->supports(data.task))
    throw InputError(
        arch_path, "space",
        fmt::format("a {} architecture cannot be trained on {} data ({})", a.space->name(), data.task.kind, cfg_name));
  std::error_code ec;
  fs::create_directories(out, ec);
  if (ec) throw InputError(out, "--out", "cannot create directory: " + ec.message());

  run::ProgressReporter progress(stdout);
  for (const std::string& note : data.notes) progress.message(note);
  progress.message(fmt::format("training {} architecture [{}] on {}{}", a.space->name(), a.space->describe(a.arch),
                               data.source, run_dir.empty() ? "" : fmt::format(" (config of the run {})", run_dir)));
  run::install_interrupt_handler();
  double epochs = f.epochs ? *f.epochs : (final.epochs > 0 ? final.epochs : 10.0);
  nlohmann::json split;
  run::TimeBudget time_budget;
  if (f.time_budget) {
    // Fill the budget: measured epoch time of this network, minus what was spent loading data.
    const double budget_s = *f.time_budget * 60.0;
    const double setup_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - job_start).count();
    const run::EpochFit fit = run::fit_epochs(*a.space, a.arch, data, train, final.augment, budget_s - setup_s,
                                              final.min_epochs, f.epochs ? *f.epochs : final.max_epochs);
    epochs = fit.epochs;
    time_budget.seconds =
        budget_s - std::chrono::duration<double>(std::chrono::steady_clock::now() - job_start).count();
    time_budget.reserved = fit.reserved_seconds;
    time_budget.min_epochs = final.min_epochs;
    time_budget.max_epochs = f.epochs ? *f.epochs : final.max_epochs;
    split = {{"budget_s", budget_s}, {"setup_s", setup_s}, {"final_epochs", fit.epochs}, {"fit", fit.to_json()}};
    progress.message(fmt::format("time budget {}: {:.1f} s per epoch -> {} epochs", run::format_duration(budget_s),
                                 fit.epoch_seconds, fit.epochs));
  }
  const run::FinalResult r =
      run::train_final(*a.space, a.arch, data, train, epochs, final.augment, Rng::derive(seed, "final").next(),
                       out + "/weights.pt", progress, f.time_budget ? &time_budget : nullptr);
  nlohmann::json result = r.to_json();
  result["arch"] = run::arch_file_json(a.arch, *a.space, a.space_options, run::task_signature(data.task));
  result["config"] = config;
  if (!split.is_null()) {
    split["job_s"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - job_start).count();
    split["final_s"] = r.train_seconds;
    split["final_epochs"] = r.epochs;
    result["time_split"] = split;
  }
  run::write_file_atomic(out + "/train.json", result.dump(2) + "\n");
  fmt::print("test_accuracy {:.4f} after {} epochs ({} params, {:.2f} MFLOPs, {})\n", r.test_accuracy, r.epochs,
             r.params, r.flops / 1e6, run::format_duration(r.train_seconds));
  fmt::print("weights in {}/weights.pt, results in {}/train.json\n", out, out);
  if (!r.model.empty())
    fmt::print("model: {} (TorchScript; torch.jit.load in Python, torch::jit::load in C++)\n", r.model);
  else
    fmt::print("model: not written ({}); the weights still export with `nascent export`\n", r.model_error);
  return 0;
}

}  // namespace nascent::cli
