#include "nascent/space/mbconv.h"

#include <fmt/format.h>

#include "nascent/core/config.h"
#include "nascent/core/error.h"
#include "nascent/space/network.h"
#include "nascent/space/ops.h"

namespace nascent::space {
namespace {

std::vector<Decision> mbconv_decisions(const MbconvOptions& o) {
  std::vector<Decision> d;
  d.push_back({"width", number_options(o.width_mults), std::nullopt});
  const int64_t max_depth = *std::max_element(o.depths.begin(), o.depths.end());
  for (size_t s = 0; s < o.widths.size(); ++s) {
    const Decision depth{MbconvSpace::depth_name(s), int_options(o.depths), std::nullopt};
    d.push_back(depth);
    for (int64_t b = 0; b < max_depth; ++b) {
      const std::string p = MbconvSpace::block_prefix(s, b);
      const std::optional<Condition> exists = count_at_least(depth, b + 1);
      d.push_back({p + "kernel", int_options(o.kernels), exists});
      d.push_back({p + "expand", int_options(o.expansions), exists});
      d.push_back({p + "se", o.se ? std::vector<std::string>{"no", "yes"} : std::vector<std::string>{"no"}, exists});
      d.push_back({p + "act", o.activations, exists});
    }
  }
  return d;
}

// 1x1 expand (omitted at ratio 1) -> kxk depthwise with the stride -> optional SE -> linear 1x1
// projection, plus the identity when the block keeps the shape (MobileNetV2, fig. 3).
class MbconvBlockImpl : public torch::nn::Module {
 public:
  MbconvBlockImpl(const MbconvSpace::Block& b, int64_t in, int64_t out, int64_t stride, bool residual)
      : residual_(residual) {
    const int64_t mid = in * b.expand;
    if (b.expand > 1) expand_ = register_module("expand", ConvBn(ConvBnOptions{in, mid, 1, 1, 1, 1, true, b.act}));
    dw_ = register_module("dw", ConvBn(ConvBnOptions{mid, mid, b.kernel, stride, mid, 1, true, b.act}));
    if (b.se) se_ = register_module("se", SqueezeExcite(mid, se_channels(mid)));
    project_ = register_module("project", ConvBn(ConvBnOptions{mid, out, 1, 1, 1, 1, true, "none"}));
  }

  torch::Tensor forward(const torch::Tensor& x) {
    torch::Tensor y = expand_.is_empty() ? x : expand_(x);
    y = dw_(y);
    if (!se_.is_empty()) y = se_(y);
    y = project_(y);
    if (!residual_) return y;
    y = y + x;
    count_activation(y);
    return y;
  }

 private:
  bool residual_;
  ConvBn expand_{nullptr}, dw_{nullptr}, project_{nullptr};
  SqueezeExcite se_{nullptr};
};
TORCH_MODULE(MbconvBlock);

class MbconvNetwork : public Network {
 public:
  MbconvNetwork(const MbconvSpace::Layout& l, const MbconvOptions& o, const Task& task, double wm) {
    stem_ = register_module(
        "stem", ConvBn(ConvBnOptions{task.input_shape.at(0), o.stem, 3, o.stem_stride, 1, 1, true, "relu"}));
    int64_t c = o.stem;
    for (size_t s = 0; s < l.stages.size(); ++s) {
      const int64_t out = scale_units(o.widths[s], l.width_mult * wm);
      for (size_t b = 0; b < l.stages[s].size(); ++b) {
        // Only the first block of a stage changes stride and width; the others are residual.
        blocks_.push_back(register_module(fmt::format("s{}_b{}", s + 1, b + 1),
                                          MbconvBlock(l.stages[s][b], c, out, b == 0 ? o.strides[s] : 1, b > 0)));
        c = out;
      }
    }
    head_conv_ = register_module("head_conv", ConvBn(ConvBnOptions{c, o.head, 1, 1, 1, 1, true, "hswish"}));
    classifier_ = register_module("classifier", CountedLinear(o.head, task.num_classes));
  }

  torch::Tensor forward(torch::Tensor x) override {
    x = stem_(x);
    for (auto& b : blocks_) x = b(x);
    x = head_conv_(x).mean({2, 3});  // [B, head, H, W] -> [B, head]
    return classifier_(x);
  }

