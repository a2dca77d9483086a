#include "nascent/space/cnn.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "nascent/core/config.h"
#include "nascent/core/error.h"
#include "nascent/space/network.h"
#include "nascent/space/ops.h"

namespace nascent::space {
namespace {

std::vector<Decision> cnn_decisions(const CnnOptions& o) {
  std::vector<Decision> d;
  d.push_back({"stem", int_options(o.stems), std::nullopt});
  d.push_back({"act", o.activations, std::nullopt});
  for (size_t s = 0; s < o.widths.size(); ++s) {
    const std::string p = fmt::format("s{}_", s + 1);
    const Decision blocks{p + "blocks", int_options(o.stage_blocks.empty() ? o.blocks : o.stage_blocks[s]),
                          std::nullopt};
    // A stage with 0 blocks is left out: its other decisions do not exist.
    const std::optional<Condition> exists = count_at_least(blocks, 1);
    d.push_back(blocks);
    if (s > 0) d.push_back({p + "down", o.downsamples, exists});
    d.push_back({p + "kind", o.kinds, exists});
    d.push_back({p + "kernel", int_options(o.kernels), exists});
    d.push_back({p + "width", int_options(o.widths[s]), exists});
    d.push_back({p + "se", o.se, exists});
  }
  return d;
}

// plain: conv-BN-act. residual (He et al. 2016, basic block): conv-BN-act, conv-BN, plus the
// input (a strided 1x1 conv-BN where the shape changes), then act. Optional squeeze-excite on
// the block's output before the addition.
class CnnBlockImpl : public torch::nn::Module {
 public:
  CnnBlockImpl(const CnnSpace::Stage& s, const std::string& act, int64_t in, int64_t out, int stride)
      : residual_(s.residual), act_(act) {
    const int64_t k = s.kernel;
    if (!s.residual) {
      a_ = register_module("conv", ConvBn(ConvBnOptions{in, out, k, stride, 1, 1, true, act}));
    } else {
      a_ = register_module("conv1", ConvBn(ConvBnOptions{in, out, k, stride, 1, 1, true, act}));
      b_ = register_module("conv2", ConvBn(ConvBnOptions{out, out, k, 1, 1, 1, true, "none"}));
      if (stride != 1 || in != out)
        shortcut_ = register_module("shortcut", ConvBn(ConvBnOptions{in, out, 1, stride, 1, 1, true, "none"}));
    }
    if (s.se) se_ = register_module("se", SqueezeExcite(out, std::max<int64_t>(8, out / 4)));
  }

  torch::Tensor forward(const torch::Tensor& x) {
    torch::Tensor y = a_(x);
    if (residual_) y = b_(y);
    if (se_) y = se_(y);
    if (!residual_) return y;
    y = y + (shortcut_ ? shortcut_(x) : x);
    count_activation(y);
    return activate(y, act_);
  }

 private:
  bool residual_;
  std::string act_;
  ConvBn a_{nullptr}, b_{nullptr}, shortcut_{nullptr};
  SqueezeExcite se_{nullptr};
};
TORCH_MODULE(CnnBlock);

class CnnNetwork : public Network {
 public:
  CnnNetwork(const CnnSpace::Plan& plan, double dropout, const Task& task, double wm) : dropout_(dropout) {
    int64_t c = scale_channels(plan.stem, wm);
    stem_ = register_module("stem", ConvBn(ConvBnOptions{task.input_shape.at(0), c, 3, 1, 1, 1, true, plan.act}));
    int idx = 0;
    for (const auto& s : plan.stages) {
      const int64_t out = scale_channels(s.width, wm);
      for (int b = 0; b < s.blocks; ++b) {
        const bool first = b == 0;
        pool_before_.push_back(first && s.down == "maxpool");
        const int stride = first && s.down == "stride" ? 2 : 1;
        blocks_.push_back(register_module(fmt::format("block{}", idx++), CnnBlock(s, plan.act, c, out, stride)));
        c = out;
      }
    }
    head_ = register_module("head", CountedLinear(c, task.num_classes));
  }

  torch::Tensor forward(torch::Tensor x) override {
    x = stem_(x);
    for (size_t i = 0; i < blocks_.size(); ++i) {
      if (pool_before_[i]) x = torch::max_pool2d(x, 2, 2);
      x = blocks_[i](x);
    }
    // [B, C, H, W] -> [B, C]
    x = x.mean({2, 3});
    if (dropout_ > 0) x = torch::dropout(x, dropout_, is_training());
    return head_(x);
  }

