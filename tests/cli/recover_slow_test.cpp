// Damaged experiment databases, damaged for real: a page of trials overwritten, the file
// truncated, a zero-length file, the WAL with committed frames deleted. Resuming says what is
// wrong and how many trials can be saved (exit 2); `nascent recover` saves them without touching
// the damaged file, and `--resume` of the copy ends with the trials of an undamaged run.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>

#include "support/support.h"

namespace nascent {
namespace {

namespace fs = std::filesystem;
using test::run_nascent;
using test::TempDir;

std::vector<std::string> search_args(const std::string& out) {
  return {"search", "--config", "examples/smoke.yaml", "--max-trials", "8", "--seed", "1", "--out", out, "--quiet"};
}

std::string metrics_text(const std::string& db_path, int64_t id) {
  sqlite3* db = nullptr;
  sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db, "SELECT metrics FROM trial WHERE id = ?", -1, &st, nullptr);
  sqlite3_bind_int64(st, 1, id);
  std::string out;
  if (sqlite3_step(st) == SQLITE_ROW) out = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
  sqlite3_finalize(st);
  sqlite3_close(db);
  return out;
}

// Overwrites the whole database page that holds `needle` with garbage.
void overwrite_page_holding(const std::string& path, const std::string& needle) {
  std::string bytes = test::read_file(path);
  const size_t at = bytes.find(needle);
  ASSERT_NE(at, std::string::npos) << "the row is not in the main file";
  const size_t page = at / 4096 * 4096;
  for (size_t i = page; i < page + 4096 && i < bytes.size(); ++i) bytes[i] = static_cast<char>(0xA5 ^ (i * 7));
  test::write_file(path, bytes);
}

// The number in "N completed trial(s) can still be read" (-1 if absent).
int readable_in(const std::string& out) {
  std::smatch m;
  if (!std::regex_search(out, m, std::regex("(\\d+) completed trials? can still be read"))) return -1;
  return std::stoi(m[1]);
}

double val_accuracy(const std::string& metrics) { return nlohmann::json::parse(metrics).value("val_accuracy", -1.0); }

// Damages a copy of a finished run with `damage`, then: resume refuses naming the readable
// count, recover saves them without changing the damaged file, and the resumed copy ends with
// the reference run's trials (recovered ones byte for byte, retrained ones to the same accuracy).
void check_recovery(const std::string& ref, const std::string& d, const std::function<void(const std::string&)>& damage,
                    int min_readable, int max_readable) {
  fs::copy(ref, d, fs::copy_options::recursive);
  const std::string db = d + "/experiment.db";
  damage(db);
  const std::string damaged = test::read_file(db);

  std::vector<std::string> resume = {"search", "--out", d, "--resume"};
  auto r = run_nascent(resume);
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find(db + ": the database is damaged ("), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("nascent recover --run " + d + " --out NEW_DIR"), std::string::npos) << r.out;
  const int readable = readable_in(r.out);
  EXPECT_GE(readable, min_readable) << r.out;
  EXPECT_LE(readable, max_readable) << r.out;
  // A reader says the same.
  auto rep = run_nascent({"report", "--run", d});
  EXPECT_EQ(rep.exit_code, 2) << rep.out;
  EXPECT_EQ(readable_in(rep.out), readable) << rep.out;

  const std::string saved = d + "-saved";
  auto rec = run_nascent({"recover", "--run", d, "--out", saved});
  ASSERT_EQ(rec.exit_code, 0) << rec.out;
  EXPECT_NE(rec.out.find("recovered " + std::to_string(readable) + " completed trial"), std::string::npos) << rec.out;
  EXPECT_EQ(test::read_file(db), damaged) << "recover changed the damaged file";
  // Recovering into a directory that already holds an experiment is refused.
  auto again = run_nascent({"recover", "--run", d, "--out", saved});
  EXPECT_EQ(again.exit_code, 2) << again.out;

  auto res = run_nascent({"search", "--out", saved, "--resume", "--quiet"});
  ASSERT_EQ(res.exit_code, 0) << res.out;
  const auto want = test::read_trial_rows(ref + "/experiment.db");
  const auto got = test::read_trial_rows(saved + "/experiment.db");
  ASSERT_EQ(got.size(), want.size());
  int identical = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(got[i].arch, want[i].arch) << "trial " << want[i].id;
    EXPECT_EQ(got[i].status, want[i].status) << "trial " << want[i].id;
    EXPECT_EQ(val_accuracy(got[i].metrics), val_accuracy(want[i].metrics)) << "trial " << want[i].id;
    identical += got[i].metrics == want[i].metrics;  // train_seconds too: taken, not retrained
  }
  EXPECT_GE(identical, readable);
}

class Recover : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir;
    auto s = run_nascent(search_args(dir_->file("ref")));
    ASSERT_EQ(s.exit_code, 0) << s.out;
  }
  static void TearDownTestSuite() { delete dir_; }
  static std::string ref() { return dir_->file("ref"); }
  static TempDir* dir_;
};
TempDir* Recover::dir_ = nullptr;

TEST_F(Recover, AnOverwrittenPageOfTrials) {
  TempDir dir;
  const std::string needle = metrics_text(ref() + "/experiment.db", 5);
  ASSERT_FALSE(needle.empty());
  check_recovery(
      ref(), dir.file("d"), [&](const std::string& db) { overwrite_page_holding(db, needle); }, 1, 7);
}

TEST_F(Recover, ATruncatedFile) {
  TempDir dir;
  check_recovery(
      ref(), dir.file("d"), [](const std::string& db) { fs::resize_file(db, fs::file_size(db) * 2 / 3 / 4096 * 4096); },
      0, 7);
}

TEST_F(Recover, AZeroLengthFileSaysNothingCanBeResumed) {
  TempDir dir;
  const std::string d = dir.file("d");
  fs::copy(ref(), d, fs::copy_options::recursive);
  fs::resize_file(d + "/experiment.db", 0);
  auto r = run_nascent({"search", "--out", d, "--resume"});
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find(d + "/experiment.db: the database is damaged (the file is empty) and its experiment (config "
                           "and seed) cannot be read"),
            std::string::npos)
      << r.out;
  auto rec = run_nascent({"recover", "--run", d});
  EXPECT_EQ(rec.exit_code, 2) << rec.out;
  EXPECT_NE(rec.out.find("experiment: the experiment's config and seed cannot be read"), std::string::npos) << rec.out;
  EXPECT_FALSE(fs::exists(d + "-recovered/experiment.db"));
}

TEST_F(Recover, ADeletedWalBeforeTheFirstCheckpointSaysWhyNothingCanBeResumed) {
  // A search killed inside its fifth trial has everything it wrote in the WAL: SQLite checkpoints
  // into the main file only after 1000 pages. Deleting the WAL (a copy that missed it, a cleanup
  // script) leaves a main file without tables; resume says so and what to do, on one line.
  TempDir dir;
  const std::string d = dir.file("d");
  ASSERT_TRUE(test::kill_during_trial(search_args(d), d + "/experiment.db", 5));
  ASSERT_TRUE(fs::exists(d + "/experiment.db-wal"));
  fs::remove(d + "/experiment.db-wal");
  fs::remove(d + "/experiment.db-shm");
  auto r = run_nascent({"search", "--out", d, "--resume", "--quiet"});
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find(d + "/experiment.db: the database holds no experiment tables: a search keeps its recent "
                           "writes in experiment.db-wal until they are checkpointed"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("start again with `nascent search --config FILE`"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace nascent
