// The cell spaces end to end as real processes: smoke searches on nb201 and darts, the best
// architecture's file (with its string / genotype) trained again, and DARTS_V2 trained with the
// auxiliary head and drop path. One torch thread each: the machine is shared.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "nascent/space/darts.h"
#include "nascent/space/nb201.h"
#include "nascent/space/network.h"
#include "support/support.h"

namespace nascent {
namespace {

using test::run_nascent;
using test::TempDir;

TEST(CellSpacesEndToEnd, Nb201SmokeSearchAndTrainTheBest) {
  TempDir dir;
  auto r = run_nascent({"search", "--config", "examples/smoke.yaml", "--set", "space.name=nb201", "--set",
                        "run.threads=1", "--out", dir.file("run")});
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const auto summary = nlohmann::json::parse(test::read_file(dir.file("run/summary.json")));
  EXPECT_EQ(summary["trials"], 6);
  EXPECT_EQ(summary["best"]["arch"]["space"], "nb201");
  EXPECT_GT(summary["best"]["metrics"]["val_accuracy"].get<double>(), 0.3);
  // best_arch.json carries the string form beside the choices, and both agree.
  const auto best = nlohmann::json::parse(test::read_file(dir.file("run/best_arch.json")));
  ASSERT_TRUE(best.contains("string")) << best.dump();
  space::Nb201Space s;
  EXPECT_EQ(s.hash(s.from_text(best["string"], "best")), s.hash(s.from_json(best, "best")));
  EXPECT_EQ(best["space_options"]["C"], 8);
  // Every trial's architecture is canonical and distinct (evolution never repeats a hash).
  const std::string csv = test::read_file(dir.file("run/trials.csv"));
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 7);

  auto t = run_nascent({"train", "--arch", dir.file("run/best_arch.json"), "--config", "examples/smoke.yaml",
                        "--epochs", "0.5", "--set", "run.threads=1", "--out", dir.file("train")});
  ASSERT_EQ(t.exit_code, 0) << t.out;
  const auto trained = nlohmann::json::parse(test::read_file(dir.file("train/train.json")));
  EXPECT_GT(trained["test_accuracy"].get<double>(), 0.3);
}

TEST(CellSpacesEndToEnd, DartsSmokeSearchAndDartsV2WithAuxiliaryHeadAndDropPath) {
  TempDir dir;
  auto r = run_nascent({"search", "--config", "examples/smoke.yaml", "--set", "space.name=darts", "--set",
                        "run.threads=1", "--max-trials", "3", "--out", dir.file("run")});
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const auto best = nlohmann::json::parse(test::read_file(dir.file("run/best_arch.json")));
  ASSERT_TRUE(best.contains("genotype")) << best.dump();
  EXPECT_EQ(best["genotype"].get<std::string>().rfind("Genotype(normal=[(", 0), 0u);

  const nlohmann::json v2_file = {
      {"space", "darts"},
      {"genotype",
       "Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 1), "
       "('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), ('dil_conv_3x3', 2)], normal_concat=[2, 3, 4, "
       "5], "
       "reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 1), ('max_pool_3x3', "
       "0), "
       "('skip_connect', 2), ('skip_connect', 2), ('max_pool_3x3', 1)], reduce_concat=[2, 3, 4, 5])"},
      {"space_options", {{"C", 8}, {"layers", 5}, {"auxiliary", true}, {"drop_path", 0.2}}}};
  test::write_file(dir.file("v2.json"), v2_file.dump());
  auto t = run_nascent({"train", "--arch", dir.file("v2.json"), "--config", "examples/smoke.yaml", "--epochs", "0.5",
                        "--set", "run.threads=1", "--out", dir.file("train")});
  ASSERT_EQ(t.exit_code, 0) << t.out;
  const auto trained = nlohmann::json::parse(test::read_file(dir.file("train/train.json")));
  EXPECT_GT(trained["test_accuracy"].get<double>(), 0.3);
  // The reported size is the deployed network's, without the auxiliary head.
  space::DartsOptions o;
  o.C = 8;
  o.layers = 5;
  space::DartsSpace plain(o);
  auto net =
      plain.build(plain.from_json(nlohmann::json::parse(test::read_file(dir.file("v2.json"))), "v2"), Task{}, 1.0);
  EXPECT_EQ(trained["params"].get<int64_t>(), space::count_parameters(*net));

  // The paper's CIFAR-10 network from the same file, profiled.
  auto v2 = nlohmann::json::parse(test::read_file(dir.file("v2.json")));
  v2["space_options"] = {{"C", 36}, {"layers", 20}, {"auxiliary", true}};
  test::write_file(dir.file("v2_cifar.json"), v2.dump());
  auto p = run_nascent(
      {"profile", "--arch", dir.file("v2_cifar.json"), "--input-shape", "1,3,32,32", "--runs", "1", "--threads", "1"});
  ASSERT_EQ(p.exit_code, 0) << p.out;
  const auto profile = nlohmann::json::parse(p.out);
  EXPECT_EQ(profile["params"], 3349342);  // the paper's 3.3 M, as the reference code counts it
}

}  // namespace
}  // namespace nascent
