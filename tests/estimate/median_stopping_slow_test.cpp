// `early_stopping: {rule: median}` end to end on Fashion-MNIST: trials below the median of
// earlier trials' learning curves are stopped and recorded as pruned with their curves, and
// exactly those: every decision is recomputed here from the stored curves.
#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "nascent/store/sqlite.h"
#include "support/support.h"

namespace nascent {
namespace {

struct Row {
  int64_t id = 0;
  std::string status, reason, fidelity;
  std::vector<double> curve;
};

std::vector<Row> read_rows(const std::string& db_path) {
  store::Database db(db_path);
  store::Statement s(db, "SELECT id, status, reason, fidelity_key, metrics FROM trial ORDER BY id");
  std::vector<Row> out;
  while (s.step()) {
    Row r{s.column_int(0), s.column_text(1), s.column_text(2), s.column_text(3), {}};
    const auto m = nlohmann::json::parse(s.column_text(4));
    for (int k = 1; m.contains("val_accuracy_epoch_" + std::to_string(k)); ++k)
      r.curve.push_back(m.at("val_accuracy_epoch_" + std::to_string(k)).get<double>());
    out.push_back(r);
  }
  return out;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

TEST(MedianStoppingEndToEnd, PrunesExactlyTheTrialsBelowTheMedianOfEarlierCurves) {
  test::TempDir dir;
  auto r = test::run_nascent({"search", "--config", "examples/smoke.yaml", "--strategy", "random", "--max-trials", "8",
                              "--seed", "2", "--out", dir.file("a"), "--set", "fidelity.epochs=3", "--set",
                              "fidelity.data_fraction=0.1", "--set", "early_stopping.rule=median", "--set",
                              "early_stopping.min_trials=2"});
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const auto rows = read_rows(dir.file("a/experiment.db"));
  ASSERT_EQ(rows.size(), 8u);
  int pruned = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    const Row& t = rows[i];
    EXPECT_EQ(t.fidelity, "e=3,d=0.1");
    ASSERT_TRUE(t.status == "ok" || t.status == "pruned") << t.status << ": " << t.reason;
    // The reference: completed trials before this one (one at a time, in id order).
    std::vector<std::vector<double>> earlier;
    for (size_t j = 0; j < i; ++j)
      if (rows[j].status == "ok") earlier.push_back(rows[j].curve);
    const size_t checked = t.status == "ok" ? 2 : t.curve.size();  // epochs 1 and 2 are checked
    double best = 0;
    bool below = false;
    for (size_t k = 0; k < checked; ++k) {
      best = std::max(best, t.curve.at(k));
      std::vector<double> at;
      for (const auto& c : earlier) at.push_back(c.at(k));
      below = at.size() >= 2 && best < median(at);
      if (t.status == "ok") {
        EXPECT_FALSE(below) << "trial " << t.id << " should have stopped after epoch " << k + 1;
      }
    }
    if (t.status == "ok") {
      EXPECT_EQ(t.curve.size(), 3u) << "trial " << t.id;
    } else {
      ++pruned;
      EXPECT_TRUE(below) << "trial " << t.id << " was pruned above the median";
      EXPECT_LT(t.curve.size(), 3u);
      EXPECT_EQ(t.reason.rfind("median stopping after epoch " + std::to_string(t.curve.size()) + ":", 0), 0u)
          << t.reason;
    }
  }
  EXPECT_GE(pruned, 2);
  const std::string csv = test::read_file(dir.file("a/trials.csv"));
  EXPECT_NE(csv.find(",pruned,"), std::string::npos);
  EXPECT_NE(csv.find("val_accuracy_epoch_1"), std::string::npos);
}

}  // namespace
}  // namespace nascent
