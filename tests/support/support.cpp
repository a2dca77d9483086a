#include "support.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <torch/torch.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "nascent/core/allocator.h"
#include "nascent/core/error.h"
#include "nascent/data/dataset.h"
#include "nascent/store/sqlite.h"

namespace nascent::test {
namespace fs = std::filesystem;

namespace {
// Every test process: the CLI's allocator settings, and one torch thread, because ctest runs
// two test processes at once on a 2-core machine and OpenMP threads that outnumber the cores
// spin against each other. (Slow tests run alone; see tests/CMakeLists.txt.)
class NascentEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    tune_allocator();
    torch::set_num_threads(1);
  }
};
const auto* const kEnv = ::testing::AddGlobalTestEnvironment(new NascentEnvironment);
}  // namespace

TempDir::TempDir() {
  std::string tmpl = (fs::temp_directory_path() / "nascent-test-XXXXXX").string();
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (!mkdtemp(buf.data())) throw std::runtime_error("mkdtemp failed");
  path_ = buf.data();
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

std::string nascent_binary() { return NASCENT_BINARY; }
std::string source_dir() { return NASCENT_SOURCE_DIR; }

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'')
      out += "'\\''";
    else
      out += c;
  }
  return out + "'";
}

CommandResult run_nascent(const std::vector<std::string>& args) {
  std::string cmd = "cd " + shell_quote(source_dir()) + " && " + shell_quote(nascent_binary());
  for (const auto& a : args) cmd += " " + shell_quote(a);
  cmd += " 2>&1";
  CommandResult r;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  const int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

std::vector<TrialRow> read_trial_rows(const std::string& db_path) {
  store::Database db(db_path);
  store::Statement s(db, "SELECT id, status, arch, metrics, meta FROM trial ORDER BY id");
  std::vector<TrialRow> out;
  while (s.step())
    out.push_back({s.column_int(0), s.column_text(1), s.column_text(2), s.column_text(3), s.column_text(4)});
  return out;
}

bool kill_when(const std::vector<std::string>& args, const std::function<bool()>& ready) {
  std::vector<std::string> owned = args;
  std::string bin = nascent_binary();
  std::vector<char*> argv{bin.data()};
  for (auto& a : owned) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = fork();
  if (pid < 0) return false;
  if (pid == 0) {
    if (chdir(source_dir().c_str()) != 0) _exit(127);
    if (!freopen("/dev/null", "w", stdout)) _exit(127);
    execv(argv[0], argv.data());
    _exit(127);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(3);
  while (std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (ready()) break;
  }
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFSIGNALED(status);
}

bool kill_during_trial(const std::vector<std::string>& args, const std::string& db_path, size_t min_trials) {
  return kill_when(args, [&] {
    if (access(db_path.c_str(), F_OK) != 0) return false;
    std::vector<TrialRow> rows;
    try {
      rows = read_trial_rows(db_path);
    } catch (const std::exception&) {
      return false;  // the database is being created
    }
    return rows.size() >= min_trials && rows.back().status == "running";
  });
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

const data::TaskData& fashion_task(int64_t limit) {
  static std::map<int64_t, data::TaskData> loaded;
  auto it = loaded.find(limit);
  if (it == loaded.end()) {
    data::TaskOptions o;
    o.limit = limit;
    it = loaded.emplace(limit, data::load_task(o)).first;
  }
  return it->second;
}

}  // namespace nascent::test
