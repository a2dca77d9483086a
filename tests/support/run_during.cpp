#include "support/run_during.h"

#include <sys/wait.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>

namespace nascent::test {

namespace {
std::string quoted(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}
}  // namespace

CommandResult run_nascent_during(const std::vector<std::string>& args, const std::function<void()>& during,
                                 const std::string& prefix) {
  std::string cmd = "cd " + quoted(source_dir()) + " && " + prefix + " " + quoted(nascent_binary());
  for (const auto& a : args) cmd += " " + quoted(a);
  cmd += " 2>&1";
  CommandResult r;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  std::atomic<bool> ended{false};
  std::thread poller([&] {
    while (!ended) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      if (!ended) during();
    }
  });
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  const int status = pclose(p);
  ended = true;
  poller.join();
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

}  // namespace nascent::test
