#include "nascent/data/dataset.h"

#include <fmt/format.h>

#include "nascent/core/config.h"
#include "nascent/core/error.h"
#include "nascent/core/rng.h"
#include "nascent/data/idx.h"

namespace nascent::data {
namespace {

std::string resolve(const std::string& dir, const std::string& file) {
  if (!file.empty() && file[0] == '/') return file;
  return dir + "/" + file;
}

// Images [N, H, W] or [N, C, H, W] and labels [N] from a pair of IDX files.
Split read_pair(const std::string& images_path, const std::string& labels_path, int64_t& classes) {
  IdxArray images = read_idx(images_path);
  if (images.dims.size() != 3 && images.dims.size() != 4)
    throw InputError(images_path, "header",
                     fmt::format("expected images of rank 3 or 4, got rank {}", images.dims.size()));
  IdxArray labels = read_idx(labels_path, 1);
  if (labels.dims[0] != images.dims[0])
    throw InputError(labels_path, "header",
                     fmt::format("{} labels for {} images in {}", labels.dims[0], images.dims[0], images_path));
  std::vector<int64_t> shape = images.dims;
  if (shape.size() == 3) shape.insert(shape.begin() + 1, 1);
  Split s;
  s.x = torch::from_blob(images.bytes.data(), shape, torch::kUInt8).clone();
  s.y = torch::from_blob(labels.bytes.data(), {labels.dims[0]}, torch::kUInt8).to(torch::kInt64);
  int64_t max_label = 0;
  for (uint8_t l : labels.bytes) max_label = std::max<int64_t>(max_label, l);
  classes = std::max(classes, max_label + 1);
  return s;
}

Split take(const Split& s, const torch::Tensor& idx) { return {s.x.index_select(0, idx), s.y.index_select(0, idx)}; }

}  // namespace

TaskOptions TaskOptions::from_config(ConfigSection& sec) {
  TaskOptions o;
  o.dataset = sec.get_choice("dataset", o.dataset, {"fashion-mnist", "idx"});
  o.path = sec.get_string("path", o.path);
  if (o.dataset == "idx") {
    o.train_images = sec.get_string("train_images", o.train_images);
    o.train_labels = sec.get_string("train_labels", o.train_labels);
    o.test_images = sec.get_string("test_images", o.test_images);
    o.test_labels = sec.get_string("test_labels", o.test_labels);
  }
  o.val_fraction = sec.get_double("val_fraction", o.val_fraction, 0.01, 0.5);
  o.split_seed = sec.get_int("split_seed", o.split_seed, 0, INT64_MAX);
  o.limit = sec.get_int("limit", o.limit, 0, INT64_MAX);
  sec.finish();
  return o;
}

TaskData load_task(const TaskOptions& o) {
  TaskData d;
  int64_t classes = 0;
  Split full = read_pair(resolve(o.path, o.train_images), resolve(o.path, o.train_labels), classes);
  d.test = read_pair(resolve(o.path, o.test_images), resolve(o.path, o.test_labels), classes);
  if (d.test.x.sizes().slice(1) != full.x.sizes().slice(1))
    throw InputError(resolve(o.path, o.test_images), "header",
                     "test images have a different shape from the training images");

  // Fixed permutation: validation = first n_val, train = the rest.
  const int64_t n = full.size();
  Rng rng = Rng::derive(static_cast<uint64_t>(o.split_seed), "data-split");
  std::vector<int64_t> perm(n);
  for (int64_t i = 0; i < n; ++i) perm[i] = i;
  rng.shuffle(perm);
  int64_t n_val = static_cast<int64_t>(o.val_fraction * static_cast<double>(n) + 0.5);
  int64_t n_train = n - n_val;
  if (o.limit > 0 && o.limit < n) {
    // Keep the same val/train proportion inside the limit.
    n_val = std::max<int64_t>(1, static_cast<int64_t>(o.val_fraction * o.limit + 0.5));
    n_train = o.limit - n_val;
  }
  if (n_train < 1 || n_val < 1)
    throw InputError("", "task.val_fraction", "leaves an empty training or validation split");
  auto idx = torch::from_blob(perm.data(), {n}, torch::kInt64).clone();
  d.val = take(full, idx.slice(0, 0, n_val));
  d.train = take(full, idx.slice(0, n_val, n_val + n_train));

  d.task.name = o.dataset == "fashion-mnist" ? "fashion-mnist" : "idx";
  d.task.kind = "image";
  d.task.input_shape = {full.x.size(1), full.x.size(2), full.x.size(3)};
  d.task.num_classes = classes;
  d.source = o.path;
  d.split_seed = static_cast<uint64_t>(o.split_seed);
  // Per-channel statistics of the training split, in [0, 1] units.
  auto xf = d.train.x.to(torch::kFloat32).div_(255.0f);
  auto mean = xf.mean({0, 2, 3});
  auto std = xf.std({0, 2, 3});
  for (int64_t c = 0; c < mean.size(0); ++c) {
    d.mean.push_back(mean[c].item<float>());
    d.std.push_back(std::max(1e-6f, std[c].item<float>()));
  }
  return d;
}

torch::Tensor normalize(const torch::Tensor& x, const TaskData& data) {
  if (x.scalar_type() != torch::kUInt8) return x;
  auto xf = x.to(torch::kFloat32).div_(255.0f);
  const int64_t c = xf.size(1);
  auto mean = torch::tensor(data.mean).view({1, c, 1, 1});
  auto std = torch::tensor(data.std).view({1, c, 1, 1});
  return xf.sub_(mean).div_(std);
}

Split join(const Split& a, const Split& b) { return {torch::cat({a.x, b.x}), torch::cat({a.y, b.y})}; }

}  // namespace nascent::data
