// The scheduler and early-stopping sections through the command line: bad names and values are
// one line naming the field, exit code 2, before any data is loaded.
#include <gtest/gtest.h>

#include "support/support.h"

namespace nascent {
namespace {

using test::run_nascent;

TEST(SchedulerCli, UnknownSchedulerAndBadOptionsAreNamed) {
  auto r = run_nascent(
      {"search", "--config", "examples/smoke.yaml", "--scheduler", "fifo", "--out", "/tmp/nascent-never-created"});
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find("examples/smoke.yaml: scheduler.name: unknown name 'fifo'; known: none, sha, hyperband"),
            std::string::npos)
      << r.out;
  r = run_nascent({"search", "--config", "examples/smoke.yaml", "--scheduler", "hyperband", "--set",
                   "scheduler.hyperband.eta=1", "--out", "/tmp/nascent-never-created"});
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find("scheduler.hyperband.eta: 1 is out of range; expected 2 to 100"), std::string::npos) << r.out;
  // Every scheduler section is checked, not only the selected one.
  r = run_nascent({"search", "--config", "examples/smoke.yaml", "--set", "scheduler.sha.max_epochs=0.4", "--out",
                   "/tmp/nascent-never-created"});
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find("scheduler.sha.max_epochs: 0.4 leaves no room for halving"), std::string::npos) << r.out;
  r = run_nascent({"search", "--config", "examples/smoke.yaml", "--set", "early_stopping.rule=mean", "--out",
                   "/tmp/nascent-never-created"});
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find("early_stopping.rule"), std::string::npos) << r.out;
  auto help = run_nascent({"search", "--help"});
  EXPECT_NE(help.out.find("--scheduler"), std::string::npos) << help.out;
}

}  // namespace
}  // namespace nascent
