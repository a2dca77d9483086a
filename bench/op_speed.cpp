// Training speed of each operation type on this CPU: one small network per row, the same
// three-stage skeleton (28 -> 14 -> 7 pixels, widths 32/64/64, ~100k parameters for the
// reference) with one thing changed: the block type (plain 3x3 conv, residual, depthwise-
// separable, inverted bottleneck), the kernel size, the activation, squeeze-excite, the
// downsampling, and the memory format (channels-last). Each row trains at batch 128 on
// Fashion-MNIST-shaped input (forward, cross-entropy, backward, SGD step) and reports images/s
// and the ratio to the reference row, a plain 3x3 conv+BN+ReLU stack, measured in the same run.
// Writes bench/results/op_speed.{json,md}.
//
//   build/bench/op_speed [--steps 30] [--threads 2] [--out bench/results/op_speed]
#include <fmt/format.h>
#include <torch/torch.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "nascent/core/config.h"
#include "nascent/space/network.h"
#include "nascent/space/registry.h"
#include "nascent/space/space.h"

namespace {

using namespace nascent;

struct Row {
  std::string name;
  std::string space;
  nlohmann::json choices;
  bool channels_last = false;
};

nlohmann::json cnn(const std::string& kind, int64_t kernel, const std::string& act, const std::string& se,
                   const std::string& down) {
  nlohmann::json c = {{"stem", "32"}, {"act", act}};
  const char* widths[] = {"32", "64", "64"};
  const char* blocks[] = {"1", "2", "1"};
  for (int s = 1; s <= 3; ++s) {
    const std::string p = fmt::format("s{}_", s);
    if (s > 1) c[p + "down"] = down;
    c[p + "blocks"] = blocks[s - 1];
    c[p + "kind"] = kind;
    c[p + "kernel"] = std::to_string(kernel);
    c[p + "width"] = widths[s - 1];
    c[p + "se"] = se;
  }
  return c;
}

// chain: the same widths with stride-2 stage starts; op conv | sepconv | mbconv.
nlohmann::json chain(const std::string& op, int64_t kernel, const std::string& act) {
  nlohmann::json c;
  const char* widths[] = {"32", "64", "64"};
  const char* blocks[] = {"1", "2", "1"};
  for (int s = 1; s <= 3; ++s) {
    const std::string p = fmt::format("s{}_", s);
    c[p + "blocks"] = blocks[s - 1];
    c[p + "op"] = op;
    if (op == "mbconv") c[p + "expand"] = "4";
    c[p + "kernel"] = std::to_string(kernel);
    c[p + "width"] = widths[s - 1];
    c[p + "act"] = act;
    c[p + "skip"] = "no";
  }
  return c;
}

void to_channels_last(torch::nn::Module& m) {
  torch::NoGradGuard g;
  for (auto& p : m.parameters())
    if (p.dim() == 4) p.set_data(p.contiguous(torch::MemoryFormat::ChannelsLast));
  for (auto& b : m.buffers())
    if (b.dim() == 4) b.set_data(b.contiguous(torch::MemoryFormat::ChannelsLast));
}

double images_per_s(space::Network& net, bool channels_last, int64_t steps) {
  const int64_t bs = 128;
  torch::manual_seed(0);
  torch::Tensor x = torch::randn({bs, 1, 28, 28});
  if (channels_last) x = x.contiguous(torch::MemoryFormat::ChannelsLast);
  torch::Tensor y = torch::randint(0, 10, {bs}, torch::kInt64);
  torch::optim::SGD opt(net.parameters(), torch::optim::SGDOptions(0.01).momentum(0.9).nesterov(true));
  net.train();
  auto step = [&] {
    opt.zero_grad();
    auto loss = torch::nn::functional::cross_entropy(net.forward(x), y);
    loss.backward();
    opt.step();
  };
  for (int i = 0; i < 5; ++i) step();
  const auto t0 = std::chrono::steady_clock::now();
  for (int64_t i = 0; i < steps; ++i) step();
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return static_cast<double>(steps * bs) / s;
}

}  // namespace

