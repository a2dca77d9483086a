#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "nascent/core/error.h"
#include "nascent/run/experiment.h"

namespace nascent::run {
namespace {

std::string error_of(const nlohmann::json& raw) {
  try {
    ExperimentConfig::parse(raw, "exp.yaml");
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no error)";
}

nlohmann::json base() { return {{"space", {{"name", "nb201"}}}, {"strategy", {{"name", "random"}}}}; }

TEST(EstimatorConfig, DefaultIsTrainingWithTheConfiguredObjective) {
  const ExperimentConfig c = ExperimentConfig::parse(base(), "exp.yaml");
  EXPECT_EQ(c.estimator.name, "train");
  EXPECT_EQ(c.estimator.proxy(), "");
  EXPECT_EQ(c.objective.metrics().front().name, "val_accuracy");
}

TEST(EstimatorConfig, ProxySearchMaximisesTheProxyAndKeepsConstraints) {
  nlohmann::json raw = base();
  raw["estimator"] = {{"name", "proxy:jacob_cov"}, {"batch_size", 32}};
  raw["objective"] = {{"constraints", {"params <= 50000"}}};
  const ExperimentConfig c = ExperimentConfig::parse(raw, "exp.yaml");
  EXPECT_EQ(c.estimator.proxy(), "jacob_cov");
  EXPECT_EQ(c.estimator.batch_size, 32);
  ASSERT_EQ(c.objective.metrics().size(), 1u);
  EXPECT_EQ(c.objective.metrics()[0].name, "jacob_cov");
  EXPECT_TRUE(c.objective.metrics()[0].maximize);
  ASSERT_EQ(c.objective.constraints().size(), 1u);
  EXPECT_EQ(c.objective.constraints()[0].text, "params <= 50000");
}

TEST(EstimatorConfig, ALatencySectionOrALatencyObjectiveTurnsMeasuringOn) {
  EXPECT_FALSE(ExperimentConfig::parse(base(), "exp.yaml").estimator.latency.enabled);
  nlohmann::json raw = base();
  raw["latency"] = nullptr;  // `latency:` with no options: the defaults
  ExperimentConfig c = ExperimentConfig::parse(raw, "exp.yaml");
  EXPECT_TRUE(c.estimator.latency.enabled);
  EXPECT_EQ(c.estimator.latency.runtime, "torchscript");
  raw = base();
  raw["objective"] = {{"constraints", {"size_mb <= 0.5"}}};
  EXPECT_TRUE(ExperimentConfig::parse(raw, "exp.yaml").estimator.latency.enabled);
  raw["latency"] = {{"runtime", "libtorch"}, {"batch_size", 8}};
  c = ExperimentConfig::parse(raw, "exp.yaml");
  EXPECT_EQ(c.estimator.latency.runtime, "libtorch");
  EXPECT_EQ(c.estimator.latency.batch_size, 8);
  raw["latency"] = {{"batch", 8}};
  EXPECT_NE(error_of(raw).find("latency.batch"), std::string::npos) << error_of(raw);
  // A proxy search may optimise latency once it is measured.
  raw = base();
  raw["estimator"] = {{"name", "proxy:synflow"}};
  raw["objective"] = {
      {"metrics", {{{"name", "synflow"}, {"direction", "max"}}, {{"name", "latency_ms"}, {"direction", "min"}}}}};
  EXPECT_EQ(ExperimentConfig::parse(raw, "exp.yaml").objective.metrics().size(), 2u);
}

TEST(EstimatorConfig, BadValuesAreInputErrorsNamingTheField) {
  nlohmann::json raw = base();
  raw["estimator"] = {{"name", "oracle"}};
  EXPECT_NE(error_of(raw).find("estimator.name"), std::string::npos) << error_of(raw);
  EXPECT_NE(error_of(raw).find("unknown estimator 'oracle'"), std::string::npos);
  raw["estimator"] = {{"name", "proxy:zen"}};
  EXPECT_NE(error_of(raw).find("unknown proxy 'zen'; known: synflow, jacob_cov"), std::string::npos) << error_of(raw);
  raw["estimator"] = {{"name", "table"}};
  EXPECT_NE(error_of(raw).find("estimator.table"), std::string::npos) << error_of(raw);
  raw["estimator"] = {{"name", "train"}, {"batch", 3}};
  EXPECT_NE(error_of(raw).find("estimator.batch"), std::string::npos) << error_of(raw);
  // A proxy search cannot optimise a metric that only training measures.
  raw["estimator"] = {{"name", "proxy:synflow"}};
  raw["objective"] = {{"metrics", {{{"name", "val_accuracy"}, {"direction", "max"}}}}};
  EXPECT_NE(error_of(raw).find("objective.metrics"), std::string::npos) << error_of(raw);
  EXPECT_NE(error_of(raw).find("'val_accuracy' is never measured by estimator proxy:synflow"), std::string::npos);
}

// final.ranks: all or a number of ranks; other values are errors naming the field.
TEST(ExperimentConfigParse, FinalRanksTakesAllOrANumber) {
  nlohmann::json raw;
  EXPECT_EQ(ExperimentConfig::parse(base(), "exp.yaml").final.ranks, 1);
  raw = base();
  raw["final"] = {{"ranks", "all"}};
  EXPECT_EQ(ExperimentConfig::parse(raw, "exp.yaml").final.ranks, 0);
  raw["final"] = {{"ranks", 3}};
  EXPECT_EQ(ExperimentConfig::parse(raw, "exp.yaml").final.ranks, 3);
  raw["final"] = {{"ranks", "every"}};
  EXPECT_NE(error_of(raw).find("final.ranks"), std::string::npos) << error_of(raw);
  raw["final"] = {{"ranks", 0}};
  EXPECT_NE(error_of(raw).find("final.ranks"), std::string::npos) << error_of(raw);
}

}  // namespace
}  // namespace nascent::run
