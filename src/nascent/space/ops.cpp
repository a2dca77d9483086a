#include "nascent/space/ops.h"

#include <cmath>

#include "nascent/core/config.h"
#include "nascent/core/error.h"
#include "nascent/space/network.h"
#include "nascent/space/space.h"

namespace nascent::space {
namespace {
thread_local OpCounter* g_counter = nullptr;
}

int64_t count_parameters(const torch::nn::Module& m) {
  int64_t n = 0;
  for (const auto& p : m.parameters())
    if (p.requires_grad()) n += p.numel();
  return n;
}

int64_t Network::num_parameters() const { return count_parameters(*this); }

CountScope::CountScope(OpCounter* counter) : previous_(g_counter) { g_counter = counter; }
CountScope::~CountScope() { g_counter = previous_; }

void count_macs(const torch::Tensor& out, int64_t inputs_per_output) {
  if (!g_counter) return;
  const double per_example = static_cast<double>(out.numel()) / std::max<int64_t>(1, out.size(0));
  g_counter->macs += per_example * static_cast<double>(inputs_per_output);
  g_counter->activations += per_example;
}

void record_layer_output(const torch::Tensor& out) {
  if (g_counter && g_counter->layer_outputs) g_counter->layer_outputs->push_back(out);
}

torch::Tensor relu(const torch::Tensor& x) {
  if (g_counter && g_counter->relu_inputs) g_counter->relu_inputs->push_back(x);
  return torch::relu(x);
}

void count_activation(const torch::Tensor& out) {
  if (!g_counter) return;
  g_counter->activations += static_cast<double>(out.numel()) / std::max<int64_t>(1, out.size(0));
}

bool is_activation(const std::string& n) {
  return n == "relu" || n == "relu6" || n == "hswish" || n == "swish" || n == "gelu" || n == "sigmoid" || n == "tanh" ||
         n == "none";
}

std::vector<std::string> read_activations(ConfigSection& sec, const std::string& key,
                                          const std::vector<std::string>& def) {
  std::vector<std::string> acts = sec.get_strings(key, def);
  for (const auto& a : acts)
    if (!is_activation(a))
      sec.fail(key, "unknown activation '" + a + "'; known: relu, relu6, hswish, swish, gelu, sigmoid, tanh, none");
  require_distinct(sec, key, acts);
  return acts;
}

torch::Tensor activate(const torch::Tensor& x, const std::string& n) {
  if (n == "relu") return space::relu(x);
  if (n == "relu6") return torch::clamp(space::relu(x), 0, 6);
  if (n == "hswish") return torch::hardswish(x);
  if (n == "swish") return torch::silu(x);
  if (n == "gelu") return torch::gelu(x);
  if (n == "sigmoid") return torch::sigmoid(x);
  if (n == "tanh") return torch::tanh(x);
  if (n == "none") return x;
  throw InternalError("unknown activation '" + n + "'");
}

ConvBnImpl::ConvBnImpl(const ConvBnOptions& o) : o_(o) {
  NASCENT_CHECK(o.in > 0 && o.out > 0 && o.in % o.groups == 0 && o.out % o.groups == 0,
                "ConvBn channels must be positive and divisible by groups");
  NASCENT_CHECK(is_activation(o.act), "unknown activation '" + o.act + "'");
  const int64_t pad = (o.kernel - 1) / 2 * o.dilation;
  conv_ = register_module("conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(o.in, o.out, o.kernel)
                                                        .stride(o.stride)
                                                        .padding(pad)
                                                        .dilation(o.dilation)
                                                        .groups(o.groups)
                                                        .bias(!o.bn)));
  if (o.bn) bn_ = register_module("bn", torch::nn::BatchNorm2d(o.out));
}

torch::Tensor ConvBnImpl::forward(const torch::Tensor& x) {
  torch::Tensor y = conv_(x);
  count_macs(y, o_.in / o_.groups * o_.kernel * o_.kernel);
  record_layer_output(y);
  if (o_.bn) y = bn_(y);
  return activate(y, o_.act);
}

CountedConv2dImpl::CountedConv2dImpl(const torch::nn::Conv2dOptions& o) {
  const auto& k = *o.kernel_size();
  inputs_per_output_ = o.in_channels() / o.groups() * k[0] * k[1];
  conv_ = register_module("conv", torch::nn::Conv2d(o));
}

