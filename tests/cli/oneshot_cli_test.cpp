// Command-line errors of the one-shot strategies: each is one line naming what is wrong.
#include <gtest/gtest.h>

#include "support/support.h"

namespace nascent {
namespace {

using test::run_nascent;

TEST(CliOneShot, BadDartsOptionsAreNamed) {
  auto r = run_nascent({"search", "--config", "examples/smoke.yaml", "--strategy", "darts", "--set",
                        "strategy.darts.remedy=darts-pt", "--out", "/tmp/nascent-never-created"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.out.find("strategy.darts.remedy"), std::string::npos) << r.out;
  r = run_nascent({"search", "--config", "examples/smoke.yaml", "--strategy", "darts", "--darts-order", "3", "--out",
                   "/tmp/nascent-never-created"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.out.find("--darts-order"), std::string::npos) << r.out;
}

TEST(CliOneShot, SpaceWithoutSupernetExits2AndSaysWhichSpacesWork) {
  test::TempDir dir;
  auto r = run_nascent({"search", "--config", "examples/smoke.yaml", "--strategy", "gdas", "--set", "space.name=chain",
                        "--out", dir.file("o")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.out.find("space 'chain' has no supernet; one-shot strategies need nb201, darts or mbconv"),
            std::string::npos)
      << r.out;
}

}  // namespace
}  // namespace nascent
