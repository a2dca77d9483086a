// `nascent search --data PATH`: a complete experiment config chosen from the data (its kind and
// size) when no --config is given, or the given config pointed at PATH.
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "cli/commands.h"
#include "nascent/core/error.h"
#include "nascent/data/image_file.h"
#include "nascent/data/image_folder.h"

namespace nascent::cli {
namespace {

namespace fs = std::filesystem;

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// The first line of a text file (without the newline).
std::string first_line(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

// A file is a table when its first two lines split into the same number (2 or more) of fields.
char table_delimiter(const std::string& path) {
  const std::string ext = lower(fs::path(path).extension().string());
  if (ext == ".tsv" || ext == ".tab") return '\t';
  if (ext == ".csv") return ',';
  if (ext == ".txt" || ext == ".text") return 0;
  std::ifstream in(path);
  std::string a, b;
  std::getline(in, a);
  std::getline(in, b);
  for (char d : {',', '\t', ';'}) {
    const auto na = std::count(a.begin(), a.end(), d), nb = std::count(b.begin(), b.end(), d);
    if (na >= 1 && na == nb) return d;
  }
  return 0;
}

// The label column: one named label, class, target or y (any case), else the last.
std::string label_column(const std::string& header, char delim) {
  std::vector<std::string> cols;
  std::string cur;
  for (char c : header) {
    if (c == delim) {
      cols.push_back(cur);
      cur.clear();
    } else if (c != '"') {
      cur += c;
    }
  }
  cols.push_back(cur);
  for (const char* want : {"label", "class", "target", "y"})
    for (const auto& c : cols)
      if (lower(c) == want) return c;
  return cols.back();
}

// The three designs every image search starts from (the default job's, docs/spaces/cnn.md).
nlohmann::json cnn_starts() {
  auto arch = [](const char* kind, const char* down, int b1, int b2, int b3, int w1, int w2, int w3, int b4, int w4) {
    nlohmann::json a = {{"stem", 16},      {"act", "relu"},  {"s1_blocks", b1}, {"s1_kind", kind}, {"s1_kernel", 3},
                        {"s1_width", w1},  {"s1_se", "no"},  {"s2_down", down}, {"s2_blocks", b2}, {"s2_kind", kind},
                        {"s2_kernel", 3},  {"s2_width", w2}, {"s2_se", "no"},   {"s3_down", down}, {"s3_blocks", b3},
                        {"s3_kind", kind}, {"s3_kernel", 3}, {"s3_width", w3},  {"s3_se", "no"},   {"s4_blocks", b4}};
    if (b4 > 0) {
      a["s4_down"] = down;
      a["s4_kind"] = kind;
      a["s4_kernel"] = 3;
      a["s4_width"] = w4;
      a["s4_se"] = "no";
    }
    return a;
  };
  return nlohmann::json::array({arch("plain", "maxpool", 1, 2, 1, 32, 64, 64, 0, 0),
                                arch("residual", "stride", 1, 1, 1, 16, 32, 64, 0, 0),
                                arch("plain", "maxpool", 1, 2, 2, 16, 32, 64, 1, 40)});
}

// Fidelity for n training examples: each candidate sees about `examples` of them (one epoch of a
// fraction for large sets, several epochs of all for small ones).
nlohmann::json fidelity_for(int64_t n, double examples, std::vector<std::string>& why) {
  if (n >= examples) {
    const double fraction = std::max(0.05, std::round(examples / static_cast<double>(n) * 100.0) / 100.0);
    why.push_back(
        fmt::format("each candidate trains 1 epoch on {:.0f}% of the {} training examples", fraction * 100, n));
    return {{"epochs", 1}, {"data_fraction", fraction}};
  }
  const int64_t epochs =
      std::clamp<int64_t>(static_cast<int64_t>(std::lround(examples / static_cast<double>(n))), 1, 30);
  why.push_back(
      fmt::format("each candidate trains {} epochs on the {} training examples (a small data set)", epochs, n));
  return {{"epochs", epochs}};
}

DataConfig images_config(const std::string& path, std::vector<std::string>& why) {
  const data::ImageFolderScan scan = data::scan_image_folder(path);
  const int64_t files = static_cast<int64_t>(scan.train.size());
  // Examples left for training after the stratified hold-outs (test 20%, validation 10%).
  const int64_t n = scan.split_folders && !scan.val.empty() ? files
                    : scan.split_folders                    ? files * 9 / 10
                                                            : files * 72 / 100;
  // The input side, from a sample of the images (the reader takes the median of all of them).
  std::vector<int> sides;
  const size_t step = std::max<size_t>(1, scan.train.size() / 48);
  for (size_t i = 0; i < scan.train.size(); i += step) {
    try {
      const data::Image img = data::decode_image_file(scan.train[i].path);
      sides.push_back(std::max(img.height, img.width));
    } catch (const InputError&) {
      // The reader reports it with the rest.
    }
  }
  const int side = data::auto_image_side(sides);
  const double pixels = static_cast<double>(side) * side / (28.0 * 28.0);
  why.push_back(
      fmt::format("{} images in {} classes: a search over plain and residual convolutional networks (cnn "
                  "space) of at most 100,000 parameters, by regularized evolution",
                  files, scan.classes.size()));
  nlohmann::json c;
  c["seed"] = 0;
  c["task"] = {{"dataset", "images"}, {"path", path}};
  c["space"] = {{"name", "cnn"},
                {"cnn",
                 {{"widths", {{16, 24, 32, 48}, {32, 48, 64, 80}, {48, 64, 80, 96}, {32, 40, 48, 64}}},
                  {"blocks", {{1, 2, 3}, {1, 2, 3}, {1, 2, 3}, {0, 1, 2}}}}}};
  c["strategy"] = {{"name", "evolution"},
                   {"evolution", {{"population", 12}, {"sample", 4}, {"initial", cnn_starts()}}}};
  // Per candidate about 13,500 examples at 28 px (the default job's), fewer for larger images.
  c["fidelity"] = fidelity_for(n, std::max(500.0, 13500.0 / pixels), why);
  const int64_t batch = n < 1000 ? 32 : n < 5000 ? 64 : 128;
  c["objective"] = {{"constraints", {"params <= 100000"}}};
  c["train"] = {{"batch_size", batch}, {"optimizer", "sgd"}, {"lr", 0.05}, {"equal_cost_flops", 7.5e6 * pixels}};
  c["final"] = {{"epochs", "auto"}, {"time_fraction", 0.7}, {"label_smoothing", 0.1}};
  c["run"] = {{"threads", 0}};
  return {c, {}};
}

DataConfig table_config(const std::string& path, char delim, std::vector<std::string>& why) {
  const std::string label = label_column(first_line(path), delim);
  why.push_back(
      fmt::format("a table: the label is column '{}'; a search over multi-layer perceptrons (mlp space) "
                  "by regularized evolution; columns of words are one-hot encoded, a missing number is the "
                  "column's training mean",
                  label));
  nlohmann::json c;
  c["seed"] = 0;
  c["task"] = {{"dataset", "csv"},  {"path", path},         {"label_column", label},
               {"missing", "fill"}, {"test_fraction", 0.2}, {"val_fraction", 0.2}};
  if (delim != ',') c["task"]["delimiter"] = std::string(1, delim);
  c["space"] = {{"name", "mlp"}, {"mlp", {{"layers", {1, 2, 3}}, {"widths", {8, 16, 32, 64, 128}}}}};
  c["strategy"] = {{"name", "evolution"}, {"evolution", {{"population", 8}, {"sample", 3}}}};
  c["fidelity"] = {{"epochs", 20}};
  c["objective"] = nlohmann::json::object();
  c["train"] = {{"batch_size", 32}, {"optimizer", "adamw"}, {"lr", 0.01}, {"weight_decay", 0.01}};
  c["final"] = {{"epochs", "auto"}, {"time_fraction", 0.3}};
  c["run"] = {{"threads", 1}};
  return {c, {}};
}

DataConfig text_config(const std::string& path, std::vector<std::string>& why) {
  why.push_back(
      "plain text: next-character prediction (language modelling) with small transformers (transformer space), "
      "ranked by validation loss");
  nlohmann::json c;
  c["seed"] = 0;
  c["task"] = {{"dataset", "text"}, {"path", path}, {"mode", "lm"}, {"seq_len", 64}, {"test_fraction", 0.1}};
  c["space"] = {
      {"name", "transformer"},
      {"transformer",
       {{"layers", {1, 2, 3}}, {"embed_dims", {32, 64, 96}}, {"heads", {2, 4}}, {"ffn_dims", {64, 128, 256}}}}};
  c["strategy"] = {{"name", "evolution"}, {"evolution", {{"population", 6}, {"sample", 3}}}};
  c["fidelity"] = {{"epochs", 1}};
  c["objective"] = {{"metrics", {{{"name", "val_loss"}, {"direction", "min"}}}}};
  c["train"] = {{"batch_size", 32}, {"optimizer", "adamw"}, {"lr", 0.003}, {"weight_decay", 0.01}};
  c["final"] = {{"epochs", "auto"}, {"time_fraction", 0.5}};
  c["run"] = {{"threads", 0}};
  return {c, {}};
}

}  // namespace

std::string data_kind(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) throw InputError(path, "--data", "no such file or folder");
  if (fs::is_directory(path, ec)) return "images";
  if (!data::image_kind(path).empty())
    throw InputError(path, "--data",
                     "is a single image; give the folder that holds one sub-folder of images per class");
  return table_delimiter(path) != 0 ? "csv" : "text";
}

DataConfig config_for_data(const std::string& path, double minutes) {
  std::vector<std::string> why;
  const std::string kind = data_kind(path);
  DataConfig d = kind == "images" ? images_config(path, why)
                 : kind == "csv"  ? table_config(path, table_delimiter(path), why)
                                  : text_config(path, why);
  d.config["budget"] = {{"max_trials", 1000}, {"time_minutes", minutes}};
  why.push_back(
      fmt::format("the whole job takes {:g} minutes: the search first, then the best network trains from "
                  "scratch on the training and validation data in {:.0f}% of the time",
                  minutes, d.config["final"]["time_fraction"].get<double>() * 100));
  d.reasons = why;
  return d;
}

void point_config_at_data(nlohmann::json& config, const std::string& path) {
  const std::string kind = data_kind(path);
  if (!config.contains("task") || !config["task"].is_object()) config["task"] = nlohmann::json::object();
  nlohmann::json& task = config["task"];
  if (task.value("dataset", "") != kind) {
    // Another kind of data: keep only the options every kind has.
    nlohmann::json kept = nlohmann::json::object();
    for (const char* k : {"val_fraction", "split_seed", "limit"})
      if (task.contains(k)) kept[k] = task[k];
    task = kept;
    task["dataset"] = kind;
  }
  task["path"] = path;
  if (kind == "csv" && !task.contains("label_column"))
    task["label_column"] = label_column(first_line(path), table_delimiter(path));
}

}  // namespace nascent::cli
