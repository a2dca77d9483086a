// One owner per run directory: a second lock on the same directory is refused naming the holder,
// and a holder that dies (kill -9) leaves nothing behind that blocks the next one.
#include "nascent/run/run_lock.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <thread>

#include "support/support.h"

namespace nascent::run {
namespace {

using nascent::test::TempDir;

TEST(RunLock, ASecondOwnerIsRefusedNamingTheHolder) {
  TempDir dir;
  const std::string run = dir.file("r");
  auto first = std::make_unique<RunLock>(run, "--out");
  // The directory is created, and the holder is named by PID and host.
  EXPECT_TRUE(std::filesystem::is_directory(run));
  char host[256] = {0};
  gethostname(host, sizeof host - 1);
  const std::string msg = test::error_of([&] { RunLock second(run, "--out"); });
  EXPECT_EQ(msg, run + ": --out: the run directory is in use by another nascent process (PID " +
                     std::to_string(getpid()) + " on host " + host + "); wait for it to end or stop it, then --resume");
  // Released with its owner.
  first.reset();
  EXPECT_EQ(test::error_of([&] { RunLock again(run, "--out"); }), "");
}

TEST(RunLock, AKilledHolderNeverBlocksTheNextOwner) {
  TempDir dir;
  const std::string run = dir.file("r");
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    RunLock held(run, "--out");
    const char c = 'x';
    if (write(ready[1], &c, 1) != 1) _exit(1);
    for (;;) pause();
  }
  char c = 0;
  ASSERT_EQ(read(ready[0], &c, 1), 1);
  // While the child lives, its PID is named.
  EXPECT_NE(test::error_of([&] { RunLock second(run, "--out"); }).find("(PID " + std::to_string(pid) + " on host"),
            std::string::npos);
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFSIGNALED(status));
  EXPECT_EQ(test::error_of([&] { RunLock next(run, "--out"); }), "");
  close(ready[0]);
  close(ready[1]);
}

}  // namespace
}  // namespace nascent::run
