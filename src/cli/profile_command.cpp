// nascent profile: parameters, FLOPs, estimated training memory and measured CPU latency.
#include <fmt/format.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>

#include "cli/commands.h"
#include "nascent/core/error.h"
#include "nascent/estimate/profile.h"
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
  torch::set_num_threads(static_cast<int>(f.threads));
  torch::manual_seed(0);
  auto net = a.space->build(a.arch, task, 1.0);
  const auto prof = estimate::profile_network(*net, task);
  net->eval();
  torch::NoGradGuard no_grad;
  // Token ids for text (any id above padding), standard normal values otherwise.
  torch::Tensor x = task.kind == "text" ? torch::randint(1, std::max<int64_t>(2, task.vocab_size), shape, torch::kInt64)
                                        : torch::randn(shape);
  for (int i = 0; i < 3; ++i) net->forward(x);  // warm-up
  std::vector<double> ms;
  for (int64_t i = 0; i < f.runs; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    net->forward(x);
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  auto pct = [&](double q) {
    return ms[std::min(ms.size() - 1, static_cast<size_t>(q * static_cast<double>(ms.size())))];
  };
  nlohmann::json j = {{"arch", a.space->to_json(a.arch)},
                      {"input_shape", shape},
                      {"params", prof.params},
                      {"flops", prof.flops},
                      {"memory_mb", prof.memory_mb(shape[0])},
                      {"latency_ms_median", pct(0.5)},
                      {"latency_ms_p90", pct(0.9)},
                      {"threads", f.threads}};
  fmt::print("{}\n", j.dump(2));
  return 0;
}

}  // namespace nascent::cli
