// Building a declared space's network: each layer's fields resolved from the architecture,
// shapes followed layer by layer, residual projections where a block changes the shape, the
// active copies of repeated blocks, and a classification head.
#include <fmt/format.h>

#include "nascent/core/error.h"
#include "nascent/space/declared.h"
#include "nascent/space/network.h"
#include "nascent/space/ops.h"

namespace nascent::space {
namespace {

using Shape = std::vector<int64_t>;  // [C, H, W] or [F]

torch::nn::AnyModule functional(std::function<torch::Tensor(torch::Tensor)> f) {
  return torch::nn::AnyModule(torch::nn::Functional(std::move(f)));
}

// Layers run in order. (torch::nn::Sequential cannot be nested inside an AnyModule.)
class LayerListImpl : public torch::nn::Module {
 public:
  void push_back(torch::nn::AnyModule m) {
    register_module(std::to_string(layers_.size()), m.ptr());
    layers_.push_back(std::move(m));
  }
  torch::Tensor forward(torch::Tensor x) {
    for (auto& m : layers_) x = m.forward(x);
    return x;
  }

 private:
  std::vector<torch::nn::AnyModule> layers_;
};
TORCH_MODULE(LayerList);

// body(x) + x, or body(x) + projection(x) when the body changes the shape.
class DeclaredResidualImpl : public torch::nn::Module {
 public:
  DeclaredResidualImpl(LayerList body, torch::nn::AnyModule projection)
      : body_(register_module("body", body)), projection_(std::move(projection)) {
    if (!projection_.is_empty()) register_module("projection", projection_.ptr());
  }
  torch::Tensor forward(const torch::Tensor& x) {
    torch::Tensor y = body_->forward(x) + (projection_.is_empty() ? x : projection_.forward(x));
    count_activation(y);
    return y;
  }

 private:
  LayerList body_;
  torch::nn::AnyModule projection_;
};
TORCH_MODULE(DeclaredResidual);

class Builder {
 public:
  Builder(const DeclaredSpace& space, const Arch& arch, double wm) : space_(space), arch_(arch), wm_(wm) {}

  void build(const std::vector<DeclaredLayer>& layers, Shape& shape, LayerList& seq) {
    for (const auto& l : layers) {
      if (l.type == "repeat") {
        const int64_t n = std::stoll(text(l.count));
        for (int64_t k = 0; k < n; ++k) build(l.copies[k], shape, seq);
        continue;
      }
      seq->push_back(module(l, shape));
    }
  }

 private:
  std::string text(const DeclaredValue& v) const {
    return v.decision < 0 ? v.fixed : space_.decisions()[v.decision].options[arch_.choices[v.decision]];
  }
  std::string field(const DeclaredLayer& l, const std::string& f) const { return text(l.fields.at(f)); }
  int64_t integer(const DeclaredLayer& l, const std::string& f) const { return std::stoll(field(l, f)); }

  [[noreturn]] void too_small(const DeclaredLayer& l, const Shape& s) const {
    throw TrialFailure(fmt::format("{}: the {} layer does not fit its {}x{} input", l.path, l.type, s[1], s[2]));
  }

