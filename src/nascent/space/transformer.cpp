#include "nascent/space/transformer.h"

#include <fmt/format.h>

#include <numeric>

#include "nascent/core/config.h"
#include "nascent/core/error.h"
#include "nascent/data/text.h"
#include "nascent/space/network.h"
#include "nascent/space/ops.h"

namespace nascent::space {
namespace {

std::vector<Decision> transformer_decisions(const TransformerOptions& o) {
  std::vector<Decision> d;
  d.push_back({"layers", int_options(o.layers), std::nullopt});
  const Decision layers = d.front();
  d.push_back({"embed", int_options(o.embed_dims), std::nullopt});
  d.push_back({"act", o.activations, std::nullopt});
  const int64_t max_layers = *std::max_element(o.layers.begin(), o.layers.end());
  for (int64_t l = 1; l <= max_layers; ++l) {
    d.push_back({fmt::format("l{}_heads", l), int_options(o.heads), count_at_least(layers, l)});
    d.push_back({fmt::format("l{}_ffn", l), int_options(o.ffn_dims), count_at_least(layers, l)});
  }
  return d;
}

// Pre-LN encoder layer: x + attention(LN(x)), then x + FFN(LN(x)).
class EncoderLayerImpl : public torch::nn::Module {
 public:
  EncoderLayerImpl(int64_t embed, int64_t heads, int64_t ffn, std::string act) : act_(std::move(act)) {
    ln1_ = register_module("ln1", CountedLayerNorm(embed));
    attn_ = register_module("attn", SelfAttention(embed, heads));
    ln2_ = register_module("ln2", CountedLayerNorm(embed));
    fc1_ = register_module("fc1", CountedLinear(embed, ffn));
    fc2_ = register_module("fc2", CountedLinear(ffn, embed));
  }

  torch::Tensor forward(torch::Tensor x, bool causal, const torch::Tensor& pad) {
    x = x + attn_(ln1_(x), causal, pad);
    return x + fc2_(activate(fc1_(ln2_(x)), act_));
  }

 private:
  std::string act_;
  CountedLayerNorm ln1_{nullptr}, ln2_{nullptr};
  SelfAttention attn_{nullptr};
  CountedLinear fc1_{nullptr}, fc2_{nullptr};
};
TORCH_MODULE(EncoderLayer);

class TransformerNetwork : public Network {
 public:
  TransformerNetwork(const TransformerSpace::Layout& l, const std::vector<int64_t>& ffn, int64_t embed,
                     const Task& task)
      : next_token_(task.per_position()) {
    const int64_t seq = task.input_shape.at(0);
    tokens_ = register_module("tokens", CountedEmbedding(task.vocab_size, embed));
    positions_ = register_parameter("positions", torch::randn({seq, embed}) * 0.02);
    for (size_t i = 0; i < l.heads.size(); ++i)
      layers_.push_back(register_module(fmt::format("layer{}", i + 1), EncoderLayer(embed, l.heads[i], ffn[i], l.act)));
    norm_ = register_module("norm", CountedLayerNorm(embed));
    head_ = register_module("head", CountedLinear(embed, task.num_classes));
  }

  // ids int64 [B, T] -> logits [B, T, vocab] (next token) or [B, classes]
  torch::Tensor forward(torch::Tensor ids) override {
    const int64_t t = ids.size(1);
    torch::Tensor pad;
    if (!next_token_) pad = ids.eq(data::kPadToken);  // language-modelling windows have no padding
    torch::Tensor x = tokens_(ids) + positions_.slice(0, 0, t);
    for (auto& layer : layers_) x = layer(x, next_token_, pad);
    x = norm_(x);
    if (next_token_) return head_(x);
    // Mean over the non-padding positions: [B, T, E] -> [B, E]
    auto keep = pad.logical_not().unsqueeze(-1).to(x.dtype());
    x = (x * keep).sum(1) / keep.sum(1).clamp_min(1.0);
    return head_(x);
  }

