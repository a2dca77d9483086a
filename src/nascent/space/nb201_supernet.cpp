// The nb201 supernet: the NAS-Bench-201 skeleton with every cell edge a mixed op over the five
// operations and one [6, 5] alpha shared by all cells, as in the benchmark's DARTS/GDAS search
// (the reference's TinyNetworkDarts / TinyNetworkGDAS; cell-op BN without affine parameters).
#include <fmt/format.h>

#include "nascent/core/error.h"
#include "nascent/space/mixed_op.h"
#include "nascent/space/nb201.h"
#include "nascent/space/nb201_network.h"
#include "nascent/space/supernet.h"

namespace nascent::space {
namespace {

using nb201::kEdgeList;
using nb201::kEdges;
using nb201::kNodes;

// What every edge of every cell does in one forward pass.
struct EdgePlan {
  MixMode mode;
  torch::Tensor weights;       // kSoftmax: softmax(alpha); kGumbelHard: straight-through hard weights
  std::vector<int64_t> index;  // kGumbelHard: sampled op; kPath: the path's op
  torch::Tensor edge_weights;  // [6] PC-DARTS edge normalisation, or undefined
  double aux_beta = 0;         // DARTS-' auxiliary skip weight (kSoftmax)
};

// Edges into nodes 1, 2, 3 (kEdgeList is grouped by target node).
const std::vector<int64_t> kInputsPerNode{1, 2, 3};

class SearchCellImpl : public torch::nn::Module {
 public:
  SearchCellImpl(int64_t channels, const SupernetOptions& o) {
    for (int e = 0; e < kEdges; ++e)
      edges_.push_back(register_module(
          fmt::format("edge{}", e),
          MixedOp(nb201::op_names(), MixedOpOptions{channels, 1, o.partial_channels, false, o.auxiliary_skip})));
  }

  torch::Tensor forward(const torch::Tensor& x, const EdgePlan& plan) {
    std::array<torch::Tensor, kNodes> nodes{x};
    for (int node = 1; node < kNodes; ++node) {
      torch::Tensor sum;
      for (int e = 0; e < kEdges; ++e) {
        if (kEdgeList[e].to != node) continue;
        const torch::Tensor& in = nodes[kEdgeList[e].from];
        torch::Tensor y =
            plan.mode == MixMode::kSoftmax      ? edges_[e]->forward_weighted(in, plan.weights[e], plan.aux_beta)
            : plan.mode == MixMode::kGumbelHard ? edges_[e]->forward_hard(in, plan.weights[e], plan.index[e])
                                                : edges_[e]->forward_one(in, plan.index[e]);
        if (plan.edge_weights.defined()) y = y * plan.edge_weights[e];
        sum = sum.defined() ? sum + y : y;
      }
      nodes[node] = sum;
    }
    return nodes[kNodes - 1];
  }

 private:
  std::vector<MixedOp> edges_;
};
TORCH_MODULE(SearchCell);

class Nb201Supernet : public Supernet {
 public:
  Nb201Supernet(const Nb201Space& space, const Task& task, const SupernetOptions& o) : space_(space) {
    const int64_t C = space.options().search_channels(), N = space.options().search_cells();
    has_aux_skip_ = o.auxiliary_skip;
    stem_ = register_module("stem", nb201::make_stem(task.input_shape.at(0), C));
    int64_t prev = C;
    int i = 0;
    for (const auto& l : nb201::skeleton(C, N)) {
      const std::string name = fmt::format("cell{}", i++);
      if (l.reduction) {
        blocks_.push_back(register_module(name, nb201::ResidualBlock(prev, l.channels, 2)));
        order_.push_back({false, blocks_.size() - 1});
      } else {
        cells_.push_back(register_module(name, SearchCell(l.channels, o)));
        order_.push_back({true, cells_.size() - 1});
      }
      prev = l.channels;
    }
    lastact_ = register_module("lastact", torch::nn::BatchNorm2d(prev));
    classifier_ = register_module("classifier", CountedLinear(prev, task.num_classes));
    alpha_ = register_parameter("alpha", 1e-3 * torch::randn({kEdges, nb201::kOps}));
    if (o.edge_normalization) beta_ = register_parameter("beta", 1e-3 * torch::randn({kEdges}));
  }

