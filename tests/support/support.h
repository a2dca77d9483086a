// Shared test helpers: temporary directories, running the nascent binary as a real process,
// and small real Fashion-MNIST tasks.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace nascent::data {
struct TaskData;
}

namespace nascent::test {

// A fresh empty directory under the system temp dir, removed at destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

struct CommandResult {
  int exit_code = -1;
  std::string out;  // stdout and stderr together
};
// Runs the nascent binary with the given arguments (from the source directory).
CommandResult run_nascent(const std::vector<std::string>& args);
std::string nascent_binary();
std::string source_dir();

// One row of an experiment's trial table, as stored.
struct TrialRow {
  int64_t id = 0;
  std::string status, arch, metrics, meta;
};
std::vector<TrialRow> read_trial_rows(const std::string& db_path);

// Starts nascent with args (from the source directory, output discarded) and kills it with
// SIGKILL as soon as the experiment database at db_path holds at least min_trials trials with
// the last one running, i.e. inside that trial's training (or after 3 minutes). Returns true if
// the process died of the signal.
bool kill_during_trial(const std::vector<std::string>& args, const std::string& db_path, size_t min_trials);
// Starts nascent with args (as kill_during_trial) and kills it with SIGKILL as soon as `ready`
// returns true (polled every 50 ms; or after 3 minutes). Returns true if the process died of the signal.
bool kill_when(const std::vector<std::string>& args, const std::function<bool()>& ready);

// The message of the InputError that f throws, or "" if it throws none.
std::string error_of(const std::function<void()>& f);

std::string read_file(const std::string& path);
void write_file(const std::string& path, const std::string& text);

// The first `limit` Fashion-MNIST training images as a task (90% train, 10% validation), loaded
// once per limit for the whole test binary.
const data::TaskData& fashion_task(int64_t limit);

// Where Debian's dataset-fashion-mnist puts the IDX files.
constexpr const char* kFashionDir = "/usr/share/datasets/fashion-mnist";
// Palmer penguins as CSV, from Debian's r-cran-palmerpenguins.
constexpr const char* kPenguinsCsv = "/usr/lib/R/site-library/palmerpenguins/extdata/penguins.csv";
// Plain-text fortune cookie files, one category per file, from Debian's fortunes.
constexpr const char* kFortunesDir = "/usr/share/games/fortunes";

}  // namespace nascent::test
