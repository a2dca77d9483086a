#include "nascent/space/darts.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>

#include "nascent/core/config.h"
#include "nascent/core/error.h"
#include "nascent/data/dataset.h"
#include "nascent/estimate/profile.h"
#include "nascent/estimate/trainer.h"
#include "nascent/space/network.h"
#include "nascent/space/registry.h"
#include "support/support.h"

namespace nascent::space {
namespace {

// The published DARTS (second order) cell, from the reference code's genotypes.py.
const char* const kDartsV2 =
    "Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 1), "
    "('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), ('dil_conv_3x3', 2)], "
    "normal_concat=[2, 3, 4, 5], reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2), "
    "('max_pool_3x3', 1), ('max_pool_3x3', 0), ('skip_connect', 2), ('skip_connect', 2), ('max_pool_3x3', 1)], "
    "reduce_concat=[2, 3, 4, 5])";

// Small enough to count by hand; every kind of operation once.
const char* const kSmall =
    "Genotype(normal=[('sep_conv_3x3', 0), ('skip_connect', 1), ('dil_conv_3x3', 2), ('max_pool_3x3', 0), "
    "('avg_pool_3x3', 3), ('skip_connect', 2), ('none', 0), ('skip_connect', 4)], normal_concat=[2, 3, 4, 5], "
    "reduce=[('skip_connect', 0), ('max_pool_3x3', 1), ('sep_conv_5x5', 1), ('skip_connect', 2), "
    "('dil_conv_5x5', 0), ('avg_pool_3x3', 3), ('skip_connect', 2), ('none', 0)], reduce_concat=[2, 3, 4, 5])";

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no error)";
}

DartsSpace small_space(bool auxiliary = false, double drop_path = 0) {
  DartsOptions o;
  o.C = 4;
  o.layers = 3;
  o.auxiliary = auxiliary;
  o.drop_path = drop_path;
  return DartsSpace(o);
}

TEST(DartsSpace, DecisionsAndSize) {
  DartsSpace s;
  EXPECT_EQ(s.num_decisions(), 32u);  // 2 cell types x 4 nodes x (op, input) x 2
  EXPECT_EQ(s.decisions()[0].name, "normal_2_op_a");
  EXPECT_EQ(s.decisions()[1].name, "normal_2_in_a");
  EXPECT_EQ(s.decisions()[31].name, "reduce_5_in_b");
  EXPECT_EQ(s.decisions()[31].options.size(), 5u);
  // Per edge: `none`, or 7 operations x (node) inputs; per cell (15 * 22 * 29 * 36)^2.
  const double per_cell = 15.0 * 15 * 22 * 22 * 29 * 29 * 36 * 36;
  EXPECT_DOUBLE_EQ(s.size(), per_cell * per_cell);
  const double distinct = (15.0 * 16 / 2) * (22 * 23 / 2) * (29 * 30 / 2) * (36 * 37 / 2);
  EXPECT_DOUBLE_EQ(s.distinct_size(), distinct * distinct);
}

