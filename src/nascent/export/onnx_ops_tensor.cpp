// ONNX conversions of tensor operations: arithmetic, comparisons, reductions, and the operations
// that move or reshape data. Shapes in the ONNX graph are fixed except for the batch dimension,
// so reshapes take the traced output shape with -1 where the batch goes.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "nascent/export/onnx_graph.h"

namespace nascent::exporting::onnx_detail {
std::string expanded_constant(GraphConverter& g, const torch::Tensor& t, const std::vector<int64_t>& to,
                              const std::string& name_hint) {
  // Without the leading batch dimension: broadcasting puts it back, and OpenCV reads a
  // constant with a leading 1 as one with a batch.
  std::vector<int64_t> expanded(to.begin() + (!to.empty() && to[0] < 0 ? 1 : 0), to.end());
  for (int64_t& d : expanded) d = std::max<int64_t>(d, 1);
  // A constant shaped for the batch ([1, C, 1, 1] input statistics) loses that leading 1 too.
  torch::Tensor c = t;
  while (c.dim() > static_cast<int64_t>(expanded.size()) && c.size(0) == 1) c = c.squeeze(0);
  return g.initializer(c.expand(expanded).contiguous(), name_hint);
}

namespace {

// v as a tensor of type `dtype`: known numbers are made in that type, run-time tensors cast.
std::string operand(GraphConverter& g, const Value* v, c10::ScalarType dtype) {
  if (g.is_known(v) && !g.known(v).isTensor()) return g.tensor(v, dtype);
  if (g.is_known(v) && g.known(v).toTensor().dim() == 0) return g.tensor(v, dtype);
  const std::string name = g.tensor(v);
  if (g.dtype(v) == dtype) return name;
  return g.add("Cast", {name}, {attr_int("to", onnx_type(dtype))});
}

}  // namespace

// The dimensions to expand are moved last and multiplied by a row of ones (exact: a * 1 = a),
// then moved back.
std::string broadcast(GraphConverter& g, const std::string& name, const std::vector<int64_t>& from,
                      const std::vector<int64_t>& to) {
  std::vector<int64_t> keep, expand;
  for (int64_t d = 0; d < static_cast<int64_t>(from.size()); ++d)
    (from[d] == 1 && to[d] > 1 ? expand : keep).push_back(d);
  if (expand.empty()) return name;
  std::vector<int64_t> perm = keep, kept_sizes, sizes;
  perm.insert(perm.end(), expand.begin(), expand.end());
  int64_t copies = 1;
  for (int64_t d : keep) kept_sizes.push_back(from[d]);
  for (int64_t d : expand) copies *= to[d];
  const bool moved = !std::is_sorted(perm.begin(), perm.end());
  std::string t = moved ? g.add("Transpose", {name}, {attr_ints("perm", perm)}) : name;
  std::vector<int64_t> column = kept_sizes;
  column.push_back(1);
  std::vector<int64_t> moved_from;
  for (int64_t d : perm) moved_from.push_back(from[d]);
  t = g.reshape(t, moved_from, column);
  t = g.add("MatMul", {t, g.initializer(torch::ones({1, copies}), "ones")});
  sizes = kept_sizes;
  for (int64_t d : expand) sizes.push_back(to[d]);
  std::vector<int64_t> product = kept_sizes;
  product.push_back(copies);
  t = g.reshape(t, product, sizes);
  if (!moved) return t;
  std::vector<int64_t> inverse(perm.size());
  for (size_t i = 0; i < perm.size(); ++i) inverse[perm[i]] = static_cast<int64_t>(i);
  return g.add("Transpose", {t}, {attr_ints("perm", inverse)});
}

namespace {

// broadcast() after lining lower ranks up with the last dimensions (numpy broadcasting).
std::string broadcast_runtime(GraphConverter& g, const std::string& name, const std::vector<int64_t>& shape,
                              const std::vector<int64_t>& to) {
  if (shape == to) return name;
  std::vector<int64_t> from = shape;
  if (from.size() < to.size()) from.insert(from.begin(), to.size() - from.size(), 1);
  const std::string same_rank = from.size() == shape.size() ? name : g.reshape(name, shape, from);
  return broadcast(g, same_rank, from, to);
}

// A product of two run-time tensors: OpenCV 4.6 fuses an elementwise operation with a number
// that follows it (scores / sqrt(d) in attention) into the product and then ignores it.
bool is_runtime_product(const GraphConverter& g, const Value* v) {
  const Node* p = v->node();
  return (p->kind() == c10::aten::matmul || p->kind() == c10::aten::bmm) && !g.is_known(p->input(0)) &&
         !g.is_known(p->input(1));
}

// operand() of an elementwise operation n, broadcast to n's output shape but for the batch.
std::string elementwise_operand(GraphConverter& g, const Node* n, const Value* v, c10::ScalarType dtype) {
  const std::vector<int64_t>& to = g.shape(n->output());
  const Value* other = n->input(v == n->input(0) ? 1 : 0);
  if (g.is_known(v) && (!g.known(v).isTensor() || g.known(v).toTensor().numel() == 1) && is_runtime_product(g, other))
    return expanded_constant(g, torch::scalar_tensor(g.known_double(v), dtype), to, "scale");
  if (g.is_known(v) && g.known(v).isTensor() && g.known(v).toTensor().numel() > 1)
    return expanded_constant(g, g.known(v).toTensor().to(dtype), to, g.name_hint(v));
  const std::string name = operand(g, v, dtype);
  if (g.is_known(v)) return name;
  return broadcast_runtime(g, name, g.shape(v), to);
}

// Elementwise `op_type` over the first two inputs in the output's type; add and sub scale the
// second by alpha.
Conversion binary(const std::string& op_type) {
  return [op_type](GraphConverter& g, const Node* n) {
    const c10::ScalarType dt = g.dtype(n->output());
    const std::string a = elementwise_operand(g, n, n->input(0), dt);
    std::string b = elementwise_operand(g, n, n->input(1), dt);
    if (n->inputs().size() > 2 && !g.is_none(n->input(2))) {
      if (g.known(n->input(2)).isString()) unsupported(n, "with a rounding mode");
      const double alpha = g.known_double(n->input(2));
      if (alpha != 1) b = g.add("Mul", {b, g.scalar(alpha, dt)});
    }
    emit(g, n, op_type, {a, b});
  };
}

// Comparisons: both sides in the type torch compares them in, a boolean result.
Conversion comparison(const std::string& op_type, bool negate = false) {
  return [op_type, negate](GraphConverter& g, const Node* n) {
    const c10::ScalarType dt = g.is_tensor(n->input(0)) ? g.dtype(n->input(0)) : g.dtype(n->input(1));
    const std::vector<std::string> inputs{operand(g, n->input(0), dt), operand(g, n->input(1), dt)};
    if (negate) return emit(g, n, "Not", {g.add(op_type, inputs)});
    emit(g, n, op_type, inputs);
  };
}

// Reshapes, squeezes and unsqueezes: n's first input to n's traced output shape.
void reshape_to_output(GraphConverter& g, const Node* n) {
  g.set_tensor(n->output(), g.reshape(g.tensor(n->input(0)), g.shape(n->input(0)), g.shape(n->output()), g.out(n)));
}

// aten::flatten(x, start, end): Flatten when it makes [batch, rest] (what OpenCV handles best).
void flatten(GraphConverter& g, const Node* n) {
  const Value* x = n->input(0);
  const int64_t start = g.axis(x, g.known_int(n->input(1))), end = g.axis(x, g.known_int(n->input(2)));
  if (start == 1 && end == g.rank(x) - 1) return emit(g, n, "Flatten", {g.tensor(x)}, {attr_int("axis", 1)});
  reshape_to_output(g, n);
}

// Reductions: axes are an attribute of ReduceMean and an input of ReduceSum in opset 13.
void reduce(GraphConverter& g, const Node* n, const std::string& op_type) {
  const Value* x = n->input(0);
  if (n->inputs().size() == 2) {  // mean(x, dtype) / sum(x, dtype): every element
    return emit(g, n, op_type, {g.tensor(x)}, {attr_int("keepdims", 0)});
  }
  if (!g.is_none(n->input(3)) && g.known(n->input(3)).toScalarType() != g.dtype(x)) unsupported(n, "with a dtype");
  std::vector<int64_t> axes;
  for (int64_t d : g.known_ints(n->input(1))) axes.push_back(g.axis(x, d));
  std::sort(axes.begin(), axes.end());
  const bool keepdim = g.known_bool(n->input(2));
  // Global average pooling over [N, C, H, W] is what OpenCV runs fastest.
  if (op_type == "ReduceMean" && g.rank(x) == 4 && axes == std::vector<int64_t>{2, 3}) {
    if (keepdim) return emit(g, n, "GlobalAveragePool", {g.tensor(x)});
    return emit(g, n, "Flatten", {g.add("GlobalAveragePool", {g.tensor(x)})}, {attr_int("axis", 1)});
  }
  if (op_type == "ReduceSum")
    return emit(g, n, op_type, {g.tensor(x), g.int64s(axes)}, {attr_int("keepdims", keepdim)});
  emit(g, n, op_type, {g.tensor(x)}, {attr_ints("axes", axes), attr_int("keepdims", keepdim)});
}

// aten::slice(x, dim, start?, end?, step)
void slice(GraphConverter& g, const Node* n) {
  const Value* x = n->input(0);
  const int64_t dim = g.axis(x, g.known_int(n->input(1)));
  const int64_t size = g.shape(x).at(dim);
  int64_t start = g.is_none(n->input(2)) ? 0 : g.known_int(n->input(2));
  int64_t end = g.is_none(n->input(3)) ? std::numeric_limits<int64_t>::max() : g.known_int(n->input(3));
  // Torch slices clamp their ends to the size; OpenCV wants them in range.
  if (size >= 0) {
    if (start < 0) start += size;
    if (end < 0) end += size;
    start = std::clamp<int64_t>(start, 0, size);
    end = std::clamp<int64_t>(end, 0, size);
    if (start == 0 && end == size && g.known_int(n->input(4)) == 1) return pass_through(g, n);
  }
  emit(g, n, "Slice",
       {g.tensor(x), g.int64s({start}), g.int64s({end}), g.int64s({dim}), g.int64s({g.known_int(n->input(4))})});
}

// aten::select(x, dim, index) = x.slice(dim, index, index + 1) without dimension dim
void select(GraphConverter& g, const Node* n) {
  const Value* x = n->input(0);
  const int64_t dim = g.axis(x, g.known_int(n->input(1)));
  int64_t index = g.known_int(n->input(2));
  if (index < 0) {
    if (g.shape(x).at(dim) < 0) unsupported(n, "counts from the end of the batch dimension");
    index += g.shape(x).at(dim);
  }
  const std::string part =
      g.add("Slice", {g.tensor(x), g.int64s({index}), g.int64s({index + 1}), g.int64s({dim}), g.int64s({1})});
  std::vector<int64_t> sliced = g.shape(x);
  sliced[dim] = 1;
  g.set_tensor(n->output(), g.reshape(part, sliced, g.shape(n->output()), g.out(n)));
}

// aten::masked_fill(x, mask, value). With a finite value it is x * (1 - mask) + value * mask,
// exact for finite x and runnable where Where is not (OpenCV 4.6); otherwise Where.
void masked_fill(GraphConverter& g, const Node* n) {
  const Value* x = n->input(0);
  const c10::ScalarType dt = g.dtype(x);
  const double value = g.known_double(n->input(2));
  if (!std::isfinite(value)) return emit(g, n, "Where", {g.tensor(n->input(1)), g.scalar(value, dt), g.tensor(x)});
  std::string keep, fill;
  if (g.is_known(n->input(1))) {
    const torch::Tensor mask = g.known(n->input(1)).toTensor().to(dt);
    keep = expanded_constant(g, 1 - mask, g.shape(n->output()), "keep");
    fill = expanded_constant(g, mask * value, g.shape(n->output()), "fill");
  } else {
    const std::string mask = broadcast_runtime(g, operand(g, n->input(1), dt), g.shape(n->input(1)), g.shape(x));
    keep = g.add("Sub", {g.scalar(1, dt), mask});
    fill = g.add("Mul", {mask, g.scalar(value, dt)});
  }
  emit(g, n, "Add", {g.add("Mul", {g.tensor(x), keep}), fill});
}

// aten::_pad_enum(x, pad, mode, value?) / aten::constant_pad_nd(x, pad, value). Torch lists
// (begin, end) pairs from the last dimension backwards; ONNX all begins, then all ends.
void pad(GraphConverter& g, const Node* n, int64_t mode, const Value* value) {
  const Value* x = n->input(0);
  const auto torch_pads = g.known_ints(n->input(1));
  const int64_t r = g.rank(x);
  std::vector<int64_t> pads(2 * r, 0);
  for (size_t i = 0; i < torch_pads.size() / 2; ++i) {
    pads[r - 1 - i] = torch_pads[2 * i];
    pads[2 * r - 1 - i] = torch_pads[2 * i + 1];
  }
  static const char* kModes[] = {"reflect", "edge", nullptr, "constant"};  // at::padding_mode
  if (mode < 0 || mode > 3 || !kModes[mode]) unsupported(n, "with circular padding");
  std::vector<std::string> inputs{g.tensor(x), g.int64s(pads)};
  if (mode == 3 && value && !g.is_none(value)) inputs.push_back(g.scalar(g.known_double(value), g.dtype(x)));
  emit(g, n, "Pad", inputs, {attr_string("mode", kModes[mode])});
}

std::vector<int64_t> axes_of(GraphConverter& g, const Value* x, const std::vector<int64_t>& dims) {
  std::vector<int64_t> axes;
  for (int64_t d : dims) axes.push_back(g.axis(x, d));
  return axes;
}

}  // namespace

void add_tensor_conversions(ConversionTable& t) {
  t["aten::add"] = binary("Add");
  t["aten::sub"] = binary("Sub");
  t["aten::mul"] = binary("Mul");
  t["aten::div"] = binary("Div");
  t["aten::rsub"] = [](GraphConverter& g, const Node* n) {  // other - alpha * self
    const c10::ScalarType dt = g.dtype(n->output());
    std::string self = operand(g, n->input(0), dt);
    if (g.known_double(n->input(2)) != 1) self = g.add("Mul", {self, g.scalar(g.known_double(n->input(2)), dt)});
    emit(g, n, "Sub", {operand(g, n->input(1), dt), self});
  };
  t["aten::maximum"] = binary("Max");
  t["aten::minimum"] = binary("Min");
  t["aten::pow"] = binary("Pow");
  for (const auto& [op, onnx] : std::vector<std::pair<std::string, std::string>>{{"neg", "Neg"},
                                                                                 {"exp", "Exp"},
                                                                                 {"log", "Log"},
                                                                                 {"sqrt", "Sqrt"},
                                                                                 {"abs", "Abs"},
                                                                                 {"reciprocal", "Reciprocal"},
                                                                                 {"erf", "Erf"},
                                                                                 {"floor", "Floor"},
                                                                                 {"ceil", "Ceil"},
                                                                                 {"logical_not", "Not"}})
    t["aten::" + op] = [onnx = onnx](GraphConverter& g, const Node* n) { emit(g, n, onnx, {g.tensor(n->input(0))}); };
  t["aten::rsqrt"] = [](GraphConverter& g, const Node* n) {
    emit(g, n, "Reciprocal", {g.add("Sqrt", {g.tensor(n->input(0))})});
  };
  t["aten::eq"] = comparison("Equal");
  t["aten::ne"] = comparison("Equal", /*negate=*/true);
  t["aten::gt"] = comparison("Greater");
  t["aten::lt"] = comparison("Less");
  t["aten::ge"] = comparison("Less", /*negate=*/true);
  t["aten::le"] = comparison("Greater", /*negate=*/true);
  t["aten::where"] = [](GraphConverter& g, const Node* n) {
    const c10::ScalarType dt = g.dtype(n->output());
    emit(g, n, "Where", {g.tensor(n->input(0)), operand(g, n->input(1), dt), operand(g, n->input(2), dt)});
  };
  t["aten::masked_fill"] = masked_fill;

  t["aten::matmul"] = t["aten::mm"] = t["aten::bmm"] = [](GraphConverter& g, const Node* n) {
    emit(g, n, "MatMul", {g.tensor(n->input(0)), g.tensor(n->input(1))});
  };
  t["aten::mean"] = [](GraphConverter& g, const Node* n) { reduce(g, n, "ReduceMean"); };
  t["aten::sum"] = [](GraphConverter& g, const Node* n) { reduce(g, n, "ReduceSum"); };

  // Conversions of type; copies and layout changes are nothing in ONNX.
  t["aten::to"] = t["aten::type_as"] = [](GraphConverter& g, const Node* n) {
    const c10::ScalarType to = g.dtype(n->output());
    if (to == g.dtype(n->input(0))) return pass_through(g, n);
    emit(g, n, "Cast", {g.tensor(n->input(0))}, {attr_int("to", onnx_type(to))});
  };
  for (const char* op : {"aten::contiguous", "aten::clone", "aten::detach", "aten::alias"}) t[op] = pass_through;

  t["aten::view"] = t["aten::reshape"] = t["aten::unflatten"] = reshape_to_output;
  t["aten::flatten"] = flatten;
  // Reshapes rather than Squeeze and Unsqueeze, whose axes are an input in opset 13 that
  // OpenCV 4.6 misreads.
  t["aten::unsqueeze"] = t["aten::squeeze"] = reshape_to_output;
  t["aten::permute"] = [](GraphConverter& g, const Node* n) {
    emit(g, n, "Transpose", {g.tensor(n->input(0))},
         {attr_ints("perm", axes_of(g, n->input(0), g.known_ints(n->input(1))))});
  };
  t["aten::transpose"] = [](GraphConverter& g, const Node* n) {
    const Value* x = n->input(0);
    std::vector<int64_t> perm(g.rank(x));
    std::iota(perm.begin(), perm.end(), 0);
    std::swap(perm[g.axis(x, g.known_int(n->input(1)))], perm[g.axis(x, g.known_int(n->input(2)))]);
    emit(g, n, "Transpose", {g.tensor(x)}, {attr_ints("perm", perm)});
  };
  t["aten::t"] = [](GraphConverter& g, const Node* n) {
    if (g.rank(n->input(0)) < 2) return pass_through(g, n);
    emit(g, n, "Transpose", {g.tensor(n->input(0))}, {attr_ints("perm", {1, 0})});
  };
  t["aten::expand"] = [](GraphConverter& g, const Node* n) {
    std::vector<int64_t> target = g.shape(n->output());
    for (int64_t& d : target) d = std::max<int64_t>(d, 1);  // 1 broadcasts to the batch
    emit(g, n, "Expand", {g.tensor(n->input(0)), g.int64s(target)});
  };
  t["aten::slice"] = slice;
  t["aten::select"] = select;
  t["aten::cat"] = t["aten::concat"] = [](GraphConverter& g, const Node* n) {
    std::vector<std::string> inputs;
    for (const Value* p : g.list(n->input(0))) inputs.push_back(g.tensor(p));
    emit(g, n, "Concat", inputs, {attr_int("axis", g.axis(n->output(), g.known_int(n->input(1))))});
  };
  t["aten::_pad_enum"] = [](GraphConverter& g, const Node* n) { pad(g, n, g.known_int(n->input(2)), n->input(3)); };
  t["aten::constant_pad_nd"] = [](GraphConverter& g, const Node* n) { pad(g, n, 3, n->input(2)); };
  t["aten::size"] = [](GraphConverter& g, const Node* n) {
    if (n->inputs().size() < 2) unsupported(n, "without a dimension (the whole shape) is not supported");
    const int64_t size = g.shape(n->input(0)).at(g.axis(n->input(0), g.known_int(n->input(1))));
    if (size < 0) unsupported(n, "reads the batch size, which an exported graph does not know in advance");
    g.set_known(n->output(), size);
  };
}

}  // namespace nascent::exporting::onnx_detail
