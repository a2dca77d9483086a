#include "nascent/export/onnx.h"

#include <fmt/format.h>
#include <onnx/checker.h>
#include <onnx/onnx_pb.h>
#include <torch/csrc/jit/passes/constant_propagation.h>
#include <torch/csrc/jit/passes/dead_code_elimination.h>
#include <torch/csrc/jit/passes/inliner.h>
#include <torch/csrc/jit/passes/remove_mutation.h>

#include <cstring>

#include "nascent/core/error.h"
#include "nascent/data/dataset.h"
#include "nascent/export/onnx_graph.h"
#include "nascent/export/torchscript.h"
#include "nascent/run/outputs.h"

// Opset 13 (ONNX 1.8, IR version 7): what onnxruntime (>= 1.6) and OpenCV 4.6 both read, and the
// first opset whose Softmax normalises along one axis as torch does. Later operators
// (HardSwish 14, LayerNormalization 17) are written as compositions of opset-13 ones, which
// OpenCV 4.6 runs while it does not know LayerNormalization at all.
static_assert(nascent::exporting::kOnnxOpset == 13, "the conversions in onnx_ops_*.cpp target opset 13");

namespace nascent::exporting {
namespace {

using onnx_detail::GraphConverter;
using torch::jit::Graph;

constexpr int64_t kIrVersion = 7;  // ONNX 1.8, the IR that introduced opset 13

// The traced forward graph with calls inlined, in-place operations made functional where that is
// provably safe, and every computation on constants folded.
std::shared_ptr<Graph> prepared_graph(torch::jit::Module& m) {
  std::shared_ptr<Graph> g = m.get_method("forward").graph()->copy();
  torch::jit::Inline(*g);
  torch::jit::RemoveTensorMutation(g);
  torch::jit::ConstantPropagation(g);
  torch::jit::EliminateDeadCode(g);
  return g;
}

// Sizes of every tensor in graph `a`, from two traces of the same network with different batch
// sizes: the dimensions that differ follow the batch (-1), the others are fixed.
std::unordered_map<const torch::jit::Value*, std::vector<int64_t>> traced_shapes(const Graph& a, const Graph& b) {
  std::unordered_map<const torch::jit::Value*, std::vector<int64_t>> shapes;
  auto record = [&](const torch::jit::Value* va, const torch::jit::Value* vb) {
    auto ta = va->type()->cast<c10::TensorType>(), tb = vb->type()->cast<c10::TensorType>();
    if (!ta || !tb) return;
    auto sa = ta->sizes().concrete_sizes(), sb = tb->sizes().concrete_sizes();
    if (!sa || !sb || sa->size() != sb->size()) return;
    std::vector<int64_t> s(sa->size());
    for (size_t i = 0; i < s.size(); ++i) s[i] = (*sa)[i] == (*sb)[i] ? (*sa)[i] : -1;
    shapes[va] = s;
  };
  const std::string batch_dependent =
      "onnx: the network's operations depend on the batch size, so it cannot be exported with a dynamic batch "
      "dimension";
  if (a.inputs().size() != b.inputs().size()) throw InputError("", "--format", batch_dependent);
  for (size_t i = 0; i < a.inputs().size(); ++i) record(a.inputs()[i], b.inputs()[i]);
  auto na = a.nodes().begin(), nb = b.nodes().begin();
  for (; na != a.nodes().end() && nb != b.nodes().end(); ++na, ++nb) {
    if (na->kind() != nb->kind() || na->outputs().size() != nb->outputs().size())
      throw InputError("", "--format", batch_dependent);
    for (size_t i = 0; i < na->outputs().size(); ++i) record(na->outputs()[i], nb->outputs()[i]);
  }
  if (na != a.nodes().end() || nb != b.nodes().end()) throw InputError("", "--format", batch_dependent);
  return shapes;
}

// A list whose elements are all known, as the IValue a folded operation takes.
c10::IValue known_list(const GraphConverter& g, const torch::jit::Node* n) {
  const auto element = n->output()->type()->expectRef<c10::ListType>().getElementType();
  if (element->kind() == c10::TypeKind::IntType) {
    std::vector<int64_t> v;
    for (const auto* in : n->inputs()) v.push_back(g.known(in).toInt());
    return v;
  }
  if (element->kind() == c10::TypeKind::FloatType) {
    std::vector<double> v;
    for (const auto* in : n->inputs()) v.push_back(g.known(in).toDouble());
    return v;
  }
  if (element->kind() == c10::TypeKind::TensorType) {
    c10::List<at::Tensor> v;
    for (const auto* in : n->inputs()) v.push_back(g.known(in).toTensor());
    return v;
  }
  c10::impl::GenericList v(element);
  for (const auto* in : n->inputs()) v.push_back(g.known(in));
  return v;
}

bool all_inputs_known(const GraphConverter& g, const torch::jit::Node* n) {
  for (const auto* in : n->inputs())
    if (!g.is_known(in)) return false;
  return true;
}

// Runs an operation whose inputs are all known (e.g. the transpose of a weight) at export time.
void fold(GraphConverter& g, const torch::jit::Node* n) {
  torch::jit::Stack stack;
  const bool in_place = n->kind().toUnqualString()[std::strlen(n->kind().toUnqualString()) - 1] == '_';
  for (const auto* in : n->inputs()) {
    c10::IValue v = g.known(in);
    // An in-place operation must not change the network's own parameters.
    if (in_place && v.isTensor()) v = v.toTensor().clone();
    stack.push_back(std::move(v));
  }
  n->getOperation()(stack);
  NASCENT_CHECK(stack.size() == n->outputs().size(), "onnx export: folding " + std::string(n->kind().toQualString()));
  // Results keep the name of what they were computed from (t(fc_weight) -> "fc_weight").
  const std::string hint = n->inputs().empty() ? "" : g.name_hint(n->input(0));
  for (size_t i = 0; i < stack.size(); ++i) g.set_known(n->outputs()[i], std::move(stack[i]), hint);
}

// An in-place operation is converted as its functional form, which is only right if nothing
// reads the tensor it overwrote afterwards (RemoveTensorMutation leaves the cases it could not
// prove, which are almost always such reads through an alias).
void check_in_place(const torch::jit::Node* n) {
  for (const auto& use : n->input(0)->uses())
    if (use.user != n && use.user->isAfter(n))
      throw InputError("", "--format",
                       fmt::format("onnx: in-place operation {} overwrites a tensor that is read again later, which "
                                   "ONNX cannot express",
                                   n->kind().toQualString()));
}

void convert_node(GraphConverter& g, torch::jit::Module& module, const torch::jit::Node* n) {
  namespace prim = c10::prim;
  if (n->kind() == prim::Constant) {
    g.set_known(n->output(), torch::jit::toIValue(n->output()).value());
  } else if (n->kind() == prim::GetAttr) {
    // trace() registers every parameter and buffer directly on the module, under a flat name.
    const std::string name = n->s(c10::attr::name);
    g.set_known(n->output(), module.attr(name), name);
  } else if (n->kind() == prim::ListConstruct) {
    if (all_inputs_known(g, n))
      g.set_known(n->output(), known_list(g, n));
    else
      g.set_list(n->output(), {n->inputs().begin(), n->inputs().end()});
  } else if (all_inputs_known(g, n) && n->maybeOperator() && !n->isNondeterministic()) {
    fold(g, n);
  } else {
    std::string kind = n->kind().toQualString();
    const auto& table = onnx_detail::conversions();
    auto it = table.find(kind);
    if (it == table.end() && kind.back() == '_') {
      it = table.find(kind.substr(0, kind.size() - 1));
      if (it != table.end()) check_in_place(n);
    }
    if (it == table.end())
      throw InputError("", "--format",
                       fmt::format("onnx: operation {} has no ONNX conversion; export this network with --format "
                                   "torchscript instead",
                                   kind));
    it->second(g, n);
    for (const auto* o : n->outputs())
      NASCENT_CHECK(g.is_tensor(o) || g.is_known(o),
                    "onnx export: the conversion of " + kind + " left an output unset");
  }
}

void set_value_info(onnx::ValueInfoProto* info, const std::string& name, c10::ScalarType dtype,
                    const std::vector<int64_t>& shape) {
  info->set_name(name);
  auto* tensor = info->mutable_type()->mutable_tensor_type();
  tensor->set_elem_type(onnx_detail::onnx_type(dtype));
  for (int64_t d : shape) {
    auto* dim = tensor->mutable_shape()->add_dim();
    if (d < 0)
      dim->set_dim_param("batch");
    else
      dim->set_dim_value(d);
  }
}

// Renames tensor `from` to `to` wherever a node reads or writes it.
void rename(onnx::GraphProto* graph, const std::string& from, const std::string& to) {
  for (auto& node : *graph->mutable_node()) {
    for (auto& in : *node.mutable_input())
      if (in == from) in = to;
    for (auto& out : *node.mutable_output())
      if (out == from) out = to;
  }
}

onnx::ModelProto convert(torch::jit::Module& module, const Graph& graph, const Graph& other_batch) {
  onnx::ModelProto model;
  model.set_ir_version(kIrVersion);
  model.set_producer_name("nascent");
  model.set_producer_version(NASCENT_VERSION);
  auto* opset = model.add_opset_import();
  opset->set_domain("");
  opset->set_version(kOnnxOpset);
  onnx::GraphProto* out = model.mutable_graph();
  out->set_name("nascent");

  GraphConverter g(out, traced_shapes(graph, other_batch));
  NASCENT_CHECK(graph.inputs().size() == 2 && graph.outputs().size() == 1,
                "onnx export: a traced network takes (self, x) and returns logits");
  const torch::jit::Value* x = graph.inputs()[1];
  const std::string input = g.fresh("x"), output = g.fresh("logits");
  g.set_tensor(x, input);
  set_value_info(out->add_input(), input, g.dtype(x), g.shape(x));
  for (const torch::jit::Node* n : graph.nodes()) convert_node(g, module, n);

  const torch::jit::Value* logits = graph.outputs()[0];
  const std::string last = g.tensor(logits);
  bool produced = false;
  for (const auto& node : out->node())
    for (const auto& o : node.output()) produced = produced || o == last;
  if (produced && last != input)
    rename(out, last, output);
  else
    g.add("Identity", {last}, {}, output);
  set_value_info(out->add_output(), output, g.dtype(logits), g.shape(logits));
  return model;
}

}  // namespace

std::string onnx_model(space::Network& net, const Task& task, const InputTransform& input) {
  torch::jit::Module traced = trace(net, example_input(task, 2), input);
  torch::jit::Module other = trace(net, example_input(task, 3), input);
  const onnx::ModelProto model = convert(traced, *prepared_graph(traced), *prepared_graph(other));
  try {
    onnx::checker::check_model(model);
  } catch (const std::exception& e) {
    throw InternalError(fmt::format("onnx export produced a model that fails ONNX's checker: {}", e.what()));
  }
  return model.SerializeAsString();
}

void save_onnx(space::Network& net, const Task& task, const InputTransform& input, const std::string& path) {
  run::write_file_atomic(path, onnx_model(net, task, input));
}

void save_onnx(space::Network& net, const data::TaskData& data, const std::string& path, const nlohmann::json& arch) {
  save_onnx(net, data.task, InputTransform::of(data), path);
  write_description(path, describe_model(data, arch, "onnx"));
}

}  // namespace nascent::exporting
