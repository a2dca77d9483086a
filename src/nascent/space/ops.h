// Counted building blocks shared by the spaces. Convolutions and linear layers report their
// multiply-accumulates to the active OpCounter, so FLOPs are counted exactly from one forward
// pass of any network built from these ops (see estimate/profile.h), with no per-space formulas.
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

namespace nascent {
class ConfigSection;
}

namespace nascent::space {

// Per-example totals gathered during a counted forward pass.
struct OpCounter {
  double macs = 0;         // multiply-accumulates of conv and linear layers
  double activations = 0;  // elements written by counted ops (what backward keeps, roughly)
  // When set, the outputs of conv and linear layers are appended here in forward order (the
  // zero-cost proxies read them, e.g. fisher; see estimate/proxies.h).
  std::vector<torch::Tensor>* layer_outputs = nullptr;
  // When set, the inputs of every ReLU (and ReLU6) are appended here in forward order (NASWOT's
  // activation codes, estimate/proxies.h).
  std::vector<torch::Tensor>* relu_inputs = nullptr;
};

// While alive, counted ops on this thread add to *counter.
class CountScope {
 public:
  explicit CountScope(OpCounter* counter);
  ~CountScope();
  CountScope(const CountScope&) = delete;
  CountScope& operator=(const CountScope&) = delete;

 private:
  OpCounter* previous_;
};

// Adds a conv/linear output's MACs: out elements per example x inputs per output.
void count_macs(const torch::Tensor& out, int64_t inputs_per_output);
void count_activation(const torch::Tensor& out);
// Hands a conv or linear layer's output to the active counter's layer_outputs, if any.
void record_layer_output(const torch::Tensor& out);
// ReLU, handing its input to the active counter's relu_inputs, if any. Networks call this rather
// than torch::relu, so that NASWOT sees every ReLU.
torch::Tensor relu(const torch::Tensor& x);

// Activations by name: relu, relu6, hswish, swish, gelu, sigmoid, tanh, none.
torch::Tensor activate(const torch::Tensor& x, const std::string& name);
bool is_activation(const std::string& name);
// Reads a list of activation names from a space's options: each must be known, none repeated.
std::vector<std::string> read_activations(ConfigSection& section, const std::string& key,
                                          const std::vector<std::string>& def);

struct ConvBnOptions {
  int64_t in = 0, out = 0, kernel = 3, stride = 1, groups = 1, dilation = 1;
  bool bn = true;
  std::string act = "relu";  // "none" for a linear projection
};

// torch::nn::ReLU for Sequentials, through relu() (seen by NASWOT).
class ReluImpl : public torch::nn::Module {
 public:
  torch::Tensor forward(const torch::Tensor& x) { return space::relu(x); }
};
TORCH_MODULE(Relu);

// Conv2d (same padding, no bias when followed by BN) -> BatchNorm2d -> activation.
class ConvBnImpl : public torch::nn::Module {
 public:
  explicit ConvBnImpl(const ConvBnOptions& o);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  ConvBnOptions o_;
  torch::nn::Conv2d conv_{nullptr};
  torch::nn::BatchNorm2d bn_{nullptr};
};
TORCH_MODULE(ConvBn);

// A bare Conv2d that counts its MACs, for ops whose order is not ConvBn's conv -> BN -> act (the
// ReLU-Conv-BN and separable convolutions of cell spaces). No bias unless options ask for one.
class CountedConv2dImpl : public torch::nn::Module {
 public:
  explicit CountedConv2dImpl(const torch::nn::Conv2dOptions& options);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  int64_t inputs_per_output_;
  torch::nn::Conv2d conv_{nullptr};
};
TORCH_MODULE(CountedConv2d);

class CountedLinearImpl : public torch::nn::Module {
 public:
  CountedLinearImpl(int64_t in, int64_t out, bool bias = true);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  int64_t in_;
  torch::nn::Linear linear_{nullptr};
};
TORCH_MODULE(CountedLinear);

// Squeeze-and-excitation (Hu et al. 2018): channel gates from a pooled bottleneck.
class SqueezeExciteImpl : public torch::nn::Module {
 public:
  SqueezeExciteImpl(int64_t channels, int64_t reduced);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  CountedLinear fc1_{nullptr}, fc2_{nullptr};
};
TORCH_MODULE(SqueezeExcite);

// Token embedding: lookups cost no multiply-accumulates; the output counts as activations.
class CountedEmbeddingImpl : public torch::nn::Module {
 public:
  CountedEmbeddingImpl(int64_t vocab, int64_t dim);
  torch::Tensor forward(const torch::Tensor& ids);  // int64 [..] -> [.., dim]

 private:
  torch::nn::Embedding embedding_{nullptr};
};
TORCH_MODULE(CountedEmbedding);

// LayerNorm over the last dimension (no MACs counted: normalisation is not a multiply-accumulate
// layer in the NAS papers' FLOP counts, like BatchNorm).
class CountedLayerNormImpl : public torch::nn::Module {
 public:
  explicit CountedLayerNormImpl(int64_t dim);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  torch::nn::LayerNorm norm_{nullptr};
};
TORCH_MODULE(CountedLayerNorm);

// Multi-head self-attention (Vaswani et al. 2017, eq. 1): fused QKV projection, scaled dot
// products, output projection. Per example and sequence length T, embedding E: 3TE^2 (QKV) +
// T^2 E (scores) + T^2 E (weighted values) + TE^2 (output) MACs. A causal mask hides later
// positions (the masked scores are still computed and counted).
class SelfAttentionImpl : public torch::nn::Module {
 public:
  SelfAttentionImpl(int64_t embed, int64_t heads);
  // x [B, T, E]; pad [B, T] true where a position is padding (its key is ignored), or undefined.
  torch::Tensor forward(const torch::Tensor& x, bool causal, const torch::Tensor& pad);

 private:
  int64_t embed_, heads_;
  CountedLinear qkv_{nullptr}, out_{nullptr};
};
TORCH_MODULE(SelfAttention);

// Rounds channels to a multiple of `divisor` (at least divisor), for width multipliers.
int64_t scale_channels(int64_t channels, double width_mult, int64_t divisor = 4);
// `units` unchanged at width_mult 1 (so a configured 50 stays 50), else scale_channels.
int64_t scale_units(int64_t units, double width_mult);

}  // namespace nascent::space
