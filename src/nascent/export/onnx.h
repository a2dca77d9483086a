// ONNX export: a built network (any space) traced (see torchscript.h) and converted operation by
// operation into an ONNX model (opset 13) that onnxruntime, OpenCV's DNN module and other
// runtimes load without nascent. Parameters and buffers become initializers; the input is `x`
// and the output `logits`, both with a dynamic batch dimension. Shapes other than the batch
// dimension are fixed to the task's.
#pragma once

#include <string>

#include "nascent/core/task.h"
#include "nascent/export/torchscript.h"
#include "nascent/space/network.h"

namespace nascent::exporting {

// The ONNX operator set the exported models use.
inline constexpr int64_t kOnnxOpset = 13;

// Traces x -> net(input.apply(x)) (the network left in eval mode) into a serialized ONNX model
// (the bytes of a .onnx file). Throws InputError (field "--format") naming the operation when the
// network uses one that has no ONNX conversion.
std::string onnx_model(space::Network& net, const Task& task, const InputTransform& input);
// The same, written to `path` (atomically).
void save_onnx(space::Network& net, const Task& task, const InputTransform& input, const std::string& path);

// The same for a trained network of `data`'s task, with the input normalisation of its training
// data inside, and `path`'s description beside it (model.json for model.onnx: see describe_model).
void save_onnx(space::Network& net, const data::TaskData& data, const std::string& path, const nlohmann::json& arch);

}  // namespace nascent::exporting