TEST(DartsSpace, GenotypeRoundTripsAndAcceptsTheReferenceVariants) {
  DartsSpace s;
  const Arch a = s.from_text(kDartsV2, "t");
  EXPECT_EQ(s.to_text(a), kDartsV2);
  EXPECT_EQ(s.from_text(s.to_text(a), "again"), a);
  EXPECT_EQ(s.describe(a),
            "normal sep3~0+sep3~1 sep3~0+sep3~1 sep3~1+skip~0 skip~0+dil3~2 "
            "reduce max~0+max~1 skip~2+max~1 max~0+skip~2 skip~2+max~1");
  // Python spellings: double quotes, range(2, 6), other spacing and field order.
  const std::string variant =
      "Genotype( reduce = [(\"max_pool_3x3\",0),(\"max_pool_3x3\",1),(\"skip_connect\",2),(\"max_pool_3x3\",1),"
      "(\"max_pool_3x3\",0),(\"skip_connect\",2),(\"skip_connect\",2),(\"max_pool_3x3\",1)], reduce_concat=range(2, 6),"
      "\n normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 1), "
      "('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), ('dil_conv_3x3', 2),], normal_concat=range(2, 6) "
      ")";
  EXPECT_EQ(s.from_text(variant, "t"), a);
  // Arch files: the genotype alone, choices alone, or both when they agree.
  EXPECT_EQ(s.from_json({{"space", "darts"}, {"genotype", kDartsV2}}, "f.json"), a);
  EXPECT_EQ(s.from_json(s.to_json(a), "f.json"), a);
  nlohmann::json both = s.to_json(a);
  both["genotype"] = kDartsV2;
  EXPECT_EQ(s.from_json(both, "f.json"), a);
  // Pinned: hashes are stored in databases and must not change between versions.
  EXPECT_EQ(s.hash(a), "9f0a9a8ae5d520a6");
}

TEST(DartsSpace, SwappedPairsHashEqualAndNoneHasNoInput) {
  DartsSpace s;
  const Arch a = s.from_text(kDartsV2, "t");
  darts::Genotype g = s.genotype(a);
  std::swap(g.normal[0], g.normal[1]);  // node 2: (sep3, 1) then (sep3, 0)
  const Arch b = s.arch(g);
  EXPECT_NE(a, b);
  EXPECT_EQ(s.hash(a), s.hash(b));
  EXPECT_EQ(s.canonical(a), s.canonical(b));
  g.normal[1].op = 5;  // a different operation on one edge is a different architecture
  EXPECT_NE(s.hash(a), s.hash(s.arch(g)));
  // `none` makes the input inactive: it is not in the JSON and not in the hash.
  g = s.genotype(a);
  g.normal[7] = {darts::kNone, 0};
  const Arch n = s.arch(g);
  const size_t in = DartsSpace::op_decision(0, 3, 1) + 1;
  EXPECT_FALSE(s.active(n, in));
  EXPECT_FALSE(s.to_json(n)["choices"].contains("normal_5_in_b"));
  Arch n2 = n;
  n2.choices[in] = 3;
  EXPECT_EQ(s.hash(n), s.hash(n2));
  EXPECT_NE(s.to_text(n).find("('none', 0)"), std::string::npos);
}

