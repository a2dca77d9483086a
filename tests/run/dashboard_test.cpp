// The dashboard's data: which directories are runs, and a run's snapshot as the page draws it,
// read from a real experiment database that is never written.
#include "nascent/run/dashboard.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "nascent/run/dashboard_server.h"
#include "nascent/space/nb201.h"
#include "nascent/store/store.h"
#include "support/support.h"

namespace nascent::run {
namespace {

using test::TempDir;
namespace fs = std::filesystem;

const nlohmann::json kConfig = {
    {"space", {{"name", "nb201"}, {"nb201", {{"C", 8}, {"N", 1}}}}},
    {"objective",
     {{"metrics", {{{"name", "val_accuracy"}, {"direction", "max"}}}}, {"constraints", {"params <= 1000"}}}}};

space::Nb201Space nb201() {
  space::Nb201Options o;
  o.C = 8;
  o.N = 1;
  return space::Nb201Space(o);
}

// Adds a finished trial with the given choices (one per nb201 edge) and metrics.
void add(store::Store& s, const space::SearchSpace& space, std::vector<int> choices, TrialStatus status,
         Metrics metrics) {
  Trial t;
  t.proposal = Proposal{Arch{space.name(), std::move(choices)}, Fidelity{1, 0.5, 0, 1}, {}};
  t.id = s.begin_trial(t.proposal, nlohmann::json::object(), "inline");
  t.status = status;
  t.metrics = std::move(metrics);
  t.started = 1000.0 + static_cast<double>(t.id);
  t.ended = t.started + 0.5;
  if (status == TrialStatus::kFailed) t.reason = "loss became nan";
  s.finish_trial(t, nlohmann::json::object(), static_cast<double>(t.id));
}

TEST(Dashboard, FindsRunDirectoriesUpToThreeLevelsDown) {
  TempDir dir;
  const auto space = nb201();
  for (const char* d : {"a", "group/b", "group/sub/c", "too/deep/down/d", "empty"}) {
    fs::create_directories(dir.file(d));
    if (std::string(d) != "empty") store::Store::create(dir.file(std::string(d) + "/experiment.db"), kConfig, 0, space);
  }
  EXPECT_EQ(find_runs(dir.path()), (std::vector<std::string>{"a", "group/b", "group/sub/c"}));
  EXPECT_EQ(find_runs(dir.file("a")), std::vector<std::string>{"."});
  EXPECT_TRUE(find_runs(dir.file("empty")).empty());
  EXPECT_TRUE(find_runs(dir.file("missing")).empty());
}

TEST(Dashboard, SnapshotHoldsTheTrialsTheBestTheAlphasAndNeverWritesTheRun) {
  TempDir dir;
  const auto space = nb201();
  const std::string db = dir.file("experiment.db");
  {
    auto s = store::Store::create(db, kConfig, 7, space);
    add(*s, space, {0, 1, 2, 3, 4, 0}, TrialStatus::kOk, {{"val_accuracy", 0.6}, {"params", 800}});
    // Better, but breaks params <= 1000: never the best.
    add(*s, space, {1, 1, 1, 1, 1, 1}, TrialStatus::kOk, {{"val_accuracy", 0.9}, {"params", 5000}});
    add(*s, space, {2, 2, 2, 2, 2, 2}, TrialStatus::kOk,
        {{"val_accuracy", 0.7}, {"params", 900}, {"val_accuracy_epoch_1", 0.5}, {"val_accuracy_epoch_2", 0.7}});
    add(*s, space, {3, 3, 3, 3, 3, 3}, TrialStatus::kFailed, {});
    s->begin_trial(Proposal{Arch{space.name(), {4, 4, 4, 4, 4, 4}}, Fidelity{1, 0.5, 0, 1}, {}},
                   nlohmann::json::object(), "inline");
    // Asked ahead of a free worker: stored as running with worker "queued", shown as waiting.
    s->begin_trial(Proposal{Arch{space.name(), {0, 0, 0, 0, 0, 1}}, Fidelity{1, 0.5, 0, 1}, {}},
                   nlohmann::json::object(), "queued");
    s->record_event(
        "supernet_epoch", 1,
        {{"epoch", 1}, {"train_loss", 2.0}, {"alphas", {{space.decisions()[0].name, {0.1, 0.2, 0.3, 0.2, 0.2}}}}});
  }
  RunReader reader(dir.path());
  const nlohmann::json s = reader.snapshot("mine");
  EXPECT_EQ(s["name"], "mine");
  EXPECT_EQ(s["status"], "running");
  EXPECT_EQ(s["space"], "nb201");
  EXPECT_EQ(s["seed"], 7);
  EXPECT_EQ(s["metric"], "val_accuracy");
  EXPECT_EQ(s["counts"]["ok"], 3);
  EXPECT_EQ(s["counts"]["failed"], 1);
  EXPECT_EQ(s["counts"]["running"], 1);
  EXPECT_EQ(s["counts"]["queued"], 1);
  ASSERT_EQ(s["trials"].size(), 6u);
  EXPECT_EQ(s["trials"][4]["status"], "running");
  EXPECT_EQ(s["trials"][5]["status"], "queued");
  EXPECT_EQ(s["trials"][0]["choices"], (std::vector<int>{0, 1, 2, 3, 4, 0}));
  EXPECT_EQ(s["trials"][3]["reason"], "loss became nan");
  // The learning curve travels as "curve", not as metrics.
  EXPECT_EQ(s["trials"][2]["curve"], (std::vector<double>{0.5, 0.7}));
  EXPECT_FALSE(s["trials"][2]["metrics"].contains("val_accuracy_epoch_1"));
  // The best feasible trial: #3 (0.7), not #2 (0.9 with 5000 parameters).
  ASSERT_TRUE(s["best"].is_object());
  EXPECT_EQ(s["best"]["id"], 3);
  EXPECT_DOUBLE_EQ(s["best"]["value"].get<double>(), 0.7);
  EXPECT_NE(s["best"]["diagram"].get<std::string>().find("<svg"), std::string::npos);
  EXPECT_TRUE(s["trials"][2]["pareto"].get<bool>());
  EXPECT_FALSE(s["trials"][1]["pareto"].get<bool>());
  ASSERT_EQ(s["decisions"].size(), space.num_decisions());
  // The supernet's alphas with the names of the operations of their edge.
  ASSERT_EQ(s["supernet"].size(), 1u);
  EXPECT_EQ(s["alpha_ops"][space.decisions()[0].name], space.decisions()[0].options);
  ASSERT_FALSE(s["in_short"].empty());
  EXPECT_EQ(s["in_short"][0].get<std::string>().rfind("The best architecture is trial #3 (", 0), 0u);
  // Too few trials for the importance.
  EXPECT_TRUE(s["importance"].is_null());
  const std::string version = s["version"];
  EXPECT_EQ(reader.snapshot("mine")["version"], version);  // nothing changed, same version

  // A search goes on beside the reader: the next snapshot sees its trials and the importance.
  {
    auto w = store::Store::open(db, space);
    for (int i = 0; i < 10; ++i)
      add(*w, space, {i % 5, 0, 0, 0, 0, 0}, TrialStatus::kOk, {{"val_accuracy", 0.1 * (i % 5)}, {"params", 500}});
  }
  const nlohmann::json later = reader.snapshot("mine");
  EXPECT_EQ(later["trials"].size(), 16u);
  EXPECT_NE(later["version"], version);
  ASSERT_TRUE(later["importance"].is_object());
  EXPECT_EQ(later["importance"]["decisions"][0]["decision"], space.decisions()[0].name);
  const nlohmann::json o = reader.overview("mine");
  EXPECT_EQ(o["trials"], 16);
  EXPECT_DOUBLE_EQ(o["best"].get<double>(), 0.7);
}

TEST(Dashboard, TheReaderNeverWritesTheDatabase) {
  TempDir dir;
  const auto space = nb201();
  const std::string db = dir.file("experiment.db");
  {
    auto s = store::Store::create(db, kConfig, 0, space);
    add(*s, space, {0, 0, 0, 0, 0, 0}, TrialStatus::kOk, {{"val_accuracy", 0.5}});
  }
  const std::string before = test::read_file(db);
  auto ro = store::Store::open_read_only(db, space);
  EXPECT_EQ(ro->trials().size(), 1u);
  EXPECT_ANY_THROW(ro->begin_trial(Proposal{Arch{space.name(), {1, 1, 1, 1, 1, 1}}, Fidelity{1, 0.5, 0, 1}, {}},
                                   nlohmann::json::object(), "inline"));
  ro.reset();
  RunReader(dir.path()).snapshot("x");
  EXPECT_EQ(test::read_file(db), before);
}

TEST(Dashboard, LoopbackHostsNeedNoTokenOthersDo) {
  EXPECT_TRUE(is_loopback("127.0.0.1"));
  EXPECT_TRUE(is_loopback("localhost"));
  EXPECT_TRUE(is_loopback("::1"));
  EXPECT_FALSE(is_loopback("0.0.0.0"));
  EXPECT_FALSE(is_loopback("192.168.1.5"));
  const std::string a = random_token(), b = random_token();
  EXPECT_EQ(a.size(), 32u);
  EXPECT_NE(a, b);
  EXPECT_EQ(a.find_first_not_of("0123456789abcdef"), std::string::npos);
}

TEST(Dashboard, ThePageCarriesItsTokenAndLoadsChartJsFromTheServer) {
  const std::string page = dashboard_page("abc123");
  EXPECT_NE(page.find("<script src=\"/chart.js?token=abc123\"></script>"), std::string::npos);
  EXPECT_NE(page.find("data-token=\"abc123\""), std::string::npos);
  EXPECT_EQ(dashboard_page("").find("?token="), std::string::npos);
  EXPECT_NE(dashboard_page("").find("<script src=\"/chart.js\"></script>"), std::string::npos);
}

}  // namespace
}  // namespace nascent::run
