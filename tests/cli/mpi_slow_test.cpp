// `mpirun -np 3 nascent search ...`: rank 0 searches, ranks 1 and 2 evaluate. Random search's
// proposals do not depend on results, so the MPI run proposes exactly what a one-process run
// with the same seed proposes, and its trials are spread over both worker ranks. Evolution's do,
// and rank 0 tells results in trial order: a job killed with rank 0 and resumed ends with the
// trials of an uninterrupted MPI run, after one kill at a chosen moment and after a storm of
// twenty at random moments of any rank.
#include <dirent.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <thread>

#include "nascent/store/sqlite.h"
#include "support/support.h"

namespace nascent {
namespace {

TEST(Mpi, RanksEvaluateTheSameProposalsAsOneProcess) {
  test::TempDir dir;
  const std::vector<std::string> args = {"search", "--config", "examples/smoke.yaml", "--max-trials", "6",
                                         "--seed", "4",        "--strategy",          "random"};
  std::vector<std::string> one = args;
  one.insert(one.end(), {"--out", dir.file("one")});
  ASSERT_EQ(test::run_nascent(one).exit_code, 0);

  std::string cmd = "cd '" + test::source_dir() + "' && mpirun --allow-run-as-root --oversubscribe -np 3 '" +
                    test::nascent_binary() + "'";
  for (const auto& a : args) cmd += " '" + a + "'";
  cmd += " --out '" + dir.file("mpi") + "' > '" + dir.file("mpi.log") + "' 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << test::read_file(dir.file("mpi.log"));
  EXPECT_NE(test::read_file(dir.file("mpi.log")).find("2 MPI worker ranks"), std::string::npos);

  auto rows = [](const std::string& db_path) {
    store::Database db(db_path);
    store::Statement s(db, "SELECT arch, status, worker FROM trial ORDER BY id");
    std::vector<std::array<std::string, 3>> out;
    while (s.step()) out.push_back({s.column_text(0), s.column_text(1), s.column_text(2)});
    return out;
  };
  const auto a = rows(dir.file("one/experiment.db"));
  const auto b = rows(dir.file("mpi/experiment.db"));
  ASSERT_EQ(a.size(), 6u);
  ASSERT_EQ(b.size(), 6u);
  std::set<std::string> workers;
  for (size_t i = 0; i < 6; ++i) {
    EXPECT_EQ(a[i][0], b[i][0]) << "trial " << i + 1;
    EXPECT_EQ(b[i][1], "ok");
    workers.insert(b[i][2]);
  }
  EXPECT_EQ(workers, (std::set<std::string>{"mpi-rank-1", "mpi-rank-2"}));
}

// examples/cluster/hostfile as its header says to run it: its slot count places the ranks (a
// fourth rank does not fit without --oversubscribe), and the search spreads over both workers.
TEST(Mpi, TheClusterHostfileExampleRuns) {
  test::TempDir dir;
  const std::string launch =
      "cd '" + test::source_dir() + "' && mpirun --allow-run-as-root --hostfile examples/cluster/hostfile -np ";
  const std::string search =
      " '" + test::nascent_binary() + "' search --config examples/smoke.yaml --max-trials 4 --seed 2 --out '";
  std::string cmd = launch + "3" + search + dir.file("run") + "' > '" + dir.file("run.log") + "' 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << test::read_file(dir.file("run.log"));
  EXPECT_NE(test::read_file(dir.file("run.log")).find("2 MPI worker ranks"), std::string::npos);
  std::set<std::string> workers;
  int ok = 0;
  store::Database db(dir.file("run/experiment.db"));
  store::Statement s(db, "SELECT status, worker FROM trial ORDER BY id");
  while (s.step()) {
    ok += s.column_text(0) == "ok";
    workers.insert(s.column_text(1));
  }
  EXPECT_EQ(ok, 4);
  EXPECT_EQ(workers, (std::set<std::string>{"mpi-rank-1", "mpi-rank-2"}));

  cmd = launch + "4" + search + dir.file("four") + "' > '" + dir.file("four.log") + "' 2>&1";
  EXPECT_NE(std::system(cmd.c_str()), 0);
  EXPECT_NE(test::read_file(dir.file("four.log")).find("not enough slots"), std::string::npos)
      << test::read_file(dir.file("four.log"));
}

// A worker rank reads the data from NASCENT_TASK_PATH when it is set (nodes that hold the data at
// another path than rank 0's): with a folder of links to the same files the search runs on the
// workers; with an empty folder the workers cannot load it and stop the job naming that folder,
// although rank 0's own path is fine.
TEST(Mpi, AWorkerRankReadsTheDataFromItsOwnTaskPath) {
  test::TempDir dir;
  std::filesystem::create_directories(dir.file("node-data"));
  std::filesystem::create_directories(dir.file("empty"));
  for (const auto& e : std::filesystem::directory_iterator("/usr/share/datasets/fashion-mnist"))
    std::filesystem::create_symlink(e.path(), dir.file("node-data/" + e.path().filename().string()));
  auto search = [&](const std::string& data, const std::string& out) {
    const std::string cmd =
        "cd '" + test::source_dir() + "' && mpirun --allow-run-as-root --oversubscribe -np 3 -x NASCENT_TASK_PATH='" +
        data + "' '" + test::nascent_binary() +
        "' search --config examples/smoke.yaml --max-trials 3 --seed 2 --out '" + out + "' > '" + out + ".log' 2>&1";
    return std::system(cmd.c_str());
  };
  ASSERT_EQ(search(dir.file("node-data"), dir.file("linked")), 0) << test::read_file(dir.file("linked.log"));
  store::Database db(dir.file("linked/experiment.db"));
  store::Statement s(db, "SELECT status, worker FROM trial ORDER BY id");
  int ok = 0;
  while (s.step()) ok += s.column_text(0) == "ok" && s.column_text(1).rfind("mpi-rank-", 0) == 0;
  EXPECT_EQ(ok, 3);

  EXPECT_NE(search(dir.file("empty"), dir.file("none")), 0);
  const std::string log = test::read_file(dir.file("none.log"));
  EXPECT_NE(log.find("(mpi rank "), std::string::npos) << log;
  EXPECT_NE(log.find(dir.file("empty")), std::string::npos) << log;
}

std::string mpirun(const std::vector<std::string>& args, const std::string& log) {
  std::string cmd = "cd '" + test::source_dir() + "' && exec mpirun --allow-run-as-root --oversubscribe -np 3 '" +
                    test::nascent_binary() + "'";
  for (const auto& a : args) cmd += " '" + a + "'";
  return cmd + " > '" + log + "' 2>&1";
}

// The process of MPI rank `rank` of the job marked NASCENT_MPI_KILL_TEST, or -1.
pid_t rank_process(int rank) {
  const std::string want = "OMPI_COMM_WORLD_RANK=" + std::to_string(rank);
  DIR* d = opendir("/proc");
  pid_t found = -1;
  while (dirent* e = readdir(d)) {
    const pid_t pid = std::atoi(e->d_name);
    if (pid <= 0) continue;
    std::ifstream env("/proc/" + std::to_string(pid) + "/environ", std::ios::binary);
    std::string var;
    bool is_rank = false, ours = false;
    while (std::getline(env, var, '\0')) {
      is_rank |= var == want;
      ours |= var.rfind("NASCENT_MPI_KILL_TEST=", 0) == 0;
    }
    if (is_rank && ours) found = pid;
  }
  closedir(d);
  return found;
}

pid_t start_job(const std::string& cmd) {
  const pid_t job = fork();
  if (job == 0) {
    execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  return job;
}

void expect_same_trials(const std::string& ref_db, const std::string& db, size_t n) {
  const auto a = test::read_trial_rows(ref_db);
  const auto b = test::read_trial_rows(db);
  ASSERT_EQ(a.size(), n);
  ASSERT_EQ(b.size(), n);
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].status, b[i].status) << "trial " << i + 1;
    EXPECT_EQ(a[i].arch, b[i].arch) << "trial " << i + 1;
    EXPECT_EQ(nlohmann::json::parse(a[i].metrics).value("val_accuracy", -1.0),
              nlohmann::json::parse(b[i].metrics).value("val_accuracy", -1.0))
        << "trial " << i + 1;
  }
}

