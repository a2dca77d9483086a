// Training throughput with and without nascent's allocator settings (core/allocator.h).
// The settings are process-wide, so the program re-runs itself as a child process per variant,
// alternating A B A B to cancel machine drift, and prints each variant's median images/second
// and the ratio tuned/default. Writes bench/results/allocator.json.
//
//   build/bench/allocator_bench [--rounds 3] [--steps 30] [--out bench/results/allocator.json]
#include <fmt/format.h>
#include <sys/wait.h>
#include <torch/torch.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "child_output.h"
#include "nascent/core/allocator.h"
#include "nascent/core/rng.h"
#include "nascent/space/chain.h"
#include "nascent/space/network.h"

namespace {

// Child: train a fixed sample of chain architectures on random data; print images/second.
double child(bool tune, int steps) {
  if (tune) nascent::tune_allocator();
  torch::set_num_threads(2);
  nascent::space::ChainSpace space;
  nascent::Rng rng(1);
  nascent::Task task;
  double images = 0, seconds = 0;
  for (int a = 0; a < 3; ++a) {
    torch::manual_seed(a);
    auto net = space.build(space.sample(rng), task, 1.0);
    torch::optim::SGD opt(net->parameters(), torch::optim::SGDOptions(0.05).momentum(0.9));
    auto x = torch::randn({128, 1, 28, 28});
    auto y = torch::randint(0, 10, {128});
    for (int i = 0; i < steps + 2; ++i) {
      const auto t0 = std::chrono::steady_clock::now();
      opt.zero_grad();
      torch::nn::functional::cross_entropy(net->forward(x), y).backward();
      opt.step();
      if (i >= 2) {  // two warm-up steps per network
        seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        images += 128;
      }
    }
  }
  return images / seconds;
}

double run_child(const char* self, bool tune, int steps) {
  return std::atof(nascent::bench::child_output(self, {tune ? "1" : "0", std::to_string(steps)}).c_str());
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 4 && std::string(argv[1]) == "--child") {
    std::printf("%f\n", child(std::string(argv[2]) == "1", std::atoi(argv[3])));
    return 0;
  }
  int rounds = 3, steps = 30;
  std::string out = std::string(NASCENT_SOURCE_DIR) + "/bench/results/allocator.json";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    if (k == "--rounds")
      rounds = std::atoi(argv[i + 1]);
    else if (k == "--steps")
      steps = std::atoi(argv[i + 1]);
    else if (k == "--out")
      out = argv[i + 1];
  }
  std::vector<double> tuned, plain, ratio;
  for (int r = 0; r < rounds; ++r) {
    const double p = run_child(argv[0], false, steps);
    const double t = run_child(argv[0], true, steps);
    plain.push_back(p);
    tuned.push_back(t);
    ratio.push_back(t / p);
    fmt::print("round {}: default {:.0f} img/s, tuned {:.0f} img/s, ratio {:.2f}\n", r + 1, p, t, t / p);
  }
  fmt::print("\n{:<28} {:>12}\n", "allocator", "images/s (median)");
  fmt::print("{:<28} {:>12.0f}\n", "glibc defaults (reference)", median(plain));
  fmt::print("{:<28} {:>12.0f}\n", "nascent::tune_allocator()", median(tuned));
  fmt::print("ratio tuned/default (median of pairs): {:.2f}\n", median(ratio));
  nlohmann::json j = {{"benchmark", "allocator"},
                      {"workload", "train steps of 3 sampled chain networks, batch 128, 2 torch threads"},
                      {"default_images_per_s", plain},
                      {"tuned_images_per_s", tuned},
                      {"ratio_median", median(ratio)}};
  std::ofstream(out) << j.dump(2) << "\n";
  return 0;
}
