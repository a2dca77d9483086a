#include "nascent/export/onnx_graph.h"

#include <fmt/format.h>

#include "nascent/core/error.h"

namespace nascent::exporting::onnx_detail {

Attribute attr_int(const std::string& name, int64_t value) {
  Attribute a;
  a.set_name(name);
  a.set_type(onnx::AttributeProto::INT);
  a.set_i(value);
  return a;
}

Attribute attr_float(const std::string& name, double value) {
  Attribute a;
  a.set_name(name);
  a.set_type(onnx::AttributeProto::FLOAT);
  a.set_f(static_cast<float>(value));
  return a;
}

Attribute attr_ints(const std::string& name, const std::vector<int64_t>& values) {
  Attribute a;
  a.set_name(name);
  a.set_type(onnx::AttributeProto::INTS);
  for (int64_t v : values) a.add_ints(v);
  return a;
}

Attribute attr_string(const std::string& name, const std::string& value) {
  Attribute a;
  a.set_name(name);
  a.set_type(onnx::AttributeProto::STRING);
  a.set_s(value);
  return a;
}

int32_t onnx_type(c10::ScalarType dtype) {
  switch (dtype) {
    case c10::ScalarType::Float:
      return onnx::TensorProto::FLOAT;
    case c10::ScalarType::Double:
      return onnx::TensorProto::DOUBLE;
    case c10::ScalarType::Int:
      return onnx::TensorProto::INT32;
    case c10::ScalarType::Long:
      return onnx::TensorProto::INT64;
    case c10::ScalarType::Bool:
      return onnx::TensorProto::BOOL;
    default:
      throw InputError("", "--format",
                       fmt::format("onnx: tensors of type {} have no ONNX conversion", c10::toString(dtype)));
  }
}

GraphConverter::GraphConverter(onnx::GraphProto* graph, std::unordered_map<const Value*, std::vector<int64_t>> shapes)
    : graph_(graph), shapes_(std::move(shapes)) {}

bool GraphConverter::is_known(const Value* v) const { return known_.count(v) > 0; }

const c10::IValue& GraphConverter::known(const Value* v) const {
  auto it = known_.find(v);
  NASCENT_CHECK(it != known_.end(), "onnx export: %" + v->debugName() + " is not known at export time");
  return it->second;
}

void GraphConverter::set_known(const Value* v, c10::IValue value, std::string name_hint) {
  known_[v] = std::move(value);
  if (!name_hint.empty()) known_names_[v] = std::move(name_hint);
}

std::string GraphConverter::name_hint(const Value* v) const {
  auto it = known_names_.find(v);
  return it != known_names_.end() ? it->second : v->debugName();
}

int64_t GraphConverter::known_int(const Value* v) const {
  const c10::IValue& x = known(v);
  if (x.isTensor()) return x.toTensor().item<int64_t>();
  return x.toInt();
}

double GraphConverter::known_double(const Value* v) const {
  const c10::IValue& x = known(v);
  if (x.isTensor()) return x.toTensor().item<double>();
  return x.toScalar().toDouble();
}

bool GraphConverter::known_bool(const Value* v) const { return known(v).toBool(); }

std::vector<int64_t> GraphConverter::known_ints(const Value* v) const {
  if (is_known(v)) {
    const c10::IValue& x = known(v);
    if (x.isInt()) return {x.toInt()};
    return x.toIntVector();
  }
  std::vector<int64_t> out;
  for (const Value* e : list(v)) {
    if (!is_known(e)) {
      const std::string user = v->uses().empty() ? "a list" : where(v->uses()[0].user);
      throw InputError("", "--format",
                       fmt::format("onnx: {} takes a size that depends on the input; only sizes fixed at export "
                                   "time (all but the batch dimension) are supported",
                                   user));
    }
    out.push_back(known_int(e));
  }
  return out;
}

void GraphConverter::set_list(const Value* v, std::vector<const Value*> elements) { lists_[v] = std::move(elements); }

const std::vector<const Value*>& GraphConverter::list(const Value* v) const {
  auto it = lists_.find(v);
  NASCENT_CHECK(it != lists_.end(), "onnx export: %" + v->debugName() + " is not a list");
  return it->second;
}

std::string GraphConverter::tensor(const Value* v, c10::ScalarType dtype) {
  auto it = tensors_.find(v);
  if (it != tensors_.end()) return it->second;
  const c10::IValue& x = known(v);
  std::string name;
  if (x.isTensor()) {
    torch::Tensor t = x.toTensor();
    if (dtype != c10::ScalarType::Undefined && t.dim() == 0) t = t.to(dtype);
    name = initializer(t, name_hint(v));
  } else if (x.isDouble() || x.isInt() || x.isBool()) {
    c10::ScalarType own = x.isDouble() ? c10::ScalarType::Float
                          : x.isInt()  ? c10::ScalarType::Long
                                       : c10::ScalarType::Bool;
    name = scalar(x.toScalar().toDouble(), dtype != c10::ScalarType::Undefined ? dtype : own);
  } else {
    NASCENT_CHECK(false, "onnx export: %" + v->debugName() + " is not a tensor or a number");
  }
  tensors_[v] = name;
  return name;
}

void GraphConverter::set_tensor(const Value* v, const std::string& name) { tensors_[v] = name; }

const std::vector<int64_t>& GraphConverter::shape(const Value* v) const {
  auto it = shapes_.find(v);
  NASCENT_CHECK(it != shapes_.end(), "onnx export: no traced shape for %" + v->debugName());
  return it->second;
}

int64_t GraphConverter::axis(const Value* v, int64_t dim) const {
  const int64_t r = rank(v);
  return dim < 0 ? dim + r : dim;
}

c10::ScalarType GraphConverter::dtype(const Value* v) const {
  if (is_known(v)) {
    const c10::IValue& x = known(v);
    if (x.isTensor()) return x.toTensor().scalar_type();
    return x.isDouble() ? c10::ScalarType::Float : x.isInt() ? c10::ScalarType::Long : c10::ScalarType::Bool;
  }
  auto type = v->type()->cast<c10::TensorType>();
  NASCENT_CHECK(type && type->scalarType(), "onnx export: no traced dtype for %" + v->debugName());
  return *type->scalarType();
}

std::string GraphConverter::initializer(const torch::Tensor& t, const std::string& name_hint) {
  const torch::Tensor c = t.detach().contiguous().cpu();
  onnx::TensorProto* p = graph_->add_initializer();
  p->set_name(fresh(name_hint));
  p->set_data_type(onnx_type(c.scalar_type()));
  for (int64_t d : c.sizes()) p->add_dims(d);
  p->set_raw_data(std::string(static_cast<const char*>(c.data_ptr()), c.numel() * c.element_size()));
  return p->name();
}

std::string GraphConverter::int64s(const std::vector<int64_t>& values) {
  return initializer(torch::tensor(values, torch::kInt64), "ints");
}

std::string GraphConverter::scalar(double value, c10::ScalarType dtype) {
  return initializer(torch::scalar_tensor(value, torch::TensorOptions().dtype(dtype)), "scalar");
}

std::string GraphConverter::add(const std::string& op_type, const std::vector<std::string>& inputs,
                                const std::vector<Attribute>& attributes, std::string output) {
  onnx::NodeProto* node = graph_->add_node();
  node->set_op_type(op_type);
  node->set_name(fmt::format("{}_{}", op_type, next_node_++));
  for (const std::string& i : inputs) node->add_input(i);
  for (const Attribute& a : attributes) *node->add_attribute() = a;
  if (output.empty()) output = fresh(op_type);
  node->add_output(output);
  return output;
}

std::string GraphConverter::reshape(const std::string& name, const std::vector<int64_t>& from,
                                    const std::vector<int64_t>& to, const std::string& output) {
  std::vector<int64_t> target = to;
  int64_t inferred = 0;
  for (size_t i = 0; i < target.size(); ++i)
    if (target[i] < 0) {
      if (i < from.size() && from[i] < 0)
        target[i] = 0;
      else
        ++inferred;
    }
  if (inferred > 1)
    throw InputError("", "--format",
                     "onnx: a reshape merges the batch dimension with another, which cannot be exported");
  return add("Reshape", {name, int64s(target)}, {}, output);
}

std::string GraphConverter::fresh(const std::string& hint) {
  std::string base = hint;
  for (char& c : base)
    if (c == '.') c = '_';
  std::string name = base;
  for (int i = 1; !used_names_.insert(name).second; ++i) name = fmt::format("{}_{}", base, i);
  return name;
}

std::string GraphConverter::out(const Node* n, size_t i) { return fresh(n->outputs().at(i)->debugName()); }

std::string GraphConverter::where(const Node* n) { return fmt::format("operation {}", n->kind().toQualString()); }

const ConversionTable& conversions() {
  static const ConversionTable table = [] {
    ConversionTable t;
    add_nn_conversions(t);
    add_tensor_conversions(t);
    return t;
  }();
  return table;
}

void emit(GraphConverter& g, const Node* n, const std::string& op_type, const std::vector<std::string>& inputs,
          const std::vector<Attribute>& attributes) {
  g.set_tensor(n->output(), g.add(op_type, inputs, attributes, g.out(n)));
}

void pass_through(GraphConverter& g, const Node* n) { g.set_tensor(n->output(), g.tensor(n->input(0))); }

void unsupported(const Node* n, const std::string& why) {
  throw InputError("", "--format", fmt::format("onnx: operation {} {}", n->kind().toQualString(), why));
}

}  // namespace nascent::exporting::onnx_detail
