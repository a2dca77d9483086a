// Searches with worker processes (--workers 2): a worker killed in the middle of a trial becomes
// a failed trial and the search goes on; the search process killed with SIGKILL takes its
// workers with it and resumes with every running trial re-queued.
#include <dirent.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
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
};

std::vector<Row> read_trials(const std::string& db_path) {
  store::Database db(db_path);
  store::Statement s(db, "SELECT id, status, arch, reason, worker FROM trial ORDER BY id");
  std::vector<Row> out;
  while (s.step())
    out.push_back({s.column_int(0), s.column_text(1), s.column_text(2), s.column_text(3), s.column_text(4)});
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

TEST(Workers, AKilledWorkerFailsItsTrialAndTheSearchGoesOn) {
  TempDir dir;
  const std::string out = dir.file("run");
  const pid_t pid = start_nascent({"search", "--config", "examples/smoke.yaml", "--max-trials", "6", "--seed", "2",
                                   "--workers", "2", "--strategy", "random", "--out", out});
  auto rows = wait_for(out + "/experiment.db", [](const auto& r) { return running(r) == 2; });
  ASSERT_EQ(running(rows), 2);
  auto workers = children_of(pid);
  ASSERT_EQ(workers.size(), 2u);
  kill(workers[0], SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  rows = read_trials(out + "/experiment.db");
  ASSERT_EQ(rows.size(), 6u);
  int failed = 0;
  for (const auto& r : rows) {
    if (r.status == "failed") {
      ++failed;
      EXPECT_EQ(r.reason, "worker process died with signal 9 (Killed)");
    } else {
      EXPECT_EQ(r.status, "ok");
    }
    EXPECT_EQ(r.worker.substr(0, 8), "process-");
  }
  EXPECT_EQ(failed, 1);
}

TEST(Workers, Kill9OfTheSearchTakesTheWorkersAndResumeRequeuesAllRunningTrials) {
  TempDir dir;
  const std::vector<std::string> args = {
      "search",    "--config", "examples/smoke.yaml", "--max-trials", "8", "--seed", "3",
      "--workers", "2",        "--strategy",          "random"};
  // Reference: an uninterrupted run. Random search's proposals do not depend on results, so
  // even with two workers the order of proposals is fixed by the seed.
  std::vector<std::string> ref = args;
  ref.push_back("--out");
  ref.push_back(dir.file("ref"));
  ASSERT_EQ(run_nascent(ref).exit_code, 0);
  const auto expected = read_trials(dir.file("ref/experiment.db"));
  ASSERT_EQ(expected.size(), 8u);

  std::vector<std::string> a = args;
  a.push_back("--out");
  a.push_back(dir.file("run"));
  const pid_t pid = start_nascent(a);
  const std::string db = dir.file("run/experiment.db");
  auto rows = wait_for(db, [](const auto& r) { return r.size() >= 4 && running(r) == 2; });
  ASSERT_EQ(running(rows), 2);
  const auto workers = children_of(pid);
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  for (pid_t w : workers) EXPECT_FALSE(alive(w)) << "worker " << w << " outlived the search";
  rows = read_trials(db);
  EXPECT_EQ(running(rows), 2);

  std::vector<std::string> resume = a;
  resume.push_back("--resume");
  auto r = run_nascent(resume);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("2 re-queued"), std::string::npos) << r.out;
  rows = read_trials(db);
  ASSERT_EQ(rows.size(), 8u);
  for (size_t i = 0; i < 8; ++i) {
    EXPECT_EQ(rows[i].status, "ok");
    EXPECT_EQ(rows[i].arch, expected[i].arch) << "trial " << i + 1;
  }
}

}  // namespace
}  // namespace nascent
