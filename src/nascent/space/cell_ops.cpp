#include "nascent/space/cell_ops.h"

#include "nascent/core/error.h"
#include "nascent/space/ops.h"

namespace nascent::space {
namespace {

namespace F = torch::nn::functional;

torch::nn::Conv2dOptions conv_options(int64_t in, int64_t out, int64_t kernel, int64_t stride, int64_t dilation = 1,
                                      int64_t groups = 1) {
  return torch::nn::Conv2dOptions(in, out, kernel)
      .stride(stride)
      .padding((kernel - 1) / 2 * dilation)
      .dilation(dilation)
      .groups(groups)
      .bias(false);
}

torch::nn::BatchNorm2d batch_norm(int64_t c, bool affine) {
  return torch::nn::BatchNorm2d(torch::nn::BatchNorm2dOptions(c).affine(affine));
}

// `none`: a zero of the output's shape that stays in the graph (as the reference's x.mul(0.)).
class ZeroImpl : public CellOpImpl {
 public:
  ZeroImpl(int64_t c_in, int64_t c_out, int64_t stride) : c_in_(c_in), c_out_(c_out), stride_(stride) {}
  torch::Tensor forward(const torch::Tensor& x) override {
    using torch::indexing::Slice;
    const torch::Tensor y =
        stride_ == 1 ? x
                     : x.index({Slice(), Slice(), Slice(torch::indexing::None, torch::indexing::None, stride_),
                                Slice(torch::indexing::None, torch::indexing::None, stride_)});
    if (c_in_ == c_out_) return y.mul(0.);
    // Zeros shaped from the input (not from its sizes), so a traced network takes any batch size.
    return torch::zeros_like(y.narrow(1, 0, 1)).expand({-1, c_out_, -1, -1});
  }

 private:
  int64_t c_in_, c_out_, stride_;
};

class IdentityImpl : public CellOpImpl {
 public:
  torch::Tensor forward(const torch::Tensor& x) override { return x; }
  bool is_identity() const override { return true; }
};

// 3x3 pooling (average without counting the padding, or max), with NAS-Bench-201's 1x1
// ReLU-Conv-BN in front when the channel count changes and DARTS' affine-free BN behind in search.
class PoolImpl : public CellOpImpl {
 public:
  PoolImpl(bool average, const CellOpOptions& o) : average_(average), stride_(o.stride) {
    if (o.c_in != o.c_out)
      preprocess_ = register_module("preprocess", std::make_shared<ReluConvBnImpl>(o.c_in, o.c_out, 1, 1, o.affine));
    if (o.pool_bn) bn_ = register_module("bn", batch_norm(o.c_out, false));
  }
  torch::Tensor forward(const torch::Tensor& input) override {
    torch::Tensor x = preprocess_ ? preprocess_->forward(input) : input;
    x = average_ ? F::avg_pool2d(x, F::AvgPool2dFuncOptions(3).stride(stride_).padding(1).count_include_pad(false))
                 : F::max_pool2d(x, F::MaxPool2dFuncOptions(3).stride(stride_).padding(1));
    count_activation(x);
    return bn_ ? bn_(x) : x;
  }

 private:
  bool average_;
  int64_t stride_;
  std::shared_ptr<ReluConvBnImpl> preprocess_;
  torch::nn::BatchNorm2d bn_{nullptr};
};

// DARTS' SepConv: two stacked ReLU -> depthwise kxk -> pointwise 1x1 -> BN; the first carries the
// stride. DARTS' DilConv: one ReLU -> dilated depthwise kxk -> pointwise -> BN.
class SeparableConvImpl : public CellOpImpl {
 public:
  SeparableConvImpl(const CellOpOptions& o, int64_t kernel, bool dilated) {
    const int64_t ci = o.c_in;
    body_ = torch::nn::Sequential();
    body_->push_back(Relu());
    if (dilated) {
      body_->push_back(CountedConv2d(conv_options(ci, ci, kernel, o.stride, 2, ci)));
      body_->push_back(CountedConv2d(conv_options(ci, o.c_out, 1, 1)));
      body_->push_back(batch_norm(o.c_out, o.affine));
    } else {
      body_->push_back(CountedConv2d(conv_options(ci, ci, kernel, o.stride, 1, ci)));
      body_->push_back(CountedConv2d(conv_options(ci, ci, 1, 1)));
      body_->push_back(batch_norm(ci, o.affine));
      body_->push_back(Relu());
      body_->push_back(CountedConv2d(conv_options(ci, ci, kernel, 1, 1, ci)));
      body_->push_back(CountedConv2d(conv_options(ci, o.c_out, 1, 1)));
      body_->push_back(batch_norm(o.c_out, o.affine));
    }
    register_module("body", body_);
  }
  torch::Tensor forward(const torch::Tensor& x) override { return body_->forward(x); }

