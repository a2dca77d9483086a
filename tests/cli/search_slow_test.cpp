// End-to-end searches as real processes: the smoke example, same-seed determinism, kill -9 in
// the middle of a trial followed by --resume, and training the best architecture found.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <torch/script.h>
#include <torch/torch.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "nascent/data/dataset.h"
#include "support/support.h"

namespace nascent {
namespace {

using test::run_nascent;
using test::TempDir;

using Row = test::TrialRow;

std::vector<Row> read_trials(const std::string& db_path) { return test::read_trial_rows(db_path); }

std::vector<std::string> search_args(const std::string& out) {
  return {"search", "--config", "examples/smoke.yaml", "--max-trials", "8", "--seed", "1", "--out", out};
}

TEST(SearchEndToEnd, SmokeRunIsCompleteAndDeterministicAndSurvivesKill9) {
  TempDir dir;
  // Two uninterrupted runs with the same seed propose the same architectures in the same order.
  auto r1 = run_nascent(search_args(dir.file("a")));
  ASSERT_EQ(r1.exit_code, 0) << r1.out;
  auto r2 = run_nascent(search_args(dir.file("b")));
  ASSERT_EQ(r2.exit_code, 0) << r2.out;
  const auto a = read_trials(dir.file("a/experiment.db"));
  const auto b = read_trials(dir.file("b/experiment.db"));
  ASSERT_EQ(a.size(), 8u);
  ASSERT_EQ(b.size(), 8u);
  for (size_t i = 0; i < 8; ++i) {
    EXPECT_EQ(a[i].arch, b[i].arch) << "trial " << i + 1;
    EXPECT_EQ(a[i].status, "ok");
  }
  // Run outputs.
  const auto summary = nlohmann::json::parse(test::read_file(dir.file("a/summary.json")));
  EXPECT_EQ(summary["trials"], 8);
  EXPECT_EQ(summary["status"], "done");
  EXPECT_GT(summary["best"]["metrics"]["val_accuracy"].get<double>(), 0.5);
  EXPECT_NE(test::read_file(dir.file("a/best_arch.json")).find("\"space\": \"chain\""), std::string::npos);
  EXPECT_NE(r1.out.find("trial 8/8"), std::string::npos) << r1.out;

  // Third run: kill -9 in the middle of the fourth trial, then resume.
  const std::string c = dir.file("c");
  // Kill as soon as a fourth (or later) trial is seen running: that is inside its training.
  ASSERT_TRUE(test::kill_during_trial(search_args(c), c + "/experiment.db", 4));
  const std::vector<Row> before = read_trials(c + "/experiment.db");
  ASSERT_GE(before.size(), 4u);
  ASSERT_LT(before.size(), 8u);
  const size_t done_before = before.size() - 1;
  EXPECT_EQ(before.back().status, "running");

  std::vector<std::string> resume = search_args(c);
  resume.push_back("--resume");
  auto r3 = run_nascent(resume);
  ASSERT_EQ(r3.exit_code, 0) << r3.out;
  EXPECT_NE(r3.out.find(fmt::format("resuming: {} trials counted, 1 re-queued", done_before)), std::string::npos)
      << r3.out;
  const auto after = read_trials(c + "/experiment.db");
  ASSERT_EQ(after.size(), 8u);  // exactly --max-trials, none lost, none run twice
  for (size_t i = 0; i < 8; ++i) {
    EXPECT_EQ(after[i].id, static_cast<int64_t>(i) + 1);
    EXPECT_EQ(after[i].status, "ok");
    EXPECT_EQ(after[i].arch, a[i].arch) << "trial " << i + 1;  // same order as uninterrupted
  }
  for (size_t i = 0; i < done_before; ++i)
    EXPECT_EQ(after[i].metrics, before[i].metrics) << "trial " << i + 1 << " changed";

  // Resuming a finished search changes nothing.
  auto r4 = run_nascent(resume);
  ASSERT_EQ(r4.exit_code, 0) << r4.out;
  EXPECT_EQ(read_trials(c + "/experiment.db").size(), 8u);

  // Train the best architecture briefly; weights and test accuracy come out.
  auto t = run_nascent({"train", "--arch", dir.file("a/best_arch.json"), "--config", "examples/smoke.yaml", "--epochs",
                        "1", "--out", dir.file("train")});
  ASSERT_EQ(t.exit_code, 0) << t.out;
  const auto trained = nlohmann::json::parse(test::read_file(dir.file("train/train.json")));
  EXPECT_GT(trained["test_accuracy"].get<double>(), 0.6);
  EXPECT_EQ(trained["epochs"], 1.0);
  EXPECT_GT(test::read_file(dir.file("train/weights.pt")).size(), 1000u);

  // The deployable model beside the weights: a TorchScript file that, loaded by torch alone and
  // given raw pixels in [0, 1], classifies the same test images as well as nascent measured.
  const auto& data = test::fashion_task(6000);  // the smoke config's task: the same test split
  auto accuracy_of = [&](const std::string& path) {
    torch::jit::Module m = torch::jit::load(path);
    torch::NoGradGuard no_grad;
    const torch::Tensor x = data.test.x.to(torch::kFloat32).div(255.0);
    const torch::Tensor logits = m.forward({x}).toTensor();
    return logits.argmax(1).eq(data.test.y).to(torch::kFloat64).mean().item<double>();
  };
  const double n = static_cast<double>(data.test.size());
  EXPECT_NEAR(accuracy_of(dir.file("train/model.pt")), trained["test_accuracy"].get<double>(), 1.0 / n);
  const auto described = nlohmann::json::parse(test::read_file(dir.file("train/model.json")));
  EXPECT_EQ(described["input"]["shape"], nlohmann::json::parse("[null, 1, 28, 28]"));
  EXPECT_EQ(described["normalisation"]["mean"].size(), 1u);

  // nascent export makes the same model from the weights, and refuses weights of another network.
  auto e = run_nascent({"export", "--arch", dir.file("a/best_arch.json"), "--weights", dir.file("train/weights.pt"),
                        "--config", "examples/smoke.yaml", "--out", dir.file("exported/m.pt")});
  ASSERT_EQ(e.exit_code, 0) << e.out;
  EXPECT_NE(e.out.find("max |logit difference| to nascent's network on 256 test examples: 0"), std::string::npos)
      << e.out;
  EXPECT_NEAR(accuracy_of(dir.file("exported/m.pt")), trained["test_accuracy"].get<double>(), 1.0 / n);
  // ... and as ONNX, with the same description.
  auto o = run_nascent({"export", "--arch", dir.file("a/best_arch.json"), "--weights", dir.file("train/weights.pt"),
                        "--config", "examples/smoke.yaml", "--format", "onnx", "--out", dir.file("exported/m.onnx")});
  ASSERT_EQ(o.exit_code, 0) << o.out;
  EXPECT_GT(test::read_file(dir.file("exported/m.onnx")).size(), 10000u);
  const auto onnx_described = nlohmann::json::parse(test::read_file(dir.file("exported/m.onnx.json")));
  EXPECT_EQ(onnx_described["format"], "onnx");
  EXPECT_EQ(onnx_described["input"], described["input"]);
  // The TorchScript export's description beside it is still its own.
  EXPECT_EQ(nlohmann::json::parse(test::read_file(dir.file("exported/m.json")))["format"], "torchscript");
  test::write_file(
      dir.file("other.json"),
      R"({"space": "nb201", "string": "|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|"})");
  auto bad = run_nascent({"export", "--arch", dir.file("other.json"), "--weights", dir.file("train/weights.pt"),
                          "--config", "examples/smoke.yaml", "--out", dir.file("exported/bad.pt")});
  EXPECT_EQ(bad.exit_code, 2) << bad.out;
  EXPECT_NE(
      bad.out.find(dir.file("train/weights.pt") + ": --weights: does not hold weights of this nb201 architecture"),
      std::string::npos)
      << bad.out;
}

TEST(SearchEndToEnd, ASecondWriterOnARunDirectoryIsRefusedAndAKilledOneNeverBlocks) {
  TempDir dir;
  const std::string d = dir.file("d");
  std::vector<std::string> resume = search_args(d);
  resume.push_back("--resume");
  // While the first search is inside a trial, a second --resume on its directory exits 2 at
  // once, naming the holder; then the first is killed with SIGKILL.
  test::CommandResult second;
  ASSERT_TRUE(test::kill_when(search_args(d), [&] {
    if (access((d + "/experiment.db").c_str(), F_OK) != 0) return false;
    try {
      if (read_trials(d + "/experiment.db").size() < 2) return false;
    } catch (const std::exception&) {
      return false;  // the database is being created
    }
    second = run_nascent(resume);
    return true;
  }));
  EXPECT_EQ(second.exit_code, 2) << second.out;
  EXPECT_NE(second.out.find(d + ": --out: the run directory is in use by another nascent process (PID "),
            std::string::npos)
      << second.out;
  // The dead holder leaves nothing behind: the resume is accepted and ends with exactly the budget.
  auto r = run_nascent(resume);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const auto rows = read_trials(d + "/experiment.db");
  ASSERT_EQ(rows.size(), 8u);
  for (const auto& row : rows) EXPECT_EQ(row.status, "ok");
}

}  // namespace
}  // namespace nascent
