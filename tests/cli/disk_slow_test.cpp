// Writes that fail for real: a disk that fills up while a search runs (a small tmpfs, filled by
// another file), and files that may not grow past a size (RLIMIT_FSIZE). The search stops with one
// line naming the file and the system's reason, exit 1; every trial committed before the failure
// is kept; after space is back, --resume ends with the trials of an uninterrupted run.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "support/run_during.h"
#include "support/support.h"

namespace nascent {
namespace {

using test::read_trial_rows;
using test::run_nascent;
using test::TempDir;
using test::TrialRow;

const std::vector<std::string> kArgs = {"search", "--config", "examples/smoke.yaml", "--max-trials", "8",
                                        "--seed", "5",        "--strategy",          "random"};

std::vector<std::string> with_out(const std::string& out, bool resume = false) {
  std::vector<std::string> a = kArgs;
  a.push_back("--out");
  a.push_back(out);
  if (resume) a.push_back("--resume");
  return a;
}

size_t finished(const std::string& db) {
  if (access(db.c_str(), F_OK) != 0) return 0;
  try {
    size_t n = 0;
    for (const auto& r : read_trial_rows(db)) n += r.status != "running";
    return n;
  } catch (const std::exception&) {
    return 0;
  }
}

// The last non-empty line of a command's output.
std::string last_line(const std::string& out) {
  std::string s = out;
  while (!s.empty() && s.back() == '\n') s.pop_back();
  return s.substr(s.rfind('\n') == std::string::npos ? 0 : s.rfind('\n') + 1);
}

// Every finished trial of `rows` is the trial of the same id in `expected`.
void expect_committed_trials_intact(const std::vector<TrialRow>& rows, const std::vector<TrialRow>& expected) {
  for (const auto& r : rows) {
    if (r.status == "running") continue;
    ASSERT_LE(static_cast<size_t>(r.id), expected.size());
    EXPECT_EQ(r.arch, expected[r.id - 1].arch) << "trial " << r.id;
    EXPECT_EQ(r.status, expected[r.id - 1].status) << "trial " << r.id;
  }
}

void expect_same_architectures(const std::vector<TrialRow>& rows, const std::vector<TrialRow>& expected) {
  ASSERT_EQ(rows.size(), expected.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(rows[i].status, "ok") << "trial " << i + 1;
    EXPECT_EQ(rows[i].arch, expected[i].arch) << "trial " << i + 1;
  }
}

// Writes zeros into path until the file system says it is full.
void fill_disk(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  ASSERT_GE(fd, 0) << std::strerror(errno);
  std::vector<char> zeros(1 << 16, 0);
  for (size_t chunk : {size_t{1} << 16, size_t{512}}) {
    while (::write(fd, zeros.data(), chunk) == static_cast<ssize_t>(chunk)) {
    }
  }
  ::close(fd);
}

// The trials of an uninterrupted run of kArgs.
std::vector<TrialRow> uninterrupted(const TempDir& dir) {
  const auto r = run_nascent(with_out(dir.file("ref")));
  EXPECT_EQ(r.exit_code, 0) << r.out;
  return read_trial_rows(dir.file("ref/experiment.db"));
}

// A search stopped by a failed write: exit 1, and its last line names a file of the run and gives
// one of the reasons.
void expect_stopped_by_a_write(const test::CommandResult& r, const std::string& run,
                               const std::vector<std::string>& reasons) {
  EXPECT_EQ(r.exit_code, 1) << r.out;
  const std::string line = last_line(r.out);
  EXPECT_NE(line.find("nascent: failed: " + run + "/"), std::string::npos) << r.out;
  EXPECT_TRUE(std::any_of(reasons.begin(), reasons.end(), [&](const std::string& why) {
    return line.find(why) != std::string::npos;
  })) << r.out;
}

// --resume of the run ends with the trials of the uninterrupted one.
void expect_resume_completes(const std::string& run, const std::vector<TrialRow>& expected) {
  const auto resumed = run_nascent(with_out(run, true));
  ASSERT_EQ(resumed.exit_code, 0) << resumed.out;
  expect_same_architectures(read_trial_rows(run + "/experiment.db"), expected);
}

TEST(FullDisk, ASearchStopsWithOneLineKeepsItsTrialsAndResumesWhenSpaceIsBack) {
  TempDir dir;
  const auto expected = uninterrupted(dir);
  ASSERT_EQ(expected.size(), 8u);

  const std::string disk = dir.file("disk");
  std::filesystem::create_directory(disk);
  if (::mount("tmpfs", disk.c_str(), "tmpfs", 0, "size=32m") != 0)
    GTEST_SKIP() << "cannot mount a tmpfs here (" << std::strerror(errno) << "); needs root";
  struct Unmount {
    std::string path;
    ~Unmount() { ::umount2(path.c_str(), MNT_DETACH); }
  } unmount{disk};

  const std::string run = disk + "/run", filler = disk + "/filler";
  bool filled = false;
  const auto r = test::run_nascent_during(with_out(run), [&] {
    if (!filled && finished(run + "/experiment.db") >= 3) {
      fill_disk(filler);
      filled = true;
    }
  });
  ASSERT_TRUE(filled) << r.out;
  // "No space left on device" from the system, or nascent's own look at the file system.
  expect_stopped_by_a_write(r, run, {"No space left on device", "no space left on the device"});

  std::filesystem::remove(filler);
  const auto kept = read_trial_rows(run + "/experiment.db");
  EXPECT_GE(finished(run + "/experiment.db"), 3u);
  EXPECT_LT(finished(run + "/experiment.db"), 8u);
  expect_committed_trials_intact(kept, expected);

  expect_resume_completes(run, expected);
}

TEST(FullDisk, AFileSizeLimitStopsTheSearchWithOneLineAndResumeContinues) {
  TempDir dir;
  const auto expected = uninterrupted(dir);
  ASSERT_EQ(expected.size(), 8u);

  // No file of the run may grow past 96 KiB: the database's write-ahead log reaches that after a
  // few trials. SIGXFSZ is ignored, so the write fails with EFBIG instead of killing the process.
  const std::string run = dir.file("run");
  const auto r = test::run_nascent_during(
      with_out(run), [] {}, "trap '' XFSZ; prlimit --fsize=98304");
  expect_stopped_by_a_write(r, run,
                            {"File too large", "the file size limit of this process (ulimit -f) is 98304 bytes"});
  const auto kept = read_trial_rows(run + "/experiment.db");
  EXPECT_GE(finished(run + "/experiment.db"), 1u);
  expect_committed_trials_intact(kept, expected);

  expect_resume_completes(run, expected);
}

}  // namespace
}  // namespace nascent
