// Classifies image files with a model nascent exported as ONNX (model.onnx, with its
// model.onnx.json beside it), using OpenCV's DNN module alone (no LibTorch at run time):
//   classify_onnx [--threads N] model.onnx IMAGE_OR_FOLDER...
// prints "file,predicted,ms" for each image (ms: the forward pass at batch 1) and the median time.
#include <iostream>
#include <opencv2/core.hpp>
#include <opencv2/dnn.hpp>

#include "image_input.h"

int main(int argc, char** argv) {
  deploy::Args args;
  if (!deploy::parse_args(argc, argv, "classify_onnx", "model.onnx", &args)) return 2;
  try {
    cv::setNumThreads(args.threads);
    const deploy::ModelInfo info = deploy::read_model_info(args.model);
    cv::dnn::Net net = cv::dnn::readNetFromONNX(args.model);
    net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
    net.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
    deploy::Timing timing;
    std::cout << "file,predicted,ms\n";
    for (const auto& file : deploy::find_images(args.inputs)) {
      std::vector<float> pixels = deploy::load_input(file, info);
      const int shape[] = {1, info.channels, info.height, info.width};
      const cv::Mat blob(4, shape, CV_32F, pixels.data());
      const auto t0 = std::chrono::steady_clock::now();
      net.setInput(blob);
      const cv::Mat logits = net.forward();
      const double ms = deploy::ms_since(t0);
      cv::Point best;
      cv::minMaxLoc(logits.reshape(1, 1), nullptr, nullptr, nullptr, &best);
      timing.row(file, deploy::class_name(info, static_cast<size_t>(best.x)), ms);
    }
    timing.summary("OpenCV DNN (ONNX)", args.threads);
  } catch (const std::exception& e) {
    std::cerr << "classify_onnx: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
