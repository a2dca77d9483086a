// Searches with worker processes (--workers 2): a worker killed in the middle of a trial is
// replaced and the trial evaluated again (a second death fails it) while the search goes on; the search process killed
// with SIGKILL takes its workers with it, and resumes re-queue every running trial and end with exactly the trials of
// an uninterrupted run.
#include <dirent.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "nascent/store/sqlite.h"
#include "support/support.h"

namespace nascent {
namespace {

using test::run_nascent;
using test::TempDir;

struct Row {
  int64_t id;
  std::string status, arch, reason, worker;
  double val_accuracy;
};

std::vector<Row> read_trials(const std::string& db_path) {
  store::Database db(db_path);
  store::Statement s(db,
                     "SELECT id, status, arch, reason, worker, coalesce(json_extract(metrics, '$.val_accuracy'), -1) "
                     "FROM trial ORDER BY id");
  std::vector<Row> out;
  while (s.step())
    out.push_back(
        {s.column_int(0), s.column_text(1), s.column_text(2), s.column_text(3), s.column_text(4), s.column_double(5)});
  return out;
}

pid_t start_nascent(const std::vector<std::string>& args) {
  std::vector<std::string> a = args;
  std::string bin = test::nascent_binary();
  std::vector<char*> argv{bin.data()};
  for (auto& s : a) argv.push_back(s.data());
  argv.push_back(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    if (chdir(test::source_dir().c_str()) != 0) _exit(127);
    if (!freopen("/dev/null", "w", stdout)) _exit(127);
    execv(argv[0], argv.data());
    _exit(127);
  }
  return pid;
}

std::vector<pid_t> children_of(pid_t parent) {
  std::vector<pid_t> out;
  std::ifstream in("/proc/" + std::to_string(parent) + "/task/" + std::to_string(parent) + "/children");
  pid_t p;
  while (in >> p) out.push_back(p);
  return out;
}

// Running (a zombie waiting for its new parent to reap it counts as dead).
bool alive(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string pid_field, comm, state;
  if (!(in >> pid_field >> comm >> state)) return false;
  return state != "Z" && state != "X";
}

// Polls the database until `ready` holds for its rows.
template <typename Pred>
std::vector<Row> wait_for(const std::string& db, Pred ready) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(3);
  std::vector<Row> rows;
  while (std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (access(db.c_str(), F_OK) != 0) continue;
    try {
      rows = read_trials(db);
    } catch (const std::exception&) {
      continue;
    }
    if (ready(rows)) break;
  }
  return rows;
}

int running(const std::vector<Row>& rows) {
  int n = 0;
  for (const auto& r : rows) n += r.status == "running";
  return n;
}

const std::vector<std::string> kSixRandom = {
    "search",    "--config", "examples/smoke.yaml", "--max-trials", "6", "--seed", "2",
    "--workers", "2",        "--strategy",          "random"};

std::vector<std::string> out_to(std::vector<std::string> args, const std::string& out) {
  args.push_back("--out");
  args.push_back(out);
  return args;
}

// Two new live workers of the search, other than `old`.
std::vector<pid_t> wait_for_new_workers(pid_t search, const std::vector<pid_t>& old) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(1);
  std::vector<pid_t> fresh;
  while (std::chrono::steady_clock::now() < deadline) {
    fresh.clear();
    for (pid_t p : children_of(search))
      if (alive(p) && std::find(old.begin(), old.end(), p) == old.end()) fresh.push_back(p);
    if (fresh.size() == 2) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return fresh;
}

// Starts the six-trial search and waits until two trials are with the workers and two asked
// ahead of them; returns the search's pid and its two workers.
std::pair<pid_t, std::vector<pid_t>> start_with_both_workers_busy(const std::string& out) {
  const pid_t pid = start_nascent(out_to(kSixRandom, out));
  const auto rows = wait_for(out + "/experiment.db", [](const auto& r) { return running(r) == 4; });
  EXPECT_EQ(running(rows), 4);
  return {pid, children_of(pid)};
}

// Waits for the search to end and expects a normal exit 0; returns its trials.
std::vector<Row> trials_after_exit(pid_t pid, const std::string& out) {
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  return read_trials(out + "/experiment.db");
}

TEST(Workers, AWorkerKilledOnceIsReplacedAndItsTrialRunsAgainUnchanged) {
  TempDir dir;
  ASSERT_EQ(run_nascent(out_to(kSixRandom, dir.file("ref"))).exit_code, 0);
  const auto expected = read_trials(dir.file("ref/experiment.db"));
  const std::string out = dir.file("run");
  const auto [pid, workers] = start_with_both_workers_busy(out);
  ASSERT_EQ(workers.size(), 2u);
  kill(workers[0], SIGKILL);
  const auto rows = trials_after_exit(pid, out);
  ASSERT_EQ(rows.size(), 6u);
  for (size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(rows[i].status, "ok") << rows[i].reason;
    EXPECT_EQ(rows[i].arch, expected[i].arch);
    EXPECT_EQ(rows[i].val_accuracy, expected[i].val_accuracy);
    EXPECT_EQ(rows[i].worker.substr(0, 8), "process-");
  }
}

TEST(Workers, ATrialWhoseWorkerDiesTwiceFailsAndTheSearchGoesOn) {
  TempDir dir;
  const std::string out = dir.file("run");
  const auto [pid, first] = start_with_both_workers_busy(out);
  ASSERT_EQ(first.size(), 2u);
  for (pid_t w : first) kill(w, SIGKILL);
  // The new workers were handed the same two trials again: killing them fails both.
  const auto second = wait_for_new_workers(pid, first);
  ASSERT_EQ(second.size(), 2u);
  for (pid_t w : second) kill(w, SIGKILL);
  const auto rows = trials_after_exit(pid, out);
  ASSERT_EQ(rows.size(), 6u);
  int failed = 0;
  for (const auto& r : rows) {
    if (r.status == "failed") {
      ++failed;
      EXPECT_EQ(r.reason, "worker process died with signal 9 (Killed), twice");
    } else {
      EXPECT_EQ(r.status, "ok");
    }
  }
  EXPECT_EQ(failed, 2);
}

TEST(Workers, Kill9OfTheSearchTakesTheWorkersAndResumeEndsWithTheUninterruptedTrials) {
  TempDir dir;
  // Evolution's proposals depend on the results, which two workers deliver in any order: the
  // search tells them in trial order, so kills at two moments and two resumes still end with the
  // trials (architectures, statuses, validation accuracies) of an uninterrupted run.
  const std::vector<std::string> args = {
      "search",    "--config", "examples/smoke.yaml", "--max-trials", "12", "--seed", "3",
      "--workers", "2",        "--strategy",          "evolution"};
  std::vector<std::string> ref = args;
  ref.push_back("--out");
  ref.push_back(dir.file("ref"));
  ASSERT_EQ(run_nascent(ref).exit_code, 0);
  const auto expected = read_trials(dir.file("ref/experiment.db"));
  ASSERT_EQ(expected.size(), 12u);

  std::vector<std::string> a = args;
  a.push_back("--out");
  a.push_back(dir.file("run"));
  const std::string db = dir.file("run/experiment.db");
  std::vector<std::string> resume = a;
  resume.push_back("--resume");
  for (const size_t finished_before_kill : {3u, 8u}) {
    const pid_t pid = start_nascent(finished_before_kill == 3 ? a : resume);
    auto rows = wait_for(db, [&](const auto& r) { return r.size() - running(r) >= finished_before_kill; });
    ASSERT_GE(running(rows), 1);
    const auto workers = children_of(pid);
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    for (pid_t w : workers) EXPECT_FALSE(alive(w)) << "worker " << w << " outlived the search";
  }
  const auto at_kill = read_trials(db);
  auto r = run_nascent(resume);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find(fmt::format("{} re-queued", running(at_kill))), std::string::npos) << r.out;
  const auto rows = read_trials(db);
  ASSERT_EQ(rows.size(), 12u);
  for (size_t i = 0; i < 12; ++i) {
    EXPECT_EQ(rows[i].status, expected[i].status) << "trial " << i + 1;
    EXPECT_EQ(rows[i].arch, expected[i].arch) << "trial " << i + 1;
    EXPECT_EQ(rows[i].val_accuracy, expected[i].val_accuracy) << "trial " << i + 1;
  }
}