TEST(DartsSpace, MalformedGenotypesAndBadJsonAreNamed) {
  DartsSpace s;
  auto parse = [&](const std::string& text) {
    return error_of([&] { s.from_json({{"space", "darts"}, {"genotype", text}}, "a.json"); });
  };
  std::string t = kDartsV2;
  EXPECT_EQ(parse("Genome(normal=[])"),
            "a.json: genotype: at character 6: expected Genotype(normal=[...], normal_concat=[...], reduce=[...], "
            "reduce_concat=[...])");
  t = kDartsV2;
  t.replace(t.find("sep_conv_3x3"), 12, "sep_conv_7x7");
  EXPECT_NE(parse(t).find("a.json: genotype: normal[0]: unknown operation 'sep_conv_7x7'; the DARTS space has: none,"),
            std::string::npos);
  t = kDartsV2;
  t.replace(t.find("('dil_conv_3x3', 2)"), 19, "('dil_conv_3x3', 5)");
  EXPECT_EQ(parse(t), "a.json: genotype: normal[7]: input 5 of node 5 must be an earlier node (0 to 4)");
  t = kDartsV2;
  t.replace(t.find(", ('dil_conv_3x3', 2)"), 21, "");
  EXPECT_EQ(parse(t),
            "a.json: genotype: normal: expected 8 (operation, input) pairs, two per intermediate node, got 7");
  t = kDartsV2;
  t.replace(t.find("normal_concat=[2, 3, 4, 5]"), 26, "normal_concat=[4, 5]");
  EXPECT_EQ(parse(t),
            "a.json: genotype: normal_concat: this space outputs the concatenation of all four intermediate nodes, "
            "[2, 3, 4, 5]; got [4, 5]");
  t = kDartsV2;
  const std::string concat = ", reduce_concat=[2, 3, 4, 5]";
  t.replace(t.find(concat), concat.size(), "");
  EXPECT_EQ(parse(t), "a.json: genotype: reduce_concat: missing field");
  EXPECT_NE(parse(std::string(kDartsV2) + " extra").find("unexpected text after the closing ')'"), std::string::npos);
  EXPECT_EQ(parse("Genotype(normal=[('sep_conv_3x3' 0)])"),
            "a.json: genotype: at character 33: expected ',', found '0)])'");
  // Choices.
  nlohmann::json c = s.to_json(s.from_text(kDartsV2, "t"));
  c["choices"]["normal_6_op_a"] = "none";
  EXPECT_EQ(error_of([&] { s.from_json(c, "a.json"); }).substr(0, 76),
            "a.json: choices.normal_6_op_a: unknown decision for space 'darts'; decisions");
  c = s.to_json(s.from_text(kDartsV2, "t"));
  c["choices"]["reduce_3_in_b"] = "3";
  EXPECT_EQ(error_of([&] { s.from_json(c, "a.json"); }),
            "a.json: choices.reduce_3_in_b: unknown option '3'; options are: 0, 1, 2");
  c = s.to_json(s.from_text(kDartsV2, "t"));
  c["choices"].erase("normal_4_op_b");
  EXPECT_EQ(error_of([&] { s.from_json(c, "a.json"); }).substr(0, 61),
            "a.json: choices.normal_4_op_b: missing decision; options are:");
}

TEST(DartsSpace, DartsV2HasThePapersParameterCountAtC36Layers20) {
  DartsOptions o;
  o.C = 36;
  o.layers = 20;
  o.auxiliary = true;  // the paper's CIFAR-10 network; its 3.3 M leave the auxiliary head out
  DartsSpace s(o);
  Task cifar;
  cifar.input_shape = {3, 32, 32};
  auto net = s.build(s.from_text(kDartsV2, "t"), cifar, 1.0);
  const int64_t params = net->num_parameters();
  EXPECT_GT(params, 3250000);
  EXPECT_LT(params, 3400000);
  // Exactly what the reference code prints for DARTS_V2 ("param size = 3.349342MB").
  EXPECT_EQ(params, 3349342);
  EXPECT_GT(count_parameters(*net), params);  // the auxiliary head exists for training
}

TEST(DartsSpace, ParamsAndFlopsMatchAHandCount) {
  DartsSpace s = small_space();
  const Arch a = s.from_text(kSmall, "t");
  Task task;  // 1x28x28, 10 classes
  auto net = s.build(a, task, 1.0);
  const auto prof = estimate::profile_network(*net, task);
  // C=4, 3 cells: normal (c=4, 28x28), reduce (c=8, 14x14), reduce (c=16, 7x7). Stem 1->12.
  // Weights: stem 108 + BN 24. Cell 0: preprocess 2 x (12*4 + 8); sep3 (2 x (dw 36 + pw 16 + BN 8));
  // dil3 (36 + 16 + 8). Cell 1: preprocess 12*8+16, 16*8+16; factorized reduce 2*(8*4) + 16;
  // sep5 2 x (200 + 64 + 16); dil5 200 + 64 + 16. Cell 2: preprocess FR 2*(16*8) + 32, 32*16 + 32;
  // FR 288; sep5 2 x (400 + 256 + 32); dil5 400 + 256 + 32. Classifier 64*10 + 10.
  const int64_t params = 132 + (112 + 120 + 60) + (112 + 144 + 80 + 560 + 280) + (288 + 544 + 288 + 1376 + 688) + 650;
  EXPECT_EQ(params, 5434);
  EXPECT_EQ(prof.params, params);
  EXPECT_EQ(prof.params, count_parameters(*net));
  // MACs. Stem 784*12*9. Cell 0 (HW 784): preprocess 2 x 784*4*12; sep3 2 x (784*4*9 + 784*4*4);
  // dil3 784*4*9 + 784*4*4. Cell 1 (inputs at 784, output HW 196): preprocess 784*8*12 + 784*8*16;
  // FR 2 x 196*4*8; sep5 2 x (196*8*25 + 196*8*8); dil5 196*8*25 + 196*8*8. Cell 2 (inputs at 784
  // and 196, output HW 49): FR preprocess 2 x 196*8*16, 196*16*32; FR 2 x 49*8*16;
  // sep5 2 x (49*16*25 + 49*16*16); dil5 49*16*25 + 49*16*16. Classifier 64*10.
  const double flops = 84672 + (75264 + 81536 + 40768) + (75264 + 100352 + 12544 + 103488 + 51744) +
                       (50176 + 100352 + 12544 + 64288 + 32144) + 640;
  EXPECT_DOUBLE_EQ(flops, 885776);
  EXPECT_DOUBLE_EQ(prof.flops, flops);
}

