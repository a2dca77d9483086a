// Inference latency of the deployable models against nascent's own network, on the same
// architecture, weights and inputs: the network as nascent runs it (LibTorch C++ modules, eval
// mode, no gradients), its TorchScript export loaded back with torch::jit::load, and its ONNX
// export run by OpenCV's DNN module. One architecture per image space (nb201's ResNet-like cell;
// a sampled one of darts, chain, mbconv) on Fashion-MNIST's shape, batch sizes 1 and 32; the median of --runs timed
// forward passes after warm-up. Prints a table with each export's time relative to nascent's
// network and writes bench/results/export_latency.json. The logits are compared too: the table's
// last column is the largest difference of the ONNX model's from the network's.
//
//   nice -n 10 build/bench/export_latency [--runs 50] [--threads 1] [--seed 0]
#include <fmt/format.h>
#include <torch/script.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <opencv2/dnn.hpp>
#include <string>
#include <vector>

#include "nascent/core/rng.h"
#include "nascent/data/dataset.h"
#include "nascent/export/onnx.h"
#include "nascent/export/torchscript.h"
#include "nascent/space/network.h"
#include "nascent/space/registry.h"

namespace {

using namespace nascent;

double median_ms(int64_t runs, const std::function<void()>& f) {
  for (int i = 0; i < 5; ++i) f();  // warm-up
  std::vector<double> ms;
  for (int64_t i = 0; i < runs; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

cv::Mat to_blob(const torch::Tensor& x) {
  std::vector<int> shape(x.sizes().begin(), x.sizes().end());
  cv::Mat m(static_cast<int>(shape.size()), shape.data(), CV_32F);
  std::memcpy(m.ptr<float>(), x.contiguous().data_ptr<float>(), static_cast<size_t>(x.numel()) * sizeof(float));
  return m;
}

}  // namespace

int main(int argc, char** argv) {
  int64_t runs = 50, threads = 1, seed = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    const int64_t v = std::atol(argv[i + 1]);
    if (k == "--runs")
      runs = std::max<int64_t>(5, v);
    else if (k == "--threads")
      threads = std::max<int64_t>(1, v);
    else if (k == "--seed")
      seed = v;
    else {
      fmt::print(stderr, "export_latency: unknown flag {}; flags: --runs N --threads N --seed N\n", k);
      return 2;
    }
  }
  torch::set_num_threads(static_cast<int>(threads));
  cv::setNumThreads(static_cast<int>(threads));
  data::TaskData data;  // Fashion-MNIST's shape; statistics of its training split, rounded
  data.mean = {0.286f};
  data.std = {0.353f};
  const std::string dir = std::filesystem::temp_directory_path() / "nascent_export_latency";
  std::filesystem::create_directories(dir);

  nlohmann::json results = nlohmann::json::array();
  fmt::print("{:<7} {:>5} {:>12} {:>12} {:>8} {:>12} {:>8} {:>10}\n", "space", "batch", "nascent ms", "torchscript",
             "ratio", "onnx/opencv", "ratio", "max diff");
  for (const std::string name : {"nb201", "darts", "chain", "mbconv"}) {
    auto space = space::make_space(name);
    Rng rng = Rng::derive(static_cast<uint64_t>(seed), "export_latency/" + name);
    // nb201: the benchmark's ResNet-like cell (a sample can be all `none`, a constant network).
    const Arch arch = name == "nb201" ? space->from_text(
                                            "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|"
                                            "nor_conv_3x3~1|nor_conv_3x3~2|",
                                            "export_latency")
                                      : space->sample(rng);
    torch::manual_seed(static_cast<uint64_t>(seed));
    data.task = space->default_task();
    auto net = space->build(arch, data.task);
    net->eval();
    const std::string pt = dir + "/" + name + ".pt", onnx = dir + "/" + name + ".onnx";
    exporting::save_torchscript(*net, data, pt, space->to_json(arch));
    exporting::save_onnx(*net, data, onnx, space->to_json(arch));
    torch::jit::Module script = torch::jit::load(pt);
    cv::dnn::Net cvnet = cv::dnn::readNetFromONNX(onnx);
    const exporting::InputTransform input = exporting::InputTransform::of(data);
    for (int64_t batch : {1, 32}) {
      torch::Tensor x = torch::rand({batch, 1, 28, 28});
      torch::NoGradGuard no_grad;
      torch::Tensor want = net->forward(input.apply(x));
      const double t_net = median_ms(runs, [&] { net->forward(input.apply(x)); });
      const double t_script = median_ms(runs, [&] { script.forward({x}); });
      const cv::Mat blob = to_blob(x);
      cv::Mat out;
      const double t_cv = median_ms(runs, [&] {
        cvnet.setInput(blob);
        out = cvnet.forward();
      });
      const torch::Tensor got = torch::from_blob(out.ptr<float>(), want.sizes(), torch::kFloat32).clone();
      const double diff = (got - want).abs().max().item<double>();
      fmt::print("{:<7} {:>5} {:>12.3f} {:>12.3f} {:>8.2f} {:>12.3f} {:>8.2f} {:>10.2g}\n", name, batch, t_net,
                 t_script, t_script / t_net, t_cv, t_cv / t_net, diff);
      results.push_back({{"space", name},
                         {"arch", space->describe(arch)},
                         {"batch", batch},
                         {"nascent_ms", t_net},
                         {"torchscript_ms", t_script},
                         {"onnx_opencv_ms", t_cv},
                         {"torchscript_ratio", t_script / t_net},
                         {"onnx_opencv_ratio", t_cv / t_net},
                         {"onnx_max_abs_diff", diff}});
    }
  }
  const std::string out = std::string(NASCENT_SOURCE_DIR) + "/bench/results/export_latency.json";
  std::ofstream(out) << nlohmann::json{{"runs", runs}, {"threads", threads}, {"seed", seed}, {"results", results}}.dump(
                            2)
                     << "\n";
  fmt::print("ratios: export time / nascent's network time (median of {} runs, {} thread(s)); written {}\n", runs,
             threads, out);
  return 0;
}