 private:
  double dropout_;
  ConvBn stem_{nullptr};
  std::vector<CnnBlock> blocks_;
  std::vector<bool> pool_before_;
  CountedLinear head_{nullptr};
};

std::vector<std::string> read_options(ConfigSection& sec, const std::string& key, const std::vector<std::string>& def,
                                      const std::vector<std::string>& allowed) {
  std::vector<std::string> v = sec.get_strings(key, def);
  if (v.empty()) sec.fail(key, "expected at least one option");
  for (const auto& x : v)
    if (std::find(allowed.begin(), allowed.end(), x) == allowed.end())
      sec.fail(key, fmt::format("unknown option '{}'; expected {}", x, fmt::join(allowed, ", ")));
  require_distinct(sec, key, v);
  return v;
}

}  // namespace

CnnOptions CnnOptions::from_config(ConfigSection& sec) {
  CnnOptions o;
  o.stems = sec.get_ints("stems", o.stems, 1, 4096);
  require_distinct(sec, "stems", int_options(o.stems));
  o.widths = read_stage_widths(sec, "widths", o.widths, 6);
  if (const nlohmann::json b = sec.get_json("blocks"); b.is_array() && !b.empty() && b[0].is_array()) {
    // One list per stage; 0 (stage left out) allowed.
    if (b.size() != o.widths.size())
      sec.fail("blocks", fmt::format("expected one list of block counts per stage ({} stages, as in widths), got {}",
                                     o.widths.size(), b.size()));
    for (size_t s = 0; s < b.size(); ++s) {
      const std::string field = fmt::format("blocks[{}]", s);
      std::vector<int64_t> counts;
      if (!b[s].is_array() || b[s].empty()) sec.fail(field, "expected a non-empty list of block counts");
      for (const auto& x : b[s]) {
        if (!x.is_number_integer() || x.get<int64_t>() < 0 || x.get<int64_t>() > 16)
          sec.fail(field, "expected integers from 0 to 16, got " + x.dump());
        counts.push_back(x.get<int64_t>());
      }
      if (*std::max_element(counts.begin(), counts.end()) < 1)
        sec.fail(field, "expected at least one count above 0 (0 alone would leave the stage out always)");
      require_distinct(sec, field, int_options(counts));
      o.stage_blocks.push_back(counts);
    }
  } else {
    o.blocks = sec.get_ints("blocks", o.blocks, 1, 16);
    require_distinct(sec, "blocks", int_options(o.blocks));
  }
  o.kinds = read_options(sec, "kinds", o.kinds, {"plain", "residual"});
  o.kernels = sec.get_ints("kernels", o.kernels, 1, 11);
  for (auto k : o.kernels)
    if (k % 2 == 0) sec.fail("kernels", fmt::format("kernel sizes must be odd, got {}", k));
  require_distinct(sec, "kernels", int_options(o.kernels));
  o.downsamples = read_options(sec, "downsamples", o.downsamples, {"maxpool", "stride"});
  o.se = read_options(sec, "se", o.se, {"no", "yes"});
  o.activations = read_activations(sec, "activations", o.activations);
  o.dropout = sec.get_double("dropout", o.dropout, 0, 0.9);
  sec.finish();
  return o;
}

CnnSpace::CnnSpace(CnnOptions options) : SearchSpace("cnn", cnn_decisions(options)), options_(std::move(options)) {}

CnnSpace::Plan CnnSpace::plan(const Arch& arch) const {
  Plan p;
  p.stem = std::stoll(option(arch, "stem"));
  p.act = option(arch, "act");
  for (size_t s = 0; s < options_.widths.size(); ++s) {
    const std::string k = fmt::format("s{}_", s + 1);
    Stage st;
    st.blocks = std::stoi(option(arch, k + "blocks"));
    if (st.blocks == 0) continue;
    st.down = s == 0 ? "" : option(arch, k + "down");
    st.residual = option(arch, k + "kind") == "residual";
    st.kernel = std::stoi(option(arch, k + "kernel"));
    st.width = std::stoll(option(arch, k + "width"));
    st.se = option(arch, k + "se") == "yes";
    p.stages.push_back(st);
  }
  return p;
}

std::string CnnSpace::describe(const Arch& arch) const {
  const Plan p = plan(arch);
  std::string out = fmt::format("stem{}-{}", p.stem, p.act);
  for (const auto& s : p.stages) {
    out += ' ';
    if (s.down == "maxpool") out += "pool ";
    out += fmt::format("{}x{}{}-k{}-w{}{}", s.blocks, s.residual ? "res" : "conv", s.down == "stride" ? "/2" : "",
                       s.kernel, s.width, s.se ? "+se" : "");
  }
  return out;
}

bool CnnSpace::supports(const Task& task) const {
  if (task.input_shape.size() != 3) return false;
  // Every stage after the first halves the resolution; the last stage needs a pixel.
  int64_t side = std::min(task.input_shape[1], task.input_shape[2]);
  for (size_t s = 1; s < options_.widths.size(); ++s) side /= 2;
  return side >= 1;
}

std::shared_ptr<Network> CnnSpace::build(const Arch& arch, const Task& task, double width_mult) const {
  NASCENT_CHECK(task.input_shape.size() == 3, "cnn space needs image input [C, H, W]");
  return std::make_shared<CnnNetwork>(plan(canonical(arch)), options_.dropout, task, width_mult);
}

}  // namespace nascent::space
