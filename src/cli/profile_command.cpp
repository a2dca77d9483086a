// nascent profile: parameters, FLOPs, estimated training memory, and latency, model size and
// peak inference memory measured in a deployment runtime (estimate/latency.h).
#include <fmt/format.h>
#include <torch/torch.h>

#include "cli/commands.h"
#include "nascent/core/config.h"
#include "nascent/core/error.h"
#include "nascent/estimate/latency.h"
#include "nascent/estimate/profile.h"
#include "nascent/export/torchscript.h"
#include "nascent/space/network.h"

namespace nascent::cli {

int run_profile(const ProfileFlags& f) {
  // With --run (or an architecture inside a run directory) the run's own task and space options.
  const RunInputs in = resolve_run_inputs("profile", f.run, f.arch, f.config, {});
  ArchFile a = load_arch_file(in.arch_path, in.config, in.config_name);
  Task task = task_for_space(*a.space, in.config, in.config_name);
  if (in.config.contains("task")) check_arch_task(a, in.arch_path, task, in.config_name);
  if (f.classes > 0) task.num_classes = f.classes;
  std::vector<int64_t> shape = task.input_shape;
  shape.insert(shape.begin(), 1);
  if (!f.input_shape.empty()) {
    if (task.kind != "image")
      throw InputError("", "--input-shape", fmt::format("applies to image tasks; this is a {} task", task.kind));
    shape.clear();
    std::string s = f.input_shape;
    size_t start = 0;
    while (start <= s.size()) {
      const size_t comma = s.find(',', start);
      const std::string part = s.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      try {
        size_t used = 0;
        const long long v = std::stoll(part, &used);
        if (used != part.size() || v <= 0) throw std::invalid_argument("");
        shape.push_back(v);
      } catch (const std::exception&) {
        throw InputError("", "--input-shape", "expected positive integers N,C,H,W, got '" + f.input_shape + "'");
      }
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    if (shape.size() != 4)
      throw InputError("", "--input-shape", "expected 4 numbers N,C,H,W, got '" + f.input_shape + "'");
    task.input_shape = {shape[1], shape[2], shape[3]};
  }
  // Latency as the run's search measured it (its latency section), unless the flags say otherwise.
  estimate::LatencyOptions lo;
  lo.runtime = "libtorch";
  if (in.config.contains("latency") && in.config["latency"].is_object()) {
    ConfigSection sec(in.config["latency"], "latency", in.config_name);
    lo = estimate::LatencyOptions::from_config(sec);
  }
  if (!f.runtime.empty()) lo.runtime = f.runtime;
  if (f.threads > 0) lo.threads = f.threads;
  if (f.runs > 0) lo.runs = f.runs;
  if (f.input_shape.empty()) {
    shape[0] = lo.batch_size;
  } else {
    lo.batch_size = shape[0];
  }
  torch::set_num_threads(static_cast<int>(lo.threads));
  torch::manual_seed(0);
  auto net = a.space->build(a.arch, task, 1.0);
  const auto prof = estimate::profile_network(*net, task);
  const estimate::LatencyResult lat = [&] {
    try {
      return estimate::measure_latency(*net, task, estimate::nominal_input_transform(task), lo);
    } catch (const TrialFailure& e) {
      throw InputError(in.arch_path, "--runtime", e.what());
    }
  }();
  nlohmann::json j = {{"arch", a.space->to_json(a.arch)},
                      {"input_shape", shape},
                      {"params", prof.params},
                      {"flops", prof.flops},
                      {"memory_mb", prof.memory_mb(shape[0])},
                      {"runtime", lo.runtime},
                      {"latency_ms_median", lat.median_ms},
                      {"latency_ms_p90", lat.p90_ms},
                      {"latency_cv", lat.cv},
                      {"size_mb", lat.size_mb},
                      {"peak_memory_mb", lat.peak_memory_mb},
                      {"threads", lo.threads}};
  fmt::print("{}\n", j.dump(2));
  return 0;
}

}  // namespace nascent::cli
