// The edge example as a real process: every candidate is timed as a TorchScript file before
// training, the latency bound rejects the slow ones untrained, the report draws the accuracy-
// latency front with the bound, and `nascent profile` on the run measures the chosen network as
// the search did.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

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

TEST(EdgeEndToEnd, AKernelTablePredictsAndFrontMembersAreTrained) {
  TempDir dir;
  const std::string table = dir.file("table.json");
  // A small table of the edge space's operations, fitted on 5 networks, checked on 5 others.
  auto t = run_nascent({"latency-table", "--space", "cnn", "--runtime", "torchscript", "--threads", "1", "--config",
                        "examples/edge.yaml", "--samples", "12", "--calibrate", "5", "--heldout", "5", "--out", table,
                        "--quiet"});
  ASSERT_EQ(t.exit_code, 0) << t.out;
  const auto made = nlohmann::json::parse(t.out.substr(t.out.find('{')));
  EXPECT_GT(made["kernels"].get<int>(), 10);
  EXPECT_EQ(made["calibration_networks"], 5);
  EXPECT_EQ(made["heldout"]["networks"], 5);
  const double within = made["heldout"]["kernel_table"]["within_10pct"].get<double>();
  EXPECT_GE(within, 0.0);
  EXPECT_LE(within, 1.0);
  // The table is for one thread: extending it for two is refused, naming the field.
  auto two = run_nascent({"latency-table", "--space", "cnn", "--threads", "2", "--config", "examples/edge.yaml",
                          "--samples", "2", "--calibrate", "3", "--out", table, "--quiet"});
  EXPECT_NE(two.exit_code, 0);
  EXPECT_NE(two.out.find("threads"), std::string::npos) << two.out;
  // Only TorchScript operations are tabled.
  auto cv = run_nascent({"latency-table", "--space", "cnn", "--runtime", "onnx-opencv", "--out", dir.file("cv.json")});
  EXPECT_NE(cv.exit_code, 0);
  EXPECT_NE(cv.out.find("--runtime"), std::string::npos) << cv.out;

  // A search that screens with the table and measures what passes, then trains two front
  // members beside the chosen network.
  const std::string out = dir.file("edge");
  auto r = run_nascent({"search",
                        "--config",
                        "examples/edge.yaml",
                        "--out",
                        out,
                        "--max-trials",
                        "6",
                        "--set",
                        "task.limit=2000",
                        "--set",
                        "budget.time_minutes=0",
                        "--set",
                        "final.epochs=0.2",
                        "--set",
                        "final.pareto=2",
                        "--set",
                        "latency.source=predict+verify",
                        "--set",
                        "latency.table=" + table,
                        "--set",
                        "objective.constraints=[\"latency_ms <= 5\", \"params <= 100000\"]",
                        "--set",
                        "strategy.nsga2.population=4",
                        "--set",
                        "strategy.nsga2.offspring=4"});
  ASSERT_EQ(r.exit_code, 0) << r.out;
  for (const auto& row : test::read_trial_rows(out + "/experiment.db")) {
    const auto m = nlohmann::json::parse(row.metrics);
    if (m.value("params", 0.0) > 100000) continue;
    EXPECT_TRUE(m.contains("latency_ms_predicted")) << row.metrics;
    if (row.status == "ok") EXPECT_TRUE(m.contains("latency_cv")) << "trained without being measured: " << row.metrics;
  }
  const auto summary = nlohmann::json::parse(test::read_file(out + "/summary.json"));
  const auto& members = summary["final"]["pareto"];
  ASSERT_TRUE(members.is_array()) << summary["final"].dump();
  ASSERT_FALSE(members.empty());
  EXPECT_LE(members.size(), 2u);
  std::set<int> front;
  for (const auto& p : summary["pareto"]) front.insert(p["trial"].get<int>());
  for (const auto& m : members) {
    EXPECT_NE(m["trial"], summary["final"]["trial"]);
    EXPECT_TRUE(front.count(m["trial"].get<int>())) << m.dump();
    // Trained as the chosen one was (0.2 epochs of 2,000 images: the fastest front member may
    // stay at chance) and tested; its search metrics beside.
    EXPECT_DOUBLE_EQ(m["epochs"].get<double>(), summary["final"]["epochs"].get<double>());
    EXPECT_GE(m["test_accuracy"].get<double>(), 0.0);
    EXPECT_LE(m["test_accuracy"].get<double>(), 1.0);
    EXPECT_TRUE(m["search_metrics"].contains("latency_ms")) << m.dump();
    EXPECT_TRUE(std::filesystem::exists(m["weights"].get<std::string>()));
    EXPECT_TRUE(std::filesystem::exists(m["model"].get<std::string>()));
  }
  // A member exports to ONNX from its own directory, as docs/edge.md shows.
  const std::string member = out + "/pareto/trial-" + std::to_string(members[0]["trial"].get<int>());
  auto e = run_nascent({"export", "--arch", member + "/arch.json", "--weights", member + "/weights.pt", "--config",
                        out + "/config.yaml", "--format", "onnx", "--out", dir.file("member.onnx")});
  ASSERT_EQ(e.exit_code, 0) << e.out;
  EXPECT_TRUE(std::filesystem::exists(dir.file("member.onnx")));
}

}  // namespace
}  // namespace nascent
