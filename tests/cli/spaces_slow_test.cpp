// End-to-end searches on the new kinds of space and data: a declared space with evolution on
// Fashion-MNIST, the MLP space on the penguins CSV, and a character-level transformer
// language model on fortune cookies.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "support/support.h"

namespace nascent {
namespace {

using test::run_nascent;
using test::TempDir;

nlohmann::json summary(const std::string& dir) { return nlohmann::json::parse(test::read_file(dir + "/summary.json")); }

TEST(SpacesEndToEnd, DeclaredSpaceWithEvolutionOnFashionMnist) {
  TempDir dir;
  auto r = run_nascent({"search", "--config", "examples/declared.yaml", "--max-trials", "4", "--set",
                        "budget.time_minutes=0", "--out", dir.file("run")});
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const auto s = summary(dir.file("run"));
  EXPECT_EQ(s["trials"], 4);
  EXPECT_EQ(s["counts"]["ok"], 4) << s.dump();
  EXPECT_EQ(s["strategy"], "evolution");
  EXPECT_GT(s["best"]["metrics"]["val_accuracy"].get<double>(), 0.5);
  // The architecture file carries the declared layers, so it alone rebuilds the network.
  const auto arch = nlohmann::json::parse(test::read_file(dir.file("run/best_arch.json")));
  EXPECT_EQ(arch["space"], "declared");
  EXPECT_TRUE(arch["space_options"].contains("layers"));
  EXPECT_TRUE(arch["choices"].contains("layers.2.repeat"));
  auto p = run_nascent({"profile", "--arch", dir.file("run/best_arch.json"), "--runs", "3"});
  ASSERT_EQ(p.exit_code, 0) << p.out;
  EXPECT_DOUBLE_EQ(nlohmann::json::parse(p.out)["params"].get<double>(), s["best"]["metrics"]["params"].get<double>());
}

TEST(SpacesEndToEnd, MlpOnPenguins) {
  TempDir dir;
  auto r = run_nascent({"search", "--config", "examples/tabular.yaml", "--out", dir.file("run")});
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const auto s = summary(dir.file("run"));
  EXPECT_EQ(s["counts"]["ok"], 50) << s.dump();
  // Penguin species are nearly separable by these measurements.
  EXPECT_GT(s["final"]["test_accuracy"].get<double>(), 0.9) << s.dump();
  // profile --run builds the architecture for the run's task (4 features, 3 species), which
  // --arch outside the run, without a config, cannot know.
  auto p = run_nascent({"profile", "--run", dir.file("run"), "--runs", "2"});
  ASSERT_EQ(p.exit_code, 0) << p.out;
  EXPECT_EQ(nlohmann::json::parse(p.out)["input_shape"], (std::vector<int64_t>{1, 4})) << p.out;
}

TEST(SpacesEndToEnd, TransformerLanguageModelOnFortunes) {
  TempDir dir;
  auto r = run_nascent({"search", "--config", "examples/text.yaml", "--max-trials", "2", "--set", "task.limit=400",
                        "--set", "final.epochs=0.5", "--out", dir.file("run")});
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const auto s = summary(dir.file("run"));
  EXPECT_EQ(s["counts"]["ok"], 2) << s.dump();
  const auto& m = s["best"]["metrics"];
  EXPECT_NEAR(m["val_perplexity"].get<double>(), std::exp(m["val_loss"].get<double>()), 1e-6);
  // Better than guessing among the ~90 characters of the vocabulary.
  EXPECT_LT(m["val_perplexity"].get<double>(), 60);
  EXPECT_GT(s["final"]["test_accuracy"].get<double>(), 0.1);
  EXPECT_NE(test::read_file(dir.file("run/trials.csv")).find("val_perplexity"), std::string::npos);
}

}  // namespace
}  // namespace nascent
