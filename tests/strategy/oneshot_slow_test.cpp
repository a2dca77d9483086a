// One-shot strategies end to end through the real binary on the smoke config: the supernet
// search, its per-epoch events in the experiment database, the derived architecture trained as
// a trial, and for darts a kill -9 in the middle of a supernet epoch followed by --resume.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "nascent/space/nb201.h"
#include "nascent/store/store.h"
#include "support/support.h"

namespace nascent {
namespace {

using test::run_nascent;
using test::TempDir;

std::vector<std::string> args(const std::string& strategy, const std::string& out) {
  // The derived architectures' trials train on a fifth of the data: the supernet is what is tested.
  return {"search",           "--config", "examples/smoke.yaml",        "--strategy", strategy, "--set",
          "space.name=nb201", "--set",    "fidelity.data_fraction=0.2", "--out",      out};
}

space::Nb201Space smoke_nb201() {
  space::Nb201Options o;
  o.C = 8;
  o.N = 1;
  return space::Nb201Space(o);
}

std::vector<store::StoredEvent> epochs_of(const std::string& db) {
  auto space = smoke_nb201();
  return store::Store::open(db, space)->events("supernet_epoch");
}

nlohmann::json best_arch(const std::string& out) {
  return nlohmann::json::parse(test::read_file(out + "/best_arch.json"));
}

TEST(OneShotEndToEnd, DartsSmokeSearchThenKill9MidEpochResumesToTheSameArchitecture) {
  TempDir dir;
  const std::string a = dir.file("a");
  auto r = run_nascent(args("darts", a));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("darts epoch 2/2"), std::string::npos) << r.out;
  const auto arch = best_arch(a);
  EXPECT_EQ(arch.at("space"), "nb201");
  const auto rows = test::read_trial_rows(a + "/experiment.db");
  ASSERT_EQ(rows.size(), 1u);  // darts proposes the one derived architecture
  EXPECT_EQ(rows[0].status, "ok");
  const auto events = epochs_of(a + "/experiment.db");
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events.back().data.at("derived").at("choices"), arch.at("choices")) << arch.dump();
  EXPECT_TRUE(std::filesystem::exists(a + "/checkpoints/darts_supernet.pt"));

  // kill -9 once the first epoch's checkpoint exists and the second epoch is under way.
  const std::string b = dir.file("b");
  const std::string ckpt = b + "/checkpoints/darts_supernet.pt";
  ASSERT_TRUE(test::kill_when(args("darts", b), [&] {
    if (!std::filesystem::exists(ckpt)) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    return true;
  }));
  const auto before = epochs_of(b + "/experiment.db");
  ASSERT_GE(before.size(), 1u);
  ASSERT_LT(before.size(), 2u);
  EXPECT_TRUE(test::read_trial_rows(b + "/experiment.db").empty());
  auto resume = args("darts", b);
  resume.push_back("--resume");
  auto r2 = run_nascent(resume);
  ASSERT_EQ(r2.exit_code, 0) << r2.out;
  EXPECT_NE(r2.out.find("resuming the supernet from its checkpoint"), std::string::npos) << r2.out;
  const auto after = epochs_of(b + "/experiment.db");
  ASSERT_EQ(after.size(), 2u);
  // Resumed exactly: the same alphas at the end, so the same derived architecture.
  EXPECT_EQ(after.back().data.at("alphas"), events.back().data.at("alphas"));
  EXPECT_EQ(best_arch(b).at("choices"), arch.at("choices"));
}

TEST(OneShotEndToEnd, GdasSmokeSearchProposesItsDerivedArchitecture) {
  TempDir dir;
  const std::string out = dir.file("g");
  auto r = run_nascent(args("gdas", out));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const auto arch = best_arch(out);
  EXPECT_EQ(arch.at("space"), "nb201");
  const auto events = epochs_of(out + "/experiment.db");
  ASSERT_EQ(events.size(), 2u);
  EXPECT_DOUBLE_EQ(events.front().data.at("tau").get<double>(), 10.0);  // annealed tau_max -> tau_min
  EXPECT_NEAR(events.back().data.at("tau").get<double>(), 0.1, 1e-12);
  EXPECT_EQ(events.back().data.at("derived").at("choices"), arch.at("choices"));
  const auto rows = test::read_trial_rows(out + "/experiment.db");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].status, "ok");
}

TEST(OneShotEndToEnd, SposSmokeSearchProposesItsTopArchitectures) {
  TempDir dir;
  const std::string out = dir.file("s");
  auto r = run_nascent(args("spos", out));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("spos generation 2/2"), std::string::npos) << r.out;
  EXPECT_EQ(best_arch(out).at("space"), "nb201");
  ASSERT_EQ(epochs_of(out + "/experiment.db").size(), 2u);
  const auto rows = test::read_trial_rows(out + "/experiment.db");
  ASSERT_EQ(rows.size(), 2u);  // top_k: 2 in the smoke config
  EXPECT_NE(rows[0].arch, rows[1].arch);
  for (const auto& row : rows) EXPECT_EQ(row.status, "ok");
  // The proposals carry their supernet accuracy, best first.
  const auto m0 = nlohmann::json::parse(rows[0].meta), m1 = nlohmann::json::parse(rows[1].meta);
  EXPECT_GE(m0.at("supernet_accuracy").get<double>(), m1.at("supernet_accuracy").get<double>());
}

}  // namespace
}  // namespace nascent
