// What the user watches: one line per finished trial (k/N, status, the architecture in short,
// its score, best so far, elapsed and remaining time) and, on a terminal, a progress bar for the
// epochs of the trial being trained.
#pragma once

#include <chrono>
#include <cstdio>
#include <optional>
#include <string>

#include "nascent/core/trial.h"
#include "nascent/estimate/trainer.h"

namespace nascent::run {

std::string format_duration(double seconds);  // "42s", "3m05s", "1h02m"

class ProgressReporter {
 public:
  // out: where trial lines go; bars go to stderr only when it is a terminal.
  explicit ProgressReporter(std::FILE* out = stdout, bool quiet = false);

  void message(const std::string& line);
  // A training progress bar on a terminal. Elsewhere (a log file), with log_epochs, one line
  // per finished epoch instead, so long trainings show progress in logs too.
  void training(const std::string& label, const estimate::TrainProgress& p, bool log_epochs = false);
  void clear_bar();
  // k: trials counted so far; total: the trial budget; best: best score so far (signed as
  // first metric, in its own units); left_s: estimated time left.
  void trial_done(const Trial& t, const std::string& arch_text, const std::string& metric_name, int64_t k,
                  int64_t total, std::optional<double> best, double elapsed_s, std::optional<double> left_s);

 private:
  std::FILE* out_;
  bool quiet_;
  bool tty_;
  bool bar_shown_ = false;
  int64_t logged_epoch_ = 0;  // last whole epoch logged without a terminal
  std::chrono::steady_clock::time_point training_start_;
};

}  // namespace nascent::run