TEST(DartsSpace, SampleMutateNeighborsEncodeForwardBackward) {
  DartsSpace s = small_space();
  Rng rng(9);
  for (int i = 0; i < 20; ++i) {
    const Arch a = s.sample(rng);
    EXPECT_EQ(s.canonical(a), a);
    const Arch m = s.mutate(a, rng);
    EXPECT_NE(s.hash(m), s.hash(a));
    const auto n = s.neighbors(a);
    std::set<std::string> seen{s.hash(a)};
    for (const auto& b : n) {
      EXPECT_EQ(s.canonical(b), b);
      EXPECT_TRUE(seen.insert(s.hash(b)).second);
    }
    EXPECT_GT(n.size(), 50u);
    EXPECT_EQ(s.encode(a).size(), s.encoding_size());
    EXPECT_EQ(s.from_text(s.to_text(a), "t"), a);
  }
  for (const auto& shape : std::vector<std::vector<int64_t>>{{1, 28, 28}, {3, 32, 32}}) {
    Task task;
    task.input_shape = shape;
    for (int i = 0; i < 3; ++i) {
      auto net = s.build(s.sample(rng), task, 1.0);
      auto y = net->forward(torch::randn({2, shape[0], shape[1], shape[2]}));
      EXPECT_EQ(y.sizes(), (std::vector<int64_t>{2, 10}));
      y.sum().backward();
    }
  }
}

TEST(DartsSpace, AuxiliaryHeadAndDropPath) {
  DartsSpace s = small_space(/*auxiliary=*/true, /*drop_path=*/0.5);
  Task task;
  torch::manual_seed(1);
  auto net = s.build(s.from_text(kDartsV2, "t"), task, 1.0);
  const torch::Tensor x = torch::randn({4, 1, 28, 28});
  // Training: the auxiliary head's logits are there once, with the configured weight.
  net->train();
  net->set_training_progress(0.0);
  const torch::Tensor y1 = net->forward(x);
  auto aux = net->take_auxiliary_outputs();
  ASSERT_EQ(aux.size(), 1u);
  EXPECT_EQ(aux[0].logits.sizes(), (std::vector<int64_t>{4, 10}));
  EXPECT_DOUBLE_EQ(aux[0].weight, 0.4);
  EXPECT_TRUE(net->take_auxiliary_outputs().empty());
  // No drop path at the start of training: two passes on the same batch agree ...
  EXPECT_TRUE(torch::allclose(y1, net->forward(x)));
  // ... but late in training paths are dropped at random.
  net->set_training_progress(0.9);
  EXPECT_FALSE(torch::allclose(net->forward(x), net->forward(x)));
  // Evaluation: no head, no drop path.
  net->eval();
  EXPECT_TRUE(torch::allclose(net->forward(x), net->forward(x)));
  EXPECT_TRUE(net->take_auxiliary_outputs().empty());
  // The auxiliary head is not part of the deployed network's parameters.
  auto plain = small_space().build(s.from_text(kDartsV2, "t"), task, 1.0);
  EXPECT_EQ(net->num_parameters(), count_parameters(*plain));
  EXPECT_EQ(estimate::profile_network(*net, task).params, count_parameters(*plain));
}

