// `nascent predict`: runs a trained model (model.pt and its model.json) on image files, image
// folders or DICOM files, preprocessed exactly as in training (the same decoder, letterbox and
// channel rule; the normalisation is inside the model), and writes one CSV row per input. With
// class sub-folders named like the model's classes, it also reports the metrics.
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <torch/script.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <sstream>

#include "cli/commands.h"
#include "nascent/core/error.h"
#include "nascent/data/csv.h"
#include "nascent/data/file_bytes.h"
#include "nascent/data/image_file.h"
#include "nascent/estimate/class_metrics.h"
#include "nascent/export/model_description.h"
#include "nascent/export/torchscript.h"
#include "nascent/run/experiment.h"
#include "nascent/run/outputs.h"

namespace nascent::cli {
namespace {

namespace fs = std::filesystem;

struct Input {
  std::string path;
  int64_t label = -1;  // the class of its folder, -1 when unknown
};

// The image files to predict: one file, or every image below a folder; with a label when the
// first folder below the root is named like one of the classes.
std::vector<Input> find_inputs(const std::string& root, const std::vector<std::string>& classes) {
  std::error_code ec;
  if (!fs::exists(root, ec)) throw InputError(root, "--data", "no such file or folder");
  if (!fs::is_directory(root, ec)) {
    if (data::image_kind(root).empty())
      throw InputError(root, "--data", "not a PNG, JPEG, BMP, TIFF or DICOM file (nascent predict reads images)");
    return {{root, -1}};
  }
  std::vector<Input> inputs;
  for (auto it = fs::recursive_directory_iterator(root, fs::directory_options::follow_directory_symlink, ec);
       it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) break;
    const std::string name = it->path().filename().string();
    if (!name.empty() && name[0] == '.') {
      if (it->is_directory(ec)) it.disable_recursion_pending();
      continue;
    }
    if (!it->is_regular_file(ec) || data::image_kind(it->path().string()).empty()) continue;
    Input in{it->path().string(), -1};
    const fs::path rel = fs::relative(it->path(), root, ec);
    if (std::distance(rel.begin(), rel.end()) >= 2) {
      const auto pos = std::find(classes.begin(), classes.end(), rel.begin()->string());
      if (pos != classes.end()) in.label = pos - classes.begin();
    }
    inputs.push_back(in);
  }
  std::sort(inputs.begin(), inputs.end(), [](const Input& a, const Input& b) { return a.path < b.path; });
  if (inputs.empty()) throw InputError(root, "--data", "holds no PNG, JPEG, BMP, TIFF or DICOM images");
  return inputs;
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

// Writes one CSV row per input (name, predicted class, its probability, every class's, label)
// and, for the labelled ones, prints the metrics (and writes them with --metrics-out).
void write_predictions(const PredictFlags& f, const std::string& out, const std::string& first_column,
                       const std::vector<std::string>& inputs, const std::vector<int64_t>& input_labels,
                       const std::vector<float>& probabilities, const std::vector<std::string>& classes,
                       const std::string& labels_from) {
  const int64_t k = static_cast<int64_t>(classes.size());
  const int64_t width = k > 0 ? k : static_cast<int64_t>(probabilities.size() / inputs.size());
  auto name = [&](int64_t c) { return c < k ? classes[static_cast<size_t>(c)] : std::to_string(c); };
  std::ostringstream csv;
  csv << first_column << ",predicted,probability";
  for (int64_t c = 0; c < width; ++c) csv << "," << csv_field("p_" + name(c));
  csv << ",label\n";
  std::vector<int64_t> labels;
  std::vector<float> labelled_probs;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const float* p = probabilities.data() + i * static_cast<size_t>(width);
    const int64_t pred = std::max_element(p, p + width) - p;
    csv << csv_field(inputs[i]) << "," << csv_field(name(pred)) << "," << fmt::format("{:.6f}", p[pred]);
    for (int64_t c = 0; c < width; ++c) csv << "," << fmt::format("{:.6f}", p[c]);
    csv << "," << (input_labels[i] >= 0 ? csv_field(name(input_labels[i])) : "") << "\n";
    if (input_labels[i] >= 0) {
      labels.push_back(input_labels[i]);
      labelled_probs.insert(labelled_probs.end(), p, p + width);
    }
  }
  run::write_file_atomic(out, csv.str());
  fmt::print("{} predictions written to {}\n", inputs.size(), out);
  if (labels.empty() || width < 2) return;
  const estimate::ClassMetrics m = estimate::class_metrics(labels, labelled_probs, width);
  fmt::print("{} labelled {}: accuracy {:.4f}, balanced accuracy {:.4f}, macro-F1 {:.4f}{}\n", labels.size(),
             first_column == "file" ? "images (" + labels_from + ")" : "rows (" + labels_from + ")", m.accuracy,
             m.balanced_accuracy, m.macro_f1, std::isnan(m.auroc) ? "" : fmt::format(", AUROC {:.4f}", m.auroc));
  for (int64_t c = 0; c < width; ++c)
    if (m.support[static_cast<size_t>(c)] > 0)
      fmt::print("  {}: recall {:.4f} ({} {}), precision {:.4f}\n", name(c), m.recall[static_cast<size_t>(c)],
                 m.support[static_cast<size_t>(c)], first_column == "file" ? "images" : "rows",
                 m.precision[static_cast<size_t>(c)]);
  if (!f.metrics_out.empty()) run::write_file_atomic(f.metrics_out, m.to_json(classes).dump(1) + "\n");
}

// A tabular model on a CSV file: rows encoded as model.json's input.columns say; the label
// column, when the file has it, gives labels.
void predict_table(const PredictFlags& f, const std::string& out, torch::jit::Module& model,
                   const exporting::ModelDescription& desc, const std::vector<std::string>& classes) {
  const std::string ext = fs::path(f.data).extension().string();
  const char delim = ext == ".tsv" || ext == ".tab" ? '\t' : ',';
  const data::CsvTable t =
      data::parse_csv(data::read_file_bytes(f.data, "CSV file"), f.data, delim, /*header=*/true, /*skip_rows=*/0);
  int64_t width = 0;
  const std::vector<float> x = data::encode_table(t, desc.columns, f.data, width);
  const int64_t n = static_cast<int64_t>(t.rows.size());
  torch::Tensor logits =
      model.forward({torch::from_blob(const_cast<float*>(x.data()), {n, width}, torch::kFloat32)}).toTensor();
  const torch::Tensor p = torch::softmax(logits, 1).contiguous();
  const std::vector<float> probabilities(p.data_ptr<float>(), p.data_ptr<float>() + p.numel());
  const std::string& label_column = desc.label_column;
  int label_index = -1;
  for (size_t c = 0; c < t.columns.size(); ++c)
    if (t.columns[c] == label_column) label_index = static_cast<int>(c);
  std::vector<std::string> rows;
  std::vector<int64_t> labels;
  for (size_t i = 0; i < t.rows.size(); ++i) {
    rows.push_back(std::to_string(t.lines[i]));
    int64_t label = -1;
    if (label_index >= 0) {
      const auto pos = std::find(classes.begin(), classes.end(), t.rows[i][static_cast<size_t>(label_index)]);
      if (pos != classes.end()) label = pos - classes.begin();
    }
    labels.push_back(label);
  }
  write_predictions(f, out, "line", rows, labels, probabilities, classes, "column " + label_column);
}

}  // namespace

