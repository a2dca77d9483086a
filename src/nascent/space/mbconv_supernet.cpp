// The mbconv space's one-shot supernet, with SPOS / OFA-style weight sharing kept simple:
// every block holds one 1x1 expansion, SE and projection per expansion ratio, and one
// depthwise conv per (ratio, kernel) pair; every option has its own weights (no elastic kernels,
// no progressive shrinking). Kernel, expansion, SE, activation and stage depth are mixtures of
// their options (see mixture.h); the width multiplier masks the trailing output channels of
// each block, as FBNetV2's channel masking does (Wan et al. 2020, eq. 4), so one set of
// maximum-width weights serves every width.
#include <fmt/format.h>

#include <array>
#include <map>

#include "nascent/core/error.h"
#include "nascent/space/mbconv.h"
#include "nascent/space/mixture.h"
#include "nascent/space/network.h"
#include "nascent/space/ops.h"
#include "nascent/space/supernet.h"

namespace nascent::space {
namespace {

// The mixtures a block reads in one forward pass.
struct BlockMix {
  MixWeights kernel, expand, se, act;
};

torch::Tensor mixed_act(const torch::Tensor& x, const MixWeights& m, const std::vector<std::string>& acts) {
  return mix(m, [&](int64_t i) { return activate(x, acts[i]); });
}

class MixedBlockImpl : public torch::nn::Module {
 public:
  MixedBlockImpl(const MbconvOptions& o, int64_t in, int64_t out, int64_t stride, bool residual)
      : o_(o), residual_(residual) {
    for (size_t e = 0; e < o.expansions.size(); ++e) {
      const int64_t mid = in * o.expansions[e];
      const std::string p = fmt::format("e{}_", o.expansions[e]);
      expand_.push_back(o.expansions[e] > 1
                            ? register_module(p + "expand", ConvBn(ConvBnOptions{in, mid, 1, 1, 1, 1, true, "none"}))
                            : ConvBn(nullptr));
      std::vector<ConvBn> dws;
      for (int64_t k : o.kernels)
        dws.push_back(register_module(fmt::format("{}dw{}", p, k),
                                      ConvBn(ConvBnOptions{mid, mid, k, stride, mid, 1, true, "none"})));
      dw_.push_back(std::move(dws));
      if (o.se) se_.push_back(register_module(p + "se", SqueezeExcite(mid, se_channels(mid))));
      project_.push_back(register_module(p + "project", ConvBn(ConvBnOptions{mid, out, 1, 1, 1, 1, true, "none"})));
    }
  }

  // mask: [out] channel weights of the width multiplier.
  torch::Tensor forward(const torch::Tensor& x, const BlockMix& m, const torch::Tensor& mask) {
    torch::Tensor y = mix(m.expand, [&](int64_t e) {
      torch::Tensor h = expand_[e].is_empty() ? x : mixed_act(expand_[e](x), m.act, o_.activations);
      h = mixed_act(mix(m.kernel, [&](int64_t k) { return dw_[e][k](h); }), m.act, o_.activations);
      h = mix(m.se, [&](int64_t s) { return s == 0 ? h : se_[e](h); });
      return project_[e](h);
    });
    y = y * mask.view({1, -1, 1, 1});
    return residual_ ? y + x : y;
  }

