#include "nascent/export/torchscript.h"

#include <fmt/format.h>
#include <torch/csrc/jit/frontend/tracer.h>

#include <filesystem>

#include "nascent/core/error.h"

namespace nascent::exporting {

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

torch::jit::Module trace(space::Network& net, const torch::Tensor& example) {
  net.eval();
  torch::jit::Module m(c10::QualifiedName("__torch__.nascent.Network"));
  // The module holds the network's own tensors, so the tracer sees every use of a parameter or
  // buffer as a read of the module's attribute rather than as a constant.
  for (const auto& p : net.named_parameters(/*recurse=*/true))
    m.register_parameter(attribute_name(p.key()), p.value(), /*is_buffer=*/false);
  for (const auto& b : net.named_buffers(/*recurse=*/true)) m.register_buffer(attribute_name(b.key()), b.value());
  std::shared_ptr<torch::jit::tracer::TracingState> state;
  try {
    auto fn = [&net](torch::jit::Stack inputs) -> torch::jit::Stack { return {net.forward(inputs.at(0).toTensor())}; };
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

torch::jit::Module save_torchscript(space::Network& net, const Task& task, const std::string& path) {
  torch::jit::Module m = trace(net, example_input(task));
  const std::string tmp = path + ".tmp";
  m.save(tmp);
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) throw InputError(path, "--out", "cannot write the model: " + ec.message());
  return m;
}

}  // namespace nascent::exporting