 private:
  ConvBn stem_{nullptr}, head_conv_{nullptr};
  std::vector<MbconvBlock> blocks_;
  CountedLinear classifier_{nullptr};
};

}  // namespace

int64_t se_channels(int64_t mid) { return std::max<int64_t>(4, mid / 4); }

std::string MbconvSpace::block_prefix(size_t stage, size_t block) {
  return fmt::format("s{}_b{}_", stage + 1, block + 1);
}
std::string MbconvSpace::depth_name(size_t stage) { return fmt::format("s{}_depth", stage + 1); }

MbconvOptions MbconvOptions::from_config(ConfigSection& sec) {
  MbconvOptions o;
  o.stem = sec.get_int("stem", o.stem, 1, 4096);
  o.stem_stride = sec.get_int("stem_stride", o.stem_stride, 1, 4);
  o.widths = sec.get_ints("widths", o.widths, 1, 4096);
  if (o.widths.size() > 8) sec.fail("widths", "expected 1 to 8 stages");
  std::vector<int64_t> def_strides(o.widths.size(), 2);
  o.strides = sec.get_ints("strides", def_strides, 1, 4);
  if (o.strides.size() != o.widths.size())
    sec.fail("strides", fmt::format("expected one stride per stage ({}), got {}", o.widths.size(), o.strides.size()));
  o.depths = sec.get_ints("depths", o.depths, 1, 16);
  require_distinct(sec, "depths", int_options(o.depths));
  o.kernels = sec.get_ints("kernels", o.kernels, 1, 11);
  for (auto k : o.kernels)
    if (k % 2 == 0) sec.fail("kernels", fmt::format("kernel sizes must be odd, got {}", k));
  require_distinct(sec, "kernels", int_options(o.kernels));
  o.expansions = sec.get_ints("expansions", o.expansions, 1, 12);
  require_distinct(sec, "expansions", int_options(o.expansions));
  o.se = sec.get_bool("se", o.se);
  o.activations = read_activations(sec, "activations", o.activations);
  o.width_mults = sec.get_doubles("width_mults", o.width_mults, 0.1, 4);
  require_distinct(sec, "width_mults", number_options(o.width_mults));
  o.head = sec.get_int("head", o.head, 1, 8192);
  sec.finish();
  return o;
}

MbconvSpace::MbconvSpace(MbconvOptions options)
    : SearchSpace("mbconv", mbconv_decisions(options)), options_(std::move(options)) {}

MbconvSpace::Layout MbconvSpace::layout(const Arch& arch) const {
  const Arch a = canonical(arch);
  auto opt = [&](const std::string& name) { return option(a, name); };
  Layout l;
  l.width_mult = std::stod(opt("width"));
  for (size_t s = 0; s < options_.widths.size(); ++s) {
    std::vector<Block> blocks;
    const int64_t depth = std::stoll(opt(depth_name(s)));
    for (int64_t b = 0; b < depth; ++b) {
      const std::string p = block_prefix(s, b);
      blocks.push_back(
          {std::stoll(opt(p + "kernel")), std::stoll(opt(p + "expand")), opt(p + "se") == "yes", opt(p + "act")});
    }
    l.stages.push_back(std::move(blocks));
  }
  return l;
}

std::string MbconvSpace::describe(const Arch& arch) const {
  const Layout l = layout(arch);
  std::string out = fmt::format("w{:g}", l.width_mult);
  for (const auto& stage : l.stages) {
    out += " |";
    for (const auto& b : stage)
      out += fmt::format(" k{}e{}{}{}", b.kernel, b.expand, b.se ? "se" : "", b.act == "relu" ? "" : "-" + b.act);
  }
  return out;
}

std::shared_ptr<Network> MbconvSpace::build(const Arch& arch, const Task& task, double width_mult) const {
  NASCENT_CHECK(task.input_shape.size() == 3, "mbconv space needs image input [C, H, W]");
  return std::make_shared<MbconvNetwork>(layout(arch), options_, task, width_mult);
}

}  // namespace nascent::space
