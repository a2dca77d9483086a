// `nascent train` after a search: it takes the run's own config (task, data, every --set), writes
// into a new folder and never over the run's model files; with --time-budget it fits the epochs.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "support/support.h"

namespace nascent {
namespace {

using test::run_nascent;
using test::TempDir;

TEST(TrainAfterSearch, UsesTheRunsConfigAndNeverOverwritesItsModel) {
  TempDir dir;
  const std::string run = dir.file("r");
  // A run whose task differs from the built-in default: 1,200 images, and a final model.
  auto s = run_nascent({"search", "--config", "examples/smoke.yaml", "--out", run, "--max-trials", "2", "--set",
                        "task.limit=1200", "--set", "final.epochs=0.2", "--quiet"});
  ASSERT_EQ(s.exit_code, 0) << s.out;
  const std::string weights = test::read_file(run + "/weights.pt");
  const std::string model = test::read_file(run + "/model.pt");
  const std::string description = test::read_file(run + "/model.json");
  ASSERT_GT(weights.size(), 1000u);

  // The README's old example, without --config: the run's config is used, output goes to train-1.
  auto t = run_nascent({"train", "--arch", run + "/best_arch.json", "--epochs", "0.2"});
  ASSERT_EQ(t.exit_code, 0) << t.out;
  EXPECT_NE(t.out.find("(config of the run " + run + ")"), std::string::npos) << t.out;
  const auto trained = nlohmann::json::parse(test::read_file(run + "/train-1/train.json"));
  EXPECT_EQ(trained["config"]["task"]["limit"], 1200);
  EXPECT_EQ(trained["epochs"], 0.2);
  EXPECT_EQ(test::read_file(run + "/weights.pt"), weights);
  EXPECT_EQ(test::read_file(run + "/model.pt"), model);
  EXPECT_EQ(test::read_file(run + "/model.json"), description);

  // --run: the next free folder.
  auto r = run_nascent({"train", "--run", run, "--epochs", "0.2"});
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_GT(test::read_file(run + "/train-2/weights.pt").size(), 1000u);

  // Into the run directory itself: refused, naming the file, unless --force.
  auto o = run_nascent({"train", "--run", run, "--epochs", "0.2", "--out", run});
  EXPECT_EQ(o.exit_code, 2) << o.out;
  EXPECT_NE(o.out.find(run + "/weights.pt: --out: exists and would be overwritten"), std::string::npos) << o.out;
  EXPECT_EQ(test::read_file(run + "/weights.pt"), weights);

  // export --run: the run's architecture, weights and config; TorchScript and ONNX side by side
  // keep their own descriptions, both for the run's task (limit 1200: its own normalisation).
  auto e1 = run_nascent({"export", "--run", run, "--out", dir.file("deploy/m.pt")});
  ASSERT_EQ(e1.exit_code, 0) << e1.out;
  auto e2 = run_nascent({"export", "--run", run, "--format", "onnx", "--out", dir.file("deploy/m.onnx")});
  ASSERT_EQ(e2.exit_code, 0) << e2.out;
  const auto ts = nlohmann::json::parse(test::read_file(dir.file("deploy/m.json")));
  const auto ox = nlohmann::json::parse(test::read_file(dir.file("deploy/m.onnx.json")));
  EXPECT_EQ(ts["format"], "torchscript");
  EXPECT_EQ(ox["format"], "onnx");
  const auto run_model = nlohmann::json::parse(description);
  EXPECT_EQ(ts["normalisation"], run_model["normalisation"]);
  EXPECT_EQ(ox["normalisation"], run_model["normalisation"]);
  // Exporting over the run's own model, or over an earlier export, is refused unless --force.
  auto over = run_nascent({"export", "--run", run, "--out", run + "/model.pt"});
  EXPECT_EQ(over.exit_code, 2) << over.out;
  EXPECT_NE(over.out.find(run + "/model.pt: --out: exists and would be overwritten"), std::string::npos) << over.out;
  EXPECT_EQ(test::read_file(run + "/model.pt"), model);
  EXPECT_EQ(test::read_file(run + "/model.json"), description);
  const std::string exported = test::read_file(dir.file("deploy/m.pt"));
  auto again = run_nascent({"export", "--run", run, "--out", dir.file("deploy/m.pt")});
  EXPECT_EQ(again.exit_code, 2) << again.out;
  EXPECT_EQ(test::read_file(dir.file("deploy/m.pt")), exported);
  auto forced = run_nascent({"export", "--run", run, "--out", dir.file("deploy/m.pt"), "--force"});
  EXPECT_EQ(forced.exit_code, 0) << forced.out;
  // best_arch.json carries the task it was searched for; used with another task's config (here
  // a copy that says 3 classes) it is refused by train, export and profile, naming both.
  auto arch = nlohmann::json::parse(test::read_file(run + "/best_arch.json"));
  EXPECT_EQ(arch["task"]["num_classes"], 10);
  EXPECT_EQ(arch["task"]["input_shape"], (std::vector<int64_t>{1, 28, 28}));
  arch["task"]["num_classes"] = 3;
  test::write_file(dir.file("three.json"), arch.dump());
  const std::string want = dir.file("three.json") +
                           ": task: it was searched for image data fashion-mnist with input [1,28,28] and 3 outputs, "
                           "but this task is image data fashion-mnist with input [1,28,28] and 10 outputs (from "
                           "examples/smoke.yaml)";
  for (const std::vector<std::string>& cmd :
       {std::vector<std::string>{"train", "--arch", dir.file("three.json"), "--config", "examples/smoke.yaml",
                                 "--epochs", "0.1", "--out", dir.file("t3")},
        std::vector<std::string>{"export", "--arch", dir.file("three.json"), "--weights", run + "/weights.pt",
                                 "--config", "examples/smoke.yaml", "--out", dir.file("t3.pt")},
        std::vector<std::string>{"profile", "--arch", dir.file("three.json"), "--config", "examples/smoke.yaml"}}) {
    auto m = run_nascent(cmd);
    EXPECT_EQ(m.exit_code, 2) << cmd[0] << ": " << m.out;
    EXPECT_NE(m.out.find(want), std::string::npos) << cmd[0] << ": " << m.out;
  }
  // export --arch/--weights from a run without a config: the weights may come from another
  // training than the run's, so the description is not guessed; exit 2 pointing to --run.
  auto guess = run_nascent(
      {"export", "--arch", run + "/best_arch.json", "--weights", run + "/weights.pt", "--out", dir.file("x.pt")});
  EXPECT_EQ(guess.exit_code, 2) << guess.out;
  EXPECT_NE(guess.out.find(run +
                           "/best_arch.json: --config: no config given for these weights; to export the run's "
                           "model use `nascent export --run " +
                           run + "`"),
            std::string::npos)
      << guess.out;
  EXPECT_FALSE(std::filesystem::exists(dir.file("x.pt")));
  // Both --run and --arch: one clear error.
  auto both = run_nascent({"train", "--run", run, "--arch", run + "/best_arch.json"});
  EXPECT_EQ(both.exit_code, 2) << both.out;
  EXPECT_NE(both.out.find("give either --run DIR"), std::string::npos) << both.out;
}

TEST(TrainAfterSearch, TimeBudgetFitsTheEpochs) {
  TempDir dir;
  const std::string run = dir.file("r");
  auto s = run_nascent({"search", "--config", "examples/smoke.yaml", "--out", run, "--max-trials", "1", "--quiet"});
  ASSERT_EQ(s.exit_code, 0) << s.out;
  // Half a minute on 6,000 images (smoke.yaml's limit): the fitted epochs are recorded with the
  // measurement they came from, and the whole command stays within the budget.
  auto t = run_nascent({"train", "--run", run, "--time-budget", "0.5", "--out", dir.file("t")});
  ASSERT_EQ(t.exit_code, 0) << t.out;
  const auto j = nlohmann::json::parse(test::read_file(dir.file("t/train.json")));
  const auto& split = j["time_split"];
  EXPECT_EQ(split["budget_s"], 30.0);
  EXPECT_GT(split["fit"]["step_seconds"].get<double>(), 0.0);
  EXPECT_EQ(j["epochs"], split["final_epochs"]);
  const double predicted = split["fit"]["epoch_seconds"].get<double>() * j["epochs"].get<double>();
  EXPECT_NEAR(j["train_seconds"].get<double>(), predicted, 0.5 * predicted + 2.0);
  EXPECT_LT(split["job_s"].get<double>(), 30.0 * 1.25);
}

TEST(SmallData, TheSearchWarnsAboutATooSmallValidationSplitAndSaysWhyThereIsNoModel) {
  TempDir dir;
  const std::string run = dir.file("r");
  // 200 images: 20 for validation, 2 per class.
  auto s = run_nascent(
      {"search", "--config", "examples/smoke.yaml", "--out", run, "--max-trials", "2", "--set", "task.limit=200"});
  ASSERT_EQ(s.exit_code, 0) << s.out;
  EXPECT_NE(s.out.find("warning: the validation split has 20 examples for 10 classes (2.0 per class"),
            std::string::npos)
      << s.out;
  const auto summary = nlohmann::json::parse(test::read_file(run + "/summary.json"));
  ASSERT_TRUE(summary.contains("warnings"));
  EXPECT_NE(summary["warnings"][0].get<std::string>().find("raise task.val_fraction (now 0.1)"), std::string::npos);
  // smoke.yaml trains no final model: the summary and the report say so and why.
  EXPECT_NE(summary.value("final_skipped", "").find("final.epochs is 0"), std::string::npos);
  const std::string report = test::read_file(run + "/report.html");
  EXPECT_NE(report.find("id=\"warnings\""), std::string::npos);
  EXPECT_NE(report.find("No final model: final.epochs is 0"), std::string::npos);
}

TEST(SmallData, ATaskOnlyConfigWarnsAndStillEndsWithAModel) {
  TempDir dir;
  // Nothing but the data: 200 images. The defaults rank candidates, warn that 20 validation
  // images cannot rank them well, and train a final model (final.epochs unset: a few epochs).
  test::write_file(dir.file("c.yaml"), "task: {dataset: fashion-mnist, limit: 200}\n");
  auto s = run_nascent({"search", "--config", dir.file("c.yaml"), "--out", dir.file("r"), "--max-trials", "3"});
  ASSERT_EQ(s.exit_code, 0) << s.out;
  EXPECT_NE(s.out.find("warning: the validation split has 20 examples"), std::string::npos) << s.out;
  const auto summary = nlohmann::json::parse(test::read_file(dir.file("r/summary.json")));
  EXPECT_FALSE(summary.contains("final_skipped")) << summary.dump();
  EXPECT_EQ(summary["final"]["epochs"], 5.0) << summary.dump();
  EXPECT_GT(test::read_file(dir.file("r/model.pt")).size(), 1000u);
  const auto model = nlohmann::json::parse(test::read_file(dir.file("r/model.json")));
  EXPECT_EQ(model["class_names"].size(), 10u);
}

}  // namespace
}  // namespace nascent
