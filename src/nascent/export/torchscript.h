// TorchScript export: a built network (any space) traced into a self-contained torch::jit
// module, saved as a file that torch.jit.load (Python) and torch::jit::load (C++) read without
// nascent. The network runs once in eval mode on an example input; its parameters and buffers
// become the module's attributes and every operation its forward graph. The input
// normalisation the trainer applies is part of the model, so it takes data as it comes:
// images as float pixels in [0, 1] ([batch, C, H, W]), tabular rows as raw feature values
// ([batch, F]), text as token ids ([batch, T]). Shapes other than the batch dimension are fixed
// to the task's.
#pragma once

#include <torch/script.h>
#include <torch/torch.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "nascent/core/task.h"
#include "nascent/space/network.h"

namespace nascent::data {
struct TaskData;
}

namespace nascent::exporting {

// What the trainer does to a batch before the network: (x - mean) / std per image channel (of
// pixel / 255) or per tabular feature; nothing for text.
struct InputTransform {
  std::string kind = "image";  // the task's kind
  std::vector<float> mean, std;

  static InputTransform of(const data::TaskData& data);
  torch::Tensor apply(const torch::Tensor& x) const;
};

// Loads weights saved by torch::save of a network (weights.pt) into `net`; returns "" or, when the
// file does not hold this network's weights, the first line of torch's reason.
std::string load_weights(const std::shared_ptr<space::Network>& net, const std::string& path);

// An example input for `task`: one batch of `batch` zeros (images, tabular) or of token 1 (text,
// where 0 is padding).
torch::Tensor example_input(const Task& task, int64_t batch = 2);

// Traces x -> net(input.apply(x)) (the network left in eval mode) on `example` into a module whose
// forward(x) returns the network's logits. Throws InputError when the network cannot be traced.
torch::jit::Module trace(space::Network& net, const torch::Tensor& example, const InputTransform& input);

// trace() on the task's example input, saved to `path` (written atomically), with `path`'s
// description beside it (model.json for model.pt: see describe_model). Returns the module.
torch::jit::Module save_torchscript(space::Network& net, const data::TaskData& data, const std::string& path,
                                    const nlohmann::json& arch);

// What a user of the model file needs: the input (kind, shape with null batch, dtype, value
// range), the output (logits over which classes), class names or vocabulary, the architecture.
nlohmann::json describe_model(const data::TaskData& data, const nlohmann::json& arch, const std::string& format);

// The description's path for a model path: model.pt -> model.json, m.onnx -> m.onnx.json.
std::string description_path(const std::string& model_path);
// Writes `description` to description_path(model_path), atomically.
void write_description(const std::string& model_path, const nlohmann::json& description);

}  // namespace nascent::exporting
