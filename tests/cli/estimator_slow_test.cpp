// End-to-end searches with the other estimators: a training-free search ranked by synflow on
// nb201, and a search answered from a table of measured results under a simulated time budget.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>

#include "nascent/data/csv.h"
#include "support/support.h"

namespace nascent {
namespace {

using test::run_nascent;
using test::TempDir;

TEST(EstimatorEndToEnd, SynflowSearchOnNb201RanksHundredsInUnderAMinute) {
  TempDir dir;
  const auto t0 = std::chrono::steady_clock::now();
  auto r = run_nascent({"search", "--config", "examples/estimator_quality.yaml", "--estimator", "proxy:synflow",
                        "--max-trials", "300", "--quiet", "--out", dir.file("run")});
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_LT(seconds, 60.0);
  const auto rows = test::read_trial_rows(dir.file("run/experiment.db"));
  ASSERT_EQ(rows.size(), 300u);
  // The best is the architecture with the largest synflow, and best_arch.json names it.
  double top = 0;
  for (const auto& row : rows) {
    ASSERT_EQ(row.status, "ok") << row.metrics;
    top = std::max(top, nlohmann::json::parse(row.metrics).at("synflow").get<double>());
  }
  const auto summary = nlohmann::json::parse(test::read_file(dir.file("run/summary.json")));
  EXPECT_DOUBLE_EQ(summary["best"]["metrics"]["synflow"].get<double>(), top);
  EXPECT_GT(top, 0.0);
  const auto best = nlohmann::json::parse(test::read_file(dir.file("run/best_arch.json")));
  EXPECT_EQ(best["space"], "nb201");
  EXPECT_EQ(best["choices"], summary["best"]["arch"]["choices"]) << best.dump() << summary["best"].dump();
  EXPECT_EQ(summary["best"]["metrics"].count("val_accuracy"), 0u);  // nothing was trained
  EXPECT_NE(r.out.find("best: trial #"), std::string::npos) << r.out;
}

// tests/estimate/data/declared4_table.csv is the trials.csv of a real training run over every
// architecture of the 4-architecture space in declared4.yaml, each with its train_seconds.
TEST(EstimatorEndToEnd, TableSearchAnswersFromTheTableUnderSimulatedTime) {
  TempDir dir;
  const std::string config = "tests/estimate/data/declared4.yaml";
  const std::string table = "tests/estimate/data/declared4_table.csv";
  auto r = run_nascent({"search", "--config", config, "--estimator", "table", "--set", "estimator.table=" + table,
                        "--max-trials", "4", "--quiet", "--out", dir.file("all")});
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const auto summary = nlohmann::json::parse(test::read_file(dir.file("all/summary.json")));
  EXPECT_EQ(summary["trials"], 4);
  // The recorded values come back unchanged: the best is the table's best, and the simulated
  // time is the sum of the four recorded training times.
  const data::CsvTable t = data::parse_csv(test::read_file(table), table, ',', true, 0);
  const auto col = [&](const std::string& name) {
    return static_cast<size_t>(std::find(t.columns.begin(), t.columns.end(), name) - t.columns.begin());
  };
  double best = 0, total = 0;
  for (const auto& row : t.rows) {
    best = std::max(best, std::stod(row[col("val_accuracy")]));
    total += std::stod(row[col("train_seconds")]);
  }
  ASSERT_EQ(t.rows.size(), 4u);
  EXPECT_DOUBLE_EQ(summary["best"]["metrics"]["val_accuracy"].get<double>(), best);
  EXPECT_NEAR(summary["simulated_s"].get<double>(), total, 1e-6 * total);
  EXPECT_LT(summary["elapsed_s"].get<double>(), total);  // answered, not trained

  // A simulated budget of a little more than one recorded training: no trial starts once the
  // recorded times reach it, so the search stops early, just past the budget.
  const double budget_s = total / 4 * 1.2;
  auto b = run_nascent({"search", "--config", config, "--estimator", "table", "--set", "estimator.table=" + table,
                        "--max-trials", "4", "--time-budget", std::to_string(budget_s / 60), "--quiet", "--out",
                        dir.file("budget")});
  ASSERT_EQ(b.exit_code, 0) << b.out;
  const auto rows = test::read_trial_rows(dir.file("budget/experiment.db"));
  ASSERT_GE(rows.size(), 1u);
  EXPECT_LT(rows.size(), 4u);
  const double spent = nlohmann::json::parse(test::read_file(dir.file("budget/summary.json")))["simulated_s"];
  const double last = nlohmann::json::parse(rows.back().metrics).at("train_seconds");
  EXPECT_GE(spent, budget_s * 0.999);
  EXPECT_LT(spent - last, budget_s);

  // A fidelity the table lacks gives failed trials with the reason; a bad table file is exit 2.
  auto f = run_nascent({"search", "--config", config, "--estimator", "table", "--set", "estimator.table=" + table,
                        "--set", "fidelity.epochs=7", "--max-trials", "2", "--quiet", "--out", dir.file("missing")});
  ASSERT_EQ(f.exit_code, 0) << f.out;
  for (const auto& row : test::read_trial_rows(dir.file("missing/experiment.db"))) EXPECT_EQ(row.status, "failed");
  auto bad = run_nascent({"search", "--config", config, "--estimator", "table", "--set",
                          "estimator.table=examples/declared.yaml", "--out", dir.file("bad")});
  EXPECT_EQ(bad.exit_code, 2) << bad.out;
  EXPECT_NE(bad.out.find("examples/declared.yaml"), std::string::npos) << bad.out;
}

}  // namespace
}  // namespace nascent