  torch::Tensor forward(torch::Tensor x) override {
    EdgePlan plan{mode_, {}, {}, {}, aux_beta_};
    if (beta_.defined() && mode_ != MixMode::kPath) plan.edge_weights = normalize_edges(beta_, kInputsPerNode);
    if (mode_ == MixMode::kSoftmax) {
      plan.weights = torch::softmax(alpha_, -1);
    } else if (mode_ == MixMode::kGumbelHard) {
      // One sample per forward pass, shared by all cells (as GDAS on NAS-Bench-201).
      GumbelSample s = gumbel_hard_sample(alpha_, tau_, noise_rng_);
      plan.weights = s.hard;
      plan.index = s.index;
    } else {
      NASCENT_CHECK(!path_.empty(), "nb201 supernet: set_path() before a forward pass in path mode");
      plan.index = path_;
    }
    x = stem_(x);
    for (const auto& [is_cell, k] : order_) x = is_cell ? cells_[k]->forward(x, plan) : blocks_[k]->forward(x);
    return nb201::head(x, lastact_, classifier_);
  }

  std::vector<torch::Tensor> alphas() override {
    if (beta_.defined()) return {alpha_, beta_};
    return {alpha_};
  }

  std::vector<torch::Tensor> weights() override {
    std::vector<torch::Tensor> out;
    for (const auto& p : parameters())
      if (!p.is_same(alpha_) && !(beta_.defined() && p.is_same(beta_))) out.push_back(p);
    return out;
  }

  void set_path(const Arch& arch) override {
    NASCENT_CHECK(arch.space == space_.name(), "nb201 supernet: path is for space '" + arch.space + "'");
    // The canonical form runs what the standalone network of this architecture runs.
    const nb201::Cell c = space_.cell(space_.canonical(arch));
    path_.assign(c.begin(), c.end());
  }

  Arch derive() const override {
    torch::NoGradGuard no_grad;
    torch::Tensor best = alpha_.argmax(1);
    nb201::Cell c{};
    for (int e = 0; e < kEdges; ++e) c[e] = static_cast<int>(best[e].item<int64_t>());
    return space_.arch(c);
  }

  std::vector<std::pair<std::string, std::vector<double>>> alpha_table() const override {
    torch::NoGradGuard no_grad;
    torch::Tensor p = torch::softmax(alpha_, -1).contiguous();
    std::vector<std::pair<std::string, std::vector<double>>> out;
    for (int e = 0; e < kEdges; ++e) {
      std::vector<double> row;
      for (int k = 0; k < nb201::kOps; ++k) row.push_back(p[e][k].item<double>());
      out.emplace_back(space_.decisions()[e].name, row);
    }
    return out;
  }

 private:
  Nb201Space space_;
  ConvBn stem_{nullptr};
  std::vector<SearchCell> cells_;
  std::vector<nb201::ResidualBlock> blocks_;
  std::vector<std::pair<bool, size_t>> order_;  // (is a search cell, index) per skeleton position
  torch::nn::BatchNorm2d lastact_{nullptr};
  CountedLinear classifier_{nullptr};
  torch::Tensor alpha_, beta_;  // beta_: PC-DARTS edge weights [6], or undefined
  std::vector<int64_t> path_;
};

}  // namespace

std::shared_ptr<Supernet> Nb201Space::build_supernet(const Task& task, const SupernetOptions& o) const {
  if (!supports(task) || task.input_shape.size() != 3)
    throw InputError("", "space.name", "the nb201 supernet needs image input [C, H, W]");
  const int64_t C = options_.search_channels();
  if (o.partial_channels < 1 || C % o.partial_channels != 0)
    throw InputError(
        "", "partial_channels",
        fmt::format("{} must be at least 1 and divide the nb201 search network's C = {}", o.partial_channels, C));
  return std::make_shared<Nb201Supernet>(*this, task, o);
}

}  // namespace nascent::space
