// What both deployment examples share, with no LibTorch in it: reading the model's description
// (model.json beside model.pt, model.onnx.json beside model.onnx), finding the image files, and
// turning one image into the model's input exactly as nascent's trainer and `nascent predict`
// do: decoded, converted to the model's channels (colour -> gray by ITU-R BT.601 luma), the
// longer side scaled to the model's side (area averaging when shrinking, bilinear when
// enlarging), centred on a black square, pixels / 255 as float32 [C, H, W]. The normalisation
// is inside the model. 8-bit PNG, JPEG, BMP and TIFF files; nascent itself also reads 16-bit
// images and DICOM.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <stdexcept>
#include <string>
#include <vector>

namespace deploy {

struct ModelInfo {
  int channels = 1, height = 28, width = 28;
  std::vector<std::string> class_names;  // empty: classes are printed as numbers
};

// model.pt -> model.json; any other file name -> NAME.json (model.onnx -> model.onnx.json).
inline std::string description_path(const std::string& model) {
  const std::filesystem::path p(model);
  if (p.extension() == ".pt") return (p.parent_path() / (p.stem().string() + ".json")).string();
  return model + ".json";
}

inline ModelInfo read_model_info(const std::string& model) {
  const std::string path = description_path(model);
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path + ": cannot open the model's description");
  const nlohmann::json d = nlohmann::json::parse(in);
  const nlohmann::json& shape = d.at("input").at("shape");  // [null, C, H, W]
  if (!shape.is_array() || shape.size() != 4)
    throw std::runtime_error(path + ": input.shape: expected [batch, channels, height, width] (an image model)");
  ModelInfo m;
  m.channels = shape[1].get<int>();
  m.height = shape[2].get<int>();
  m.width = shape[3].get<int>();
  if (d.contains("class_names")) m.class_names = d["class_names"].get<std::vector<std::string>>();
  return m;
}

inline bool is_image(const std::filesystem::path& p) {
  std::string e = p.extension().string();
  std::transform(e.begin(), e.end(), e.begin(), [](unsigned char c) { return std::tolower(c); });
  return e == ".png" || e == ".jpg" || e == ".jpeg" || e == ".bmp" || e == ".tif" || e == ".tiff";
}

// The files named, and every image file below the folders named, each folder's in name order.
inline std::vector<std::string> find_images(const std::vector<std::string>& args) {
  std::vector<std::string> out;
  for (const auto& a : args) {
    if (!std::filesystem::is_directory(a)) {
      out.push_back(a);
      continue;
    }
    std::vector<std::string> found;
    for (const auto& e : std::filesystem::recursive_directory_iterator(a))
      if (e.is_regular_file() && is_image(e.path())) found.push_back(e.path().string());
    std::sort(found.begin(), found.end());
    out.insert(out.end(), found.begin(), found.end());
  }
  return out;
}

// float32 [C, H, W] in [0, 1], planar.
inline std::vector<float> load_input(const std::string& path, const ModelInfo& m) {
  cv::Mat img = cv::imread(path, cv::IMREAD_UNCHANGED);
  if (img.empty()) throw std::runtime_error(path + ": not an image OpenCV can read");
  if (img.depth() != CV_8U) throw std::runtime_error(path + ": only 8-bit images are read by this example");
  if (img.channels() == 4) cv::cvtColor(img, img, cv::COLOR_BGRA2BGR);
  if (img.channels() == 3) cv::cvtColor(img, img, m.channels == 1 ? cv::COLOR_BGR2GRAY : cv::COLOR_BGR2RGB);
  if (img.channels() == 1 && m.channels == 3) cv::cvtColor(img, img, cv::COLOR_GRAY2RGB);
  if (m.height != m.width) throw std::runtime_error("this example handles square inputs, as nascent's image tasks are");
  const int size = m.height, longer = std::max(img.rows, img.cols);
  const double s = static_cast<double>(size) / longer;
  const int h = std::clamp(static_cast<int>(std::lround(img.rows * s)), 1, size);
  const int w = std::clamp(static_cast<int>(std::lround(img.cols * s)), 1, size);
  cv::Mat scaled = img;
  if (h != img.rows || w != img.cols)
    cv::resize(img, scaled, cv::Size(w, h), 0, 0, s < 1 ? cv::INTER_AREA : cv::INTER_LINEAR);
  cv::Mat square = cv::Mat::zeros(size, size, scaled.type());
  scaled.copyTo(square(cv::Rect((size - w) / 2, (size - h) / 2, w, h)));
  std::vector<cv::Mat> planes;
  cv::split(square, planes);
  std::vector<float> out;
  out.reserve(static_cast<size_t>(m.channels) * size * size);
  for (const cv::Mat& p : planes)
    for (int i = 0; i < size * size; ++i) out.push_back(p.data[i] / 255.0f);
  return out;
}

inline std::string class_name(const ModelInfo& m, size_t k) {
  return k < m.class_names.size() ? m.class_names[k] : std::to_string(k);
}

// A CSV field: quoted when it holds a comma, a quote or a line break.
inline std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

// Prints "file,predicted,ms" rows as it goes and, on stderr, the median time per image.
class Timing {
 public:
  void row(const std::string& file, const std::string& predicted, double ms) {
    std::printf("%s,%s,%.4f\n", csv_field(file).c_str(), csv_field(predicted).c_str(), ms);
    ms_.push_back(ms);
  }
  void summary(const char* runtime, int threads) {
    if (ms_.empty()) return;
    std::vector<double> s = ms_;
    std::sort(s.begin(), s.end());
    std::fprintf(stderr,
                 "%zu images with %s: median %.3f ms per image (batch 1, %d thread%s; reading the file not included)\n",
                 s.size(), runtime, s[s.size() / 2], threads, threads == 1 ? "" : "s");
  }

 private:
  std::vector<double> ms_;
};

// The command line: [--threads N] MODEL IMAGE_OR_FOLDER... Returns false (after printing the
// usage) when it is not that.
struct Args {
  int threads = 1;
  std::string model;
  std::vector<std::string> inputs;
};
inline bool parse_args(int argc, char** argv, const char* program, const char* model_name, Args* out) {
  std::vector<std::string> a(argv + 1, argv + argc);
  if (a.size() >= 2 && a[0] == "--threads") {
    out->threads = std::atoi(a[1].c_str());
    a.erase(a.begin(), a.begin() + 2);
  }
  if (a.size() < 2 || out->threads < 1) {
    std::fprintf(stderr, "usage: %s [--threads N] %s IMAGE_OR_FOLDER...\n", program, model_name);
    return false;
  }
  out->model = a[0];
  out->inputs.assign(a.begin() + 1, a.end());
  return true;
}

inline double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace deploy
