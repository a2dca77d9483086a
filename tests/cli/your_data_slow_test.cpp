// `nascent search --data DIR` with no config on folders of real image files and DICOM files made
// from Fashion-MNIST pictures, then `nascent predict` on other pictures of the same classes.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "nascent/core/config.h"
#include "support/image_files.h"
#include "support/support.h"

namespace nascent {
namespace {

using test::run_nascent;
using test::TempDir;

size_t count_lines(const std::string& text) { return static_cast<size_t>(std::count(text.begin(), text.end(), '\n')); }

// T-shirts (label 0) outnumber trousers (label 1) 10:1.
void imbalanced_folder(const std::string& root, const std::vector<std::string>& formats, int64_t start) {
  test::write_class_folders(root, {{0, 200}, {1, 20}}, formats, start);
}

TEST(YourData, AnImbalancedPngAndJpegFolderWithNoConfigThenPredict) {
  TempDir dir;
  imbalanced_folder(dir.file("photos"), {"png", "jpeg"}, 0);
  const std::string run = dir.file("run");
  auto s = run_nascent({"search", "--data", dir.file("photos"), "--time-budget", "1", "--out", run});
  ASSERT_EQ(s.exit_code, 0) << s.out;
  // It says what it found and chose, in plain words.
  EXPECT_NE(s.out.find("220 images in 2 classes: a search over plain and residual convolutional networks"),
            std::string::npos)
      << s.out;
  EXPECT_NE(s.out.find("the classes are imbalanced: 'c0' has"), std::string::npos) << s.out;
  EXPECT_NE(s.out.find("the search maximises balanced accuracy"), std::string::npos) << s.out;
  // The complete config, loadable and pointing at the data.
  const nlohmann::json config = load_config_file(run + "/config.yaml");
  EXPECT_EQ(config["task"]["dataset"], "images");
  EXPECT_EQ(config["task"]["path"], dir.file("photos"));
  EXPECT_EQ(config["objective"]["metrics"][0]["name"], "val_balanced_accuracy");
  EXPECT_EQ(config["train"]["class_weights"], "auto");
  EXPECT_EQ(config["space"]["name"], "cnn");
  const auto summary = nlohmann::json::parse(test::read_file(run + "/summary.json"));
  const nlohmann::json& final = summary["final"];
  ASSERT_TRUE(final.contains("test_classes")) << summary.dump();
  // 20% of each class is the test split: 40 T-shirts, 4 trousers.
  EXPECT_EQ(final["test_classes"]["per_class"][0]["support"], 40);
  EXPECT_EQ(final["test_classes"]["per_class"][1]["support"], 4);
  EXPECT_EQ(final["test_classes"]["confusion"].size(), 2u);
  EXPECT_GT(final["test_balanced_accuracy"].get<double>(), 0.5) << final.dump();
  EXPECT_TRUE(summary["best"]["metrics"].contains("val_balanced_accuracy"));
  // The report shows the classes and the worst mistakes as images.
  if (!final["test_classes"]["misclassified"].empty()) {
    EXPECT_GT(final["test_classes"]["misclassified"][0]["png"].get<std::string>().size(), 100u);
  }
  const std::string report = test::read_file(run + "/report.html");
  EXPECT_NE(report.find("<section id=\"classes\">"), std::string::npos);
  ASSERT_TRUE(std::filesystem::exists(run + "/model.pt"));

  // Other pictures of the same classes, in folders named like the classes: labelled.
  imbalanced_folder(dir.file("new"), {"png"}, 30000);
  auto p = run_nascent({"predict", "--model", run, "--data", dir.file("new"), "--out", dir.file("pred.csv"),
                        "--metrics-out", dir.file("metrics.json")});
  ASSERT_EQ(p.exit_code, 0) << p.out;
  const std::string csv = test::read_file(dir.file("pred.csv"));
  EXPECT_EQ(count_lines(csv), 1u + 220u);
  EXPECT_EQ(csv.rfind("file,predicted,probability,p_c0,p_c1,label\n", 0), 0u) << csv.substr(0, 200);
  EXPECT_NE(p.out.find("220 labelled images (from their class folders): accuracy"), std::string::npos) << p.out;
  const auto metrics = nlohmann::json::parse(test::read_file(dir.file("metrics.json")));
  EXPECT_EQ(metrics["per_class"][1]["name"], "c1");
  EXPECT_EQ(metrics["per_class"][1]["support"], 20);
  EXPECT_GT(metrics["per_class"][1]["recall"].get<double>(), 0.5) << metrics.dump();
  // An existing predictions file is not overwritten.
  auto again = run_nascent({"predict", "--model", run, "--data", dir.file("new"), "--out", dir.file("pred.csv")});
  EXPECT_EQ(again.exit_code, 2);
  EXPECT_NE(again.out.find("pred.csv: --out: exists and would be overwritten"), std::string::npos) << again.out;
  // One image alone.
  const std::string image = std::filesystem::directory_iterator(dir.file("new/c1"))->path().string();
  auto one = run_nascent({"predict", "--model", run + "/model.pt", "--data", image, "--out", dir.file("one.csv")});
  ASSERT_EQ(one.exit_code, 0) << one.out;
  EXPECT_EQ(count_lines(test::read_file(dir.file("one.csv"))), 2u);
}

TEST(YourData, ADicomFolderWithNoConfigThenPredict) {
  TempDir dir;
  test::write_class_folders(dir.file("scans"), {{0, 60}, {1, 60}}, {"dicom"});
  const std::string run = dir.file("run");
  auto s = run_nascent({"search", "--data", dir.file("scans"), "--time-budget", "0.75", "--out", run});
  ASSERT_EQ(s.exit_code, 0) << s.out;
  EXPECT_NE(s.out.find("images: 120 files (120 dicom) in 2 classes"), std::string::npos) << s.out;
  const auto summary = nlohmann::json::parse(test::read_file(run + "/summary.json"));
  EXPECT_GT(summary["final"]["test_accuracy"].get<double>(), 0.8) << summary.dump();
  test::write_class_folders(dir.file("more"), {{0, 10}, {1, 10}}, {"dicom"}, 30000);
  auto p = run_nascent({"predict", "--model", run, "--data", dir.file("more"), "--out", dir.file("p.csv")});
  ASSERT_EQ(p.exit_code, 0) << p.out;
  EXPECT_EQ(count_lines(test::read_file(dir.file("p.csv"))), 21u);
}

TEST(YourData, ACsvWithCategoricalColumnsAndANamedLabelThenPredict) {
  TempDir dir;
  // The penguins table with its species column named "class": island and sex are words, some
  // values are NA.
  std::string table = test::read_file(test::kPenguinsCsv);
  table.replace(0, std::string("species").size(), "class");
  test::write_file(dir.file("penguins.csv"), table);
  const std::string run = dir.file("run");
  auto s = run_nascent({"search", "--data", dir.file("penguins.csv"), "--time-budget", "0.5", "--out", run});
  ASSERT_EQ(s.exit_code, 0) << s.out;
  EXPECT_NE(s.out.find("a table: the label is column 'class'"), std::string::npos) << s.out;
  EXPECT_NE(s.out.find("column 'island' is categorical: one-hot over its 3 values"), std::string::npos) << s.out;
  const nlohmann::json config = load_config_file(run + "/config.yaml");
  EXPECT_EQ(config["task"]["label_column"], "class");
  EXPECT_EQ(config["space"]["name"], "mlp");
  const auto model = nlohmann::json::parse(test::read_file(run + "/model.json"));
  EXPECT_EQ(model["input"]["label_column"], "class");
  EXPECT_EQ(model["input"]["shape"][1], 10);  // 5 numbers, island (3), sex (2)
  auto p = run_nascent({"predict", "--model", run, "--data", dir.file("penguins.csv"), "--out", dir.file("p.csv"),
                        "--metrics-out", dir.file("m.json")});
  ASSERT_EQ(p.exit_code, 0) << p.out;
  EXPECT_EQ(count_lines(test::read_file(dir.file("p.csv"))), 1u + 344u);
  EXPECT_NE(p.out.find("344 labelled rows (column class): accuracy"), std::string::npos) << p.out;
  // The model has seen most of these rows: a working encoding classifies nearly all of them.
  EXPECT_GT(nlohmann::json::parse(test::read_file(dir.file("m.json")))["accuracy"].get<double>(), 0.9);
}

TEST(YourData, BadFoldersAreOneLineAndExit2) {
  TempDir dir;
  std::filesystem::create_directories(dir.file("empty"));
  auto e = run_nascent({"search", "--data", dir.file("empty"), "--out", dir.file("r1")});
  EXPECT_EQ(e.exit_code, 2);
  EXPECT_EQ(e.out, "nascent: error: " + dir.file("empty") +
                       ": no class folders; expected one sub-folder per class with its images inside (e.g. " +
                       dir.file("empty") + "/cat/1.png, " + dir.file("empty") + "/dog/2.png)\n");
  test::write_class_folders(dir.file("one"), {{3, 5}}, {"png"});
  auto o = run_nascent({"search", "--data", dir.file("one"), "--out", dir.file("r2")});
  EXPECT_EQ(o.exit_code, 2);
  EXPECT_EQ(count_lines(o.out), 1u) << o.out;
  EXPECT_NE(o.out.find("only one class folder ('c3')"), std::string::npos) << o.out;
  auto single =
      run_nascent({"search", "--data", dir.file("one/c3/" + std::string("missing.png")), "--out", dir.file("r3")});
  EXPECT_EQ(single.exit_code, 2);
  EXPECT_NE(single.out.find("--data: no such file or folder"), std::string::npos) << single.out;
  test::write_class_folders(dir.file("bad"), {{3, 5}, {4, 5}}, {"dicom"});
  test::write_image(dir.file("bad/c4/empty.dcm"), test::fashion_picture(0), 28, 28, "dicom",
                    test::DicomVariant::kNoPixelData);
  auto b = run_nascent({"search", "--data", dir.file("bad"), "--out", dir.file("r4")});
  EXPECT_EQ(b.exit_code, 2);
  EXPECT_EQ(count_lines(b.out), 1u) << b.out;
  EXPECT_NE(b.out.find(dir.file("bad/c4/empty.dcm") + ": the DICOM file has no pixel data"), std::string::npos)
      << b.out;
}

}  // namespace
}  // namespace nascent
