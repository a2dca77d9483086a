// nascent export: an architecture and its trained weights in, a deployable model file out.
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <torch/torch.h>

#include <algorithm>
#include <filesystem>

#include "cli/commands.h"
#include "nascent/core/config.h"
#include "nascent/core/error.h"
#include "nascent/data/dataset.h"
#include "nascent/export/onnx.h"
#include "nascent/export/torchscript.h"
#include "nascent/run/outputs.h"
#include "nascent/space/network.h"

namespace nascent::cli {
namespace fs = std::filesystem;

int run_export(const ExportFlags& f) {
  // With a run: its architecture, its final weights and the config they were trained with.
  const RunInputs in = resolve_run_inputs("export", f.run, f.arch, f.config, f.sets);
  // --arch and --weights name two files that may come from different trainings (the run's final
  // model, a later `train --set ...`); the description must not guess which config made the weights.
  if (f.run.empty() && f.config.empty() && !in.run_dir.empty())
    throw InputError(f.arch, "--config",
                     fmt::format("no config given for these weights; to export the run's model use `nascent export "
                                 "--run {}`, or give the --config the weights were trained with",
                                 in.run_dir));
  const nlohmann::json& config = in.config;
  const std::string& cfg_name = in.config_name;
  const std::string& arch_path = in.arch_path;
  // Refuse before any work: a model file (the run's own model.pt, an earlier export) is the
  // user's, and is replaced only when asked.
  for (const std::string& p : {f.out, exporting::description_path(f.out)})
    if (fs::exists(p) && !f.force)
      throw InputError(p, "--out", "exists and would be overwritten; choose another --out or add --force");
  const std::string weights = !f.weights.empty() ? f.weights
                              : !f.run.empty()   ? (fs::path(f.run) / "weights.pt").string()
                                                 : "";
  if (weights.empty()) throw InputError(f.arch, "--weights", "required with --arch: the trained weights to export");
  ArchFile a = load_arch_file(arch_path, config, cfg_name);
  if (!fs::is_regular_file(weights))
    throw InputError(weights, "--weights",
                     f.weights.empty() ? "no such file: the run has no final model (final.epochs was 0); train one "
                                         "with `nascent train --run DIR`"
                                       : "no such file");
  // The task's data as `nascent train` loads it (the config's task section, else Fashion-MNIST):
  // its shape and classes build the network, its training statistics become the model's input
  // normalisation.
  ConfigSection root(config, "", cfg_name);
  ConfigSection task_sec = root.child("task");
  const data::TaskData data = data::load_task(data::TaskOptions::from_config(task_sec));
  const Task& task = data.task;
  check_arch_task(a, arch_path, task, cfg_name);
  if (!a.space->supports(task))
    throw InputError(cfg_name, "task",
                     fmt::format("space '{}' cannot build networks for {} data", a.space->name(), task.kind));
  auto net = a.space->build(a.arch, task, 1.0);
  if (const std::string why = exporting::load_weights(net, weights); !why.empty())
    throw InputError(
        weights, "--weights",
        fmt::format("does not hold weights of this {} architecture for {} data with {} classes and "
                    "input {} from {} (pass --run with the run directory the weights come from, or "
                    "the config they were trained with as --config): {}",
                    a.space->name(), task.kind, task.num_classes, fmt::join(task.input_shape, "x"), cfg_name, why));
  const fs::path parent = fs::path(f.out).parent_path();
  std::error_code ec;
  if (!parent.empty()) fs::create_directories(parent, ec);
  if (ec) throw InputError(f.out, "--out", "cannot create its directory: " + ec.message());

  const nlohmann::json arch = run::arch_file_json(a.arch, *a.space, a.space_options, run::task_signature(task));
  if (f.format == "onnx") {
    exporting::save_onnx(*net, data, f.out, arch);
    fmt::print(
        "wrote {} and {} (ONNX opset {} model of the {} architecture [{}], {} parameters; input x [batch, {}] "
        "{}, output logits; checked by onnx::checker)\n",
        f.out, exporting::description_path(f.out), exporting::kOnnxOpset, a.space->name(), a.space->describe(a.arch),
        space::count_parameters(*net), fmt::join(task.input_shape, ", "),
        task.kind == "image" ? "float pixels in [0, 1]" : (task.kind == "text" ? "token ids" : "raw features"));
    return 0;
  }
  exporting::save_torchscript(*net, data, f.out, arch);
  // Check the file against the network it came from: the same logits on test examples.
  torch::jit::Module back = torch::jit::load(f.out);
  torch::NoGradGuard no_grad;
  const int64_t n = std::min<int64_t>(256, data.test.size());
  const torch::Tensor raw = data.test.x.slice(0, 0, n);
  // The model's input convention: float pixels in [0, 1]; tabular rows and token ids as loaded
  // (tabular rows are stored standardised: the model wants them raw).
  torch::Tensor x = raw, want;
  net->eval();
  if (task.kind == "image") {
    x = raw.to(torch::kFloat32).div(255.0);
    want = net->forward(data::normalize(raw, data));
  } else if (task.kind == "tabular") {
    const int64_t f_n = static_cast<int64_t>(data.mean.size());
    x = raw * torch::tensor(data.std).view({1, f_n}) + torch::tensor(data.mean).view({1, f_n});
    want = net->forward(raw);
  } else {
    want = net->forward(raw);
  }
  const double diff = (back.forward({x}).toTensor() - want).abs().max().item<double>();
  fmt::print(
      "wrote {} and {} ({} model of the {} architecture [{}], {} parameters; input [batch, {}] {}; "
      "max |logit difference| to nascent's network on {} test examples: {:.2g})\n",
      f.out, exporting::description_path(f.out), f.format, a.space->name(), a.space->describe(a.arch),
      space::count_parameters(*net), fmt::join(task.input_shape, ", "),
      task.kind == "image" ? "float pixels in [0, 1]" : (task.kind == "text" ? "token ids" : "raw features"), n, diff);
  return 0;
}

}  // namespace nascent::cli
