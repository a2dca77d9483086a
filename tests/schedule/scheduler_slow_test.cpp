// `nascent search --scheduler hyperband` end to end on Fashion-MNIST (examples/smoke.yaml: eta 2,
// a quarter epoch to one epoch): trials at several fidelities, promotions that are the best of
// their rung, and kill -9 + --resume ending with the same trials as an uninterrupted run. The
// same for `--prefilter synflow`: the trained trials are the best of each stored pool.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>

#include "nascent/store/sqlite.h"
#include "support/support.h"

namespace nascent {
namespace {

using test::run_nascent;
using test::TempDir;

struct Row {
  int64_t id = 0;
  std::string status, arch, fidelity;
  nlohmann::json meta, metrics;
};

std::vector<Row> read_rows(const std::string& db_path) {
  store::Database db(db_path);
  store::Statement s(db, "SELECT id, status, arch, fidelity_key, meta, metrics FROM trial ORDER BY id");
  std::vector<Row> out;
  while (s.step())
    out.push_back({s.column_int(0), s.column_text(1), s.column_text(2), s.column_text(3),
                   nlohmann::json::parse(s.column_text(4)), nlohmann::json::parse(s.column_text(5))});
  return out;
}

std::vector<std::string> args(const std::string& strategy, const std::string& out) {
  return {"search",
          "--config",
          "examples/smoke.yaml",
          "--scheduler",
          "hyperband",
          "--strategy",
          strategy,
          "--max-trials",
          "7",
          "--seed",
          "3",
          "--out",
          out};
}

class Hyperband : public ::testing::TestWithParam<std::string> {};

TEST_P(Hyperband, PromotesTheBestOfEachRungAndResumesTheSameBracketsAfterKill9) {
  TempDir dir;
  auto whole = run_nascent(args(GetParam(), dir.file("a")));
  ASSERT_EQ(whole.exit_code, 0) << whole.out;
  EXPECT_NE(whole.out.find("scheduler hyperband (eta 2, epochs 0.25..1)"), std::string::npos) << whole.out;
  const auto a = read_rows(dir.file("a/experiment.db"));
  ASSERT_EQ(a.size(), 7u);
  // Bracket s = 2 of eta 2 over 0.25..1 epochs: 4 at 0.25, 2 at 0.5, 1 at 1.
  const std::vector<std::string> fid = {"e=0.25,d=0.5", "e=0.25,d=0.5", "e=0.25,d=0.5", "e=0.25,d=0.5",
                                        "e=0.5,d=0.5",  "e=0.5,d=0.5",  "e=1,d=0.5"};
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].status, "ok") << "trial " << i + 1;
    EXPECT_EQ(a[i].fidelity, fid[i]) << "trial " << i + 1;
  }
  auto acc = [](const Row& r) { return r.metrics.at("val_accuracy").get<double>(); };
  // Trials 5 and 6 are the two best of trials 1-4, trained again at 0.5 epochs.
  std::vector<const Row*> rung0 = {&a[0], &a[1], &a[2], &a[3]};
  std::stable_sort(rung0.begin(), rung0.end(), [&](const Row* x, const Row* y) { return acc(*x) > acc(*y); });
  for (int i = 0; i < 2; ++i) {
    const Row& p = a[4 + i];
    EXPECT_EQ(p.meta.at("origin"), "promotion");
    EXPECT_EQ(p.meta.at("promoted_from"), rung0[i]->id);
    EXPECT_EQ(p.arch, rung0[i]->arch);
  }
  // Trial 7 is the better of trials 5 and 6, at one epoch.
  const Row& top = acc(a[4]) >= acc(a[5]) ? a[4] : a[5];
  EXPECT_EQ(a[6].arch, top.arch);
  EXPECT_EQ(a[6].meta.at("promoted_from"), top.id);
  EXPECT_EQ(a[6].meta.at("bracket"), 0);
  EXPECT_EQ(a[6].meta.at("rung"), 2);
  // trials.csv shows the fidelity of every trial.
  const std::string csv = test::read_file(dir.file("a/trials.csv"));
  EXPECT_NE(csv.find(",ok,\"e=1,d=0.5\","), std::string::npos) << csv;
  EXPECT_NE(csv.find(",ok,\"e=0.25,d=0.5\","), std::string::npos) << csv;

  // Killed inside a promoted trial (the fifth or later), then resumed.
  const std::string c = dir.file("c");
  ASSERT_TRUE(test::kill_during_trial(args(GetParam(), c), c + "/experiment.db", 5));
  const auto before = read_rows(c + "/experiment.db");
  ASSERT_GE(before.size(), 5u);
  ASSERT_LT(before.size(), 7u);
  EXPECT_EQ(before.back().status, "running");
  std::vector<std::string> resume = args(GetParam(), c);
  resume.push_back("--resume");
  auto r = run_nascent(resume);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find(fmt::format("resuming: {} trials counted, 1 re-queued", before.size() - 1)), std::string::npos)
      << r.out;
  const auto after = read_rows(c + "/experiment.db");
  ASSERT_EQ(after.size(), 7u);  // none lost, none run twice
  for (size_t i = 0; i < 7; ++i) {
    EXPECT_EQ(after[i].status, "ok") << "trial " << i + 1;
    EXPECT_EQ(after[i].arch, a[i].arch) << "trial " << i + 1;
    EXPECT_EQ(after[i].fidelity, a[i].fidelity) << "trial " << i + 1;
    EXPECT_EQ(after[i].meta, a[i].meta) << "trial " << i + 1;
    EXPECT_DOUBLE_EQ(acc(after[i]), acc(a[i])) << "trial " << i + 1;
  }
}