 private:
  bool next_token_;
  CountedEmbedding tokens_{nullptr};
  torch::Tensor positions_;
  std::vector<EncoderLayer> layers_;
  CountedLayerNorm norm_{nullptr};
  CountedLinear head_{nullptr};
};

}  // namespace

TransformerOptions TransformerOptions::from_config(ConfigSection& sec) {
  TransformerOptions o;
  o.layers = sec.get_ints("layers", o.layers, 1, 48);
  require_distinct(sec, "layers", int_options(o.layers));
  o.embed_dims = sec.get_ints("embed_dims", o.embed_dims, 1, 8192);
  require_distinct(sec, "embed_dims", int_options(o.embed_dims));
  o.heads = sec.get_ints("heads", o.heads, 1, 128);
  require_distinct(sec, "heads", int_options(o.heads));
  for (int64_t e : o.embed_dims)
    for (int64_t h : o.heads)
      if (e % h != 0)
        sec.fail("heads",
                 fmt::format("{} heads do not divide embedding width {} (space.transformer.embed_dims)", h, e));
  o.ffn_dims = sec.get_ints("ffn_dims", o.ffn_dims, 1, 65536);
  require_distinct(sec, "ffn_dims", int_options(o.ffn_dims));
  o.activations = read_activations(sec, "activations", o.activations);
  sec.finish();
  return o;
}

TransformerSpace::TransformerSpace(TransformerOptions options)
    : SearchSpace("transformer", transformer_decisions(options)), options_(std::move(options)) {}

TransformerSpace::Layout TransformerSpace::layout(const Arch& arch) const {
  const Arch a = canonical(arch);
  auto opt = [&](const std::string& name) { return option(a, name); };
  Layout l;
  l.embed = std::stoll(opt("embed"));
  l.act = opt("act");
  const int64_t n = std::stoll(opt("layers"));
  for (int64_t i = 1; i <= n; ++i) {
    l.heads.push_back(std::stoll(opt(fmt::format("l{}_heads", i))));
    l.ffn.push_back(std::stoll(opt(fmt::format("l{}_ffn", i))));
  }
  return l;
}

std::string TransformerSpace::describe(const Arch& arch) const {
  const Layout l = layout(arch);
  std::string layers;
  for (size_t i = 0; i < l.heads.size(); ++i)
    layers += fmt::format("{}h{}/{}", layers.empty() ? "" : " ", l.heads[i], l.ffn[i]);
  return fmt::format("{}x e{} {} [{}]", l.heads.size(), l.embed, l.act, layers);
}

std::shared_ptr<Network> TransformerSpace::build(const Arch& arch, const Task& task, double width_mult) const {
  NASCENT_CHECK(supports(task), "transformer space needs a text task (token ids with a vocabulary)");
  const Layout l = layout(arch);
  // The width multiplier scales the embedding in whole multiples of every head count it must be
  // split into, and the FFN widths as channels.
  int64_t unit = 1;
  for (int64_t h : options_.heads) unit = std::lcm(unit, h);
  const int64_t embed =
      width_mult == 1.0
          ? l.embed
          : std::max<int64_t>(unit,
                              static_cast<int64_t>(static_cast<double>(l.embed) * width_mult / unit + 0.5) * unit);
  std::vector<int64_t> ffn;
  for (int64_t f : l.ffn) ffn.push_back(scale_units(f, width_mult));
  return std::make_shared<TransformerNetwork>(l, ffn, embed, task);
}

bool TransformerSpace::supports(const Task& task) const {
  return task.kind == "text" && task.input_shape.size() == 1 && task.vocab_size > 0;
}

Task TransformerSpace::default_task() const {
  Task t;
  t.name = "text";
  t.kind = "text";
  t.input_shape = {64};
  t.vocab_size = 99;  // 95 printable ASCII characters, tab and newline, padding and unknown
  t.num_classes = t.vocab_size;
  t.target = "next_token";
  return t;
}

}  // namespace nascent::space
