// The edge example as a real process: every candidate is timed as a TorchScript file before
// training, the latency bound rejects the slow ones untrained, the report draws the accuracy-
// latency front with the bound, and `nascent profile` on the run measures the chosen network as
// the search did.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support/support.h"

namespace nascent {
namespace {

using test::run_nascent;
using test::TempDir;

TEST(EdgeEndToEnd, LatencyIsMeasuredBoundedAndReported) {
  TempDir dir;
  const std::string out = dir.file("edge");
  // examples/edge.yaml made small: 3,000 images, 10 trials, no time budget, no final training.
  // 0.8 ms keeps some of the space's networks out (0.4-1.1 ms on an idle machine), and more
  // when the machine is loaded.
  auto r = run_nascent({"search", "--config", "examples/edge.yaml", "--out", out, "--max-trials", "10", "--set",
                        "task.limit=3000", "--set", "budget.time_minutes=0", "--set", "final.epochs=0", "--set",
                        "objective.constraints=[\"latency_ms <= 0.8\", \"params <= 100000\"]", "--set",
                        "strategy.nsga2.population=4", "--set", "strategy.nsga2.offspring=4"});
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const auto rows = test::read_trial_rows(out + "/experiment.db");
  size_t ok = 0, rejected = 0;
  for (const auto& row : rows) {
    const auto m = nlohmann::json::parse(row.metrics);
    if (m.value("params", 0.0) > 100000) continue;  // rejected on parameters, before timing
    ASSERT_TRUE(m.contains("latency_ms")) << row.id << ": " << row.metrics;
    EXPECT_GT(m["latency_ms"].get<double>(), 0);
    EXPECT_GE(m["latency_ms_p90"].get<double>(), m["latency_ms"].get<double>() * 0.999);
    EXPECT_TRUE(m.contains("latency_cv") && m.contains("size_mb") && m.contains("peak_memory_mb")) << row.metrics;
    // Over the bound: rejected, untrained; under it: trained.
    if (m["latency_ms"].get<double>() > 0.8) {
      ++rejected;
      EXPECT_EQ(row.status, "rejected") << row.id;
      EXPECT_FALSE(m.contains("val_accuracy")) << row.id;
    } else {
      ++ok;
      EXPECT_EQ(row.status, "ok") << row.id;
      EXPECT_TRUE(m.contains("val_accuracy")) << row.id;
    }
  }
  // Rejected candidates cost no trial of the budget: ten trained, the slow ones on top.
  EXPECT_EQ(ok, 10u);
  EXPECT_GT(rejected, 0u);

  // The summary's Pareto set is of accuracy and latency, every member within the bound.
  const auto summary = nlohmann::json::parse(test::read_file(out + "/summary.json"));
  ASSERT_TRUE(summary["pareto"].is_array());
  ASSERT_FALSE(summary["pareto"].empty());
  for (const auto& t : summary["pareto"]) EXPECT_LE(t["metrics"]["latency_ms"].get<double>(), 0.8);

  // The report: accuracy against latency, with the bound drawn.
  ASSERT_EQ(run_nascent({"report", "--run", out}).exit_code, 0);
  const std::string html = test::read_file(out + "/report.html");
  EXPECT_NE(html.find("val_accuracy against latency_ms"), std::string::npos);
  EXPECT_NE(html.find("<line class=\"bound\""), std::string::npos);
  EXPECT_NE(html.find("latency_ms &lt;= 0.8"), std::string::npos);

  // nascent profile on the run: the run's latency section (TorchScript, batch 1, one thread)
  // and the chosen network's latency as the search measured it, within measurement noise.
  auto p = run_nascent({"profile", "--run", out});
  ASSERT_EQ(p.exit_code, 0) << p.out;
  const auto prof = nlohmann::json::parse(p.out.substr(p.out.find('{')));
  EXPECT_EQ(prof["runtime"], "torchscript");
  EXPECT_EQ(prof["threads"], 1);
  const double searched = summary["best"]["metrics"]["latency_ms"].get<double>();
  const double again = prof["latency_ms_median"].get<double>();
  EXPECT_LT(again, 2.0 * searched + 0.1) << "search " << searched << " ms, profile " << again << " ms";
  EXPECT_GT(again, 0.5 * searched - 0.1) << "search " << searched << " ms, profile " << again << " ms";
  // The same network in the same format: the same file size, whatever the weights.
  EXPECT_NEAR(prof["size_mb"].get<double>(), summary["best"]["metrics"]["size_mb"].get<double>(), 0.01);
}

}  // namespace
}  // namespace nascent
