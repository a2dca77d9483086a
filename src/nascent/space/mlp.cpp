#include "nascent/space/mlp.h"

#include <fmt/format.h>

#include "nascent/core/config.h"
#include "nascent/core/error.h"
#include "nascent/space/network.h"
#include "nascent/space/ops.h"

namespace nascent::space {
namespace {

std::vector<Decision> mlp_decisions(const MlpOptions& o) {
  std::vector<Decision> d;
  d.push_back({"layers", int_options(o.layers), std::nullopt});
  const Decision layers = d.front();
  d.push_back({"act", o.activations, std::nullopt});
  d.push_back({"dropout", number_options(o.dropouts), std::nullopt});
  d.push_back({"norm", o.norms, std::nullopt});
  const int64_t max_layers = *std::max_element(o.layers.begin(), o.layers.end());
  for (int64_t l = 1; l <= max_layers; ++l)
    d.push_back({fmt::format("l{}_width", l), int_options(o.widths), count_at_least(layers, l)});
  return d;
}

class MlpNetwork : public Network {
 public:
  MlpNetwork(const MlpSpace::Layout& l, const Task& task, double wm) : act_(l.act) {
    int64_t in = 1;
    for (int64_t s : task.input_shape) in *= s;
    for (size_t i = 0; i < l.widths.size(); ++i) {
      const int64_t w = scale_units(l.widths[i], wm);
      // BatchNorm's shift makes the linear bias redundant.
      linears_.push_back(register_module(fmt::format("fc{}", i + 1), CountedLinear(in, w, l.norm != "batch")));
      if (l.norm == "batch")
        norms_.emplace_back(register_module(fmt::format("bn{}", i + 1), torch::nn::BatchNorm1d(w)));
      else if (l.norm == "layer")
        norms_.emplace_back(register_module(fmt::format("ln{}", i + 1), CountedLayerNorm(w)));
      in = w;
    }
    if (l.dropout > 0) dropout_ = register_module("dropout", torch::nn::Dropout(l.dropout));
    head_ = register_module("head", CountedLinear(in, task.num_classes));
  }

  torch::Tensor forward(torch::Tensor x) override {
    x = x.flatten(1);  // [B, ...] -> [B, features]
    for (size_t i = 0; i < linears_.size(); ++i) {
      x = linears_[i](x);
      if (!norms_.empty()) x = norms_[i].forward(x);
      x = activate(x, act_);
      if (!dropout_.is_empty()) x = dropout_(x);
    }
    return head_(x);
  }

 private:
  std::string act_;
  std::vector<CountedLinear> linears_;
  std::vector<torch::nn::AnyModule> norms_;
  torch::nn::Dropout dropout_{nullptr};
  CountedLinear head_{nullptr};
};

}  // namespace

MlpOptions MlpOptions::from_config(ConfigSection& sec) {
  MlpOptions o;
  o.layers = sec.get_ints("layers", o.layers, 1, 64);
  require_distinct(sec, "layers", int_options(o.layers));
  o.widths = sec.get_ints("widths", o.widths, 1, 1 << 16);
  require_distinct(sec, "widths", int_options(o.widths));
  o.activations = read_activations(sec, "activations", o.activations);
  o.dropouts = sec.get_doubles("dropouts", o.dropouts, 0, 0.95);
  require_distinct(sec, "dropouts", number_options(o.dropouts));
  o.norms = sec.get_strings("norms", o.norms);
  for (const auto& n : o.norms)
    if (n != "none" && n != "batch" && n != "layer")
      sec.fail("norms", "unknown normalisation '" + n + "'; known: none, batch, layer");
  require_distinct(sec, "norms", o.norms);
  sec.finish();
  return o;
}

MlpSpace::MlpSpace(MlpOptions options) : SearchSpace("mlp", mlp_decisions(options)), options_(std::move(options)) {}

MlpSpace::Layout MlpSpace::layout(const Arch& arch) const {
  const Arch a = canonical(arch);
  auto opt = [&](const std::string& name) { return option(a, name); };
  Layout l;
  const int64_t n = std::stoll(opt("layers"));
  for (int64_t i = 1; i <= n; ++i) l.widths.push_back(std::stoll(opt(fmt::format("l{}_width", i))));
  l.act = opt("act");
  l.norm = opt("norm");
  l.dropout = std::stod(opt("dropout"));
  return l;
}

std::string MlpSpace::describe(const Arch& arch) const {
  const Layout l = layout(arch);
  std::string widths;
  for (int64_t w : l.widths) widths += (widths.empty() ? "" : "-") + std::to_string(w);
  return fmt::format("{} {} norm={} drop={:g}", widths, l.act, l.norm, l.dropout);
}

std::shared_ptr<Network> MlpSpace::build(const Arch& arch, const Task& task, double width_mult) const {
  NASCENT_CHECK(supports(task), "mlp space needs tabular features or images");
  return std::make_shared<MlpNetwork>(layout(arch), task, width_mult);
}

bool MlpSpace::supports(const Task& task) const {
  return (task.kind == "tabular" && task.input_shape.size() == 1) ||
         (task.kind == "image" && task.input_shape.size() == 3);
}

Task MlpSpace::default_task() const {
  Task t;
  t.name = "tabular";
  t.kind = "tabular";
  t.input_shape = {4};  // the shape of the penguins example: 4 measurements, 3 species
  t.num_classes = 3;
  return t;
}

}  // namespace nascent::space
