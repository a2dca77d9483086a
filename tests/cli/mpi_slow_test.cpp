// `mpirun -np 3 nascent search ...`: rank 0 searches, ranks 1 and 2 evaluate. Random search's
// proposals do not depend on results, so the MPI run proposes exactly what a one-process run
// with the same seed proposes, and its trials are spread over both worker ranks.
#include <gtest/gtest.h>

#include <array>
#include <cstdlib>
#include <set>

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

}  // namespace
}  // namespace nascent