// A network that records what the trainer tells it.
class Recorder : public Network {
 public:
  Recorder() { fc_ = register_module("fc", torch::nn::Linear(784, 10)); }
  torch::Tensor forward(torch::Tensor x) override { return fc_(x.flatten(1)); }
  void set_training_progress(double f) override { progress.push_back(f); }
  std::vector<double> progress;

 private:
  torch::nn::Linear fc_{nullptr};
};

TEST(DartsSpace, TheTrainerDrivesDropPathAndTheAuxiliaryLoss) {
  const data::TaskData& data = test::fashion_task(300);
  estimate::TrainOptions o;
  o.batch_size = 64;
  Recorder rec;
  estimate::train_network(rec, data, data.train, Fidelity::full(2), o, 1, 1);
  // 270 training images, 4 full batches per epoch, 2 epochs: progress 0, 1/8, ..., 7/8.
  ASSERT_EQ(rec.progress.size(), 8u);
  EXPECT_DOUBLE_EQ(rec.progress.front(), 0.0);
  EXPECT_DOUBLE_EQ(rec.progress.back(), 7.0 / 8);
  // The auxiliary head learns only if the trainer adds its loss.
  DartsSpace s = small_space(/*auxiliary=*/true, /*drop_path=*/0.2);
  torch::manual_seed(2);
  auto net = s.build(s.from_text(kDartsV2, "t"), data.task, 1.0);
  std::vector<torch::Tensor> before;
  for (const auto& item : net->named_parameters()) {
    const std::string& name = item.key();
    const torch::Tensor& p = item.value();
    if (name.rfind("auxiliary.", 0) == 0) before.push_back(p.detach().clone());
  }
  ASSERT_FALSE(before.empty());
  estimate::train_network(*net, data, data.train, Fidelity::full(1), o, 1, 1);
  size_t k = 0, changed = 0;
  for (const auto& item : net->named_parameters()) {
    const std::string& name = item.key();
    const torch::Tensor& p = item.value();
    if (name.rfind("auxiliary.", 0) == 0) changed += !torch::equal(p, before[k++]);
  }
  EXPECT_EQ(changed, before.size());
}

TEST(DartsSpace, BadGenotypeFileExits2) {
  test::TempDir dir;
  test::write_file(dir.file("bad.json"), R"j({"space": "darts", "genotype": "Genotype(normal=[('conv', 0)])"})j");
  auto r = test::run_nascent({"train", "--arch", dir.file("bad.json")});
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find("bad.json: genotype: normal: expected 8 (operation, input) pairs"), std::string::npos) << r.out;
}

TEST(DartsSpace, OptionsAreReadAndValidated) {
  ConfigSection ok(nlohmann::json{{"C", 36}, {"layers", 20}, {"auxiliary", true}, {"drop_path", 0.2}}, "space.darts",
                   "c.yaml");
  auto sp = make_space("darts", ok);
  EXPECT_EQ(dynamic_cast<DartsSpace&>(*sp).options().layers, 20);
  EXPECT_TRUE(dynamic_cast<DartsSpace&>(*sp).options().auxiliary);
  ConfigSection bad(nlohmann::json{{"drop_path", 1.5}}, "space.darts", "c.yaml");
  EXPECT_EQ(error_of([&] { make_space("darts", bad); }),
            "c.yaml: space.darts.drop_path: 1.5 is out of range; expected 0 to 0.9");
}

}  // namespace
}  // namespace nascent::space
