#include "nascent/space/chain.h"

#include <fmt/format.h>

#include "nascent/core/config.h"
#include "nascent/core/error.h"
#include "nascent/space/network.h"
#include "nascent/space/ops.h"

namespace nascent::space {
namespace {

std::vector<Decision> chain_decisions(const ChainOptions& o) {
  std::vector<Decision> d;
  for (size_t s = 0; s < o.widths.size(); ++s) {
    const std::string p = fmt::format("s{}_", s + 1);
    d.push_back({p + "blocks", int_options(o.blocks), std::nullopt});
    d.push_back({p + "op", {"conv", "sepconv", "mbconv"}, std::nullopt});
    d.push_back({p + "expand", int_options(o.expansions), Condition{p + "op", {"mbconv"}}});
    d.push_back({p + "kernel", int_options(o.kernels), std::nullopt});
    d.push_back({p + "width", int_options(o.widths[s]), std::nullopt});
    d.push_back({p + "act", o.activations, std::nullopt});
    d.push_back({p + "skip", {"no", "yes"}, std::nullopt});
  }
  return d;
}

// One block: conv | depthwise-separable | inverted bottleneck, with an optional residual.
class ChainBlockImpl : public torch::nn::Module {
 public:
  ChainBlockImpl(const ChainSpace::Stage& s, int64_t in, int64_t out, int stride) {
    const int64_t k = s.kernel;
    if (s.op == "conv") {
      body_.push_back(register_module("conv", ConvBn(ConvBnOptions{in, out, k, stride, 1, 1, true, s.act})));
    } else if (s.op == "sepconv") {
      body_.push_back(register_module("dw", ConvBn(ConvBnOptions{in, in, k, stride, in, 1, true, s.act})));
      body_.push_back(register_module("pw", ConvBn(ConvBnOptions{in, out, 1, 1, 1, 1, true, s.act})));
    } else {
      const int64_t mid = scale_channels(in * s.expand, 1.0);
      body_.push_back(register_module("expand", ConvBn(ConvBnOptions{in, mid, 1, 1, 1, 1, true, s.act})));
      body_.push_back(register_module("dw", ConvBn(ConvBnOptions{mid, mid, k, stride, mid, 1, true, s.act})));
      body_.push_back(register_module("project", ConvBn(ConvBnOptions{mid, out, 1, 1, 1, 1, true, "none"})));
    }
    if (s.skip) {
      identity_ = stride == 1 && in == out;
      if (!identity_)
        shortcut_ = register_module("shortcut", ConvBn(ConvBnOptions{in, out, 1, stride, 1, 1, true, "none"}));
    }
    skip_ = s.skip;
  }

  torch::Tensor forward(const torch::Tensor& x) {
    torch::Tensor y = x;
    for (auto& m : body_) y = m(y);
    if (!skip_) return y;
    torch::Tensor r = identity_ ? y + x : y + shortcut_(x);
    count_activation(r);
    return r;
  }

 private:
  std::vector<ConvBn> body_;
  ConvBn shortcut_{nullptr};
  bool skip_ = false, identity_ = false;
};
TORCH_MODULE(ChainBlock);

class ChainNetwork : public Network {
 public:
  ChainNetwork(const std::vector<ChainSpace::Stage>& stages, const ChainOptions& o, const Task& task, double wm) {
    const int64_t in_ch = task.input_shape.at(0);
    int64_t c = scale_channels(o.stem, wm);
    stem_ = register_module("stem", ConvBn(ConvBnOptions{in_ch, c, 3, 1, 1, 1, true, "relu"}));
    int idx = 0;
    for (const auto& s : stages) {
      const int64_t out = scale_channels(s.width, wm);
      for (int b = 0; b < s.blocks; ++b) {
        blocks_.push_back(register_module(fmt::format("block{}", idx++), ChainBlock(s, c, out, b == 0 ? s.stride : 1)));
        c = out;
      }
    }
    head_ = register_module("head", CountedLinear(c, task.num_classes));
  }

  torch::Tensor forward(torch::Tensor x) override {
    x = stem_(x);
    for (auto& b : blocks_) x = b(x);
    // [B, C, H, W] -> [B, C]
    x = x.mean({2, 3});
    return head_(x);
  }

 private:
  ConvBn stem_{nullptr};
  std::vector<ChainBlock> blocks_;
  CountedLinear head_{nullptr};
};

}  // namespace

ChainOptions ChainOptions::from_config(ConfigSection& sec) {
  ChainOptions o;
  o.stem = sec.get_int("stem", o.stem, 1, 4096);
  o.widths = read_stage_widths(sec, "widths", o.widths, 8);
  std::vector<int64_t> def_strides(o.widths.size(), 2);
  o.strides = sec.get_ints("strides", def_strides, 1, 4);
  if (o.strides.size() != o.widths.size())
    sec.fail("strides", fmt::format("expected one stride per stage ({}), got {}", o.widths.size(), o.strides.size()));
  o.blocks = sec.get_ints("blocks", o.blocks, 1, 16);
  require_distinct(sec, "blocks", int_options(o.blocks));
  o.kernels = sec.get_ints("kernels", o.kernels, 1, 11);
  for (auto k : o.kernels)
    if (k % 2 == 0) sec.fail("kernels", fmt::format("kernel sizes must be odd, got {}", k));
  require_distinct(sec, "kernels", int_options(o.kernels));
  o.expansions = sec.get_ints("expansions", o.expansions, 1, 12);
  require_distinct(sec, "expansions", int_options(o.expansions));
  o.activations = read_activations(sec, "activations", o.activations);
  sec.finish();
  return o;
}

ChainSpace::ChainSpace(ChainOptions options)
    : SearchSpace("chain", chain_decisions(options)), options_(std::move(options)) {}

std::vector<ChainSpace::Stage> ChainSpace::stages(const Arch& arch) const {
  std::vector<Stage> out;
  const auto& d = decisions();
  for (size_t s = 0; s < options_.widths.size(); ++s) {
    const size_t base = s * 7;
    auto opt = [&](size_t k) { return d[base + k].options[arch.choices[base + k]]; };
    Stage st;
    st.blocks = std::stoi(opt(0));
    st.op = opt(1);
    st.expand = st.op == "mbconv" ? std::stoi(opt(2)) : 1;
    st.kernel = std::stoi(opt(3));
    st.width = std::stoll(opt(4));
    st.act = opt(5);
    st.skip = opt(6) == "yes";
    st.stride = static_cast<int>(options_.strides[s]);
    out.push_back(st);
  }
  return out;
}

std::string ChainSpace::describe(const Arch& arch) const {
  std::string out;
  for (const auto& s : stages(arch)) {
    if (!out.empty()) out += ' ';
    const std::string op = s.op == "conv" ? "conv" : s.op == "sepconv" ? "sep" : fmt::format("mb{}", s.expand);
    out += fmt::format("{}x{}-k{}-w{}-{}{}", s.blocks, op, s.kernel, s.width, s.act, s.skip ? "+skip" : "");
  }
  return out;
}

std::shared_ptr<Network> ChainSpace::build(const Arch& arch, const Task& task, double width_mult) const {
  NASCENT_CHECK(task.input_shape.size() == 3, "chain space needs image input [C, H, W]");
  return std::make_shared<ChainNetwork>(stages(canonical(arch)), options_, task, width_mult);
}

}  // namespace nascent::space