// An evolution search on the smoke config; `ref` runs it uninterrupted with mpirun (asserted to
// succeed) into dir/ref, `run` is the same command into dir/run.
struct MpiRuns {
  std::vector<std::string> ref, run;
};
MpiRuns reference_and_run(const test::TempDir& dir, int max_trials, int seed) {
  const std::vector<std::string> args = {
      "search", "--config",           "examples/smoke.yaml", "--max-trials", std::to_string(max_trials),
      "--seed", std::to_string(seed), "--strategy",          "evolution"};
  MpiRuns r{args, args};
  r.ref.insert(r.ref.end(), {"--out", dir.file("ref")});
  r.run.insert(r.run.end(), {"--out", dir.file("run")});
  EXPECT_EQ(std::system(mpirun(r.ref, dir.file("ref.log")).c_str()), 0) << test::read_file(dir.file("ref.log"));
  return r;
}

TEST(Mpi, AJobKilledWithRankZeroResumesToTheTrialsOfAnUninterruptedRun) {
  test::TempDir dir;
  auto [ref, run] = reference_and_run(dir, 10, 6);
  if (::testing::Test::HasFailure()) return;

  const pid_t job = start_job("export NASCENT_MPI_KILL_TEST=1; " + mpirun(run, dir.file("run.log")));
  // Killed when four results are in and later trials are running.
  const std::string db = dir.file("run/experiment.db");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(3);
  bool killed = false;
  while (!killed && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (access(db.c_str(), F_OK) != 0) continue;
    try {
      int done = 0, running = 0;
      for (const auto& r : test::read_trial_rows(db)) (r.status == "running" ? running : done)++;
      if (done >= 4 && running > 0) {
        const pid_t r0 = rank_process(0);
        if (r0 > 0) killed = kill(r0, SIGKILL) == 0;
      }
    } catch (const std::exception&) {
    }
  }
  int status = 0;
  waitpid(job, &status, 0);
  ASSERT_TRUE(killed);
  EXPECT_NE(status, 0) << "the job ended normally although rank 0 was killed";

  run.push_back("--resume");
  ASSERT_EQ(std::system(mpirun(run, dir.file("resume.log")).c_str()), 0) << test::read_file(dir.file("resume.log"));
  expect_same_trials(dir.file("ref/experiment.db"), db, 10);
}

