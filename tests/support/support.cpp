#include "support.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <torch/torch.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "nascent/core/allocator.h"

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

}  // namespace nascent::test