 private:
  MbconvOptions o_;
  bool residual_;
  std::vector<ConvBn> expand_;
  std::vector<std::vector<ConvBn>> dw_;
  std::vector<SqueezeExcite> se_;
  std::vector<ConvBn> project_;
};
TORCH_MODULE(MixedBlock);

class MbconvSupernet : public Supernet {
 public:
  MbconvSupernet(const MbconvSpace& space, const Task& task) : space_(space), o_(space.options()) {
    const auto& d = space_.decisions();
    auto index = [&](const std::string& name) {
      const int i = space_.index_of(name);
      NASCENT_CHECK(i >= 0, "mbconv supernet: no decision " + name);
      return i;
    };
    max_depth_ = *std::max_element(o_.depths.begin(), o_.depths.end());
    const double max_mult = *std::max_element(o_.width_mults.begin(), o_.width_mults.end());
    stem_ = register_module(
        "stem", ConvBn(ConvBnOptions{task.input_shape.at(0), o_.stem, 3, o_.stem_stride, 1, 1, true, "relu"}));
    int64_t c = o_.stem;
    width_idx_ = index("width");
    for (size_t s = 0; s < o_.widths.size(); ++s) {
      const int64_t out = scale_units(o_.widths[s], max_mult);
      // One mask per width option: ones on the channels that width keeps.
      std::vector<torch::Tensor> masks;
      for (double m : o_.width_mults) {
        auto mask = torch::zeros({out});
        mask.slice(0, 0, scale_units(o_.widths[s], m)).fill_(1.0);
        masks.push_back(mask);
      }
      masks_.push_back(torch::stack(masks));  // [widths, out]
      depth_idx_.push_back(index(MbconvSpace::depth_name(s)));
      std::vector<MixedBlock> blocks;
      for (int64_t b = 0; b < max_depth_; ++b) {
        blocks.push_back(register_module(fmt::format("s{}_b{}", s + 1, b + 1),
                                         MixedBlock(o_, c, out, b == 0 ? o_.strides[s] : 1, b > 0)));
        const std::string p = MbconvSpace::block_prefix(s, b);
        block_idx_.push_back({index(p + "kernel"), index(p + "expand"), index(p + "se"), index(p + "act")});
        c = out;
      }
      blocks_.push_back(std::move(blocks));
    }
    head_conv_ = register_module("head_conv", ConvBn(ConvBnOptions{c, o_.head, 1, 1, 1, 1, true, "hswish"}));
    classifier_ = register_module("classifier", CountedLinear(o_.head, task.num_classes));
    // Architecture parameters: one [decisions, options] tensor per kind of decision (width,
    // depth, kernel, expand, se, act), initialised near zero as in DARTS.
    std::map<std::string, int64_t> group_of;
    std::vector<int64_t> rows, sizes;
    for (const auto& dec : d) {
      const std::string kind = dec.name.substr(dec.name.rfind('_') + 1);
      auto [it, added] = group_of.emplace(kind, static_cast<int64_t>(rows.size()));
      if (added) {
        group_names_.push_back(kind);
        rows.push_back(0);
        sizes.push_back(static_cast<int64_t>(dec.options.size()));
      }
      NASCENT_CHECK(sizes[it->second] == static_cast<int64_t>(dec.options.size()),
                    "mbconv supernet: decisions of one kind must have the same options");
      slot_.push_back({it->second, rows[it->second]++});
    }
    for (size_t g = 0; g < rows.size(); ++g) {
      alpha_.push_back(register_parameter("alpha_" + group_names_[g], torch::zeros({rows[g], sizes[g]})));
      torch::NoGradGuard no_grad;
      alpha_.back().normal_(0, 1e-3);
    }
    path_ = Arch{space_.name(), std::vector<int>(d.size(), 0)};
  }

  torch::Tensor forward(torch::Tensor x) override {
    x = stem_(x);
    const MixWeights width = mixture(width_idx_);
    size_t bi = 0;
    for (size_t s = 0; s < blocks_.size(); ++s) {
      // [widths] x [widths, out] -> [out]
      const torch::Tensor mask = torch::matmul(width.w.to(masks_[s].dtype()), masks_[s]);
      std::vector<torch::Tensor> after;  // output after block b + 1
      const size_t first = bi;
      const MixWeights depth = mixture(depth_idx_[s]);
      // Only the blocks that some depth option (or the chosen depth) needs are run.
      const int64_t needed = depth.chosen >= 0 ? o_.depths[depth.chosen] : max_depth_;
      torch::Tensor h = x;
      for (int64_t b = 0; b < needed; ++b) {
        const auto& idx = block_idx_[first + b];
        BlockMix m{mixture(idx[0]), mixture(idx[1]), mixture(idx[2]), mixture(idx[3])};
        h = blocks_[s][b](h, m, mask);
        after.push_back(h);
      }
      bi = first + max_depth_;
      x = mix(depth, [&](int64_t i) { return after[o_.depths[i] - 1]; });
    }
    x = head_conv_(x).mean({2, 3});
    return classifier_(x);
  }

