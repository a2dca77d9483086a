// The darts supernet: the DARTS search network (the reference's model_search.Network). Every
// intermediate node is connected to all earlier nodes by a mixed op over the 8 operations
// (14 edges per cell), with alphas [14, 8] for normal cells and [14, 8] for reduction cells.
// Search-cell BN has no affine parameters and pooling is followed by BN, as in the reference.
#include <fmt/format.h>

#include <algorithm>
#include <tuple>

#include "nascent/core/error.h"
#include "nascent/space/darts.h"
#include "nascent/space/darts_network.h"
#include "nascent/space/mixed_op.h"
#include "nascent/space/supernet.h"

namespace nascent::space {
namespace {

using darts::kEdges;
using darts::kSteps;

// What the edges of one cell type do in one forward pass.
struct CellPlan {
  MixMode mode;
  torch::Tensor weights;          // [14, 8]: softmax(alpha) or straight-through hard weights
  std::vector<int64_t> index;     // kGumbelHard: sampled op per edge
  std::vector<darts::Gene> path;  // kPath: the architecture's 8 genes of this cell type
  torch::Tensor edge_weights;     // [14] PC-DARTS edge normalisation, or undefined
  double aux_beta = 0;            // DARTS-' auxiliary skip weight (kSoftmax)
};

// Edges into intermediate nodes 2, 3, 4, 5 (edge_index groups them by target node).
const std::vector<int64_t> kInputsPerNode{2, 3, 4, 5};

class SearchCellImpl : public torch::nn::Module {
 public:
  SearchCellImpl(const darts::CellLayout& l, const SupernetOptions& o) : reduction_(l.reduction) {
    pre0_ = register_module("preprocess0", darts::make_preprocess0(l, false));
    pre1_ = register_module("preprocess1", darts::make_preprocess1(l, false));
    for (int node = 2; node < 2 + kSteps; ++node)
      for (int j = 0; j < node; ++j) {
        const int64_t stride = l.reduction && j < 2 ? 2 : 1;
        edges_.push_back(register_module(
            fmt::format("edge{}", darts::edge_index(node, j)),
            MixedOp(darts::op_names(), MixedOpOptions{l.c, stride, o.partial_channels, true, o.auxiliary_skip})));
      }
  }

  bool reduction() const { return reduction_; }

  torch::Tensor forward(const torch::Tensor& s0, const torch::Tensor& s1, const CellPlan& plan) {
    std::vector<torch::Tensor> states{pre0_->forward(s0), pre1_->forward(s1)};
    for (int node = 2; node < 2 + kSteps; ++node) {
      torch::Tensor sum;
      auto add = [&](const torch::Tensor& y) { sum = sum.defined() ? sum + y : y; };
      if (plan.mode == MixMode::kPath) {
        for (int j = 0; j < 2; ++j) {
          const darts::Gene& g = plan.path[static_cast<size_t>(2 * (node - 2) + j)];
          add(edges_[darts::edge_index(node, g.input)]->forward_one(states[g.input], g.op));
        }
      } else {
        for (int j = 0; j < node; ++j) {
          const int e = darts::edge_index(node, j);
          torch::Tensor y = plan.mode == MixMode::kSoftmax
                                ? edges_[e]->forward_weighted(states[j], plan.weights[e], plan.aux_beta)
                                : edges_[e]->forward_hard(states[j], plan.weights[e], plan.index[e]);
          add(plan.edge_weights.defined() ? y * plan.edge_weights[e] : y);
        }
      }
      states.push_back(sum);
    }
    // [B, C, H, W] x 4 -> [B, 4C, H, W]
    return torch::cat({states[2], states[3], states[4], states[5]}, 1);
  }

 private:
  bool reduction_;
  CellOp pre0_, pre1_;
  std::vector<MixedOp> edges_;
};
TORCH_MODULE(SearchCell);

class DartsSupernet : public Supernet {
 public:
  DartsSupernet(const DartsSpace& space, const Task& task, const SupernetOptions& o) : space_(space) {
    const DartsOptions& so = space.options();
    has_aux_skip_ = o.auxiliary_skip;
    stem_ = register_module("stem", darts::make_stem(task.input_shape.at(0), so.search_channels()));
    int64_t c_last = 0;
    int i = 0;
    for (const auto& l : darts::layout(so.search_channels(), so.search_cells())) {
      cells_.push_back(register_module(fmt::format("cell{}", i++), SearchCell(l, o)));
      c_last = kSteps * l.c;
    }
    classifier_ = register_module("classifier", CountedLinear(c_last, task.num_classes));
    alpha_normal_ = register_parameter("alpha_normal", 1e-3 * torch::randn({kEdges, darts::kOps}));
    alpha_reduce_ = register_parameter("alpha_reduce", 1e-3 * torch::randn({kEdges, darts::kOps}));
    if (o.edge_normalization) {
      beta_normal_ = register_parameter("beta_normal", 1e-3 * torch::randn({kEdges}));
      beta_reduce_ = register_parameter("beta_reduce", 1e-3 * torch::randn({kEdges}));
    }
  }

