// Runs this benchmark's own binary again as `self --child ARGS...` in a fresh process and returns
// what the child printed on stdout, so that each measured case starts from a clean heap and its
// own peak memory.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

namespace nascent::bench {

inline std::string child_output(const char* self, const std::vector<std::string>& args) {
  int fd[2];
  if (pipe(fd) != 0) return "";
  const pid_t pid = fork();
  if (pid == 0) {
    close(fd[0]);
    dup2(fd[1], STDOUT_FILENO);
    std::vector<char*> argv = {const_cast<char*>(self), const_cast<char*>("--child")};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(self, argv.data());
    _exit(127);
  }
  close(fd[1]);
  std::string out;
  char buf[512];
  ssize_t n;
  while ((n = read(fd[0], buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  close(fd[0]);
  waitpid(pid, nullptr, 0);
  return out;
}

}  // namespace nascent::bench