  std::vector<torch::Tensor> alphas() override { return alpha_; }

  std::vector<torch::Tensor> weights() override {
    std::vector<torch::Tensor> out;
    for (const auto& p : parameters()) {
      bool is_alpha = false;
      for (const auto& a : alpha_) is_alpha = is_alpha || p.is_same(a);
      if (!is_alpha) out.push_back(p);
    }
    return out;
  }

  void set_path(const Arch& arch) override {
    NASCENT_CHECK(arch.space == space_.name(), "set_path: architecture of space '" + arch.space + "'");
    path_ = space_.canonical(arch);
  }

  Arch derive() const override {
    const auto& d = space_.decisions();
    Arch a{space_.name(), std::vector<int>(d.size(), 0)};
    for (size_t i = 0; i < d.size(); ++i) a.choices[i] = static_cast<int>(row(i).argmax().item<int64_t>());
    return space_.canonical(a);
  }

  std::vector<std::pair<std::string, std::vector<double>>> alpha_table() const override {
    std::vector<std::pair<std::string, std::vector<double>>> out;
    const auto& d = space_.decisions();
    for (size_t i = 0; i < d.size(); ++i) {
      auto p = torch::softmax(row(i).detach(), 0);
      out.push_back({d[i].name, std::vector<double>(p.data_ptr<float>(), p.data_ptr<float>() + p.numel())});
    }
    return out;
  }

 private:
  // Decision i's alphas: its row of its kind's tensor.
  torch::Tensor row(size_t i) const { return alpha_[slot_[i].first][slot_[i].second]; }
  MixWeights mixture(int i) { return mix_weights(row(i), mode_, tau_, path_.choices[i], noise_rng_); }

  MbconvSpace space_;
  MbconvOptions o_;
  int64_t max_depth_ = 1;
  int width_idx_ = 0;
  std::vector<int> depth_idx_;
  std::vector<std::array<int, 4>> block_idx_;  // kernel, expand, se, act decision of each block
  std::vector<torch::Tensor> masks_;
  ConvBn stem_{nullptr}, head_conv_{nullptr};
  std::vector<std::vector<MixedBlock>> blocks_;
  CountedLinear classifier_{nullptr};
  std::vector<torch::Tensor> alpha_;              // one per kind, in order of first appearance
  std::vector<std::string> group_names_;          // that kind
  std::vector<std::pair<size_t, int64_t>> slot_;  // per decision: (kind, row)
  Arch path_;
};

}  // namespace

std::shared_ptr<Supernet> MbconvSpace::build_supernet(const Task& task, const SupernetOptions& options) const {
  if (!supports(task)) throw InputError("", "space.name", "the mbconv supernet needs image input [C, H, W]");
  if (options.partial_channels != 1)
    throw InputError("", "strategy", "the mbconv supernet does not support partial channels (PC-DARTS); use 1");
  if (options.edge_normalization || options.auxiliary_skip)
    throw InputError("", "strategy",
                     "the mbconv supernet has no cell edges: edge normalisation and the auxiliary skip (darts' "
                     "remedy auxiliary_skip) need a cell space (nb201, darts); on mbconv use strategy.darts.remedy: "
                     "beta_decay or none");
  return std::make_shared<MbconvSupernet>(*this, task);
}

}  // namespace nascent::space
