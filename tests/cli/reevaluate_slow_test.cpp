// final.reevaluate as a user runs it: the best of a real search trained again at a higher
// fidelity, the best of those trained and handed on (summary, best_arch.json, report), and a
// kill -9 during the re-evaluation followed by --resume ending exactly as an uninterrupted run.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "support/support.h"

namespace nascent {
namespace {

using test::run_nascent;
using test::TempDir;

std::vector<std::string> args(const std::string& out) {
  return {"search",
          "--config",
          "examples/smoke.yaml",
          "--max-trials",
          "6",
          "--seed",
          "1",
          "--set",
          "final.epochs=1",
          "--set",
          "final.reevaluate.top=3",
          "--set",
          "final.reevaluate.epochs=1",
          "--out",
          out,
          "--quiet"};
}

double accuracy(const test::TrialRow& r) { return nlohmann::json::parse(r.metrics).value("val_accuracy", -1.0); }

TEST(Reevaluation, TheBestOfTheSearchIsTrainedAgainAndSurvivesKill9) {
  TempDir dir;
  const std::string a = dir.file("a");
  auto r = run_nascent(args(a));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const auto rows = test::read_trial_rows(a + "/experiment.db");
  ASSERT_EQ(rows.size(), 9u);  // 6 search trials, then 3 re-evaluations

  // The three best distinct architectures of the search, best first (ties: the earlier trial).
  std::vector<size_t> order{0, 1, 2, 3, 4, 5};
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t x, size_t y) { return accuracy(rows[x]) > accuracy(rows[y]); });
  std::vector<int64_t> expected;
  std::set<std::string> seen;
  for (size_t i : order)
    if (rows[i].status == "ok" && seen.insert(rows[i].arch).second && expected.size() < 3)
      expected.push_back(rows[i].id);
  ASSERT_EQ(expected.size(), 3u);
  int64_t chosen = 0;
  double chosen_acc = -1;
  for (size_t k = 0; k < 3; ++k) {
    const auto& re = rows[6 + k];
    const auto meta = nlohmann::json::parse(re.meta);
    EXPECT_EQ(meta.value("reevaluates", int64_t{0}), expected[k]) << re.meta;
    EXPECT_EQ(re.status, "ok");
    EXPECT_EQ(re.arch, rows[static_cast<size_t>(expected[k]) - 1].arch);
    if (accuracy(re) > chosen_acc) {
      chosen = re.id;
      chosen_acc = accuracy(re);
    }
  }

  // The best re-evaluation is the run's best, and the one trained and exported.
  const auto summary = nlohmann::json::parse(test::read_file(a + "/summary.json"));
  EXPECT_EQ(summary["best"]["trial"], chosen);
  EXPECT_EQ(summary["final"]["trial"], chosen);
  const auto& re = summary["final"]["reevaluation"];
  ASSERT_EQ(re["candidates"].size(), 3u);
  for (size_t k = 0; k < 3; ++k) {
    EXPECT_EQ(re["candidates"][k]["search_trial"], expected[k]);
    EXPECT_EQ(re["candidates"][k]["trial"], static_cast<int64_t>(7 + k));
  }
  EXPECT_EQ(re["chosen"], chosen);
  EXPECT_EQ(re["reused"], 0);
  EXPECT_GT(re["seconds"].get<double>(), 0.0);
  EXPECT_EQ(nlohmann::json::parse(test::read_file(a + "/best_arch.json"))["choices"],
            nlohmann::json::parse(rows[static_cast<size_t>(chosen) - 1].arch)["choices"]);
  const std::string report = test::read_file(a + "/report.html");
  EXPECT_NE(report.find("id=\"reevaluation\""), std::string::npos);
  EXPECT_NE(report.find(fmt::format(
                "<tr class=\"chosen\"><td>#{}</td>",
                nlohmann::json::parse(rows[static_cast<size_t>(chosen) - 1].meta)["reevaluates"].get<int64_t>())),
            std::string::npos);

  // Killed during the second re-evaluation, then resumed: the first is kept, the second is trained
  // again under its own id, and the run ends as the uninterrupted one did.
  const std::string b = dir.file("b");
  ASSERT_TRUE(test::kill_during_trial(args(b), b + "/experiment.db", 8));
  const auto cut = test::read_trial_rows(b + "/experiment.db");
  ASSERT_EQ(cut.size(), 8u);
  EXPECT_EQ(cut[7].status, "running");
  std::vector<std::string> resume = args(b);
  resume.push_back("--resume");
  auto rr = run_nascent(resume);
  ASSERT_EQ(rr.exit_code, 0) << rr.out;
  const auto after = test::read_trial_rows(b + "/experiment.db");
  ASSERT_EQ(after.size(), 9u);
  for (size_t i = 0; i < 9; ++i) {
    EXPECT_EQ(after[i].arch, rows[i].arch) << "trial " << i + 1;
    EXPECT_EQ(after[i].meta, rows[i].meta) << "trial " << i + 1;
    EXPECT_EQ(accuracy(after[i]), accuracy(rows[i])) << "trial " << i + 1;
  }
  const auto resumed = nlohmann::json::parse(test::read_file(b + "/summary.json"));
  EXPECT_EQ(resumed["final"]["trial"], chosen);
  EXPECT_EQ(resumed["final"]["reevaluation"]["reused"], 1);

  // Resuming the finished run trains nothing again.
  auto again = run_nascent(resume);
  ASSERT_EQ(again.exit_code, 0) << again.out;
  EXPECT_EQ(test::read_trial_rows(b + "/experiment.db").size(), 9u);
  EXPECT_EQ(nlohmann::json::parse(test::read_file(b + "/summary.json"))["final"]["trial"], chosen);
}

}  // namespace
}  // namespace nascent
