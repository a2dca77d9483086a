#include "nascent/data/dataset.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include "nascent/core/config.h"
#include "nascent/core/error.h"
#include "nascent/core/rng.h"
#include "nascent/data/csv.h"
#include "nascent/data/idx.h"
#include "nascent/data/image_folder.h"
#include "nascent/data/text.h"

namespace nascent::data {
namespace {

// An IDX file name inside `dir` (or absolute). ".gz" is optional both ways: when the named file
// does not exist but its plain (or gzipped) twin does, that one is read, so plain files need
// not be listed one by one.
std::string resolve(const std::string& dir, const std::string& file) {
  const std::string path = !file.empty() && file[0] == '/' ? file : dir + "/" + file;
  if (std::filesystem::exists(path)) return path;
  const bool gz = path.size() > 3 && path.compare(path.size() - 3, 3, ".gz") == 0;
  const std::string twin = gz ? path.substr(0, path.size() - 3) : path + ".gz";
  return std::filesystem::exists(twin) ? twin : path;
}

// Fashion-MNIST's labels 0-9 (Xiao, Rasul & Vollgraf 2017, table 1).
const std::vector<std::string> kFashionMnistClasses = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                                       "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};

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

TaskData load_idx_task(const TaskOptions& o);

}  // namespace

std::vector<int64_t> split_permutation(int64_t n, uint64_t split_seed) {
  Rng rng = Rng::derive(split_seed, "data-split");
  std::vector<int64_t> perm(n);
  for (int64_t i = 0; i < n; ++i) perm[i] = i;
  rng.shuffle(perm);
  return perm;
}

void stratified_holdout(const std::vector<int64_t>& labels, double fraction, uint64_t split_seed,
                        const std::string& purpose, std::vector<int64_t>& held, std::vector<int64_t>& kept) {
  held.clear();
  kept.clear();
  int64_t classes = 0;
  for (int64_t l : labels) classes = std::max(classes, l + 1);
  std::vector<std::vector<int64_t>> by_class(static_cast<size_t>(classes));
  for (size_t i = 0; i < labels.size(); ++i)
    by_class[static_cast<size_t>(labels[i])].push_back(static_cast<int64_t>(i));
  for (int64_t c = 0; c < classes; ++c) {
    std::vector<int64_t>& members = by_class[static_cast<size_t>(c)];
    const int64_t n = static_cast<int64_t>(members.size());
    int64_t k = 0;
    if (n >= 2) k = std::clamp<int64_t>(static_cast<int64_t>(fraction * static_cast<double>(n) + 0.5), 1, n - 1);
    Rng rng = Rng::derive(split_seed, fmt::format("stratified-{}-{}", purpose, c));
    rng.shuffle(members);
    held.insert(held.end(), members.begin(), members.begin() + k);
    kept.insert(kept.end(), members.begin() + k, members.end());
  }
  std::sort(held.begin(), held.end());
  std::sort(kept.begin(), kept.end());
}

std::vector<int64_t> class_counts(const Split& s, int64_t classes) {
  std::vector<int64_t> counts(static_cast<size_t>(std::max<int64_t>(classes, 0)), 0);
  if (s.size() == 0) return counts;
  auto bins = torch::bincount(s.y, {}, classes);
  for (int64_t c = 0; c < classes && c < bins.size(0); ++c) counts[static_cast<size_t>(c)] = bins[c].item<int64_t>();
  return counts;
}

void image_channel_stats(const Split& train, std::vector<float>& mean, std::vector<float>& std) {
  mean.clear();
  std.clear();
  auto xf = train.x.to(torch::kFloat32).div_(255.0f);
  auto m = xf.mean({0, 2, 3});
  auto sd = xf.std({0, 2, 3});
  for (int64_t c = 0; c < m.size(0); ++c) {
    mean.push_back(m[c].item<float>());
    std.push_back(std::max(1e-6f, sd[c].item<float>()));
  }
}

Split take(const Split& s, const std::vector<int64_t>& idx) {
  std::vector<int64_t> copy = idx;
  return take(s, torch::from_blob(copy.data(), {static_cast<int64_t>(copy.size())}, torch::kInt64).clone());
}

std::pair<int64_t, int64_t> val_train_sizes(int64_t n, const TaskOptions& o) {
  int64_t n_val = static_cast<int64_t>(o.val_fraction * static_cast<double>(n) + 0.5);
  int64_t n_train = n - n_val;
  if (o.limit > 0 && o.limit < n) {
    // Keep the same val/train proportion inside the limit.
    n_val = std::max<int64_t>(1, static_cast<int64_t>(o.val_fraction * static_cast<double>(o.limit) + 0.5));
    n_train = o.limit - n_val;
  }
  if (n_train < 1 || n_val < 1)
    throw InputError("", "task.val_fraction",
                     fmt::format("leaves an empty training or validation split ({} examples to split)", n));
  return {n_val, n_train};
}

TaskOptions TaskOptions::from_config(ConfigSection& sec) {
  TaskOptions o;
  o.dataset = sec.get_choice("dataset", o.dataset, {"fashion-mnist", "idx", "csv", "text", "images", "dicom"});
  const bool file_data = o.dataset == "csv" || o.dataset == "text";
  if (file_data && !sec.has("path"))
    sec.fail("path",
             fmt::format("dataset {} needs the path of its {} file", o.dataset, o.dataset == "csv" ? "CSV" : "text"));
  const bool folder_data = o.dataset == "images" || o.dataset == "dicom";
  if (folder_data && !sec.has("path"))
    sec.fail("path", "dataset " + o.dataset + " needs the folder that holds one sub-folder per class");
  o.path = sec.get_string("path", o.path);
  if (o.dataset == "idx") {
    o.train_images = sec.get_string("train_images", o.train_images);
    o.train_labels = sec.get_string("train_labels", o.train_labels);
    o.test_images = sec.get_string("test_images", o.test_images);
    o.test_labels = sec.get_string("test_labels", o.test_labels);
    o.class_names = sec.get_strings("class_names", o.class_names);
    o.class_names_file = sec.file();
  }
  if (o.dataset == "csv") {
    o.label_column = sec.get_string("label_column", o.label_column);
    o.features = sec.get_strings("features", o.features);
    o.header = sec.get_bool("header", o.header);
    o.skip_rows = sec.get_int("skip_rows", o.skip_rows, 0, 1000000);
    o.delimiter = sec.get_string("delimiter", o.delimiter);
    if (o.delimiter == "\\t" || o.delimiter == "tab") o.delimiter = "\t";
    if (o.delimiter.size() != 1 || o.delimiter == "\"" || o.delimiter == "\n")
      sec.fail("delimiter", "expected one character such as , or ; or \\t, got '" + o.delimiter + "'");
    o.missing = sec.get_choice("missing", o.missing, {"error", "drop", "fill"});
    o.categorical = sec.get_choice("categorical", o.categorical, {"auto", "none"});
    o.categorical_columns = sec.get_strings("categorical_columns", o.categorical_columns);
  }
  if (o.dataset == "text") {
    o.mode = sec.get_choice("mode", o.mode, {"lm", "classify"});
    o.seq_len = sec.get_int("seq_len", o.seq_len, 2, 65536);
  }
  if (folder_data) {
    o.image_size = sec.get_int("image_size", o.image_size, 0, 512);
    if (o.image_size > 0 && o.image_size < 8) sec.fail("image_size", "expected 0 (from the data) or 8..512 pixels");
    o.channels = sec.get_int("channels", o.channels, 0, 3);
    if (o.channels == 2) sec.fail("channels", "expected 1 (gray), 3 (colour) or 0 (from the data)");
    o.bad_files = sec.get_choice("bad_files", o.bad_files, {"stop", "skip"});
    o.test_fraction = sec.get_double("test_fraction", o.test_fraction, 0.01, 0.5);
  }
  if (file_data) {
    o.test_path = sec.get_string("test_path", o.test_path);
    o.test_fraction = sec.get_double("test_fraction", o.test_path.empty() ? o.test_fraction : 0, 0, 0.5);
    if (!o.test_path.empty() && o.test_fraction > 0)
      sec.fail("test_fraction", "is not used with test_path (the test split comes from that file)");
    if (o.test_path.empty() && o.test_fraction <= 0)
      sec.fail("test_fraction", "must be above 0 without a test_path (final training needs a test split)");
  }
  o.val_fraction = sec.get_double("val_fraction", o.val_fraction, 0.01, 0.5);
  o.split_seed = sec.get_int("split_seed", o.split_seed, 0, INT64_MAX);
  o.limit = sec.get_int("limit", o.limit, 0, INT64_MAX);
  sec.finish();
  return o;
}

namespace {

TaskData load_by_kind(const TaskOptions& o) {
  if (o.dataset == "csv") return load_csv_task(o);
  if (o.dataset == "text") return load_text_task(o);
  if (o.dataset == "images" || o.dataset == "dicom") return load_image_folder_task(o);
  return load_idx_task(o);
}

// The class balance of the training split, with a note when it is strongly imbalanced.
void measure_balance(TaskData& d) {
  if (d.task.num_classes < 2 || d.train.size() == 0 || d.train.y.dim() != 1) return;
  const std::vector<int64_t> counts = class_counts(d.train, d.task.num_classes);
  const auto [lo, hi] = std::minmax_element(counts.begin(), counts.end());
  d.imbalance_ratio = static_cast<double>(*hi) / static_cast<double>(std::max<int64_t>(1, *lo));
  if (d.imbalance_ratio < kImbalanceRatio) return;
  auto name = [&](auto it) {
    const size_t c = static_cast<size_t>(it - counts.begin());
    return c < d.class_names.size() ? d.class_names[c] : std::to_string(c);
  };
  d.notes.push_back(fmt::format("the classes are imbalanced: '{}' has {} training examples, '{}' only {} ({:.1f}:1)",
                                name(hi), *hi, name(lo), *lo, d.imbalance_ratio));
}

}  // namespace

TaskData load_task(const TaskOptions& o) {
  TaskData d = load_by_kind(o);
  measure_balance(d);
  return d;
}

namespace {

TaskData load_idx_task(const TaskOptions& o) {
  TaskData d;
  int64_t classes = 0;
  Split full = read_pair(resolve(o.path, o.train_images), resolve(o.path, o.train_labels), classes);
  d.test = read_pair(resolve(o.path, o.test_images), resolve(o.path, o.test_labels), classes);
  if (d.test.x.sizes().slice(1) != full.x.sizes().slice(1))
    throw InputError(resolve(o.path, o.test_images), "header",
                     "test images have a different shape from the training images");

  // Fixed permutation: validation = first n_val, train = the rest.
  const int64_t n = full.size();
  std::vector<int64_t> perm = split_permutation(n, static_cast<uint64_t>(o.split_seed));
  const auto [n_val, n_train] = val_train_sizes(n, o);
  auto idx = torch::from_blob(perm.data(), {n}, torch::kInt64).clone();
  d.val = take(full, idx.slice(0, 0, n_val));
  d.train = take(full, idx.slice(0, n_val, n_val + n_train));

  d.task.name = o.dataset == "fashion-mnist" ? "fashion-mnist" : "idx";
  d.task.kind = "image";
  d.task.input_shape = {full.x.size(1), full.x.size(2), full.x.size(3)};
  d.task.num_classes = classes;
  // Class names for the model's description: the config's, Fashion-MNIST's own, else the label
  // values.
  if (!o.class_names.empty()) {
    if (static_cast<int64_t>(o.class_names.size()) != classes)
      throw InputError(o.class_names_file, "task.class_names",
                       fmt::format("has {} names but {} has labels 0..{} ({} classes); give one name per label value",
                                   o.class_names.size(), resolve(o.path, o.train_labels), classes - 1, classes));
    d.class_names = o.class_names;
  } else if (o.dataset == "fashion-mnist" && classes == static_cast<int64_t>(kFashionMnistClasses.size())) {
    d.class_names = kFashionMnistClasses;
  } else {
    for (int64_t k = 0; k < classes; ++k) d.class_names.push_back(std::to_string(k));
  }
  d.source = o.path;
  d.split_seed = static_cast<uint64_t>(o.split_seed);
  image_channel_stats(d.train, d.mean, d.std);
  return d;
}

}  // namespace

std::vector<std::string> distinct_labels(const std::vector<std::string>& labels) {
  std::vector<std::string> names = labels;
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  auto number = [](const std::string& v, double& out) {
    char* end = nullptr;
    out = std::strtod(v.c_str(), &end);
    return !v.empty() && *end == '\0';
  };
  bool numeric = true;
  double d = 0;
  for (const auto& n : names) numeric = numeric && number(n, d);
  if (numeric)
    std::stable_sort(names.begin(), names.end(), [](const std::string& a, const std::string& b) {
      return std::strtod(a.c_str(), nullptr) < std::strtod(b.c_str(), nullptr);
    });
  return names;
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
