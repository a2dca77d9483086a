// ONNX conversions of layers and activations: convolution, pooling, normalisation, linear maps,
// embeddings and the activation functions of ops.cpp. Operations that opset 13 lacks, or that
// OpenCV 4.6 cannot run (LayerNormalization, HardSwish), are written as compositions of
// simpler ones that compute the same numbers.
#include <algorithm>
#include <cmath>

#include "nascent/core/error.h"
#include "nascent/export/onnx_graph.h"

namespace nascent::exporting::onnx_detail {
namespace {

std::vector<int64_t> repeated(std::vector<int64_t> v, size_t n) {
  if (v.size() == 1) v.assign(n, v[0]);
  return v;
}

// ONNX pads: every spatial dimension's start, then every end (torch pads both sides equally).
std::vector<int64_t> symmetric_pads(const std::vector<int64_t>& padding) {
  std::vector<int64_t> pads = padding;
  pads.insert(pads.end(), padding.begin(), padding.end());
  return pads;
}

// aten::_convolution(input, weight, bias?, stride, padding, dilation, transposed, output_padding,
// groups, ...) and aten::conv{1,2}d(input, weight, bias?, stride, padding, dilation, groups).
void convolution(GraphConverter& g, const Node* n, bool full_signature) {
  const Value* weight = n->input(1);
  NASCENT_CHECK(g.is_known(weight), "onnx export: convolution weights must be parameters");
  const auto w = g.known(weight).toTensor().sizes();
  const size_t spatial = w.size() - 2;
  if (n->input(4)->type()->kind() == c10::TypeKind::StringType) unsupported(n, "with padding given by name");
  const bool transposed = full_signature && g.known_bool(n->input(6));
  const int64_t groups = g.known_int(n->input(full_signature ? 8 : 6));
  std::vector<Attribute> attrs{attr_ints("kernel_shape", {w.begin() + 2, w.end()}),
                               attr_ints("strides", repeated(g.known_ints(n->input(3)), spatial)),
                               attr_ints("pads", symmetric_pads(repeated(g.known_ints(n->input(4)), spatial))),
                               attr_ints("dilations", repeated(g.known_ints(n->input(5)), spatial)),
                               attr_int("group", groups)};
  if (transposed) attrs.push_back(attr_ints("output_padding", repeated(g.known_ints(n->input(7)), spatial)));
  std::vector<std::string> inputs{g.tensor(n->input(0)), g.tensor(weight)};
  if (!g.is_none(n->input(2))) inputs.push_back(g.tensor(n->input(2)));
  emit(g, n, transposed ? "ConvTranspose" : "Conv", inputs, attrs);
}

// aten::max_pool{1,2}d(x, kernel, stride, padding, dilation, ceil_mode)
void max_pool(GraphConverter& g, const Node* n, size_t spatial) {
  const auto kernel = repeated(g.known_ints(n->input(1)), spatial);
  auto stride = g.known_ints(n->input(2));
  if (stride.empty()) stride = kernel;
  std::vector<Attribute> attrs{attr_ints("kernel_shape", kernel), attr_ints("strides", repeated(stride, spatial)),
                               attr_ints("pads", symmetric_pads(repeated(g.known_ints(n->input(3)), spatial))),
                               attr_int("ceil_mode", g.known_bool(n->input(5)))};
  const auto dilation = repeated(g.known_ints(n->input(4)), spatial);
  // Left out when 1: OpenCV 4.6 rejects MaxPool with a dilations attribute.
  if (dilation != std::vector<int64_t>(spatial, 1)) attrs.push_back(attr_ints("dilations", dilation));
  emit(g, n, "MaxPool", {g.tensor(n->input(0))}, attrs);
}

// aten::avg_pool{1,2}d(x, kernel, stride, padding, ceil_mode, count_include_pad[, divisor_override])
void avg_pool(GraphConverter& g, const Node* n, size_t spatial) {
  if (n->inputs().size() > 6 && !g.is_none(n->input(6))) unsupported(n, "with divisor_override");
  const auto kernel = repeated(g.known_ints(n->input(1)), spatial);
  auto stride = g.known_ints(n->input(2));
  if (stride.empty()) stride = kernel;
  emit(g, n, "AveragePool", {g.tensor(n->input(0))},
       {attr_ints("kernel_shape", kernel), attr_ints("strides", repeated(stride, spatial)),
        attr_ints("pads", symmetric_pads(repeated(g.known_ints(n->input(3)), spatial))),
        attr_int("ceil_mode", g.known_bool(n->input(4))), attr_int("count_include_pad", g.known_bool(n->input(5)))});
}

// aten::adaptive_avg_pool{1,2}d(x, output_size): global pooling, or a plain average pool when
// every input size is a multiple of the output size (then the two compute the same windows).
void adaptive_avg_pool(GraphConverter& g, const Node* n) {
  const auto out = g.known_ints(n->input(1));
  const auto& in = g.shape(n->input(0));
  const size_t spatial = out.size();
  if (std::all_of(out.begin(), out.end(), [](int64_t s) { return s == 1; }))
    return emit(g, n, "GlobalAveragePool", {g.tensor(n->input(0))});
  std::vector<int64_t> kernel;
  for (size_t i = 0; i < spatial; ++i) {
    const int64_t size = in[in.size() - spatial + i];
    if (size < 0 || size % out[i] != 0) unsupported(n, "with an input size that is not a multiple of the output size");
    kernel.push_back(size / out[i]);
  }
  emit(g, n, "AveragePool", {g.tensor(n->input(0))}, {attr_ints("kernel_shape", kernel), attr_ints("strides", kernel)});
}

// aten::batch_norm(x, weight?, bias?, running_mean?, running_var?, training, momentum, eps, cudnn)
void batch_norm(GraphConverter& g, const Node* n) {
  if (g.known_bool(n->input(5)) || g.is_none(n->input(3)))
    unsupported(n, "normalises with batch statistics (training mode or no running statistics)");
  const torch::Tensor mean = g.known(n->input(3)).toTensor();
  // OpenCV 4.6 needs scale and bias; a norm without affine parameters has 1 and 0.
  const std::string scale = g.is_none(n->input(1)) ? g.initializer(torch::ones_like(mean)) : g.tensor(n->input(1));
  const std::string bias = g.is_none(n->input(2)) ? g.initializer(torch::zeros_like(mean)) : g.tensor(n->input(2));
  emit(g, n, "BatchNormalization", {g.tensor(n->input(0)), scale, bias, g.tensor(n->input(3)), g.tensor(n->input(4))},
       {attr_float("epsilon", g.known_double(n->input(7)))});
}

// aten::layer_norm(x, normalized_shape, weight?, bias?, eps, cudnn): LayerNormalization is opset
// 17 and unknown to OpenCV 4.6, so (x - mean) / sqrt(var + eps) over the last dimensions.
void layer_norm(GraphConverter& g, const Node* n) {
  const Value* x = n->input(0);
  const int64_t r = g.rank(x), k = static_cast<int64_t>(g.known_ints(n->input(1)).size());
  std::vector<int64_t> axes;
  for (int64_t i = r - k; i < r; ++i) axes.push_back(i);
  const c10::ScalarType dt = g.dtype(x);
  const std::string in = g.tensor(x);
  const std::vector<int64_t>& shape = g.shape(x);
  std::vector<int64_t> reduced = shape;
  for (int64_t a : axes) reduced[a] = 1;
  auto mean_over_axes = [&](const std::string& t) {
    return broadcast(g, g.add("ReduceMean", {t}, {attr_ints("axes", axes), attr_int("keepdims", 1)}), reduced, shape);
  };
  const std::string centred = g.add("Sub", {in, mean_over_axes(in)});
  const std::string var = mean_over_axes(g.add("Mul", {centred, centred}));
  const std::string stddev = g.add("Sqrt", {g.add("Add", {var, g.scalar(g.known_double(n->input(4)), dt)})});
  const bool weight = !g.is_none(n->input(2)), bias = !g.is_none(n->input(3));
  std::string y = g.add("Div", {centred, stddev}, {}, weight || bias ? "" : g.out(n));
  auto parameter = [&](const Value* p) { return expanded_constant(g, g.known(p).toTensor(), shape, g.name_hint(p)); };
  if (weight) y = g.add("Mul", {y, parameter(n->input(2))}, {}, bias ? "" : g.out(n));
  if (bias) y = g.add("Add", {y, parameter(n->input(3))}, {}, g.out(n));
  g.set_tensor(n->output(), y);
}

// aten::linear(x, weight, bias?): Gemm for [batch, in] (what OpenCV maps to a fully connected
// layer), MatMul with the transposed weight and Add for more dimensions.
void linear(GraphConverter& g, const Node* n) {
  const Value* x = n->input(0);
  const bool bias = !g.is_none(n->input(2));
  if (g.rank(x) == 2) {
    std::vector<std::string> inputs{g.tensor(x), g.tensor(n->input(1))};
    if (bias) inputs.push_back(g.tensor(n->input(2)));
    return emit(g, n, "Gemm", inputs, {attr_int("transB", 1)});
  }
  NASCENT_CHECK(g.is_known(n->input(1)), "onnx export: linear weights must be parameters");
  const std::string wt = g.initializer(g.known(n->input(1)).toTensor().t(), "weight_t");
  std::string y = g.add("MatMul", {g.tensor(x), wt}, {}, bias ? "" : g.out(n));
  if (bias) y = g.add("Add", {y, g.tensor(n->input(2))}, {}, g.out(n));
  g.set_tensor(n->output(), y);
}

// aten::addmm(bias, x, w, beta, alpha) = beta * bias + alpha * x @ w, as traced for a linear
// layer with w = weight^T. Gemm with the weight itself and transB, the form OpenCV 4.6 reads as
// a fully connected layer (it rejects transB = 0 with a bias).
void addmm(GraphConverter& g, const Node* n) {
  std::vector<Attribute> attrs;
  const double beta = g.known_double(n->input(3)), alpha = g.known_double(n->input(4));
  if (beta != 1) attrs.push_back(attr_float("beta", beta));
  if (alpha != 1) attrs.push_back(attr_float("alpha", alpha));
  const Value* w = n->input(2);
  std::string weight;
  if (g.is_known(w)) {
    weight = g.initializer(g.known(w).toTensor().t(), g.name_hint(w));
    attrs.push_back(attr_int("transB", 1));
  } else {
    weight = g.tensor(w);
  }
  emit(g, n, "Gemm", {g.tensor(n->input(1)), weight, g.tensor(n->input(0))}, attrs);
}

// aten::embedding(weight, ids, padding_idx, scale_grad_by_freq, sparse): rows of the table.
// OpenCV 4.6 gathers only with indices known in advance, so the rows are picked by a product
// with one-hot vectors, exact for ids below 2^24: one_hot[v] = relu(1 - |id - v|), then
// one_hot @ weight. It costs what the output layer of a language model over the same vocabulary
// costs.
void embedding(GraphConverter& g, const Node* n) {
  const Value* ids = n->input(1);
  const torch::Tensor weight = g.known(n->input(0)).toTensor();
  const int64_t vocab = weight.size(0);
  std::vector<int64_t> column = g.shape(ids), rows = g.shape(ids);
  column.push_back(1);
  rows.push_back(vocab);
  const c10::ScalarType dt = weight.scalar_type();
  std::string id = g.add("Cast", {g.tensor(ids)}, {attr_int("to", onnx_type(dt))});
  id = broadcast(g, g.reshape(id, g.shape(ids), column), column, rows);  // [..., vocab]
  const std::string distance =
      g.add("Abs", {g.add("Sub", {id, g.initializer(torch::arange(vocab, dt), "vocabulary")})});
  const std::string one_hot = g.add("Relu", {g.add("Sub", {g.scalar(1, dt), distance})});
  emit(g, n, "MatMul", {one_hot, g.tensor(n->input(0))});
}

std::string hard_sigmoid(GraphConverter& g, const std::string& x, const std::string& out = "") {
  // relu6(x + 3) / 6 = clip(x / 6 + 1/2, 0, 1)
  return g.add("HardSigmoid", {x}, {attr_float("alpha", 1.0 / 6), attr_float("beta", 0.5)}, out);
}

// Clip with optional bounds of x's type ("" = unbounded).
void clip(GraphConverter& g, const Node* n, const Value* lo, const Value* hi) {
  const c10::ScalarType dt = g.dtype(n->input(0));
  std::vector<std::string> inputs{g.tensor(n->input(0)), "", ""};
  if (lo && !g.is_none(lo)) inputs[1] = g.scalar(g.known_double(lo), dt);
  if (hi && !g.is_none(hi)) inputs[2] = g.scalar(g.known_double(hi), dt);
  while (inputs.back().empty()) inputs.pop_back();
  emit(g, n, "Clip", inputs);
}

// aten::gelu(x, approximate): x * Phi(x), Phi the normal CDF, exactly or by its tanh form.
void gelu(GraphConverter& g, const Node* n) {
  const Value* v = n->input(0);
  const c10::ScalarType dt = g.dtype(v);
  const std::string x = g.tensor(v);
  const std::string approximate = g.known(n->input(1)).toStringRef();
  std::string inner;
  if (approximate == "tanh") {
    // tanh(sqrt(2 / pi) * (x + 0.044715 x^3))
    const std::string cube = g.add("Mul", {g.add("Mul", {x, x}), x});
    const std::string sum = g.add("Add", {x, g.add("Mul", {cube, g.scalar(0.044715, dt)})});
    inner = g.add("Tanh", {g.add("Mul", {sum, g.scalar(std::sqrt(2.0 / M_PI), dt)})});
  } else {
    inner = g.add("Erf", {g.add("Mul", {x, g.scalar(M_SQRT1_2, dt)})});
  }
  const std::string half_x = g.add("Mul", {x, g.scalar(0.5, dt)});
  emit(g, n, "Mul", {half_x, g.add("Add", {inner, g.scalar(1.0, dt)})});
}

Conversion unary(const std::string& op_type) {
  return [op_type](GraphConverter& g, const Node* n) { emit(g, n, op_type, {g.tensor(n->input(0))}); };
}

}  // namespace

void add_nn_conversions(ConversionTable& t) {
  t["aten::_convolution"] = [](GraphConverter& g, const Node* n) { convolution(g, n, true); };
  t["aten::conv1d"] = t["aten::conv2d"] = [](GraphConverter& g, const Node* n) { convolution(g, n, false); };
  t["aten::max_pool1d"] = [](GraphConverter& g, const Node* n) { max_pool(g, n, 1); };
  t["aten::max_pool2d"] = [](GraphConverter& g, const Node* n) { max_pool(g, n, 2); };
  t["aten::avg_pool1d"] = [](GraphConverter& g, const Node* n) { avg_pool(g, n, 1); };
  t["aten::avg_pool2d"] = [](GraphConverter& g, const Node* n) { avg_pool(g, n, 2); };
  t["aten::adaptive_avg_pool1d"] = t["aten::adaptive_avg_pool2d"] = adaptive_avg_pool;
  t["aten::batch_norm"] = batch_norm;
  t["aten::layer_norm"] = layer_norm;
  t["aten::linear"] = linear;
  t["aten::addmm"] = addmm;
  t["aten::embedding"] = embedding;
  for (const char* dropout : {"aten::dropout", "aten::feature_dropout", "aten::alpha_dropout"})
    t[dropout] = [](GraphConverter& g, const Node* n) {
      if (g.known_bool(n->input(2))) unsupported(n, "is active (training mode)");
      pass_through(g, n);
    };

  t["aten::relu"] = unary("Relu");
  t["aten::sigmoid"] = unary("Sigmoid");
  t["aten::tanh"] = unary("Tanh");
  t["aten::hardsigmoid"] = [](GraphConverter& g, const Node* n) {
    g.set_tensor(n->output(), hard_sigmoid(g, g.tensor(n->input(0)), g.out(n)));
  };
  // HardSwish is opset 14: x * hardsigmoid(x).
  t["aten::hardswish"] = [](GraphConverter& g, const Node* n) {
    const std::string x = g.tensor(n->input(0));
    emit(g, n, "Mul", {x, hard_sigmoid(g, x)});
  };
  t["aten::silu"] = [](GraphConverter& g, const Node* n) {
    const std::string x = g.tensor(n->input(0));
    emit(g, n, "Mul", {x, g.add("Sigmoid", {x})});
  };
  t["aten::gelu"] = gelu;
  t["aten::relu6"] = [](GraphConverter& g, const Node* n) {
    const c10::ScalarType dt = g.dtype(n->input(0));
    emit(g, n, "Clip", {g.tensor(n->input(0)), g.scalar(0, dt), g.scalar(6, dt)});
  };
  t["aten::hardtanh"] = [](GraphConverter& g, const Node* n) { clip(g, n, n->input(1), n->input(2)); };
  t["aten::clamp"] = [](GraphConverter& g, const Node* n) { clip(g, n, n->input(1), n->input(2)); };
  t["aten::clamp_min"] = [](GraphConverter& g, const Node* n) { clip(g, n, n->input(1), nullptr); };
  t["aten::clamp_max"] = [](GraphConverter& g, const Node* n) { clip(g, n, nullptr, n->input(1)); };
  t["aten::leaky_relu"] = [](GraphConverter& g, const Node* n) {
    emit(g, n, "LeakyRelu", {g.tensor(n->input(0))}, {attr_float("alpha", g.known_double(n->input(1)))});
  };
  t["aten::elu"] = [](GraphConverter& g, const Node* n) {
    if (g.known_double(n->input(2)) != 1 || g.known_double(n->input(3)) != 1) unsupported(n, "with a scale");
    emit(g, n, "Elu", {g.tensor(n->input(0))}, {attr_float("alpha", g.known_double(n->input(1)))});
  };
  t["aten::softmax"] = [](GraphConverter& g, const Node* n) {
    emit(g, n, "Softmax", {g.tensor(n->input(0))}, {attr_int("axis", g.axis(n->input(0), g.known_int(n->input(1))))});
  };
  t["aten::log_softmax"] = [](GraphConverter& g, const Node* n) {
    emit(g, n, "LogSoftmax", {g.tensor(n->input(0))},
         {attr_int("axis", g.axis(n->input(0), g.known_int(n->input(1))))});
  };
}

}  // namespace nascent::exporting::onnx_detail
