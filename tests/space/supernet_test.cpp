#include "nascent/space/supernet.h"

#include <gtest/gtest.h>

#include <map>
#include <regex>
#include <set>

#include "nascent/core/error.h"
#include "nascent/space/darts.h"
#include "nascent/space/nb201.h"
#include "nascent/space/network.h"
#include "nascent/space/ops.h"

namespace nascent::space {
namespace {

Nb201Space small_nb201() {
  Nb201Options o;
  o.C = 8;
  o.N = 1;
  return Nb201Space(o);
}

DartsSpace small_darts() {
  DartsOptions o;
  o.C = 8;
  o.layers = 3;
  return DartsSpace(o);
}

double macs_of(const std::function<torch::Tensor()>& forward) {
  OpCounter counter;
  torch::NoGradGuard no_grad;
  CountScope scope(&counter);
  forward();
  return counter.macs;
}

TEST(Supernet, AlphasAreApartFromWeights) {
  Task task;
  for (auto sp : {std::shared_ptr<SearchSpace>(new Nb201Space(small_nb201())),
                  std::shared_ptr<SearchSpace>(new DartsSpace(small_darts()))}) {
    auto net = sp->build_supernet(task, {});
    const auto alphas = net->alphas();
    const auto weights = net->weights();
    ASSERT_EQ(alphas.size(), sp->name() == "nb201" ? 1u : 2u);
    const std::vector<int64_t> shape = sp->name() == "nb201" ? std::vector<int64_t>{6, 5} : std::vector<int64_t>{14, 8};
    for (const auto& a : alphas) {
      EXPECT_EQ(a.sizes(), shape);
      for (const auto& w : weights) EXPECT_FALSE(w.is_same(a));
    }
    EXPECT_EQ(weights.size() + alphas.size(), net->parameters().size());
  }
}

TEST(Supernet, SoftmaxOutputDependsOnAlphasAndTheirGradient) {
  Task task;
  torch::manual_seed(0);
  for (auto sp : {std::shared_ptr<SearchSpace>(new Nb201Space(small_nb201())),
                  std::shared_ptr<SearchSpace>(new DartsSpace(small_darts()))}) {
    auto net = sp->build_supernet(task, {});
    net->set_mode(MixMode::kSoftmax);
    net->eval();  // fixed BN statistics: the output changes only through the alphas
    const torch::Tensor x = torch::randn({2, 1, 28, 28});
    torch::Tensor y = net->forward(x);
    EXPECT_EQ(y.sizes(), (std::vector<int64_t>{2, 10}));
    y.pow(2).sum().backward();
    for (const auto& a : net->alphas()) {
      ASSERT_TRUE(a.grad().defined());
      EXPECT_GT(a.grad().abs().sum().item<double>(), 0) << sp->name();
    }
    {
      torch::NoGradGuard no_grad;
      net->alphas()[0].add_(torch::randn_like(net->alphas()[0]));
    }
    EXPECT_FALSE(torch::allclose(net->forward(x), y.detach())) << sp->name();
  }
}

TEST(Supernet, GumbelModeRunsOneOperationPerEdge) {
  Task task;
  torch::manual_seed(1);
  const torch::Tensor x = torch::randn({2, 1, 28, 28});
  Nb201Space nb = small_nb201();
  DartsSpace da = small_darts();
  // nb201: alphas peaked on a cell whose canonical form keeps every edge.
  const Arch nb_arch = nb.from_text(
      "|nor_conv_3x3~0|+|nor_conv_1x1~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|", "t");
  ASSERT_EQ(nb.canonical(nb_arch), nb_arch);
  // darts: sep_conv_3x3 peaked on the edges from the two cell inputs, max_pool (no MACs) on the
  // rest; the path of sep_conv_3x3 on inputs 0 and 1 of every node then costs what one sampled
  // operation per edge costs.
  darts::Genotype g;
  for (int k = 0; k < 4; ++k)
    for (int in = 0; in < 2; ++in) {
      g.normal.push_back({4, in});
      g.reduce.push_back({4, in});
    }
  const Arch da_arch = da.arch(g);
  for (auto [sp, arch] : {std::pair<const SearchSpace*, Arch>{&nb, nb_arch}, {&da, da_arch}}) {
    auto net = sp->build_supernet(task, {});
    net->set_mode(MixMode::kGumbelHard);
    // Straight-through: every alpha gets a gradient although one op per edge ran.
    net->forward(x).pow(2).sum().backward();
    for (const auto& a : net->alphas()) {
      ASSERT_TRUE(a.grad().defined());
      EXPECT_EQ((a.grad() != 0).sum().item<int64_t>(), a.numel()) << sp->name();
    }
    {
      torch::NoGradGuard no_grad;
      if (sp->name() == "nb201") {
        torch::Tensor a = net->alphas()[0];
        a.zero_();
        for (int e = 0; e < 6; ++e) a[e][arch.choices[e]] = 100;
      } else {
        for (auto& a : net->alphas()) {
          a.zero_();
          a.select(1, 1).fill_(100);  // max_pool_3x3 everywhere ...
          for (int node = 2; node < 6; ++node)
            for (int in = 0; in < 2; ++in) {
              a[darts::edge_index(node, in)][1] = 0;  // ... except sep_conv_3x3 on inputs 0, 1
              a[darts::edge_index(node, in)][4] = 100;
            }
        }
      }
    }
    net->eval();
    net->set_tau(1.0);
    const double gumbel = macs_of([&] { return net->forward(x); });
    net->set_mode(MixMode::kPath);
    net->set_path(arch);
    const double path = macs_of([&] { return net->forward(x); });
    net->set_mode(MixMode::kSoftmax);
    const double softmax = macs_of([&] { return net->forward(x); });
    EXPECT_DOUBLE_EQ(gumbel, path) << sp->name();
    EXPECT_LT(gumbel, softmax / 2) << sp->name();
  }
}

// Parameter names of the supernet's path, mapped to the standalone network's names.
std::string standalone_name(const std::string& supernet_name) {
  return std::regex_replace(supernet_name, std::regex(R"(\.op\d+\.)"), ".");
}

// Runs `path` through the supernet, copies the weights it used into the standalone network and
// checks that (1) every used weight has a standalone counterpart of the same shape, (2) the only
// standalone weights left over are the affine BN parameters the search network leaves out, and
// (3) if `same_output`, both networks compute the same function.
void check_path_matches_standalone(const SearchSpace& space, const Arch& arch, bool same_output) {
  Task task;
  torch::manual_seed(3);
  auto super = space.build_supernet(task, {});
  super->set_mode(MixMode::kPath);
  super->set_path(arch);
  const torch::Tensor x = torch::randn({4, 1, 28, 28});
  super->forward(x).sum().backward();
  auto net = space.build(arch, task, 1.0);
  auto standalone = net->named_parameters();
  std::set<std::string> matched;
  torch::NoGradGuard no_grad;
  for (const auto& item : super->named_parameters()) {
    const std::string& name = item.key();
    const torch::Tensor& p = item.value();
    if (!p.grad().defined() || name.rfind("alpha", 0) == 0) continue;
    const std::string target = standalone_name(name);
    ASSERT_TRUE(standalone.contains(target)) << name << " -> " << target;
    ASSERT_EQ(standalone[target].sizes(), p.sizes()) << name;
    standalone[target].copy_(p);
    matched.insert(target);
  }
  size_t extra = 0;
  for (const auto& item : standalone) {
    const std::string& name = item.key();
    const torch::Tensor& p = item.value();
    if (matched.count(name)) continue;
    EXPECT_EQ(p.dim(), 1) << name << " is used by the standalone network only";
    ++extra;
  }
  EXPECT_GT(matched.size(), 10u);
  EXPECT_GT(extra, 0u);  // cell-op BN scale and shift
  if (same_output) {
    super->train();
    net->train();
    EXPECT_TRUE(torch::allclose(super->forward(x), net->forward(x), 1e-4, 1e-5));
  }
}

TEST(Supernet, PathModeRunsTheStandaloneArchitecture) {
  Nb201Space nb = small_nb201();
  check_path_matches_standalone(
      nb, nb.from_text("|nor_conv_3x3~0|+|nor_conv_1x1~0|avg_pool_3x3~1|+|skip_connect~0|none~1|nor_conv_3x3~2|", "t"),
      true);
  DartsSpace da = small_darts();
  // Without pooling (search cells add an affine-free BN after pooling) the outputs agree exactly.
  check_path_matches_standalone(
      da,
      da.from_text(
          "Genotype(normal=[('sep_conv_3x3', 0), ('skip_connect', 1), ('dil_conv_3x3', 2), ('sep_conv_5x5', 0),"
          " ('skip_connect', 3), ('dil_conv_5x5', 1), ('none', 0), ('sep_conv_3x3', 4)], normal_concat=[2, 3, 4, 5],"
          " reduce=[('skip_connect', 0), ('sep_conv_5x5', 1), ('dil_conv_3x3', 2), ('skip_connect', 1),"
          " ('sep_conv_3x3', 3), ('skip_connect', 2), ('dil_conv_5x5', 4), ('skip_connect', 0)],"
          " reduce_concat=[2, 3, 4, 5])",
          "t"),
      true);
  check_path_matches_standalone(
      da,
      da.from_text(
          "Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 1),"
          " ('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), ('dil_conv_3x3', 2)],"
          " normal_concat=[2, 3, 4, 5], reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2),"
          " ('max_pool_3x3', 1), ('max_pool_3x3', 0), ('skip_connect', 2), ('skip_connect', 2),"
          " ('max_pool_3x3', 1)], reduce_concat=[2, 3, 4, 5])",
          "t"),
      false);
}

TEST(Supernet, DeriveTakesTheArgmax) {
  Task task;
  torch::manual_seed(6);
  Nb201Space nb = small_nb201();
  auto net = nb.build_supernet(task, {});
  const Arch want =
      nb.from_text("|avg_pool_3x3~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_1x1~1|none~2|", "t");
  {
    torch::NoGradGuard no_grad;
    torch::Tensor a = net->alphas()[0];
    a.normal_();
    for (int e = 0; e < 6; ++e) a[e][want.choices[e]] = 5.0;  // `none` wins where set: nb201 keeps it
  }
  EXPECT_EQ(net->derive(), want);
  const auto table = net->alpha_table();
  ASSERT_EQ(table.size(), 6u);
  EXPECT_EQ(table[2].first, "2<-1");
  EXPECT_GT(table[2].second[3], 0.9);  // softmax of nor_conv_3x3 on edge 2<-1

  DartsSpace da = small_darts();
  auto dnet = da.build_supernet(task, {});
  {
    torch::NoGradGuard no_grad;
    for (auto& a : dnet->alphas()) a.zero_();
    torch::Tensor n = dnet->alphas()[0];
    // Node 2: edges 0<-... : input 1 (edge 1) strongest with sep_conv_5x5; input 0 with max_pool.
    n[darts::edge_index(2, 1)][5] = 3;
    n[darts::edge_index(2, 0)][1] = 2;
    // Node 3: `none` is the strongest op of edge 2->3 but never chosen: dil_conv_3x3 there
    // (softmax 0.32) beats skip on input 0 (0.28); input 1 is uniform (0.125).
    n[darts::edge_index(3, 2)][0] = 3;
    n[darts::edge_index(3, 2)][6] = 2.5;
    n[darts::edge_index(3, 0)][3] = 1;
    // Node 4 and 5: input 3 with avg pool, input 4 with sep3; node 5: inputs 4 and 1.
    n[darts::edge_index(4, 3)][2] = 2;
    n[darts::edge_index(4, 1)][4] = 1;
    n[darts::edge_index(5, 4)][7] = 2;
    n[darts::edge_index(5, 1)][4] = 1;
  }
  const darts::Genotype g = da.genotype(dnet->derive());
  const std::vector<darts::Gene> normal{{5, 1}, {1, 0}, {6, 2}, {3, 0}, {2, 3}, {4, 1}, {7, 4}, {4, 1}};
  EXPECT_EQ(g.normal, normal);
  // The reduction alphas are all equal: the strongest non-`none` op is the first (max_pool) on
  // inputs 0 and 1 of every node, as Python's stable sort gives.
  for (int k = 0; k < 4; ++k) {
    EXPECT_EQ(g.reduce[2 * k], (darts::Gene{1, 0}));
    EXPECT_EQ(g.reduce[2 * k + 1], (darts::Gene{1, 1}));
  }
  EXPECT_EQ(dnet->alpha_table().size(), 28u);
  EXPECT_EQ(dnet->alpha_table()[13].first, "normal 5<-4");
}

TEST(Supernet, PartialChannelsShrinkTheMixedOps) {
  Task task;
  task.input_shape = {3, 32, 32};
  for (auto sp : {std::shared_ptr<SearchSpace>(new Nb201Space(small_nb201())),
                  std::shared_ptr<SearchSpace>(new DartsSpace(small_darts()))}) {
    torch::manual_seed(5);
    auto full = sp->build_supernet(task, {});
    SupernetOptions pc;
    pc.partial_channels = 4;
    auto part = sp->build_supernet(task, pc);
    const torch::Tensor x = torch::randn({2, 3, 32, 32});
    for (MixMode mode : {MixMode::kSoftmax, MixMode::kGumbelHard}) {
      part->set_mode(mode);
      torch::Tensor y = part->forward(x);
      EXPECT_EQ(y.sizes(), (std::vector<int64_t>{2, 10}));
      y.sum().backward();
    }
    part->set_mode(MixMode::kSoftmax);
    EXPECT_LT(macs_of([&] { return part->forward(x); }), macs_of([&] { return full->forward(x); }) / 2);
    EXPECT_LT(count_parameters(*part), count_parameters(*full));
    SupernetOptions bad;
    bad.partial_channels = 3;
    EXPECT_THROW(sp->build_supernet(task, bad), InputError);
  }
}

TEST(Supernet, PathModeNeedsAPathAndOtherSpacesHaveNoSupernet) {
  DartsSpace da = small_darts();
  auto net = da.build_supernet(Task{}, {});
  net->set_mode(MixMode::kPath);
  EXPECT_THROW(net->forward(torch::randn({1, 1, 28, 28})), InternalError);
  Task text;
  text.kind = "text";
  EXPECT_THROW(da.build_supernet(text, {}), InputError);
}

}  // namespace
}  // namespace nascent::space