  torch::nn::AnyModule module(const DeclaredLayer& l, Shape& shape) {
    const std::string& t = l.type;
    if (t == "conv" || t == "dwconv") {
      const int64_t in = shape[0], k = integer(l, "kernel"), s = integer(l, "stride");
      const int64_t out = t == "conv" ? scale_units(integer(l, "channels"), wm_) : in;
      shape = {out, (shape[1] - 1) / s + 1, (shape[2] - 1) / s + 1};
      return torch::nn::AnyModule(
          ConvBn(ConvBnOptions{in, out, k, s, t == "conv" ? 1 : in, 1, field(l, "bn") == "true", field(l, "act")}));
    }
    if (t == "pool") {
      const int64_t size = integer(l, "size");
      const int64_t stride = l.fields.count("stride") ? integer(l, "stride") : size;
      if (shape[1] < size || shape[2] < size) too_small(l, shape);
      shape = {shape[0], (shape[1] - size) / stride + 1, (shape[2] - size) / stride + 1};
      if (field(l, "kind") == "max")
        return torch::nn::AnyModule(torch::nn::MaxPool2d(torch::nn::MaxPool2dOptions(size).stride(stride)));
      return torch::nn::AnyModule(torch::nn::AvgPool2d(torch::nn::AvgPool2dOptions(size).stride(stride)));
    }
    if (t == "global_pool") {
      shape = {shape[0]};
      // [B, C, H, W] -> [B, C]
      if (field(l, "kind") == "max") return functional([](torch::Tensor x) { return x.amax({2, 3}); });
      return functional([](torch::Tensor x) { return x.mean({2, 3}); });
    }
    if (t == "flatten") {
      int64_t n = 1;
      for (int64_t d : shape) n *= d;
      shape = {n};
      return functional([](torch::Tensor x) { return x.flatten(1); });
    }
    if (t == "batchnorm") {
      if (shape.size() == 3) return torch::nn::AnyModule(torch::nn::BatchNorm2d(shape[0]));
      return torch::nn::AnyModule(torch::nn::BatchNorm1d(shape[0]));
    }
    if (t == "linear") {
      const int64_t in = shape[0], out = scale_units(integer(l, "units"), wm_);
      shape = {out};
      const std::string act = field(l, "act");
      if (act == "none") return torch::nn::AnyModule(CountedLinear(in, out));
      LayerList s;
      s->push_back(torch::nn::AnyModule(CountedLinear(in, out)));
      s->push_back(functional([act](torch::Tensor x) { return activate(x, act); }));
      return torch::nn::AnyModule(s);
    }
    if (t == "dropout") {
      const double rate = std::stod(field(l, "rate"));
      if (rate <= 0) return functional([](torch::Tensor x) { return x; });
      return torch::nn::AnyModule(torch::nn::Dropout(rate));
    }
    if (t == "activation") {
      const std::string act = field(l, "act");
      return functional([act](torch::Tensor x) { return activate(x, act); });
    }
    NASCENT_CHECK(t == "residual", "declared space: unknown layer type " + t);
    const Shape in = shape;
    LayerList body;
    build(l.body, shape, body);
    torch::nn::AnyModule projection;
    if (shape != in) {
      if (in.size() == 1) {
        projection = torch::nn::AnyModule(CountedLinear(in[0], shape[0]));
      } else {
        // A strided 1x1 projection (ResNet's shortcut B) when the body shrinks the image.
        const int64_t stride = (in[1] + shape[1] - 1) / shape[1];
        if ((in[1] - 1) / stride + 1 != shape[1] || (in[2] - 1) / stride + 1 != shape[2])
          throw TrialFailure(
              fmt::format("{}: the residual block changes {}x{} to {}x{}, which no strided projection matches", l.path,
                          in[1], in[2], shape[1], shape[2]));
        projection = torch::nn::AnyModule(ConvBn(ConvBnOptions{in[0], shape[0], 1, stride, 1, 1, true, "none"}));
      }
    }
    return torch::nn::AnyModule(DeclaredResidual(body, projection));
  }

  const DeclaredSpace& space_;
  const Arch& arch_;
  double wm_;
};

class DeclaredNetwork : public Network {
 public:
  DeclaredNetwork(const DeclaredSpace& space, const Arch& arch, const Task& task, double wm) {
    Shape shape = task.input_shape;
    body_ = register_module("body", LayerList());
    Builder(space, arch, wm).build(space.options().layers, shape, body_);
    pool_ = shape.size() == 3;  // an image at the end is pooled before the head
    head_ = register_module("head", CountedLinear(shape[0], task.num_classes));
  }

  torch::Tensor forward(torch::Tensor x) override {
    x = body_->forward(x);
    if (pool_) x = x.mean({2, 3});
    return head_(x);
  }

 private:
  LayerList body_{nullptr};
  bool pool_ = false;
  CountedLinear head_{nullptr};
};

}  // namespace

DeclaredSpace::DeclaredSpace(DeclaredOptions options)
    : SearchSpace("declared", options.decisions), options_(std::move(options)) {}

std::shared_ptr<Network> DeclaredSpace::build(const Arch& arch, const Task& task, double width_mult) const {
  NASCENT_CHECK(supports(task), "declared space: the task's input does not match `input: " + options_.input + "`");
  return std::make_shared<DeclaredNetwork>(*this, canonical(arch), task, width_mult);
}

bool DeclaredSpace::supports(const Task& task) const {
  if (options_.input == "image") return task.kind == "image" && task.input_shape.size() == 3;
  return task.kind == "tabular" && task.input_shape.size() == 1;
}

Task DeclaredSpace::default_task() const {
  if (options_.input == "image") return Task{};
  Task t;
  t.name = "tabular";
  t.kind = "tabular";
  t.input_shape = {4};
  t.num_classes = 3;
  return t;
}

}  // namespace nascent::space