int main(int argc, char** argv) {
  int64_t steps = 30, threads = 2;
  std::string out = "bench/results/op_speed";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    if (k == "--steps")
      steps = std::stoll(argv[i + 1]);
    else if (k == "--threads")
      threads = std::stoll(argv[i + 1]);
    else if (k == "--out")
      out = argv[i + 1];
    else {
      fmt::print(stderr, "usage: op_speed [--steps N] [--threads T] [--out PREFIX]\n");
      return 2;
    }
  }
  torch::set_num_threads(static_cast<int>(threads));
  std::vector<Row> rows = {
      {"plain 3x3 conv, relu, maxpool (reference)", "cnn", cnn("plain", 3, "relu", "no", "maxpool")},
      {"  same, channels-last", "cnn", cnn("plain", 3, "relu", "no", "maxpool"), true},
      {"plain, stride-2 conv instead of maxpool", "cnn", cnn("plain", 3, "relu", "no", "stride")},
      {"residual (2 convs per block)", "cnn", cnn("residual", 3, "relu", "no", "maxpool")},
      {"plain + squeeze-excite", "cnn", cnn("plain", 3, "relu", "yes", "maxpool")},
      {"plain, hswish", "cnn", cnn("plain", 3, "hswish", "no", "maxpool")},
      {"plain 5x5 conv", "cnn", cnn("plain", 5, "relu", "no", "maxpool")},
      {"chain conv 3x3 relu (stride-2 stages)", "chain", chain("conv", 3, "relu")},
      {"chain conv 3x3 swish", "chain", chain("conv", 3, "swish")},
      {"chain conv 3x3 gelu", "chain", chain("conv", 3, "gelu")},
      {"chain sepconv 3x3 (depthwise + 1x1)", "chain", chain("sepconv", 3, "relu")},
      {"  same, channels-last", "chain", chain("sepconv", 3, "relu"), true},
      {"chain sepconv 7x7", "chain", chain("sepconv", 7, "relu")},
      {"chain mbconv e4 3x3", "chain", chain("mbconv", 3, "relu")},
      {"chain mbconv e4 7x7 swish", "chain", chain("mbconv", 7, "swish")},
  };
  Task task;  // Fashion-MNIST's shape: [1, 28, 28], 10 classes
  nlohmann::json results = nlohmann::json::array();
  double reference = 0;
  std::string md = fmt::format(
      "# Training speed per operation type\n\nGenerated by `build/bench/op_speed --steps {} --threads {}`: "
      "images/s of training steps (batch 128, 28x28x1 input, SGD) for one network per row, and the ratio to "
      "the reference row measured in the same run.\n\n| network | params | images/s | vs reference |\n| --- | --- | "
      "--- | --- |\n",
      steps, threads);
  fmt::print("{:<45} {:>8} {:>10} {:>8}\n", "network", "params", "images/s", "ratio");
  for (const auto& r : rows) {
    // cnn with a 5x5 option too (its default searches 3x3 only); chain as it is.
    ConfigSection opts(r.space == "cnn" ? nlohmann::json{{"kernels", {3, 5}}} : nlohmann::json::object(),
                       "space." + r.space, "");
    auto space = space::make_space(r.space, opts);
    const Arch a = space->from_json({{"space", r.space}, {"choices", r.choices}}, r.name);
    auto net = space->build(a, task, 1.0);
    if (r.channels_last) to_channels_last(*net);
    const int64_t params = space::count_parameters(*net);
    const double ips = images_per_s(*net, r.channels_last, steps);
    if (reference == 0) reference = ips;
    fmt::print("{:<45} {:>8} {:>10.0f} {:>7.2f}x\n", r.name, params, ips, ips / reference);
    md += fmt::format("| {} | {} | {:.0f} | {:.2f}x |\n", r.name, params, ips, ips / reference);
    results.push_back({{"name", r.name},
                       {"space", r.space},
                       {"choices", r.choices},
                       {"channels_last", r.channels_last},
                       {"params", params},
                       {"images_per_s", ips},
                       {"ratio", ips / reference}});
  }
  std::ofstream(out + ".json") << nlohmann::json{{"steps", steps}, {"threads", threads}, {"rows", results}}.dump(1)
                               << "\n";
  std::ofstream(out + ".md") << md;
  return 0;
}
