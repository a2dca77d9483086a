// The new strategies end to end as real processes on the smoke example: each runs a search
// whose outputs are complete and whose proposals show the algorithm at work; a reinforce search
// killed with SIGKILL mid-trial resumes to the same proposals as an uninterrupted run; nsga2 on
// (val_accuracy, params) writes a Pareto front that no trial of the run dominates.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "support/support.h"

namespace nascent {
namespace {

using test::run_nascent;
using test::TempDir;

// Small enough settings that each algorithm gets past its random start within 6 trials.
const std::map<std::string, std::vector<std::string>> kSettings = {
    {"reinforce", {"strategy.reinforce.batch=2"}},
    {"nsga2", {"strategy.nsga2.population=3", "strategy.nsga2.offspring=3"}},
    {"local", {"strategy.local.initial=2"}},
    {"bananas", {"strategy.bananas.initial=3", "strategy.bananas.batch=2"}},
};
// A proposal origin (meta.origin) each strategy shows only once its algorithm is running.
const std::map<std::string, std::string> kWorkingOrigin = {
    {"reinforce", "policy"}, {"nsga2", "offspring"}, {"local", "neighbor"}, {"bananas", "acquisition"}};

std::vector<std::string> args_for(const std::string& name, const std::string& out, int trials) {
  std::vector<std::string> a = {"search",
                                "--config",
                                "examples/smoke.yaml",
                                "--strategy",
                                name,
                                "--max-trials",
                                std::to_string(trials),
                                "--seed",
                                "1",
                                "--out",
                                out};
  for (const auto& s : kSettings.at(name)) {
    a.push_back("--set");
    a.push_back(s);
  }
  return a;
}

class NewStrategy : public ::testing::TestWithParam<std::string> {};

TEST_P(NewStrategy, SmokeSearchCompletesWithItsOwnProposals) {
  const std::string name = GetParam();
  TempDir dir;
  auto r = run_nascent(args_for(name, dir.file("run"), 6));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("strategy " + name), std::string::npos) << r.out;
  const auto summary = nlohmann::json::parse(test::read_file(dir.file("run/summary.json")));
  EXPECT_EQ(summary["strategy"], name);
  EXPECT_EQ(summary["trials"], 6);
  EXPECT_EQ(summary["status"], "done");
  EXPECT_EQ(summary["counts"]["ok"], 6);
  EXPECT_GT(summary["best"]["metrics"]["val_accuracy"].get<double>(), 0.5);
  EXPECT_NE(test::read_file(dir.file("run/best_arch.json")).find("\"space\": \"chain\""), std::string::npos);
  const std::string csv = test::read_file(dir.file("run/trials.csv"));
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 7) << csv;
  const auto rows = test::read_trial_rows(dir.file("run/experiment.db"));
  ASSERT_EQ(rows.size(), 6u);
  std::set<std::string> archs;
  int working = 0;
  for (const auto& row : rows) {
    archs.insert(row.arch);
    working += nlohmann::json::parse(row.meta).value("origin", "") == kWorkingOrigin.at(name);
  }
  EXPECT_EQ(archs.size(), 6u) << "an architecture was proposed twice";
  EXPECT_GE(working, 2) << "no proposal came from the algorithm itself";
}

