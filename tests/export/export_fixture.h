// Shared by the export tests: options for spaces that need them, random inputs, and built
// networks whose batch-norm statistics have moved away from their initial values.
#pragma once

#include <torch/torch.h>

#include <memory>
#include <string>

#include "nascent/core/config.h"
#include "nascent/core/task.h"
#include "nascent/export/torchscript.h"
#include "nascent/space/network.h"
#include "nascent/space/space.h"

namespace nascent::exporting::export_test {

// The options a registered space is built with in the export tests (the declared space has no
// default layers).
inline nlohmann::json space_options(const std::string& name) {
  if (name != "declared") return nlohmann::json::object();
  return parse_yaml_value(R"({layers: [
      {type: conv, channels: {choice: [8, 16]}}, {type: batchnorm}, {type: activation, act: {choice: [hswish, gelu]}},
      {repeat: {choice: [1, 2]}, layers: [{type: conv, channels: {choice: [8, 16]}, kernel: {choice: [3, 5]}}]},
      {type: global_pool}, {type: dropout, rate: 0.3}, {type: linear, units: {choice: [16, 32]}}]})",
                          "test");
}

// An input batch for the task: normal noise (images, tabular) or token ids 1..vocab-1 (text).
inline torch::Tensor random_input(const Task& task, int64_t batch) {
  std::vector<int64_t> shape = task.input_shape;
  shape.insert(shape.begin(), batch);
  if (task.kind == "text") return torch::randint(1, task.vocab_size, shape, torch::kInt64);
  return torch::randn(shape);
}

// `arch` built for `task`, after a few training-mode passes: batch-norm statistics that are no
// longer 0 and 1 make an export that lost its buffers compute different logits. Left in eval mode.
inline std::shared_ptr<space::Network> built_network(const space::SearchSpace& space, const Arch& arch,
                                                     const Task& task) {
  torch::manual_seed(3);
  auto net = space.build(arch, task);
  net->train();
  {
    torch::NoGradGuard no_grad;
    for (int i = 0; i < 3; ++i) net->forward(random_input(task, 8) * (task.kind == "text" ? 1 : 2));
  }
  net->eval();
  return net;
}

// Normalisation statistics that are not the identity (per image channel or tabular feature;
// none for text): an export must apply them.
inline InputTransform test_transform(const Task& task) {
  InputTransform t;
  t.kind = task.kind;
  const int64_t n = task.kind == "text" ? 0 : task.input_shape[0];
  for (int64_t i = 0; i < n; ++i) {
    t.mean.push_back(0.25f + 0.01f * static_cast<float>(i));
    t.std.push_back(0.5f + 0.02f * static_cast<float>(i));
  }
  return t;
}

}  // namespace nascent::exporting::export_test
