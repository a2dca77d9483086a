#include "nascent/data/image_folder.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "nascent/core/error.h"
#include "nascent/data/image_file.h"
#include "support/image_files.h"
#include "support/support.h"

namespace nascent::data {
namespace {

using test::DicomVariant;
using test::TempDir;

// The picture stretched from its own minimum to its maximum (the rule for 16-bit images and
// DICOM files without a window).
std::vector<uint8_t> stretched(const std::vector<uint8_t>& p) {
  const auto [lo, hi] = std::minmax_element(p.begin(), p.end());
  std::vector<uint8_t> out;
  for (uint8_t v : p) out.push_back(static_cast<uint8_t>(std::lround(255.0 * (v - *lo) / (*hi - *lo))));
  return out;
}

int max_abs_diff(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b) {
  EXPECT_EQ(a.size(), b.size());
  int m = 0;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) m = std::max(m, std::abs(int(a[i]) - int(b[i])));
  return m;
}

TEST(ImageFile, EachFormatDecodesBackToThePicture) {
  TempDir dir;
  // Picture 1 (a T-shirt) spans 0..255? Not necessarily: the stretched form is the reference
  // where the format is stretched.
  const std::vector<uint8_t> p = test::fashion_picture(1);
  for (const std::string format : {"png", "bmp", "tiff"}) {
    const std::string path = dir.file("a." + std::string(format == "tiff" ? "tif" : format));
    test::write_image(path, p, 28, 28, format);
    const Image img = decode_image_file(path);
    EXPECT_EQ(img.height, 28);
    EXPECT_EQ(img.width, 28);
    EXPECT_EQ(img.channels, 1) << format;
    EXPECT_EQ(max_abs_diff(img.pixels, p), 0) << format;
  }
  test::write_image(dir.file("b.png"), p, 28, 28, "png16");
  EXPECT_LE(max_abs_diff(decode_image_file(dir.file("b.png")).pixels, stretched(p)), 1);
  test::write_image(dir.file("c.jpg"), p, 28, 28, "jpeg");
  const Image jpeg = decode_image_file(dir.file("c.jpg"));
  double mean_diff = 0;
  for (size_t i = 0; i < p.size(); ++i) mean_diff += std::abs(int(jpeg.pixels[i]) - int(p[i]));
  EXPECT_LT(mean_diff / static_cast<double>(p.size()), 4.0);
  EXPECT_FALSE(jpeg.is_colour());
}

TEST(ImageFile, DicomVariantsReadAsThePicture) {
  TempDir dir;
  const std::vector<uint8_t> p = test::fashion_picture(3);
  const std::vector<uint8_t> s = stretched(p);
  struct Case {
    DicomVariant v;
    std::vector<uint8_t> expected;
  };
  for (const auto& [variant, expected] : std::vector<Case>{{DicomVariant::kMonochrome2, s},
                                                           {DicomVariant::kMonochrome1, s},
                                                           {DicomVariant::kRescaled16, p},
                                                           {DicomVariant::kMultiFrame3, s}}) {
    const std::string path = dir.file("x" + std::to_string(static_cast<int>(variant)) + ".dcm");
    test::write_image(path, p, 28, 28, "dicom", variant);
    const Image img = decode_image_file(path);
    EXPECT_EQ(img.channels, 1);
    EXPECT_EQ(img.height, 28);
    EXPECT_LE(max_abs_diff(img.pixels, expected), 1) << "variant " << static_cast<int>(variant);
  }
  // Compressed pixel data that DCMTK decodes (lossless JPEG: exactly the picture, stretched).
  test::write_image(dir.file("jpeg.dcm"), p, 28, 28, "dicom", DicomVariant::kJpegLossless);
  EXPECT_LE(max_abs_diff(decode_image_file(dir.file("jpeg.dcm")).pixels, s), 1);
  // A syntax it does not decode: one error naming the file and the syntax.
  test::write_image(dir.file("j2k.dcm"), p, 28, 28, "dicom", DicomVariant::kJpeg2000Claimed);
  const std::string j2k = test::error_of([&] { decode_image_file(dir.file("j2k.dcm")); });
  EXPECT_EQ(j2k.rfind(dir.file("j2k.dcm") + ": the DICOM file's transfer syntax JPEG 2000", 0), 0u) << j2k;
  EXPECT_NE(j2k.find("1.2.840.10008.1.2.4.90"), std::string::npos) << j2k;
  // A DICOM file without an extension is recognised by its "DICM" marker.
  test::write_image(dir.file("noext.dcm"), p, 28, 28, "dicom");
  std::filesystem::rename(dir.file("noext.dcm"), dir.file("scan0001"));
  EXPECT_EQ(image_kind(dir.file("scan0001")), "dicom");
  EXPECT_LE(max_abs_diff(decode_image_file(dir.file("scan0001")).pixels, s), 1);
  test::write_file(dir.file("notes"),
                   "not an image at all, though long enough to have 132 bytes..........."
                   "..........................................................................");
  EXPECT_EQ(image_kind(dir.file("notes")), "");
}

TEST(ImageFile, DamagedFilesAreOneErrorNamingTheFile) {
  TempDir dir;
  const std::vector<uint8_t> p = test::fashion_picture(5);
  test::write_image(dir.file("full.jpg"), p, 28, 28, "jpeg");
  const std::string jpeg = test::read_file(dir.file("full.jpg"));
  test::write_file(dir.file("cut.jpg"), jpeg.substr(0, jpeg.size() / 2));
  EXPECT_EQ(test::error_of([&] { decode_image_file(dir.file("cut.jpg")); }),
            dir.file("cut.jpg") + ": the JPEG file is truncated (no end-of-image marker)");
  test::write_image(dir.file("full.png"), p, 28, 28, "png");
  const std::string png = test::read_file(dir.file("full.png"));
  test::write_file(dir.file("cut.png"), png.substr(0, png.size() / 2));
  EXPECT_EQ(test::error_of([&] { decode_image_file(dir.file("cut.png")); }),
            dir.file("cut.png") + ": the PNG file is truncated or damaged (no IEND chunk at its end)");
  test::write_file(dir.file("text.bmp"), "hello, not a bitmap");
  EXPECT_NE(test::error_of([&] { decode_image_file(dir.file("text.bmp")); }).find("cannot decode the bmp image"),
            std::string::npos);
  test::write_image(dir.file("empty.dcm"), p, 28, 28, "dicom", DicomVariant::kNoPixelData);
  EXPECT_EQ(test::error_of([&] { decode_image_file(dir.file("empty.dcm")); }),
            dir.file("empty.dcm") + ": the DICOM file has no pixel data (7FE0,0010)");
  test::write_file(dir.file("bad.dcm"), "not dicom");
  EXPECT_EQ(test::error_of([&] {
              decode_image_file(dir.file("bad.dcm"));
            }).rfind(dir.file("bad.dcm") + ": cannot read the DICOM file", 0),
            0u);
}

TEST(ImageFile, LetterboxKeepsTheWholeImageAndPadsWithBlack) {
  // A 10 x 20 (h x w) white colour image on 16 x 16: 8 rows of image, 4 black rows above and below.
  Image img;
  img.height = 10;
  img.width = 20;
  img.channels = 3;
  img.pixels.assign(10 * 20 * 3, 255);
  img.pixels[0] = 0;  // one pixel with unequal channels: colour
  EXPECT_TRUE(img.is_colour());
  const std::vector<uint8_t> planes = letterbox_planar(img, 16, 3);
  ASSERT_EQ(planes.size(), 3u * 16 * 16);
  for (int c = 0; c < 3; ++c) {
    EXPECT_EQ(planes[c * 256 + 0 * 16 + 8], 0) << "row 0 is padding";
    EXPECT_EQ(planes[c * 256 + 3 * 16 + 8], 0) << "row 3 is padding";
    EXPECT_EQ(planes[c * 256 + 4 * 16 + 8], 255) << "row 4 is image";
    EXPECT_EQ(planes[c * 256 + 11 * 16 + 8], 255) << "row 11 is image";
    EXPECT_EQ(planes[c * 256 + 12 * 16 + 8], 0) << "row 12 is padding";
  }
  const std::vector<uint8_t> gray = letterbox_planar(img, 16, 1);
  EXPECT_EQ(gray.size(), 256u);
  EXPECT_EQ(gray[6 * 16 + 8], 255);
  const Image small = shrink_to(img, 5);
  EXPECT_EQ(small.width, 5);
  EXPECT_EQ(small.height, 3);  // 10 * 5 / 20 = 2.5, rounded
  EXPECT_EQ(small.pixels.size(), 5u * 3 * 3);
}

TEST(StratifiedHoldout, TakesTheFractionOfEveryClassAndKeepsOneToTrainOn) {
  std::vector<int64_t> labels;
  for (int i = 0; i < 100; ++i) labels.push_back(0);
  for (int i = 0; i < 10; ++i) labels.push_back(1);
  labels.push_back(2);
  labels.push_back(2);
  std::vector<int64_t> held, kept;
  stratified_holdout(labels, 0.2, 7, "test", held, kept);
  std::vector<int64_t> per(3, 0);
  for (int64_t i : held) ++per[static_cast<size_t>(labels[static_cast<size_t>(i)])];
  EXPECT_EQ(per, (std::vector<int64_t>{20, 2, 1}));
  EXPECT_EQ(held.size() + kept.size(), labels.size());
  std::vector<int64_t> held2, kept2;
  stratified_holdout(labels, 0.2, 7, "test", held2, kept2);
  EXPECT_EQ(held, held2);
  stratified_holdout(labels, 0.2, 8, "test", held2, kept2);
  EXPECT_NE(held, held2);
}

TEST(ImageFolder, AutoSideIsTheMedianLongerSideCapped) {
  EXPECT_EQ(auto_image_side({28, 28, 30, 20, 28}), 28);
  EXPECT_EQ(auto_image_side({500, 640, 480}), kAutoImageSideCap);
  EXPECT_EQ(auto_image_side({4, 4, 5}), 8);
}

TEST(ImageFolder, ImbalancedPngAndJpegFolderLoadsStratified) {
  TempDir dir;
  test::write_class_folders(dir.path(), {{0, 100}, {7, 10}}, {"png", "jpeg"});
  test::write_file(dir.file("c0/README.txt"), "notes about the pictures");
  TaskOptions o;
  o.dataset = "images";
  o.path = dir.path();
  const TaskData d = load_task(o);
  EXPECT_EQ(d.task.kind, "image");
  EXPECT_EQ(d.task.input_shape, (std::vector<int64_t>{1, 28, 28}));
  EXPECT_EQ(d.task.num_classes, 2);
  EXPECT_EQ(d.class_names, (std::vector<std::string>{"c0", "c7"}));
  // 20% of each class for testing, then 10% of the rest for validation.
  EXPECT_EQ(class_counts(d.test, 2), (std::vector<int64_t>{20, 2}));
  EXPECT_EQ(class_counts(d.val, 2), (std::vector<int64_t>{8, 1}));
  EXPECT_EQ(class_counts(d.train, 2), (std::vector<int64_t>{72, 7}));
  EXPECT_NEAR(d.imbalance_ratio, 72.0 / 7.0, 1e-9);
  ASSERT_EQ(d.mean.size(), 1u);
  const double train_mean = d.train.x.to(torch::kFloat32).mean().item<double>() / 255.0;
  EXPECT_NEAR(d.mean[0], train_mean, 1e-4);
  std::string notes;
  for (const auto& n : d.notes) notes += n + "\n";
  EXPECT_NE(notes.find("images: 110 files (55 jpeg, 55 png) in 2 classes"), std::string::npos) << notes;
  EXPECT_NE(notes.find("1 files that are not images were ignored"), std::string::npos) << notes;
  EXPECT_NE(notes.find("the classes are imbalanced: 'c0' has 72 training examples, 'c7' only 7"), std::string::npos)
      << notes;
  // The same folder, the same split.
  const TaskData again = load_task(o);
  EXPECT_TRUE(torch::equal(d.test.y, again.test.y));
  EXPECT_TRUE(torch::equal(d.train.x, again.train.x));
}

TEST(ImageFolder, SplitFoldersColourAndFixedSize) {
  TempDir dir;
  test::write_class_folders(dir.file("train"), {{1, 6}, {2, 6}}, {"bmp"});
  test::write_class_folders(dir.file("test"), {{1, 3}, {2, 2}}, {"png"}, 30000);
  TaskOptions o;
  o.dataset = "images";
  o.path = dir.path();
  o.image_size = 16;
  TaskData gray = load_task(o);
  EXPECT_EQ(gray.task.input_shape, (std::vector<int64_t>{1, 16, 16}));
  EXPECT_EQ(gray.test.size(), 5);
  EXPECT_EQ(gray.val.size() + gray.train.size(), 12);
  EXPECT_EQ(class_counts(gray.val, 2), (std::vector<int64_t>{1, 1}));
  o.channels = 3;
  TaskData forced = load_task(o);
  EXPECT_EQ(forced.task.input_shape, (std::vector<int64_t>{3, 16, 16}));
  EXPECT_TRUE(torch::equal(forced.train.x.select(1, 0), forced.train.x.select(1, 2)));
  EXPECT_EQ(forced.mean.size(), 3u);
  // One colour image among gray ones makes the set colour (gray images get three equal channels).
  test::write_rgb_png(dir.file("train/c2/red.png"), 40, 20, 200, 10, 10);
  o.channels = 0;
  TaskData colour = load_task(o);
  EXPECT_EQ(colour.task.input_shape, (std::vector<int64_t>{3, 16, 16}));
  EXPECT_EQ(colour.train.size() + colour.val.size(), 13);
}

TEST(ImageFolder, BadLayoutsAreOneErrorNamingTheFolder) {
  TempDir dir;
  TaskOptions o;
  o.dataset = "images";
  o.path = dir.path();
  EXPECT_NE(
      test::error_of([&] { load_task(o); }).find(dir.path() + ": no class folders; expected one sub-folder per class"),
      std::string::npos);
  test::write_class_folders(dir.path(), {{0, 3}}, {"png"});
  EXPECT_EQ(test::error_of([&] { load_task(o); }),
            dir.path() + ": only one class folder ('c0'); classification needs at least 2 classes");
  test::write_class_folders(dir.path(), {{1, 1}}, {"png"});
  EXPECT_EQ(test::error_of([&] { load_task(o); }),
            dir.path() +
                "/c1: only 1 image in class 'c1'; each class needs at least 2 (one to learn from, one to "
                "check on)");
  std::filesystem::create_directories(dir.file("c2"));
  test::write_class_folders(dir.path(), {{1, 3}}, {"png"});
  EXPECT_EQ(test::error_of([&] { load_task(o); }),
            dir.path() + "/c2: no PNG, JPEG, BMP, TIFF or DICOM images in the class folder");
  o.path = dir.file("missing");
  EXPECT_EQ(test::error_of([&] { load_task(o); }),
            dir.file("missing") + ": task.path: no such folder; expected a folder with one sub-folder per class");
}

TEST(ImageFolder, AnUnreadableImageStopsOrIsSkippedAndListed) {
  TempDir dir;
  test::write_class_folders(dir.path(), {{0, 4}, {1, 4}}, {"png"});
  test::write_file(dir.file("c1/broken.png"), "not a png");  // no IEND: "truncated or damaged"
  TaskOptions o;
  o.dataset = "images";
  o.path = dir.path();
  const std::string e = test::error_of([&] { load_task(o); });
  EXPECT_EQ(e.rfind(dir.file("c1/broken.png") + ": the PNG file is truncated or damaged", 0), 0u) << e;
  EXPECT_NE(e.find("task.bad_files: skip"), std::string::npos);
  o.bad_files = "skip";
  const TaskData d = load_task(o);
  ASSERT_EQ(d.skipped.size(), 1u);
  EXPECT_EQ(d.skipped[0].rfind(dir.file("c1/broken.png") + ":", 0), 0u);
  EXPECT_EQ(d.train.size() + d.val.size() + d.test.size(), 8);
}

}  // namespace
}  // namespace nascent::data
