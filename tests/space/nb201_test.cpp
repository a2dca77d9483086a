#include "nascent/space/nb201.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "nascent/core/config.h"
#include "nascent/core/error.h"
#include "nascent/estimate/profile.h"
#include "nascent/space/network.h"
#include "nascent/space/registry.h"
#include "support/support.h"

namespace nascent::space {
namespace {

const char* const kExample =
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|";

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(Nb201Space, EnumerationGives15625CellsAnd6466Distinct) {
  Nb201Space s;
  EXPECT_DOUBLE_EQ(s.size(), 15625.0);
  EXPECT_DOUBLE_EQ(s.distinct_size(), 6466.0);
  EXPECT_EQ(s.size_text(), "15,625 cells, 6,466 distinct");
  std::set<std::string> hashes;
  for (int code = 0; code < nb201::kCells; ++code) {
    const Arch a = s.arch(nb201::cell_of(code));
    hashes.insert(s.hash(a));
    // The representative is canonical itself and computes the same expression.
    const Arch c = s.canonical(a);
    ASSERT_EQ(s.canonical(c), c);
    ASSERT_EQ(nb201::expression(s.cell(c)), nb201::expression(s.cell(a)));
  }
  EXPECT_EQ(hashes.size(), 6466u);
}

TEST(Nb201Space, IsomorphicAndDeadEdgeVariantsHashEqual) {
  Nb201Space s;
  auto a = [&](const std::string& text) { return s.from_text(text, "t"); };
  // Sums commute and skips are transparent: x + conv1(x), wired three ways.
  const Arch x = a("|skip_connect~0|+|none~0|none~1|+|skip_connect~0|nor_conv_1x1~1|none~2|");
  const Arch y = a("|skip_connect~0|+|none~0|none~1|+|nor_conv_1x1~0|skip_connect~1|none~2|");
  const Arch z = a("|nor_conv_1x1~0|+|none~0|none~1|+|skip_connect~0|skip_connect~1|none~2|");
  EXPECT_NE(x, y);
  EXPECT_EQ(s.hash(x), s.hash(y));
  EXPECT_EQ(s.hash(x), s.hash(z));
  EXPECT_EQ(s.canonical(y), s.canonical(z));
  // As in the authors' count, a `none` edge's zero term stays in its node's sum, so swapping the
  // roles of nodes 1 and 2 (node 2 then has the zero from edge 2<-1) is a different cell ...
  EXPECT_NE(s.hash(a("|nor_conv_3x3~0|+|nor_conv_1x1~0|none~1|+|none~0|skip_connect~1|skip_connect~2|")),
            s.hash(a("|nor_conv_1x1~0|+|nor_conv_3x3~0|none~1|+|none~0|skip_connect~1|skip_connect~2|")));
  // ... and a node whose inputs are all `none` is not itself zero: an op on it is kept.
  EXPECT_NE(s.hash(a("|skip_connect~0|+|none~0|none~1|+|skip_connect~0|nor_conv_1x1~1|nor_conv_1x1~2|")),
            s.hash(a("|skip_connect~0|+|none~0|none~1|+|skip_connect~0|nor_conv_1x1~1|none~2|")));
  // A skip is transparent: an op on node 1 = skip(x) is the same op on x.
  EXPECT_EQ(s.hash(a("|skip_connect~0|+|none~0|none~1|+|none~0|nor_conv_3x3~1|none~2|")),
            s.hash(a("|none~0|+|none~0|none~1|+|nor_conv_3x3~0|none~1|none~2|")));
  // Node 1 does not reach the output: its operation is irrelevant and canonically `none`.
  const Arch dead = a("|nor_conv_3x3~0|+|avg_pool_3x3~0|none~1|+|none~0|none~1|nor_conv_1x1~2|");
  EXPECT_EQ(s.to_text(s.canonical(dead)), "|none~0|+|avg_pool_3x3~0|none~1|+|none~0|none~1|nor_conv_1x1~2|");
  // An op on a zero node is zero: node 1 = none(x), so conv(node 1) adds nothing.
  EXPECT_EQ(s.hash(a("|none~0|+|skip_connect~0|nor_conv_3x3~1|+|none~0|none~1|nor_conv_1x1~2|")),
            s.hash(a("|none~0|+|skip_connect~0|none~1|+|none~0|none~1|nor_conv_1x1~2|")));
  // But different computations differ.
  EXPECT_NE(s.hash(a(kExample)), s.hash(a("|nor_conv_1x1~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|"
                                          "nor_conv_3x3~1|skip_connect~2|")));
}

TEST(Nb201Space, StringFormRoundTripsAndPinsTheHash) {
  Nb201Space s;
  const Arch a = s.from_text(kExample, "t");
  EXPECT_EQ(s.to_text(a), kExample);
  EXPECT_EQ(s.describe(a), kExample);
  EXPECT_EQ(s.from_text(s.to_text(a), "again"), a);
  // The string form selects edge ops in NAS-Bench-201's order 1<-0, 2<-0, 2<-1, 3<-0, 3<-1, 3<-2.
  const auto& d = s.decisions();
  EXPECT_EQ(d[2].name, "2<-1");
  EXPECT_EQ(d[2].options[a.choices[2]], "avg_pool_3x3");
  EXPECT_EQ(d[5].options[a.choices[5]], "skip_connect");
  // Edges given out of order parse to the same cell.
  EXPECT_EQ(s.from_text(
                "|nor_conv_3x3~0|+|avg_pool_3x3~1|nor_conv_3x3~0|+|skip_connect~2|nor_conv_3x3~1|skip_connect~0|", "t"),
            a);
  // Pinned: hashes are stored in databases and must not change between versions.
  EXPECT_EQ(s.hash(a), "2bdb5e4e795fc487");
  // Arch files: the string alone, choices alone, or both when they agree.
  EXPECT_EQ(s.from_json({{"space", "nb201"}, {"string", kExample}}, "f.json"), a);
  EXPECT_EQ(s.from_json(s.to_json(a), "f.json"), a);
  nlohmann::json both = s.to_json(a);
  both["string"] = kExample;
  EXPECT_EQ(s.from_json(both, "f.json"), a);
}

TEST(Nb201Space, MalformedStringsAndBadJsonAreNamed) {
  Nb201Space s;
  auto parse = [&](const std::string& text) {
    return error_of([&] { s.from_json({{"space", "nb201"}, {"string", text}}, "a.json"); });
  };
  EXPECT_EQ(parse("|nor_conv_3x3~0|+|none~0|none~1|"),
            "a.json: string: '|nor_conv_3x3~0|+|none~0|none~1|' has 2 node groups separated by '+', not 3 "
            "(expected e.g. |nor_conv_3x3~0|+|none~0|skip_connect~1|+|...~0|...~1|...~2|)");
  EXPECT_NE(parse("|conv~0|+|none~0|none~1|+|none~0|none~1|none~2|")
                .find("string: node 1: unknown operation 'conv'; operations are: none, skip_connect"),
            std::string::npos);
  EXPECT_NE(parse("|none~1|+|none~0|none~1|+|none~0|none~1|none~2|")
                .find("node 1: input '1' must be an earlier node (0 to 0)"),
            std::string::npos);
  EXPECT_NE(parse("|none~0|+|none~0|none~0|+|none~0|none~1|none~2|").find("node 2: two edges from node 0"),
            std::string::npos);
  EXPECT_NE(parse("|none~0|+|none~0|+|none~0|none~1|none~2|").find("node 2 needs one edge from each of nodes 0 to 1"),
            std::string::npos);
  EXPECT_NE(parse("|none-0|+|none~0|none~1|+|none~0|none~1|none~2|").find("node 1: 'none-0' is not operation~input"),
            std::string::npos);
  EXPECT_NE(parse("none~0|+|none~0|none~1|+|none~0|none~1|none~2|").find("must start and end with '|'"),
            std::string::npos);
  // Choices: unknown decision, unknown option, missing decision; string and choices disagreeing.
  nlohmann::json c = s.to_json(s.from_text(kExample, "t"));
  c["choices"]["4<-0"] = "none";
  EXPECT_EQ(error_of([&] { s.from_json(c, "a.json"); }).substr(0, 66),
            "a.json: choices.4<-0: unknown decision for space 'nb201'; decision");
  c = s.to_json(s.from_text(kExample, "t"));
  c["choices"]["3<-1"] = "conv_5x5";
  EXPECT_EQ(error_of([&] { s.from_json(c, "a.json"); }),
            "a.json: choices.3<-1: unknown option 'conv_5x5'; options are: none, skip_connect, nor_conv_1x1, "
            "nor_conv_3x3, avg_pool_3x3");
  c = s.to_json(s.from_text(kExample, "t"));
  c["choices"].erase("2<-0");
  EXPECT_EQ(error_of([&] { s.from_json(c, "a.json"); }).substr(0, 52),
            "a.json: choices.2<-0: missing decision; options are:");
  c = s.to_json(s.from_text(kExample, "t"));
  c["string"] = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|";
  EXPECT_NE(error_of([&] { s.from_json(c, "a.json"); }).find("a.json: string: describes a different architecture"),
            std::string::npos);
  EXPECT_EQ(error_of([&] {
              s.from_json({{"space", "nb201"}}, "a.json");
            }),
            "a.json: choices: missing; expected \"choices\": {...} or \"string\": \"...\"");
  EXPECT_EQ(error_of([&] {
              s.from_json({{"space", "nb201"}, {"genotype", "x"}}, "a.json");
            }),
            "a.json: genotype: unknown field; expected space, choices, string, space_options, task");
}

TEST(Nb201Space, SampleMutateNeighborsEncodeStayCanonical) {
  Nb201Space s;
  Rng rng(5);
  for (int i = 0; i < 40; ++i) {
    const Arch a = s.sample(rng);
    EXPECT_EQ(s.canonical(a), a);
    const Arch m = s.mutate(a, rng);
    EXPECT_EQ(s.canonical(m), m);
    EXPECT_NE(s.hash(m), s.hash(a));
    const auto n = s.neighbors(a);
    std::set<std::string> seen{s.hash(a)};
    for (const auto& b : n) {
      EXPECT_EQ(s.canonical(b), b);
      EXPECT_TRUE(seen.insert(s.hash(b)).second) << "neighbours must be distinct";
    }
    EXPECT_GE(n.size(), 1u);
    EXPECT_LE(n.size(), 24u);  // 6 edges x 4 other operations, fewer after folding
    const auto e = s.encode(a);
    EXPECT_EQ(e.size(), 30u);
    EXPECT_EQ(std::count(e.begin(), e.end(), 1.f), 6);
  }
  // The all-conv cell has no symmetry to fold: its 24 neighbours are all distinct.
  EXPECT_EQ(s.neighbors(s.from_text("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|"
                                    "nor_conv_3x3~1|nor_conv_3x3~2|",
                                    "t"))
                .size(),
            24u);
}

TEST(Nb201Space, ParamsAndFlopsMatchAHandCount) {
  Nb201Options o;
  o.C = 4;
  o.N = 1;
  Nb201Space s(o);
  const Arch a =
      s.from_text("|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+|avg_pool_3x3~0|none~1|nor_conv_3x3~2|", "t");
  ASSERT_EQ(s.canonical(a), a);
  Task task;  // 1x28x28, 10 classes
  auto net = s.build(a, task, 1.0);
  const auto prof = estimate::profile_network(*net, task);
  // Layers: cell (C=4, 28x28), residual block 4->8 (14x14), cell (8), block 8->16 (7x7), cell (16).
  // Cell with C channels: conv3x3 C*C*9 + conv1x1 C*C + conv3x3 C*C*9 weights, 3 BNs of 2C.
  auto cell = [](int64_t c) { return 19 * c * c + 6 * c; };
  // Block in->out: conv_a in*out*9 + BN, conv_b out*out*9 + BN, 1x1 shortcut in*out.
  auto block = [](int64_t i, int64_t o) { return i * o * 9 + 2 * o + o * o * 9 + 2 * o + i * o; };
  const int64_t params = (9 * 4 + 8) + cell(4) + block(4, 8) + cell(8) + block(8, 16) + cell(16) + 32 + 170;
  EXPECT_EQ(params, 11374);
  EXPECT_EQ(prof.params, params);
  EXPECT_EQ(prof.params, count_parameters(*net));
  // MACs: stem 28*28*4 outputs x 9; each cell H*W*C*C*19 (pooling counts no MACs); blocks
  // Ho*Wo*out*(9 in + 9 out + in); classifier 16*10.
  const double flops =
      28 * 28 * 4 * 9 + 3 * (28 * 28 * 16 * 19.0) + 14 * 14 * 8 * (36 + 72 + 4) + 7 * 7 * 16 * (72 + 144 + 8) + 160;
  EXPECT_DOUBLE_EQ(flops, 1094624);
  EXPECT_DOUBLE_EQ(prof.flops, flops);
}

TEST(Nb201Space, TheBenchmarksNetworkSpansItsPublishedCostRange) {
  Nb201Space s;  // C=16, N=5
  Task cifar;
  cifar.input_shape = {3, 32, 32};
  auto cost = [&](const std::string& op) {
    const std::string cell = "|" + op + "~0|+|" + op + "~0|" + op + "~1|+|" + op + "~0|" + op + "~1|" + op + "~2|";
    return estimate::profile_network(*s.build(s.from_text(cell, "t"), cifar, 1.0), cifar);
  };
  // NAS-Bench-201 on CIFAR-10: 0.073 M params / 7.78 MFLOPs to 1.53 M params / 220.12 MFLOPs.
  const auto smallest = cost("none"), largest = cost("nor_conv_3x3");
  EXPECT_EQ(smallest.params, 73306);
  EXPECT_DOUBLE_EQ(smallest.flops, 7783040);
  EXPECT_EQ(largest.params, 1531546);
  EXPECT_DOUBLE_EQ(largest.flops, 220119680);
}

TEST(Nb201Space, ForwardAndBackwardOnFashionAndCifarShapes) {
  Nb201Options o;
  o.C = 8;
  o.N = 1;
  Nb201Space s(o);
  Rng rng(7);
  for (const auto& shape : std::vector<std::vector<int64_t>>{{1, 28, 28}, {3, 32, 32}}) {
    Task task;
    task.input_shape = shape;
    for (int i = 0; i < 3; ++i) {
      auto net = s.build(s.sample(rng), task, 1.0);
      auto y = net->forward(torch::randn({2, shape[0], shape[1], shape[2]}));
      EXPECT_EQ(y.sizes(), (std::vector<int64_t>{2, 10}));
      y.sum().backward();
      for (const auto& item : net->named_parameters()) {
        const std::string& name = item.key();
        const torch::Tensor& p = item.value();
        ASSERT_TRUE(p.grad().defined()) << name;  // every weight is in the graph, even behind `none`
      }
    }
  }
  // width_mult scales C.
  Task task;
  const Arch a = s.from_text(kExample, "t");
  EXPECT_LT(count_parameters(*s.build(a, task, 0.5)), count_parameters(*s.build(a, task, 1.0)) / 3);
}

TEST(Nb201Space, OptionsAreReadAndValidated) {
  ConfigSection ok(nlohmann::json{{"C", 8}, {"N", 2}}, "space.nb201", "c.yaml");
  auto sp = make_space("nb201", ok);
  EXPECT_EQ(dynamic_cast<Nb201Space&>(*sp).options().N, 2);
  ConfigSection bad(nlohmann::json{{"cells", 3}}, "space.nb201", "c.yaml");
  EXPECT_EQ(error_of([&] { make_space("nb201", bad); }).substr(0, 34), "c.yaml: space.nb201.cells: unknown");
}

TEST(Nb201Cli, SpacesPrintsCountsAndStringsAndBadArchExits2) {
  auto r = test::run_nascent({"spaces"});
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("15,625 cells, 6,466 distinct"), std::string::npos) << r.out;
  r = test::run_nascent({"spaces", "--space", "nb201", "--sample", "2", "--seed", "3"});
  ASSERT_EQ(r.exit_code, 0) << r.out;
  std::istringstream lines(r.out);
  std::string line;
  Nb201Space s;
  int n = 0;
  while (std::getline(lines, line)) {
    auto j = nlohmann::json::parse(line);
    const Arch a = s.from_json({{"space", "nb201"}, {"string", j["string"]}}, "line");
    EXPECT_EQ(s.hash(a), j["hash"]);
    ++n;
  }
  EXPECT_EQ(n, 2);
  test::TempDir dir;
  test::write_file(dir.file("bad.json"), R"({"space": "nb201", "string": "|nor_conv_3x3~0|+|none~0|"})");
  r = test::run_nascent({"train", "--arch", dir.file("bad.json")});
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find("bad.json: string: '|nor_conv_3x3~0|+|none~0|' has 2 node groups"), std::string::npos) << r.out;
  test::write_file(dir.file("opt.json"), std::string(R"({"space": "nb201", "string": ")") + kExample +
                                             R"(", "space_options": {"C": 8, "M": 1}})");
  r = test::run_nascent({"train", "--arch", dir.file("opt.json")});
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find("space_options.M: unknown"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace nascent::space