torch::Tensor CountedConv2dImpl::forward(const torch::Tensor& x) {
  torch::Tensor y = conv_(x);
  count_macs(y, inputs_per_output_);
  record_layer_output(y);
  return y;
}

CountedLinearImpl::CountedLinearImpl(int64_t in, int64_t out, bool bias) : in_(in) {
  linear_ = register_module("linear", torch::nn::Linear(torch::nn::LinearOptions(in, out).bias(bias)));
}

torch::Tensor CountedLinearImpl::forward(const torch::Tensor& x) {
  torch::Tensor y = linear_(x);
  count_macs(y, in_);
  record_layer_output(y);
  return y;
}

SqueezeExciteImpl::SqueezeExciteImpl(int64_t channels, int64_t reduced) {
  fc1_ = register_module("fc1", CountedLinear(channels, reduced));
  fc2_ = register_module("fc2", CountedLinear(reduced, channels));
}

torch::Tensor SqueezeExciteImpl::forward(const torch::Tensor& x) {
  // [B, C, H, W] -> [B, C] -> gates [B, C, 1, 1]
  torch::Tensor s = x.mean({2, 3});
  s = torch::sigmoid(fc2_(space::relu(fc1_(s))));
  return x * s.unsqueeze(-1).unsqueeze(-1);
}

CountedEmbeddingImpl::CountedEmbeddingImpl(int64_t vocab, int64_t dim) {
  embedding_ = register_module("embedding", torch::nn::Embedding(vocab, dim));
}

torch::Tensor CountedEmbeddingImpl::forward(const torch::Tensor& ids) {
  torch::Tensor y = embedding_(ids);
  count_activation(y);
  return y;
}

CountedLayerNormImpl::CountedLayerNormImpl(int64_t dim) {
  norm_ = register_module("norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim})));
}

torch::Tensor CountedLayerNormImpl::forward(const torch::Tensor& x) {
  torch::Tensor y = norm_(x);
  count_activation(y);
  return y;
}

SelfAttentionImpl::SelfAttentionImpl(int64_t embed, int64_t heads) : embed_(embed), heads_(heads) {
  NASCENT_CHECK(heads > 0 && embed % heads == 0, "attention heads must divide the embedding dimension");
  qkv_ = register_module("qkv", CountedLinear(embed, 3 * embed));
  out_ = register_module("out", CountedLinear(embed, embed));
}

torch::Tensor SelfAttentionImpl::forward(const torch::Tensor& x, bool causal, const torch::Tensor& pad) {
  // No shape is read from the batch dimension, so a traced (exported) network takes any batch size.
  const int64_t t = x.size(1), d = embed_ / heads_;
  // [B, T, 3E] -> 3 x [B, H, T, d]
  auto qkv = qkv_(x).unflatten(-1, {3, heads_, d}).permute({2, 0, 3, 1, 4});
  auto q = qkv[0], k = qkv[1], v = qkv[2];
  // [B, H, T, T]
  auto scores = torch::matmul(q, k.transpose(-2, -1)).div_(std::sqrt(static_cast<double>(d)));
  count_macs(scores, d);
  // A large finite negative (not -inf) keeps rows whose keys are all padding finite.
  constexpr double kMasked = -1e9;
  if (causal) {
    auto later = torch::ones({t, t}, torch::kBool).triu(1);
    scores = scores.masked_fill(later, kMasked);
  }
  if (pad.defined()) scores = scores.masked_fill(pad.unsqueeze(1).unsqueeze(2), kMasked);
  auto ctx = torch::matmul(torch::softmax(scores, -1), v);  // [B, H, T, d]
  count_macs(ctx, t);
  return out_(ctx.transpose(1, 2).flatten(2));
}

int64_t scale_channels(int64_t channels, double width_mult, int64_t divisor) {
  const double scaled = static_cast<double>(channels) * width_mult;
  int64_t c = static_cast<int64_t>(scaled / divisor + 0.5) * divisor;
  if (c < divisor) c = divisor;
  // Rounding down must not remove more than 10% (MobileNet's make_divisible rule).
  if (static_cast<double>(c) < 0.9 * scaled) c += divisor;
  return c;
}

int64_t scale_units(int64_t units, double width_mult) {
  return width_mult == 1.0 ? units : scale_channels(units, width_mult);
}

}  // namespace nascent::space