TEST_P(NewStrategy, TightParamsConstraintStillFindsFeasibleArchitectures) {
  // About 4% of the smoke space has at most 4500 parameters; breakers are rejected untrained.
  const std::string name = GetParam();
  TempDir dir;
  std::vector<std::string> args = args_for(name, dir.file("run"), 3);
  args.push_back("--set");
  args.push_back("objective.constraints=[\"params <= 4500\"]");
  auto r = run_nascent(args);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const auto summary = nlohmann::json::parse(test::read_file(dir.file("run/summary.json")));
  EXPECT_EQ(summary["status"], "done");
  EXPECT_EQ(summary["counts"]["ok"], 3);
  EXPECT_GE(summary["counts"]["rejected"].get<int>(), 1);
  EXPECT_LE(summary["best"]["metrics"]["params"].get<double>(), 4500);
  std::set<std::string> rejected;
  for (const auto& row : test::read_trial_rows(dir.file("run/experiment.db"))) {
    if (row.status == "ok") {
      EXPECT_LE(nlohmann::json::parse(row.metrics)["params"].get<double>(), 4500);
    } else if (row.status == "rejected") {
      EXPECT_TRUE(rejected.insert(row.arch).second) << "rejected twice: " << row.arch;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(All, NewStrategy, ::testing::Values("reinforce", "nsga2", "local", "bananas"),
                         [](const auto& info) { return info.param; });

TEST(ReinforceEndToEnd, KilledMidTrialResumesToTheSameProposals) {
  TempDir dir;
  auto whole = run_nascent(args_for("reinforce", dir.file("a"), 8));
  ASSERT_EQ(whole.exit_code, 0) << whole.out;
  const auto a = test::read_trial_rows(dir.file("a/experiment.db"));
  ASSERT_EQ(a.size(), 8u);

  // Killed inside the fifth trial or later: after at least two policy updates (batch 2).
  const std::string c = dir.file("c");
  ASSERT_TRUE(test::kill_during_trial(args_for("reinforce", c, 8), c + "/experiment.db", 5));
  const auto before = test::read_trial_rows(c + "/experiment.db");
  ASSERT_GE(before.size(), 5u);
  ASSERT_LT(before.size(), 8u);
  EXPECT_EQ(before.back().status, "running");

  std::vector<std::string> resume = args_for("reinforce", c, 8);
  resume.push_back("--resume");
  auto r = run_nascent(resume);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find(fmt::format("resuming: {} trials counted, 1 re-queued", before.size() - 1)), std::string::npos)
      << r.out;
  const auto after = test::read_trial_rows(c + "/experiment.db");
  ASSERT_EQ(after.size(), 8u);
  for (size_t i = 0; i < 8; ++i) {
    EXPECT_EQ(after[i].status, "ok");
    EXPECT_EQ(after[i].arch, a[i].arch) << "trial " << i + 1;  // the same policy, the same samples
    EXPECT_EQ(after[i].meta, a[i].meta) << "trial " << i + 1;
  }
}

TEST(Nsga2EndToEnd, ParetoFrontOfAccuracyAndParamsIsNotDominatedByAnyTrial) {
  TempDir dir;
  std::vector<std::string> args = {
      "search", "--config", "examples/smoke.yaml", "--strategy", "nsga2", "--max-trials", "8", "--seed",
      "2",      "--out",    dir.file("mo")};
  for (const std::string s :
       {"strategy.nsga2.population=4", "strategy.nsga2.offspring=4",
        "objective.metrics=[{name: val_accuracy, direction: max}, {name: params, direction: min}]"}) {
    args.push_back("--set");
    args.push_back(s);
  }
  auto r = run_nascent(args);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const auto summary = nlohmann::json::parse(test::read_file(dir.file("mo/summary.json")));
  EXPECT_EQ(summary["objective"], "maximise val_accuracy, minimise params");
  const auto& front = summary["pareto"];
  ASSERT_GE(front.size(), 1u);
  const auto rows = test::read_trial_rows(dir.file("mo/experiment.db"));
  ASSERT_EQ(rows.size(), 8u);
  auto acc = [](const nlohmann::json& m) { return m.at("val_accuracy").get<double>(); };
  auto params = [](const nlohmann::json& m) { return m.at("params").get<double>(); };
  std::set<int64_t> on_front;
  for (const auto& f : front) on_front.insert(f["trial"].get<int64_t>());
  for (const auto& row : rows) {
    ASSERT_EQ(row.status, "ok");
    const auto m = nlohmann::json::parse(row.metrics);
    bool dominated = false;
    for (const auto& f : front) {
      const auto& fm = f["metrics"];
      // No trial of the run dominates a front member...
      const bool beats = acc(m) >= acc(fm) && params(m) <= params(fm) && (acc(m) > acc(fm) || params(m) < params(fm));
      EXPECT_FALSE(beats) << "trial " << row.id << " dominates front member " << f["trial"];
      dominated |= acc(fm) >= acc(m) && params(fm) <= params(m) && (acc(fm) > acc(m) || params(fm) < params(m));
    }
    // ...and every trial off the front is dominated by a member (or repeats one).
    if (!on_front.count(row.id)) {
      bool same = false;
      for (const auto& f : front) same |= acc(f["metrics"]) == acc(m) && params(f["metrics"]) == params(m);
      EXPECT_TRUE(dominated || same) << "trial " << row.id << " is missing from the front";
    }
  }
  // Best first by accuracy, and strictly fewer params down the list (a front of two metrics).
  for (size_t i = 1; i < front.size(); ++i) {
    EXPECT_GE(acc(front[i - 1]["metrics"]), acc(front[i]["metrics"]));
    EXPECT_GT(params(front[i - 1]["metrics"]), params(front[i]["metrics"]));
  }
}

}  // namespace
}  // namespace nascent