std::vector<std::string> prefilter_args(const std::string& out) {
  // clang-format off
  return {"search", "--config", "examples/smoke.yaml", "--set", "space.name=nb201", "--strategy", "evolution",
          "--prefilter", "synflow", "--set", "prefilter.pool=8", "--set", "prefilter.keep=2",
          "--set", "fidelity.data_fraction=0.25", "--max-trials", "4", "--seed", "3", "--out", out};
  // clang-format on
}

TEST(PrefilterEndToEnd, TrainsTheBestOfEachStoredPoolAndResumesTheSamePoolsAfterKill9) {
  TempDir dir;
  auto whole = run_nascent(prefilter_args(dir.file("a")));
  ASSERT_EQ(whole.exit_code, 0) << whole.out;
  EXPECT_NE(whole.out.find("prefilter synflow (keep 2 of 8)"), std::string::npos) << whole.out;
  const auto a = read_rows(dir.file("a/experiment.db"));
  ASSERT_EQ(a.size(), 4u);
  // The stored pools: 2 rounds of 8 candidates, 2 trained of each.
  std::vector<nlohmann::json> pools;
  {
    store::Database db(dir.file("a/experiment.db"));
    store::Statement s(db, "SELECT step, data FROM strategy_event WHERE kind = 'prefilter' ORDER BY step");
    while (s.step()) pools.push_back(nlohmann::json::parse(s.column_text(1)));
  }
  ASSERT_EQ(pools.size(), 2u);
  for (size_t i = 0; i < a.size(); ++i) {
    const nlohmann::json& note = a[i].meta.at("prefilter");
    const size_t round = i / 2;
    EXPECT_EQ(note.at("round").get<size_t>(), round) << "trial " << i + 1;
    EXPECT_EQ(note.at("rank").get<size_t>(), i % 2 + 1) << "trial " << i + 1;
    // The trial is the candidate of that rank in its pool: the pool's scores, best first.
    const nlohmann::json& candidates = pools[round].at("candidates");
    ASSERT_EQ(candidates.size(), 8u);
    const nlohmann::json& c = candidates[i % 2];
    EXPECT_TRUE(c.at("kept").get<bool>());
    EXPECT_EQ(c.at("arch").dump(), nlohmann::json::parse(a[i].arch).dump()) << "trial " << i + 1;
    EXPECT_DOUBLE_EQ(c.at("score").get<double>(), note.at("score").get<double>());
    for (size_t k = 1; k < candidates.size(); ++k)
      EXPECT_GE(candidates[k - 1].at("score").get<double>(), candidates[k].at("score").get<double>());
    EXPECT_FALSE(candidates[2].at("kept").get<bool>());
  }

  // Killed inside the third trial (the second pool's first), then resumed.
  const std::string c = dir.file("c");
  ASSERT_TRUE(test::kill_during_trial(prefilter_args(c), c + "/experiment.db", 3));
  std::vector<std::string> resume = prefilter_args(c);
  resume.push_back("--resume");
  auto r = run_nascent(resume);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const auto after = read_rows(c + "/experiment.db");
  ASSERT_EQ(after.size(), 4u);
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(after[i].status, "ok") << "trial " << i + 1;
    EXPECT_EQ(after[i].arch, a[i].arch) << "trial " << i + 1;
    EXPECT_EQ(after[i].meta, a[i].meta) << "trial " << i + 1;
  }
}

INSTANTIATE_TEST_SUITE_P(Strategies, Hyperband, ::testing::Values("evolution", "random"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace nascent
