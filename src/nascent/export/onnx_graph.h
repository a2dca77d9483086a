// The state of one TorchScript-to-ONNX conversion (internal to the ONNX exporter). Every value of
// the traced graph is either known at export time (a constant, a parameter or buffer, or a result
// computed from those, which the exporter folds) or a tensor that the ONNX graph computes at run
// time. Conversions of single operations (onnx_ops.cpp) read their inputs through this class and
// add ONNX nodes to the graph it owns.
#pragma once

#include <onnx/onnx_pb.h>
#include <torch/csrc/jit/ir/ir.h>
#include <torch/torch.h>

#include <functional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace nascent::exporting::onnx_detail {

using torch::jit::Node;
using torch::jit::Value;

// An ONNX attribute, made by the attr_* functions below.
using Attribute = onnx::AttributeProto;
Attribute attr_int(const std::string& name, int64_t value);
Attribute attr_float(const std::string& name, double value);
Attribute attr_ints(const std::string& name, const std::vector<int64_t>& values);
Attribute attr_string(const std::string& name, const std::string& value);

// ONNX's element type for a torch dtype (float, double, int32, int64, bool).
int32_t onnx_type(c10::ScalarType dtype);

class GraphConverter {
 public:
  // Adds nodes and initializers to `graph`. `shapes` holds the sizes of run-time tensors as
  // traced, with -1 for the dimensions that follow the batch size.
  GraphConverter(onnx::GraphProto* graph, std::unordered_map<const Value*, std::vector<int64_t>> shapes);

  // --- values known at export time
  bool is_known(const Value* v) const;
  const c10::IValue& known(const Value* v) const;  // NASCENT_CHECKs that v is known
  void set_known(const Value* v, c10::IValue value, std::string name_hint = "");
  // The name a known tensor's initializer gets (its parameter's, or of what it was computed from).
  std::string name_hint(const Value* v) const;
  int64_t known_int(const Value* v) const;
  double known_double(const Value* v) const;
  bool known_bool(const Value* v) const;
  bool is_none(const Value* v) const { return is_known(v) && known(v).isNone(); }
  // An int[] argument: a constant list, or a list built from known ints.
  std::vector<int64_t> known_ints(const Value* v) const;

  // --- lists built at run time (prim::ListConstruct of run-time tensors, e.g. for aten::cat)
  void set_list(const Value* v, std::vector<const Value*> elements);
  const std::vector<const Value*>& list(const Value* v) const;

  // --- tensors
  // The ONNX name of tensor `v`: a run-time tensor, or a known tensor or number, which becomes
  // an initializer (numbers with `dtype`, default the number's own type).
  std::string tensor(const Value* v, c10::ScalarType dtype = c10::ScalarType::Undefined);
  // Binds a torch value to an ONNX tensor that holds it at run time.
  void set_tensor(const Value* v, const std::string& name);
  bool is_tensor(const Value* v) const { return tensors_.count(v) > 0; }
  // Traced sizes of a run-time tensor, -1 for the batch-dependent dimensions.
  const std::vector<int64_t>& shape(const Value* v) const;
  int64_t rank(const Value* v) const { return static_cast<int64_t>(shape(v).size()); }
  // A dimension index in [0, rank) from one that may count from the end.
  int64_t axis(const Value* v, int64_t dim) const;
  c10::ScalarType dtype(const Value* v) const;

  // New initializers.
  std::string initializer(const torch::Tensor& t, const std::string& name_hint = "c");
  std::string int64s(const std::vector<int64_t>& values);   // 1-D INT64
  std::string scalar(double value, c10::ScalarType dtype);  // 0-D

  // Adds a node and returns the name of its output: `output`, or a fresh name. A conversion of
  // node n names its final ONNX output out(n), after n's output (one call per output).
  std::string add(const std::string& op_type, const std::vector<std::string>& inputs,
                  const std::vector<Attribute>& attributes = {}, std::string output = "");
  // Reshape of `name` from shape `from` to `to` (-1 = batch). The batch dimension is copied (0)
  // where it keeps its place, which OpenCV 4.6 needs to know the shape when it loads the model.
  std::string reshape(const std::string& name, const std::vector<int64_t>& from, const std::vector<int64_t>& to,
                      const std::string& output = "");
  std::string fresh(const std::string& hint = "t");
  std::string out(const Node* n, size_t i = 0);

  // The name of the torch value, for error messages.
  static std::string where(const Node* n);

 private:
  onnx::GraphProto* graph_;
  std::unordered_map<const Value*, std::vector<int64_t>> shapes_;
  std::unordered_map<const Value*, c10::IValue> known_;
  std::unordered_map<const Value*, std::string> known_names_;  // name hints (parameter paths)
  std::unordered_map<const Value*, std::string> tensors_;
  std::unordered_map<const Value*, std::vector<const Value*>> lists_;
  std::unordered_set<std::string> used_names_;
  int next_node_ = 0;
};

// Converts one node whose inputs are not all known. Conversions are registered by the kind of
// the node ("aten::relu"); in-place variants ("aten::add_") use the out-of-place conversion.
using Conversion = std::function<void(GraphConverter& g, const Node* n)>;
using ConversionTable = std::unordered_map<std::string, Conversion>;
const ConversionTable& conversions();
void add_nn_conversions(ConversionTable& table);      // onnx_ops_nn.cpp: layers, activations
void add_tensor_conversions(ConversionTable& table);  // onnx_ops_tensor.cpp: arithmetic, shapes

// Helpers shared by the conversions.
// Binds n's output to a new node `op_type` over `inputs`.
void emit(GraphConverter& g, const Node* n, const std::string& op_type, const std::vector<std::string>& inputs,
          const std::vector<Attribute>& attributes = {});
// Binds n's output to its first input (operations that change nothing at inference).
void pass_through(GraphConverter& g, const Node* n);
// Run-time tensor `name` of shape `from` broadcast to `to` (same rank, -1 = batch). OpenCV 4.6
// runs elementwise operations on two run-time tensors only when their shapes are equal (it takes
// [N, C, 1, 1] against [N, C, H, W] for a per-channel scale, right for N = 1 only).
std::string broadcast(GraphConverter& g, const std::string& name, const std::vector<int64_t>& from,
                      const std::vector<int64_t>& to);
// Known tensor `t` stored expanded to `to` (-1 = batch) without its leading batch dimension, for
// an elementwise operation: OpenCV 4.6 lines a constant up with the dimensions from the second on
// (as a per-channel scale), so [E] against [N, T, E] must be stored as [T, E].
std::string expanded_constant(GraphConverter& g, const torch::Tensor& t, const std::vector<int64_t>& to,
                              const std::string& name_hint);
// A conversion that fails with a clear message (e.g. a training-only mode).
[[noreturn]] void unsupported(const Node* n, const std::string& why);

}  // namespace nascent::exporting::onnx_detail
