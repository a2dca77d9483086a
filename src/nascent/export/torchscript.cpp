#include "nascent/export/torchscript.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <torch/csrc/jit/frontend/tracer.h>

#include <filesystem>
#include <sstream>

#include "nascent/core/error.h"
#include "nascent/data/dataset.h"
#include "nascent/run/outputs.h"

namespace nascent::exporting {

InputTransform InputTransform::of(const data::TaskData& data) {
  InputTransform t;
  t.kind = data.task.kind;
  if (t.kind == "image" || t.kind == "tabular") {
    t.mean = data.mean;
    t.std = data.std;
  }
  return t;
}

torch::Tensor InputTransform::apply(const torch::Tensor& x) const {
  if (mean.empty()) return x;
  const int64_t n = static_cast<int64_t>(mean.size());
  // [1, C, 1, 1] for images, [1, F] for tabular rows.
  const std::vector<int64_t> shape = kind == "image" ? std::vector<int64_t>{1, n, 1, 1} : std::vector<int64_t>{1, n};
  return (x - torch::tensor(mean).view(shape)) / torch::tensor(std).view(shape);
}

std::string load_weights(const std::shared_ptr<space::Network>& net, const std::string& path) {
  try {
    // torch::load replaces each tensor by the file's, whatever its shape: the shapes the network
    // was built with are checked afterwards (a 2-class head must not pass for a 10-class one).
    std::vector<std::pair<std::string, std::vector<int64_t>>> shapes;
    for (const auto& p : net->named_parameters()) shapes.emplace_back(p.key(), p.value().sizes().vec());
    for (const auto& b : net->named_buffers()) shapes.emplace_back(b.key(), b.value().sizes().vec());
    std::shared_ptr<space::Network> target = net;
    torch::load(target, path);
    auto now = net->named_parameters();
    auto bufs = net->named_buffers();
    for (const auto& [name, want] : shapes) {
      const torch::Tensor* t = now.find(name);
      if (!t) t = bufs.find(name);
      if (t && t->sizes().vec() != want)
        return fmt::format("{} has shape [{}] in the file, [{}] in the network", name, fmt::join(t->sizes(), ", "),
                           fmt::join(want, ", "));
    }
    return "";
  } catch (const c10::Error& e) {
    const std::string why = e.what_without_backtrace();
    return why.substr(0, why.find('\n'));
  }
}

torch::Tensor example_input(const Task& task, int64_t batch) {
  std::vector<int64_t> shape = task.input_shape;
  shape.insert(shape.begin(), batch);
  if (task.kind == "text") return torch::ones(shape, torch::kInt64);
  return torch::zeros(shape);
}

namespace {

// Attribute names may not contain dots: "cells.0.conv.weight" -> "cells_0_conv_weight".
std::string attribute_name(const std::string& path) {
  std::string s = path;
  for (char& c : s)
    if (c == '.') c = '_';
  return s;
}

}  // namespace

torch::jit::Module trace(space::Network& net, const torch::Tensor& example, const InputTransform& input) {
  net.eval();
  torch::jit::Module m(c10::QualifiedName("__torch__.nascent.Network"));
  // The module holds the network's own tensors, so the tracer sees every use of a parameter or
  // buffer as a read of the module's attribute rather than as a constant.
  for (const auto& p : net.named_parameters(/*recurse=*/true))
    m.register_parameter(attribute_name(p.key()), p.value(), /*is_buffer=*/false);
  for (const auto& b : net.named_buffers(/*recurse=*/true)) m.register_buffer(attribute_name(b.key()), b.value());
  std::shared_ptr<torch::jit::tracer::TracingState> state;
  try {
    auto fn = [&net, &input](torch::jit::Stack inputs) -> torch::jit::Stack {
      return {net.forward(input.apply(inputs.at(0).toTensor()))};
    };
    auto no_names = [](const torch::autograd::Variable&) { return std::string(); };
    state =
        torch::jit::tracer::trace({example}, fn, no_names, /*strict=*/true, /*force_outplace=*/false, &m, {"x"}).first;
  } catch (const c10::Error& e) {
    torch::jit::tracer::abandon();
    throw InputError("", "export", fmt::format("the network cannot be traced: {}", e.what_without_backtrace()));
  }
  auto method =
      m._ivalue()->compilation_unit()->create_function(c10::QualifiedName(*m.type()->name(), "forward"), state->graph);
  m.type()->addMethod(method);
  m.eval();
  return m;
}

void write_description(const std::string& model_path, const nlohmann::json& description) {
  run::write_file_atomic(description_path(model_path), description.dump(2) + "\n");
}

std::string description_path(const std::string& model_path) {
  // model.pt -> model.json (the run directory's pair); any other name keeps its extension
  // (m.onnx -> m.onnx.json), so that exports of two formats side by side never share one.
  const std::filesystem::path p(model_path);
  if (p.extension() == ".pt") return std::filesystem::path(model_path).replace_extension(".json").string();
  return model_path + ".json";
}

nlohmann::json describe_model(const data::TaskData& data, const nlohmann::json& arch, const std::string& format) {
  const Task& task = data.task;
  nlohmann::json shape = nlohmann::json::array({nullptr});
  for (int64_t s : task.input_shape) shape.push_back(s);
  nlohmann::json input = {{"name", "x"}, {"shape", shape}};
  if (task.kind == "image") {
    input["dtype"] = "float32";
    input["values"] = "pixels scaled to [0, 1] (uint8 / 255); the model normalises them";
  } else if (task.kind == "tabular") {
    input["dtype"] = "float32";
    input["values"] =
        "the row encoded as input.columns say (numbers as they are, a missing one as its fill value; a "
        "categorical column as one 0/1 value per category, in order); the model standardises them";
    if (!data.columns.is_null()) {
      input["columns"] = data.columns["columns"];
      input["label_column"] = data.columns["label_column"];
    }
  } else {
    input["dtype"] = "int64";
    input["values"] = "token ids (0 = padding, 1 = unknown), see vocabulary";
  }
  nlohmann::json out_shape = task.per_position()
                                 ? nlohmann::json::array({nullptr, task.input_shape.at(0), task.num_classes})
                                 : nlohmann::json::array({nullptr, task.num_classes});
  nlohmann::json d = {{"format", format},
                      {"task", task.name},
                      {"input", input},
                      {"output", {{"name", "logits"}, {"shape", out_shape}, {"dtype", "float32"}}},
                      {"arch", arch}};
  if (!data.class_names.empty()) d["class_names"] = data.class_names;
  if (!data.vocabulary.empty()) d["vocabulary"] = data.vocabulary;
  if (!data.mean.empty()) d["normalisation"] = {{"mean", data.mean}, {"std", data.std}};
  return d;
}

torch::jit::Module save_torchscript(space::Network& net, const data::TaskData& data, const std::string& path,
                                    const nlohmann::json& arch) {
  torch::jit::Module m = trace(net, example_input(data.task), InputTransform::of(data));
  std::ostringstream bytes;
  m.save(bytes);
  run::write_file_atomic(path, bytes.str());
  write_description(path, describe_model(data, arch, "torchscript"));
  return m;
}

}  // namespace nascent::exporting