 private:
  torch::nn::Sequential body_{nullptr};
};

}  // namespace

ReluConvBnImpl::ReluConvBnImpl(int64_t c_in, int64_t c_out, int64_t kernel, int64_t stride, bool affine) {
  body_ =
      register_module("body", torch::nn::Sequential(Relu(), CountedConv2d(conv_options(c_in, c_out, kernel, stride)),
                                                    batch_norm(c_out, affine)));
}

torch::Tensor ReluConvBnImpl::forward(const torch::Tensor& x) { return body_->forward(x); }

FactorizedReduceImpl::FactorizedReduceImpl(int64_t c_in, int64_t c_out, int64_t stride, bool affine) : stride_(stride) {
  NASCENT_CHECK(stride == 1 || stride == 2, "factorized reduce needs stride 1 or 2");
  convs_ = register_module("convs", torch::nn::ModuleList());
  if (stride == 2) {
    convs_->push_back(CountedConv2d(conv_options(c_in, c_out / 2, 1, 2)));
    convs_->push_back(CountedConv2d(conv_options(c_in, c_out - c_out / 2, 1, 2)));
  } else {
    convs_->push_back(CountedConv2d(conv_options(c_in, c_out, 1, 1)));
  }
  bn_ = register_module("bn", batch_norm(c_out, affine));
}

torch::Tensor FactorizedReduceImpl::forward(const torch::Tensor& input) {
  torch::Tensor x = space::relu(input);
  torch::Tensor out;
  if (stride_ == 2) {
    using torch::indexing::Slice;
    // [B, C, H, W] -> pad right/bottom -> shift by one pixel -> [B, C, H, W]
    torch::Tensor shifted = F::pad(x, F::PadFuncOptions({0, 1, 0, 1})).index({Slice(), Slice(), Slice(1), Slice(1)});
    out = torch::cat(
        {convs_[0]->as<CountedConv2dImpl>()->forward(x), convs_[1]->as<CountedConv2dImpl>()->forward(shifted)}, 1);
  } else {
    out = convs_[0]->as<CountedConv2dImpl>()->forward(x);
  }
  return bn_(out);
}

bool is_cell_op(const std::string& n) {
  return n == "none" || n == "skip_connect" || n == "nor_conv_1x1" || n == "nor_conv_3x3" || n == "avg_pool_3x3" ||
         n == "max_pool_3x3" || n == "sep_conv_3x3" || n == "sep_conv_5x5" || n == "dil_conv_3x3" ||
         n == "dil_conv_5x5";
}

CellOp make_cell_op(const std::string& n, const CellOpOptions& o) {
  NASCENT_CHECK(o.c_in > 0 && o.c_out > 0 && o.stride >= 1, "cell op needs positive channels and stride");
  if (n == "none") return std::make_shared<ZeroImpl>(o.c_in, o.c_out, o.stride);
  if (n == "skip_connect") {
    if (o.stride == 1 && o.c_in == o.c_out) return std::make_shared<IdentityImpl>();
    return std::make_shared<FactorizedReduceImpl>(o.c_in, o.c_out, o.stride, o.affine);
  }
  if (n == "nor_conv_1x1") return std::make_shared<ReluConvBnImpl>(o.c_in, o.c_out, 1, o.stride, o.affine);
  if (n == "nor_conv_3x3") return std::make_shared<ReluConvBnImpl>(o.c_in, o.c_out, 3, o.stride, o.affine);
  if (n == "avg_pool_3x3") return std::make_shared<PoolImpl>(true, o);
  if (n == "max_pool_3x3") return std::make_shared<PoolImpl>(false, o);
  if (n == "sep_conv_3x3") return std::make_shared<SeparableConvImpl>(o, 3, false);
  if (n == "sep_conv_5x5") return std::make_shared<SeparableConvImpl>(o, 5, false);
  if (n == "dil_conv_3x3") return std::make_shared<SeparableConvImpl>(o, 3, true);
  if (n == "dil_conv_5x5") return std::make_shared<SeparableConvImpl>(o, 5, true);
  throw InternalError("unknown cell operation '" + n + "'");
}

torch::Tensor drop_path(const torch::Tensor& x, double p) {
  if (p <= 0) return x;
  const double keep = 1.0 - p;
  // One Bernoulli draw per example: [B, 1, 1, 1]
  std::vector<int64_t> shape(static_cast<size_t>(x.dim()), 1);
  shape[0] = x.size(0);
  torch::Tensor mask = torch::bernoulli(torch::full(shape, keep, x.options()));
  return x.div(keep).mul(mask);
}

torch::Tensor shuffle_channels(const torch::Tensor& x, int64_t groups) {
  // [B, C, H, W] -> [B, g, C/g, H, W] -> [B, C/g, g, H, W] -> [B, C, H, W]
  return x.unflatten(1, {groups, x.size(1) / groups}).transpose(1, 2).flatten(1, 2);
}

}  // namespace nascent::space