// Twenty kill -9s at moments drawn from a fixed seed, of rank 0 (the search) or of an evaluating
// rank, each followed by `mpirun ... --resume`: the run ends with the trials of an uninterrupted
// MPI run with the same seed.
TEST(Mpi, AKillStormOfTwentyKill9sOfAnyRankEndsWithTheTrialsOfAnUninterruptedRun) {
  test::TempDir dir;
  auto [ref, run] = reference_and_run(dir, 14, 9);
  if (::testing::Test::HasFailure()) return;
  std::vector<std::string> resume = run;
  resume.push_back("--resume");

  std::mt19937 rng(5);
  std::uniform_int_distribution<int> delay_ms(300, 3000);
  std::uniform_int_distribution<int> victim(0, 2);
  const std::string db = dir.file("run/experiment.db");
  int kills = 0, of_rank0 = 0;
  for (int i = 0; i < 20; ++i) {
    const std::string log = dir.file("storm" + std::to_string(i) + ".log");
    const pid_t job = start_job("export NASCENT_MPI_KILL_TEST=1; " + mpirun(i == 0 ? run : resume, log));
    // The first job is given time to create the run, so that there is something to resume.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (i == 0 && access(db.c_str(), F_OK) != 0 && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(rng)));
    const int rank = victim(rng);
    pid_t pid = -1;
    while ((pid = rank_process(rank)) < 0 && waitpid(job, nullptr, WNOHANG) == 0 &&
           std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (pid > 0 && kill(pid, SIGKILL) == 0) {
      ++kills;
      of_rank0 += rank == 0;
    }
    waitpid(job, nullptr, 0);
    // A job that finished the run before its kill leaves nothing to interrupt.
  }
  EXPECT_GE(kills, 15);
  EXPECT_GE(of_rank0, 3);
  ASSERT_EQ(std::system(mpirun(resume, dir.file("resume.log")).c_str()), 0) << test::read_file(dir.file("resume.log"));
  expect_same_trials(dir.file("ref/experiment.db"), db, 14);
}

// final.ranks: the final training split over MPI ranks (each trains on its share of every batch,
// gradients summed) ends where one process training on the whole batches ends, with all three
// ranks or with two of them (the third waits). An MLP without dropout or BatchNorm, so that the
// only differences are the rounding of sums (BatchNorm would normalise each share by itself).
TEST(Mpi, FinalTrainingOverRanksEndsWhereOneProcessEnds) {
  test::TempDir dir;
  test::write_file(dir.file("mlp.yaml"), R"(seed: 3
task: {dataset: fashion-mnist, val_fraction: 0.1, limit: 3000}
space: {name: mlp, mlp: {layers: [1, 2], widths: [32, 64], activations: [relu, gelu], dropouts: [0.0], norms: [none, layer]}}
strategy: {name: random}
fidelity: {epochs: 0.5, data_fraction: 0.5}
objective: {metrics: [{name: val_accuracy, direction: max}]}
train: {batch_size: 64}
budget: {max_trials: 1}
final: {epochs: 3}
)");
  const std::vector<std::string> args = {"search", "--config", dir.file("mlp.yaml")};
  std::vector<std::string> one = args;
  one.insert(one.end(), {"--out", dir.file("one")});
  ASSERT_EQ(test::run_nascent(one).exit_code, 0);
  const auto alone = nlohmann::json::parse(test::read_file(dir.file("one/summary.json"))).at("final");
  EXPECT_FALSE(alone.contains("data_parallel"));
  for (const std::string ranks : {"all", "2"}) {
    std::vector<std::string> shared = args;
    shared.insert(shared.end(), {"--set", "final.ranks=" + ranks, "--out", dir.file("mpi" + ranks)});
    ASSERT_EQ(std::system(mpirun(shared, dir.file("mpi" + ranks + ".log")).c_str()), 0)
        << test::read_file(dir.file("mpi" + ranks + ".log"));
    const auto f = nlohmann::json::parse(test::read_file(dir.file("mpi" + ranks + "/summary.json"))).at("final");
    EXPECT_EQ(f.at("data_parallel").at("ranks").get<int>(), ranks == "all" ? 3 : 2);
    EXPECT_GT(f.at("data_parallel").at("images_per_s").get<double>(), 0);
    EXPECT_EQ(f.at("trial"), alone.at("trial"));
    EXPECT_DOUBLE_EQ(f.at("epochs").get<double>(), 3.0);
    EXPECT_NEAR(f.at("train_loss").get<double>(), alone.at("train_loss").get<double>(), 1e-3) << ranks;
    EXPECT_NEAR(f.at("test_loss").get<double>(), alone.at("test_loss").get<double>(), 1e-3) << ranks;
    EXPECT_NEAR(f.at("test_accuracy").get<double>(), alone.at("test_accuracy").get<double>(), 2e-3) << ranks;
    EXPECT_NE(test::read_file(dir.file("mpi" + ranks + ".log")).find("data-parallel over"), std::string::npos);
  }
  // A time-budgeted job: rank 0 re-plans the epochs after each one and the other ranks follow
  // its plan (a disagreement would hang the job in a sum).
  std::vector<std::string> budgeted = args;
  budgeted.insert(budgeted.end(), {"--time-budget", "0.5", "--set", "final.epochs=auto", "--set", "final.ranks=all",
                                   "--set", "final.max_epochs=1000", "--out", dir.file("budget")});
  ASSERT_EQ(std::system(mpirun(budgeted, dir.file("budget.log")).c_str()), 0)
      << test::read_file(dir.file("budget.log"));
  const auto f = nlohmann::json::parse(test::read_file(dir.file("budget/summary.json"))).at("final");
  EXPECT_EQ(f.at("data_parallel").at("ranks").get<int>(), 3);
  EXPECT_GT(f.at("epochs").get<double>(), 1.0);
  EXPECT_LT(f.at("time_split").at("job_s").get<double>(), 0.5 * 60 * 1.2) << f.dump();
  EXPECT_NE(test::read_file(dir.file("budget.log")).find("epochs fit the budget"), std::string::npos)
      << test::read_file(dir.file("budget.log"));
}

}  // namespace
}  // namespace nascent
