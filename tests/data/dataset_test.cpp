#include "nascent/data/dataset.h"

#include <gtest/gtest.h>

#include <set>

#include "nascent/core/error.h"
#include "nascent/data/idx.h"
#include "support/support.h"

namespace nascent::data {
namespace {

TEST(FashionMnist, LoadsTheDebianFilesWithAFixedSplit) {
  TaskOptions o;  // defaults: the Debian package, 10% validation
  TaskData d = load_task(o);
  EXPECT_EQ(d.train.size(), 54000);
  EXPECT_EQ(d.val.size(), 6000);
  EXPECT_EQ(d.test.size(), 10000);
  EXPECT_EQ(d.task.input_shape, (std::vector<int64_t>{1, 28, 28}));
  EXPECT_EQ(d.task.num_classes, 10);
  EXPECT_EQ(d.train.x.sizes(), (std::vector<int64_t>{54000, 1, 28, 28}));
  EXPECT_EQ(d.train.x.scalar_type(), torch::kUInt8);
  // Published statistics of Fashion-MNIST training images: mean 0.286, std 0.353.
  EXPECT_NEAR(d.mean[0], 0.286, 0.002);
  EXPECT_NEAR(d.std[0], 0.353, 0.002);
  // Every class appears in validation, roughly balanced (600 each).
  auto counts = torch::bincount(d.val.y, {}, 10);
  EXPECT_GT(counts.min().item<int64_t>(), 500);
  // The same split seed gives the same split; another seed gives another one.
  TaskData again = load_task(o);
  EXPECT_TRUE(torch::equal(again.val.y, d.val.y));
  EXPECT_TRUE(torch::equal(again.val.x, d.val.x));
  o.split_seed = 1;
  TaskData other = load_task(o);
  EXPECT_FALSE(torch::equal(other.val.x, d.val.x));
}

TEST(FashionMnist, LimitKeepsTheValidationShare) {
  TaskOptions o;
  o.limit = 1000;
  TaskData d = load_task(o);
  EXPECT_EQ(d.val.size(), 100);
  EXPECT_EQ(d.train.size(), 900);
  EXPECT_EQ(d.test.size(), 10000);
}

TEST(FashionMnist, TrainAndValidationDoNotOverlap) {
  TaskOptions o;
  o.limit = 3000;
  TaskData d = load_task(o);
  // Compare images by content: no validation image is also a training image.
  auto key = [](const torch::Tensor& img) {
    auto c = img.contiguous();
    return std::string(reinterpret_cast<const char*>(c.data_ptr<uint8_t>()), c.numel());
  };
  std::set<std::string> train;
  for (int64_t i = 0; i < d.train.size(); ++i) train.insert(key(d.train.x[i]));
  int64_t shared = 0;
  for (int64_t i = 0; i < d.val.size(); ++i) shared += train.count(key(d.val.x[i]));
  EXPECT_EQ(shared, 0);
}

TEST(Dataset, MissingFileIsNamed) {
  nascent::test::TempDir dir;
  TaskOptions o;
  o.path = dir.path();
  try {
    load_task(o);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()),
              dir.file("train-images-idx3-ubyte.gz") + ": cannot open IDX file (No such file or directory)");
  }
}

TEST(Dataset, LabelCountMismatchIsNamed) {
  nascent::test::TempDir dir;
  IdxArray images{{4, 2, 2}, std::vector<uint8_t>(16, 1)};
  IdxArray labels{{3}, {0, 1, 2}};
  write_idx(dir.file("ti"), images);
  write_idx(dir.file("tl"), labels);
  TaskOptions o;
  o.dataset = "idx";
  o.path = dir.path();
  o.train_images = o.test_images = "ti";
  o.train_labels = o.test_labels = "tl";
  try {
    load_task(o);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()), dir.file("tl") + ": header: 3 labels for 4 images in " + dir.file("ti"));
  }
}

TEST(Dataset, PlainIdxFilesAreFoundUnderTheDefaultGzNamesAndClassesAreNamed) {
  nascent::test::TempDir dir;
  // Plain files under the default names without ".gz": nothing to list in the config.
  IdxArray images{{20, 2, 2}, std::vector<uint8_t>(80, 7)};
  IdxArray labels{{20}, {}};
  for (int i = 0; i < 20; ++i) labels.bytes.push_back(static_cast<uint8_t>(i % 3));
  write_idx(dir.file("train-images-idx3-ubyte"), images);
  write_idx(dir.file("train-labels-idx1-ubyte"), labels);
  write_idx(dir.file("t10k-images-idx3-ubyte"), images);
  write_idx(dir.file("t10k-labels-idx1-ubyte"), labels);
  TaskOptions o;
  o.dataset = "idx";
  o.path = dir.path();
  o.val_fraction = 0.25;
  const TaskData d = load_task(o);
  EXPECT_EQ(d.train.size() + d.val.size(), 20);
  EXPECT_EQ(d.class_names, (std::vector<std::string>{"0", "1", "2"}));
  // Fashion-MNIST's own names.
  EXPECT_EQ(load_task(TaskOptions{}).class_names.at(9), "Ankle boot");
  // task.class_names names the label values; a count that differs is one error naming both.
  o.class_names = {"ok", "scratch", "dent"};
  EXPECT_EQ(load_task(o).class_names, o.class_names);
  o.class_names = {"ok", "faulty"};
  o.class_names_file = "parts.yaml";
  try {
    load_task(o);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()), "parts.yaml: task.class_names: has 2 names but " +
                                         dir.file("train-labels-idx1-ubyte") +
                                         " has labels 0..2 (3 classes); give one name per label value");
  }
}

}  // namespace
}  // namespace nascent::data
