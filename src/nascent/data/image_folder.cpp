#include "nascent/data/image_folder.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <filesystem>
#include <map>

#include "nascent/core/error.h"
#include "nascent/data/image_file.h"

namespace nascent::data {
namespace {

namespace fs = std::filesystem;

bool hidden(const fs::path& p) {
  const std::string name = p.filename().string();
  return !name.empty() && name[0] == '.';
}

// The visible sub-folders of dir, sorted by name.
std::vector<std::string> subfolders(const fs::path& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, fs::directory_options::skip_permission_denied, ec))
    if (!hidden(e.path()) && e.is_directory(ec)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

// The image files at any depth below dir (hidden files and folders left out), sorted by path.
std::vector<std::string> images_below(const fs::path& dir, int64_t& ignored) {
  std::vector<std::string> files;
  std::error_code ec;
  auto it = fs::recursive_directory_iterator(
      dir, fs::directory_options::follow_directory_symlink | fs::directory_options::skip_permission_denied, ec);
  for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) break;
    if (hidden(it->path())) {
      if (it->is_directory(ec)) it.disable_recursion_pending();
      continue;
    }
    if (!it->is_regular_file(ec)) continue;
    if (image_kind(it->path().string()).empty())
      ++ignored;
    else
      files.push_back(it->path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

const char* kKinds = "PNG, JPEG, BMP, TIFF or DICOM";

// The files of one split folder whose sub-folders are classes; `classes` empty = take them from
// this folder (the training split), else every sub-folder must be one of them.
void collect_split(const fs::path& dir, std::vector<std::string>& classes, std::vector<ImageFolderScan::File>& out,
                   int64_t& ignored) {
  const std::vector<std::string> names = subfolders(dir);
  const bool defines = classes.empty();
  if (defines) classes = names;
  for (const std::string& name : names) {
    const auto pos = std::find(classes.begin(), classes.end(), name);
    if (pos == classes.end())
      throw InputError(
          (dir / name).string(), "",
          fmt::format("class folder '{}' is not among the training classes ({})", name, fmt::join(classes, ", ")));
    const int64_t label = pos - classes.begin();
    for (std::string& f : images_below(dir / name, ignored)) out.push_back({std::move(f), label});
  }
}

// Every class needs 2 training images: one can be held out, one trained on.
void check_class_sizes(const std::vector<int64_t>& labels, const std::vector<std::string>& classes,
                       const fs::path& train_dir, const std::string& after) {
  std::vector<int64_t> counts(classes.size(), 0);
  for (int64_t l : labels) ++counts[static_cast<size_t>(l)];
  for (size_t c = 0; c < classes.size(); ++c) {
    const std::string folder = (train_dir / classes[c]).string();
    if (counts[c] == 0) throw InputError(folder, "", fmt::format("no {} images{} in the class folder", kKinds, after));
    if (counts[c] < 2)
      throw InputError(folder, "",
                       fmt::format("only 1 image{} in class '{}'; each class needs at least 2 (one to learn from, "
                                   "one to check on)",
                                   after, classes[c]));
  }
}

// [N, C, side, side] uint8 from decoded images.
Split to_split(const std::vector<Image>& images, const std::vector<int64_t>& labels, const std::vector<int64_t>& idx,
               int side, int channels) {
  Split s;
  const int64_t n = static_cast<int64_t>(idx.size());
  s.x = torch::empty({n, channels, side, side}, torch::kUInt8);
  s.y = torch::empty({n}, torch::kInt64);
  uint8_t* x = s.x.data_ptr<uint8_t>();
  int64_t* y = s.y.data_ptr<int64_t>();
  const size_t per = static_cast<size_t>(channels) * side * side;
  for (int64_t i = 0; i < n; ++i) {
    const size_t k = static_cast<size_t>(idx[static_cast<size_t>(i)]);
    const std::vector<uint8_t> planes = letterbox_planar(images[k], side, channels);
    std::copy(planes.begin(), planes.end(), x + static_cast<size_t>(i) * per);
    y[i] = labels[k];
  }
  return s;
}

std::vector<int64_t> all_of(size_t n) {
  std::vector<int64_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<int64_t>(i);
  return v;
}

}  // namespace

ImageFolderScan scan_image_folder(const std::string& root) {
  std::error_code ec;
  if (!fs::is_directory(root, ec))
    throw InputError(root, "task.path",
                     fs::exists(root, ec) ? "is a file; expected a folder with one sub-folder per class"
                                          : "no such folder; expected a folder with one sub-folder per class");
  ImageFolderScan scan;
  const std::vector<std::string> top = subfolders(root);
  scan.split_folders = std::find(top.begin(), top.end(), "train") != top.end();
  const fs::path train_dir = scan.split_folders ? fs::path(root) / "train" : fs::path(root);
  collect_split(train_dir, scan.classes, scan.train, scan.ignored);
  if (scan.classes.empty()) {
    int64_t loose_ignored = 0;
    const size_t loose = images_below(train_dir, loose_ignored).size();
    throw InputError(train_dir.string(), "",
                     fmt::format("no class folders{}; expected one sub-folder per class with its images inside "
                                 "(e.g. {}/cat/1.png, {}/dog/2.png)",
                                 loose > 0 ? fmt::format(" (only {} images with no class)", loose) : "",
                                 train_dir.string(), train_dir.string()));
  }
  if (scan.classes.size() == 1)
    throw InputError(
        train_dir.string(), "",
        fmt::format("only one class folder ('{}'); classification needs at least 2 classes", scan.classes[0]));
  std::vector<int64_t> labels;
  for (const auto& f : scan.train) labels.push_back(f.label);
  check_class_sizes(labels, scan.classes, train_dir, "");
  if (scan.split_folders) {
    for (const char* name : {"val", "test"}) {
      const fs::path dir = fs::path(root) / name;
      if (!fs::is_directory(dir, ec)) continue;
      std::vector<ImageFolderScan::File>& out = std::string(name) == "val" ? scan.val : scan.test;
      collect_split(dir, scan.classes, out, scan.ignored);
      if (out.empty())
        throw InputError(dir.string(), "", fmt::format("the {} folder holds no {} images", name, kKinds));
    }
  }
  return scan;
}

int auto_image_side(std::vector<int> longer_sides) {
  if (longer_sides.empty()) return kAutoImageSideCap;
  std::nth_element(longer_sides.begin(), longer_sides.begin() + longer_sides.size() / 2, longer_sides.end());
  return std::clamp(longer_sides[longer_sides.size() / 2], 8, kAutoImageSideCap);
}

TaskData load_image_folder_task(const TaskOptions& o) {
  const ImageFolderScan scan = scan_image_folder(o.path);
  const fs::path train_dir = scan.split_folders ? fs::path(o.path) / "train" : fs::path(o.path);
  TaskData d;

  // Decode every file once, shrunk right away so that memory stays bounded by the final size.
  const int keep_side = static_cast<int>(std::max<int64_t>(kAutoImageSideCap, o.image_size));
  std::vector<Image> images;
  std::vector<int64_t> labels;
  std::vector<int> split_of;  // 0 train, 1 val, 2 test
  std::vector<int> longer_sides;
  bool colour = false;
  int split_id = 0;
  std::map<std::string, int64_t> kinds;
  for (const auto* files : {&scan.train, &scan.val, &scan.test}) {
    for (const auto& f : *files) {
      Image img;
      try {
        img = decode_image_file(f.path);
      } catch (const InputError& e) {
        if (o.bad_files != "skip")
          throw InputError(e.file(), "",
                           e.problem() + " (task.bad_files: skip leaves unreadable images out and lists them)");
        d.skipped.push_back(e.what());
        continue;
      }
      ++kinds[image_kind(f.path)];
      if (split_id == 0) longer_sides.push_back(std::max(img.height, img.width));
      colour = colour || img.is_colour();
      images.push_back(shrink_to(img, keep_side));
      labels.push_back(f.label);
      split_of.push_back(split_id);
    }
    ++split_id;
  }
  std::vector<int64_t> train_labels;
  for (size_t i = 0; i < labels.size(); ++i)
    if (split_of[i] == 0) train_labels.push_back(labels[i]);
  if (!d.skipped.empty()) check_class_sizes(train_labels, scan.classes, train_dir, " that could be read");

  const int side = o.image_size > 0 ? static_cast<int>(o.image_size) : auto_image_side(longer_sides);
  const int channels = o.channels > 0 ? static_cast<int>(o.channels) : (colour ? 3 : 1);

  // Splits: the val/ and test/ folders when present, else stratified hold-outs of the training
  // images (test first, then validation from the rest).
  std::vector<int64_t> train_idx, val_idx, test_idx;
  for (size_t i = 0; i < labels.size(); ++i) {
    if (split_of[i] == 1) val_idx.push_back(static_cast<int64_t>(i));
    if (split_of[i] == 2) test_idx.push_back(static_cast<int64_t>(i));
  }
  std::vector<int64_t> pool;
  for (size_t i = 0; i < labels.size(); ++i)
    if (split_of[i] == 0) pool.push_back(static_cast<int64_t>(i));
  const uint64_t seed = static_cast<uint64_t>(o.split_seed);
  auto hold_out = [&](double fraction, const char* purpose, std::vector<int64_t>& held) {
    std::vector<int64_t> pool_labels, h, k;
    for (int64_t i : pool) pool_labels.push_back(labels[static_cast<size_t>(i)]);
    stratified_holdout(pool_labels, fraction, seed, purpose, h, k);
    for (int64_t j : h) held.push_back(pool[static_cast<size_t>(j)]);
    std::vector<int64_t> rest;
    for (int64_t j : k) rest.push_back(pool[static_cast<size_t>(j)]);
    pool = std::move(rest);
  };
  if (test_idx.empty()) hold_out(o.test_fraction, "test", test_idx);
  if (val_idx.empty()) hold_out(o.val_fraction, "val", val_idx);
  train_idx = pool;
  if (val_idx.empty() || train_idx.empty())
    throw InputError(o.path, "",
                     fmt::format("too few images to hold out validation images ({} training images in {} classes); add "
                                 "images or a val/ folder",
                                 train_labels.size(), scan.classes.size()));
  if (o.limit > 0 && o.limit < static_cast<int64_t>(train_idx.size())) {
    std::vector<int64_t> perm = split_permutation(static_cast<int64_t>(train_idx.size()), seed);
    std::vector<int64_t> kept;
    for (int64_t k = 0; k < o.limit; ++k) kept.push_back(train_idx[static_cast<size_t>(perm[static_cast<size_t>(k)])]);
    std::sort(kept.begin(), kept.end());
    train_idx = kept;
  }
  d.train = to_split(images, labels, train_idx, side, channels);
  d.val = to_split(images, labels, val_idx, side, channels);
  d.test = to_split(images, labels, test_idx, side, channels);

  d.task.name = "images";
  d.task.kind = "image";
  d.task.input_shape = {channels, side, side};
  d.task.num_classes = static_cast<int64_t>(scan.classes.size());
  d.class_names = scan.classes;
  d.source = o.path;
  d.split_seed = seed;
  image_channel_stats(d.train, d.mean, d.std);

  std::vector<std::string> kind_counts;
  for (const auto& [k, n] : kinds) kind_counts.push_back(fmt::format("{} {}", n, k));
  d.notes.push_back(fmt::format(
      "images: {} files ({}) in {} classes from {}; {} x {} px{}, {} channel{}; train {}, validation {}, test {}{}",
      images.size(), fmt::join(kind_counts, ", "), scan.classes.size(), o.path, side, side,
      o.image_size > 0 ? "" : " (the median longer side, at most " + std::to_string(kAutoImageSideCap) + ")", channels,
      channels == 1 ? (o.channels > 0 ? "" : " (every image is gray)") : "s", d.train.size(), d.val.size(),
      d.test.size(),
      scan.split_folders ? " (from the train/val/test folders where present)" : " (stratified by class)"));
  if (!d.skipped.empty())
    d.notes.push_back(fmt::format("images: {} unreadable files left out (task.bad_files: skip)", d.skipped.size()));
  if (scan.ignored > 0)
    d.notes.push_back(fmt::format("images: {} files that are not images were ignored", scan.ignored));
  return d;
}

}  // namespace nascent::data