int run_predict(const PredictFlags& f) {
  const std::string model_path = fs::is_directory(f.model) ? (fs::path(f.model) / "model.pt").string() : f.model;
  if (!fs::exists(model_path))
    throw InputError(model_path, "--model",
                     fs::is_directory(f.model) ? "the run has no model.pt (its final training did not run or was "
                                                 "stopped; `nascent train --run DIR` makes one)"
                                               : "no such model file");
  const std::string desc_path = exporting::description_path(model_path);
  if (!fs::exists(desc_path))
    throw InputError(desc_path, "--model", "the model's description is missing (written beside model.pt by nascent)");
  const exporting::ModelDescription desc = exporting::read_model_description(desc_path);
  const std::string out = f.out.empty() ? "predictions.csv" : f.out;
  if (fs::exists(out) && !f.force)
    throw InputError(out, "--out", "exists and would be overwritten; choose another --out or add --force");
  const std::vector<std::string>& classes = desc.class_names;
  if (desc.table) {
    if (!fs::is_regular_file(f.data))
      throw InputError(f.data, "--data", "a table model predicts the rows of a CSV file; give one");
    run::set_threads(0);
    torch::jit::Module model = torch::jit::load(model_path);
    model.eval();
    torch::NoGradGuard no_grad;
    predict_table(f, out, model, desc, classes);
    return 0;
  }
  if (!desc.image)
    throw InputError(
        desc_path, "input.shape",
        "nascent predict runs image models ([batch, channels, height, width]) and table models; this model takes " +
            desc.input_shape.dump());
  const int channels = static_cast<int>(desc.channels), side = static_cast<int>(desc.side);
  const std::vector<Input> inputs = find_inputs(f.data, classes);
  run::set_threads(0);
  torch::jit::Module model = torch::jit::load(model_path);
  model.eval();
  torch::NoGradGuard no_grad;

  const int64_t k = static_cast<int64_t>(classes.size());
  std::vector<float> probabilities;  // [n, k]
  const size_t per = static_cast<size_t>(channels) * side * side;
  for (size_t start = 0; start < inputs.size(); start += 64) {
    const size_t end = std::min(inputs.size(), start + 64);
    torch::Tensor x = torch::empty({static_cast<int64_t>(end - start), channels, side, side}, torch::kUInt8);
    for (size_t i = start; i < end; ++i) {
      const std::vector<uint8_t> planes =
          data::letterbox_planar(data::decode_image_file(inputs[i].path), side, channels);
      std::copy(planes.begin(), planes.end(), x.data_ptr<uint8_t>() + (i - start) * per);
    }
    torch::Tensor logits = model.forward({x.to(torch::kFloat32).div_(255.0f)}).toTensor();
    if (logits.dim() != 2 || (k > 0 && logits.size(1) != k))
      throw InputError(
          model_path, "",
          fmt::format("the model's output {} does not match its {} classes", fmt::join(logits.sizes(), "x"), k));
    const torch::Tensor p = torch::softmax(logits, 1).contiguous();
    probabilities.insert(probabilities.end(), p.data_ptr<float>(), p.data_ptr<float>() + p.numel());
  }
  std::vector<std::string> names;
  std::vector<int64_t> labels;
  for (const Input& in : inputs) {
    names.push_back(in.path);
    labels.push_back(in.label);
  }
  write_predictions(f, out, "file", names, labels, probabilities, classes, "from their class folders");
  return 0;
}

}  // namespace nascent::cli
