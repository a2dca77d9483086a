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

}  // namespace
}  // namespace nascent::run