TEST(Workers, AKillStormOfTwelveKill9sEndsWithTheTrialsOfAnUninterruptedRun) {
  TempDir dir;
  const std::vector<std::string> args = {
      "search",    "--config", "examples/smoke.yaml", "--max-trials", "16", "--seed", "8",
      "--workers", "2",        "--strategy",          "evolution"};
  ASSERT_EQ(run_nascent(out_to(args, dir.file("ref"))).exit_code, 0);
  const auto expected = read_trials(dir.file("ref/experiment.db"));
  ASSERT_EQ(expected.size(), 16u);

  // Twelve kill -9s at moments drawn from a fixed seed (0.5 to 4 s after each start: while the
  // workers load the data, inside trials, between them), each followed by --resume.
  std::vector<std::string> run = out_to(args, dir.file("run"));
  std::vector<std::string> resume = run;
  resume.push_back("--resume");
  std::mt19937 rng(11);
  std::uniform_int_distribution<int> delay_ms(500, 4000);
  int kills = 0;
  for (int i = 0; i < 12; ++i) {
    const pid_t pid = start_nascent(i == 0 ? run : resume);
    // The first start is given time to create the run, so that there is something to resume.
    if (i == 0) wait_for(dir.file("run/experiment.db"), [](const auto& r) { return !r.empty(); });
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(rng)));
    kills += kill(pid, SIGKILL) == 0;
    waitpid(pid, nullptr, 0);
  }
  EXPECT_GE(kills, 10);
  auto r = run_nascent(resume);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const auto rows = read_trials(dir.file("run/experiment.db"));
  ASSERT_EQ(rows.size(), 16u);
  for (size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(rows[i].status, expected[i].status) << "trial " << i + 1;
    EXPECT_EQ(rows[i].arch, expected[i].arch) << "trial " << i + 1;
    EXPECT_EQ(rows[i].val_accuracy, expected[i].val_accuracy) << "trial " << i + 1;
  }
}

}  // namespace
}  // namespace nascent
