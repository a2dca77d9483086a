// TorchScript export: a built network (any space) traced into a self-contained torch::jit
// module, saved as a file that torch.jit.load (Python) and torch::jit::load (C++) read without
// nascent. The network runs once in eval mode on an example input; its parameters and buffers
// become the module's attributes and every operation its forward graph. Shapes other than the
// batch dimension are fixed to the example's (the task's input shape).
#pragma once

#include <torch/script.h>
#include <torch/torch.h>

#include <string>

#include "nascent/core/task.h"
#include "nascent/space/network.h"

namespace nascent::exporting {

// An example input for `task`: one batch of `batch` zeros (images, tabular) or of token 1 (text,
// where 0 is padding).
torch::Tensor example_input(const Task& task, int64_t batch = 2);

// Traces `net` (left in eval mode) on `example` into a module whose forward(x) returns the
// network's logits. Throws InputError when the network cannot be traced.
torch::jit::Module trace(space::Network& net, const torch::Tensor& example);

// trace() and save to `path` (written atomically). Returns the traced module.
torch::jit::Module save_torchscript(space::Network& net, const Task& task, const std::string& path);

}  // namespace nascent::exporting
