// examples/deploy as a user builds and runs it: a search's exported model (model.pt) and its ONNX
// export, classified outside nascent by the two example programs (LibTorch; OpenCV's DNN module
// without LibTorch), give the classes `nascent predict` gives on 300 Fashion-MNIST pictures the
// model never trained on.
#include <gtest/gtest.h>

#include <cstdlib>
#include <map>
#include <sstream>

#include "support/image_files.h"
#include "support/support.h"

namespace nascent {
namespace {

// file -> predicted class, from a CSV whose first two columns are file and predicted (no
// field of these holds a comma).
std::map<std::string, std::string> predictions(const std::string& csv) {
  std::map<std::string, std::string> out;
  std::istringstream in(csv);
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    const auto a = line.find(','), b = line.find(',', a + 1);
    out[line.substr(0, a)] = line.substr(a + 1, b - a - 1);
  }
  return out;
}

int sh(const std::string& cmd) { return std::system(cmd.c_str()); }

TEST(Deploy, TheExampleProgramsClassifyAsNascentPredictDoes) {
  test::TempDir dir;
  const std::string run = dir.file("run");
  auto s = test::run_nascent(
      {"search", "--config", "examples/smoke.yaml", "--max-trials", "2", "--set", "final.epochs=1", "--out", run});
  ASSERT_EQ(s.exit_code, 0) << s.out;
  auto e = test::run_nascent({"export", "--run", run, "--format", "onnx", "--out", dir.file("model.onnx")});
  ASSERT_EQ(e.exit_code, 0) << e.out;
  // 30 pictures of each class from picture 50,000 on (the smoke search trains on the first 6,000).
  std::vector<std::pair<int64_t, int64_t>> counts;
  for (int64_t c = 0; c < 10; ++c) counts.push_back({c, 30});
  test::write_class_folders(dir.file("images"), counts, {"png"}, 50000);
  auto p = test::run_nascent({"predict", "--model", run, "--data", dir.file("images"), "--out", dir.file("pred.csv")});
  ASSERT_EQ(p.exit_code, 0) << p.out;
  const auto reference = predictions(test::read_file(dir.file("pred.csv")));
  ASSERT_EQ(reference.size(), 300u);

  const std::string build = dir.file("build");
  ASSERT_EQ(sh("cmake -S '" + test::source_dir() + "/examples/deploy' -B '" + build +
               "' -G Ninja -DCMAKE_BUILD_TYPE=Release > '" + dir.file("cmake.log") + "' 2>&1 && cmake --build '" +
               build + "' >> '" + dir.file("cmake.log") + "' 2>&1"),
            0)
      << test::read_file(dir.file("cmake.log"));
  ASSERT_EQ(sh("'" + build + "/classify_torchscript' '" + run + "/model.pt' '" + dir.file("images") + "' > '" +
               dir.file("ts.csv") + "' 2> '" + dir.file("ts.log") + "'"),
            0)
      << test::read_file(dir.file("ts.log"));
  ASSERT_EQ(sh("'" + build + "/classify_onnx' '" + dir.file("model.onnx") + "' '" + dir.file("images") + "' > '" +
               dir.file("onnx.csv") + "' 2> '" + dir.file("onnx.log") + "'"),
            0)
      << test::read_file(dir.file("onnx.log"));
  EXPECT_NE(test::read_file(dir.file("ts.log")).find("300 images with LibTorch (TorchScript): median "),
            std::string::npos)
      << test::read_file(dir.file("ts.log"));
  EXPECT_NE(test::read_file(dir.file("onnx.log")).find("300 images with OpenCV DNN (ONNX): median "), std::string::npos)
      << test::read_file(dir.file("onnx.log"));

  const std::vector<std::string> names = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                          "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
  for (const char* which : {"ts.csv", "onnx.csv"}) {
    const auto got = predictions(test::read_file(dir.file(which)));
    ASSERT_EQ(got.size(), 300u) << which;
    int same = 0, right = 0;
    for (const auto& [file, cls] : got) {
      ASSERT_TRUE(reference.count(file)) << which << ": " << file;
      same += reference.at(file) == cls;
      // images/c<label>/<n>.png
      const size_t at = file.find("/images/c") + 9;
      right += names[static_cast<size_t>(std::stoi(file.substr(at, file.find('/', at) - at)))] == cls;
    }
    // The same network on the same pixels: TorchScript in the same LibTorch gives the same
    // classes; OpenCV's kernels may round a near tie the other way.
    if (std::string(which) == "ts.csv")
      EXPECT_EQ(same, 300);
    else
      EXPECT_GE(same, 297);
    EXPECT_GT(right, 150) << which << ": a trained model classifies most of these pictures";
  }
}

}  // namespace
}  // namespace nascent
