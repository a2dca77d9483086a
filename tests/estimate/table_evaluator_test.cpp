#include "nascent/estimate/table_evaluator.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "nascent/core/config.h"
#include "nascent/core/error.h"
#include "nascent/data/csv.h"
#include "nascent/run/experiment.h"
#include "support/support.h"

namespace nascent::estimate {
namespace {

const std::string kDir = std::string(NASCENT_SOURCE_DIR) + "/tests/estimate/data/";

std::unique_ptr<space::SearchSpace> declared4() {
  const auto raw = load_config_file(kDir + "declared4.yaml");
  return run::ExperimentConfig::parse(raw, "declared4.yaml").make_space();
}

std::string error_of(const space::SearchSpace& s, const std::string& path) {
  try {
    TableEvaluator t(s, path, Objective());
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(TableEvaluator, AnswersEveryRecordedRowWithItsMetrics) {
  auto space = declared4();
  TableEvaluator table(*space, kDir + "declared4_table.csv", Objective());
  EXPECT_EQ(table.rows(), 4u);
  const data::CsvTable t = data::parse_csv(test::read_file(kDir + "declared4_table.csv"), "t", ',', true, 0);
  auto col = [&](const std::string& n) {
    return static_cast<size_t>(std::find(t.columns.begin(), t.columns.end(), n) - t.columns.begin());
  };
  for (const auto& row : t.rows) {
    Proposal p;
    p.arch = space->from_json(nlohmann::json::parse(row[col("arch")]), "test");
    p.fidelity = parse_fidelity_key(row[col("fidelity")]);
    const Evaluation e = table.evaluate(p, 0, nullptr);
    ASSERT_EQ(e.status, TrialStatus::kOk) << e.reason;
    EXPECT_DOUBLE_EQ(e.metrics.at("val_accuracy"), std::stod(row[col("val_accuracy")]));
    EXPECT_DOUBLE_EQ(e.metrics.at("train_seconds"), std::stod(row[col("train_seconds")]));
    EXPECT_DOUBLE_EQ(e.metrics.at("params"), std::stod(row[col("params")]));
    // Another fidelity is not in the table: a failed trial that says so.
    p.fidelity.epochs = 5;
    const Evaluation miss = table.evaluate(p, 0, nullptr);
    EXPECT_EQ(miss.status, TrialStatus::kFailed);
    EXPECT_NE(miss.reason.find("not in table"), std::string::npos) << miss.reason;
    EXPECT_NE(miss.reason.find("e=5,d=1"), std::string::npos) << miss.reason;
  }
}

TEST(TableEvaluator, ConstraintsRejectRecordedRows) {
  auto space = declared4();
  TableEvaluator table(*space, kDir + "declared4_table.csv",
                       Objective({{"val_accuracy", true}}, {Constraint::parse("params <= 10")}));
  const data::CsvTable t = data::parse_csv(test::read_file(kDir + "declared4_table.csv"), "t", ',', true, 0);
  Proposal p;
  p.arch = space->from_json(nlohmann::json::parse(t.rows[0][3]), "test");
  p.fidelity = parse_fidelity_key(t.rows[0][2]);
  EXPECT_EQ(table.evaluate(p, 0, nullptr).status, TrialStatus::kRejected);
}

TEST(TableEvaluator, BadFilesAreInputErrorsNamingTheProblem) {
  auto space = declared4();
  test::TempDir dir;
  EXPECT_NE(error_of(*space, dir.file("absent.csv")).find("cannot read the table file"), std::string::npos);
  const std::string good = test::read_file(kDir + "declared4_table.csv");
  const std::string header = good.substr(0, good.find('\n'));
  const std::string first = good.substr(good.find('\n') + 1, good.find('\n', good.find('\n') + 1) - good.find('\n'));

  test::write_file(dir.file("noarch.csv"), "fidelity,train_seconds\n\"e=2,d=1\",3\n");
  EXPECT_NE(error_of(*space, dir.file("noarch.csv")).find("needs an arch column"), std::string::npos);
  test::write_file(dir.file("dup.csv"), header + "\n" + first + first);
  EXPECT_NE(error_of(*space, dir.file("dup.csv"))
                .find("line 3: the same architecture at fidelity e=2,d=1 is already on line 2"),
            std::string::npos)
      << error_of(*space, dir.file("dup.csv"));
  std::string bad = first;
  bad.replace(bad.rfind(',') + 1, std::string::npos, "fast\n");
  test::write_file(dir.file("nan.csv"), header + "\n" + bad);
  EXPECT_NE(error_of(*space, dir.file("nan.csv")).find("'fast' is not a number"), std::string::npos)
      << error_of(*space, dir.file("nan.csv"));
  std::string badfid = first;
  badfid.replace(badfid.find("e=2,d=1"), 7, "e=1;d=1");
  test::write_file(dir.file("fid.csv"), header + "\n" + badfid);
  EXPECT_NE(error_of(*space, dir.file("fid.csv")).find("line 2: fidelity"), std::string::npos)
      << error_of(*space, dir.file("fid.csv"));
}

TEST(TableEvaluator, ParsesFidelityKeys) {
  const Fidelity f = parse_fidelity_key("e=3,d=0.37037,r=20,w=0.5");
  EXPECT_EQ(f.key(), "e=3,d=0.37037,r=20,w=0.5");
  EXPECT_THROW(parse_fidelity_key("e=3"), std::invalid_argument);
  EXPECT_THROW(parse_fidelity_key("e=3,d=x"), std::invalid_argument);
  EXPECT_THROW(parse_fidelity_key("e=3,d=1,q=2"), std::invalid_argument);
}

}  // namespace
}  // namespace nascent::estimate
