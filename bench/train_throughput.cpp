// Training throughput of nascent's trainer (estimate::train_network) on real Fashion-MNIST:
// `--steps` steps at batch 128 of the architecture in `--arch`, after `--warmup` steps that are
// not timed. Prints one JSON line {"images_per_s": ...}. bench/throughput_vs_pytorch.sh runs it
// beside bench/train_throughput.py, the same network and steps in PyTorch, and prints the ratio.
//
//   build/bench/train_throughput --arch FILE [--steps 200] [--warmup 20] [--threads 2]
#include <fmt/format.h>
#include <torch/torch.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "nascent/core/allocator.h"
#include "nascent/core/config.h"
#include "nascent/data/dataset.h"
#include "nascent/estimate/trainer.h"
#include "nascent/space/network.h"
#include "nascent/space/registry.h"
#include "nascent/space/space.h"

using namespace nascent;

int main(int argc, char** argv) {
  nascent::tune_allocator();  // as the nascent binary does
  std::string arch_path;
  int64_t steps = 200, warmup = 20, threads = 2;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    if (k == "--arch")
      arch_path = argv[i + 1];
    else if (k == "--steps")
      steps = std::stoll(argv[i + 1]);
    else if (k == "--warmup")
      warmup = std::stoll(argv[i + 1]);
    else if (k == "--threads")
      threads = std::stoll(argv[i + 1]);
  }
  if (arch_path.empty()) {
    fmt::print(stderr, "usage: train_throughput --arch FILE [--steps N] [--warmup N] [--threads T]\n");
    return 2;
  }
  torch::set_num_threads(static_cast<int>(threads));
  std::ifstream in(arch_path);
  std::stringstream ss;
  ss << in.rdbuf();
  const nlohmann::json j = nlohmann::json::parse(ss.str());
  ConfigSection opts(j.value("space_options", nlohmann::json::object()), "space_options", arch_path);
  auto space = space::make_space(j.at("space").get<std::string>(), opts);
  const Arch arch = space->from_json(j, arch_path);

  data::TaskOptions to;  // Fashion-MNIST from Debian's dataset-fashion-mnist
  const data::TaskData data = data::load_task(to);
  estimate::TrainOptions o;  // batch 128, SGD Nesterov 0.9, weight decay 5e-4, clip 5, no augmentation
  const int64_t per_epoch = data.train.size() / o.batch_size;
  auto run = [&](int64_t n) {
    torch::manual_seed(0);
    auto net = space->build(arch, data.task, 1.0);
    const Fidelity f = Fidelity::full((static_cast<double>(n) - 0.5) / static_cast<double>(per_epoch));
    return estimate::train_network(*net, data, data.train, f, o, 0, 0);
  };
  run(warmup);  // oneDNN's kernels and the allocator's pools
  const auto r = run(steps);
  fmt::print("{}\n", nlohmann::json{{"images_per_s", static_cast<double>(r.steps * o.batch_size) / r.train_seconds},
                                    {"steps", r.steps},
                                    {"seconds", r.train_seconds}}
                         .dump());
  return 0;
}
