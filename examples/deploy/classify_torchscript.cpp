// Classifies image files with a model nascent exported as TorchScript (model.pt, with its
// model.json beside it), using LibTorch alone:
//   classify_torchscript [--threads N] model.pt IMAGE_OR_FOLDER...
// prints "file,predicted,ms" for each image (ms: the forward pass at batch 1) and the median time.
#include <ATen/Parallel.h>
#include <torch/script.h>

#include <iostream>

#include "image_input.h"

int main(int argc, char** argv) {
  deploy::Args args;
  if (!deploy::parse_args(argc, argv, "classify_torchscript", "model.pt", &args)) return 2;
  try {
    at::set_num_threads(args.threads);
    const deploy::ModelInfo info = deploy::read_model_info(args.model);
    torch::jit::script::Module model = torch::jit::load(args.model);
    model.eval();
    c10::InferenceMode inference;
    deploy::Timing timing;
    std::cout << "file,predicted,ms\n";
    for (const auto& file : deploy::find_images(args.inputs)) {
      std::vector<float> pixels = deploy::load_input(file, info);
      const torch::Tensor x = torch::from_blob(pixels.data(), {1, info.channels, info.height, info.width});
      const auto t0 = std::chrono::steady_clock::now();
      const torch::Tensor logits = model.forward({x}).toTensor();
      const double ms = deploy::ms_since(t0);
      timing.row(file, deploy::class_name(info, static_cast<size_t>(logits.argmax(1).item<int64_t>())), ms);
    }
    timing.summary("LibTorch (TorchScript)", args.threads);
  } catch (const std::exception& e) {
    std::cerr << "classify_torchscript: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