  torch::Tensor forward(torch::Tensor x) override {
    CellPlan normal{mode_, {}, {}, {}, {}, aux_beta_}, reduce{mode_, {}, {}, {}, {}, aux_beta_};
    if (beta_normal_.defined() && mode_ != MixMode::kPath) {
      normal.edge_weights = normalize_edges(beta_normal_, kInputsPerNode);
      reduce.edge_weights = normalize_edges(beta_reduce_, kInputsPerNode);
    }
    if (mode_ == MixMode::kSoftmax) {
      normal.weights = torch::softmax(alpha_normal_, -1);
      reduce.weights = torch::softmax(alpha_reduce_, -1);
    } else if (mode_ == MixMode::kGumbelHard) {
      GumbelSample n = gumbel_hard_sample(alpha_normal_, tau_, noise_rng_);
      GumbelSample r = gumbel_hard_sample(alpha_reduce_, tau_, noise_rng_);
      normal.weights = n.hard;
      normal.index = n.index;
      reduce.weights = r.hard;
      reduce.index = r.index;
    } else {
      NASCENT_CHECK(!path_.normal.empty(), "darts supernet: set_path() before a forward pass in path mode");
      normal.path = path_.normal;
      reduce.path = path_.reduce;
    }
    torch::Tensor s0 = stem_(x), s1 = s0;
    for (auto& cell : cells_) {
      torch::Tensor s = cell->forward(s0, s1, cell->reduction() ? reduce : normal);
      s0 = s1;
      s1 = s;
    }
    return classifier_(s1.mean({2, 3}));
  }

  std::vector<torch::Tensor> alphas() override {
    if (beta_normal_.defined()) return {alpha_normal_, alpha_reduce_, beta_normal_, beta_reduce_};
    return {alpha_normal_, alpha_reduce_};
  }

  std::vector<torch::Tensor> weights() override {
    const std::vector<torch::Tensor> a = alphas();
    std::vector<torch::Tensor> out;
    for (const auto& p : parameters())
      if (std::none_of(a.begin(), a.end(), [&](const torch::Tensor& t) { return p.is_same(t); })) out.push_back(p);
    return out;
  }

  void set_path(const Arch& arch) override {
    NASCENT_CHECK(arch.space == space_.name(), "darts supernet: path is for space '" + arch.space + "'");
    path_ = space_.genotype(space_.canonical(arch));
  }

  // DARTS' rule (Liu et al. 2019, sec. 2.4): per node the two incoming edges with the strongest
  // non-`none` operation, each with that operation. With edge normalisation the op weights are
  // first multiplied by their edge's weight (PC-DARTS, Xu et al. 2020, sec. 3.3).
  Arch derive() const override {
    torch::NoGradGuard no_grad;
    darts::Genotype g;
    g.normal = derive_cell(edge_scaled(alpha_normal_, beta_normal_));
    g.reduce = derive_cell(edge_scaled(alpha_reduce_, beta_reduce_));
    return space_.arch(g);
  }

  std::vector<std::pair<std::string, std::vector<double>>> alpha_table() const override {
    torch::NoGradGuard no_grad;
    std::vector<std::pair<std::string, std::vector<double>>> out;
    for (const char* type : {"normal", "reduce"}) {
      torch::Tensor p = torch::softmax(std::string(type) == "normal" ? alpha_normal_ : alpha_reduce_, -1);
      for (int node = 2; node < 2 + kSteps; ++node)
        for (int j = 0; j < node; ++j) {
          std::vector<double> row;
          for (int k = 0; k < darts::kOps; ++k) row.push_back(p[darts::edge_index(node, j)][k].item<double>());
          out.emplace_back(fmt::format("{} {}<-{}", type, node, j), row);
        }
    }
    return out;
  }

 private:
  // softmax(alpha) [14, 8], times the normalised edge weights [14] when there are any.
  static torch::Tensor edge_scaled(const torch::Tensor& alpha, const torch::Tensor& beta) {
    torch::Tensor w = torch::softmax(alpha, -1);
    return beta.defined() ? w * normalize_edges(beta, kInputsPerNode).unsqueeze(1) : w;
  }

  static std::vector<darts::Gene> derive_cell(const torch::Tensor& w) {
    std::vector<darts::Gene> genes;
    for (int node = 2; node < 2 + kSteps; ++node) {
      // (strength, input, op) of each incoming edge, strongest non-`none` op only.
      std::vector<std::tuple<double, int, int>> edges;
      for (int j = 0; j < node; ++j) {
        int best = -1;
        for (int k = 0; k < darts::kOps; ++k) {
          if (k == darts::kNone) continue;
          if (best < 0 ||
              w[darts::edge_index(node, j)][k].item<double>() > w[darts::edge_index(node, j)][best].item<double>())
            best = k;
        }
        edges.emplace_back(w[darts::edge_index(node, j)][best].item<double>(), j, best);
      }
      // Strongest first; ties keep the earlier input (stable, as Python's sorted).
      std::stable_sort(edges.begin(), edges.end(),
                       [](const auto& a, const auto& b) { return std::get<0>(a) > std::get<0>(b); });
      for (int e = 0; e < 2; ++e) genes.push_back({std::get<2>(edges[e]), std::get<1>(edges[e])});
    }
    return genes;
  }

  DartsSpace space_;
  ConvBn stem_{nullptr};
  std::vector<SearchCell> cells_;
  CountedLinear classifier_{nullptr};
  torch::Tensor alpha_normal_, alpha_reduce_;
  torch::Tensor beta_normal_, beta_reduce_;  // PC-DARTS edge weights [14], or undefined
  darts::Genotype path_;
};

}  // namespace

std::shared_ptr<Supernet> DartsSpace::build_supernet(const Task& task, const SupernetOptions& o) const {
  if (!supports(task) || task.input_shape.size() != 3)
    throw InputError("", "space.name", "the darts supernet needs image input [C, H, W]");
  const int64_t C = options_.search_channels();
  if (o.partial_channels < 1 || C % o.partial_channels != 0)
    throw InputError(
        "", "partial_channels",
        fmt::format("{} must be at least 1 and divide the darts search network's C = {}", o.partial_channels, C));
  return std::make_shared<DartsSupernet>(*this, task, o);
}

}  // namespace nascent::space
