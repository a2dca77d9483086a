#include "nascent/run/progress.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cmath>

namespace nascent::run {

std::string format_duration(double s) {
  if (!std::isfinite(s) || s < 0) return "?";
  const int64_t t = static_cast<int64_t>(std::llround(s));
  if (t < 60) return fmt::format("{}s", t);
  if (t < 3600) return fmt::format("{}m{:02d}s", t / 60, t % 60);
  return fmt::format("{}h{:02d}m", t / 3600, (t % 3600) / 60);
}

ProgressReporter::ProgressReporter(std::FILE* out, bool quiet)
    : out_(out), quiet_(quiet), tty_(isatty(fileno(stderr)) != 0) {}

void ProgressReporter::message(const std::string& line) {
  if (quiet_) return;
  clear_bar();
  fmt::print(out_, "{}\n", line);
  std::fflush(out_);
}

void ProgressReporter::training(const std::string& label, const estimate::TrainProgress& p, bool log_epochs) {
  if (quiet_ || p.total_steps <= 0) return;
  if (!tty_) {
    if (!log_epochs) return;
    if (p.step <= 10) {
      logged_epoch_ = 0;
      training_start_ = std::chrono::steady_clock::now();
    }
    const auto whole = static_cast<int64_t>(p.epoch + 1e-9);
    if (whole > logged_epoch_) {
      logged_epoch_ = whole;
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - training_start_).count();
      fmt::print(out_, "  {} epoch {} done: loss {:.4f}, {} elapsed\n", label, whole, p.loss, format_duration(s));
      std::fflush(out_);
    }
    return;
  }
  constexpr int kWidth = 24;
  const double frac = static_cast<double>(p.step) / static_cast<double>(p.total_steps);
  const int filled = static_cast<int>(frac * kWidth);
  std::string bar(filled, '#');
  bar += std::string(kWidth - filled, '.');
  fmt::print(stderr, "\r  {} [{}] {:3.0f}%  epoch {:.2f}  loss {:.4f} ", label, bar, 100 * frac, p.epoch, p.loss);
  std::fflush(stderr);
  bar_shown_ = true;
}

void ProgressReporter::clear_bar() {
  if (!bar_shown_) return;
  fmt::print(stderr, "\r\033[K");
  std::fflush(stderr);
  bar_shown_ = false;
}

void ProgressReporter::trial_done(const Trial& t, const std::string& arch_text, const std::string& metric_name,
                                  int64_t k, int64_t total, std::optional<double> best, double elapsed_s,
                                  std::optional<double> left_s) {
  if (quiet_) return;
  clear_bar();
  const int width = static_cast<int>(std::to_string(total).size());
  std::string value;
  if (t.status == TrialStatus::kOk) {
    auto v = t.metric(metric_name);
    value = v ? fmt::format("{} {:.4f}", metric_name, *v) : metric_name + " ?";
  } else {
    value = t.reason;
  }
  std::string best_text = best ? fmt::format("best {:.4f}", *best) : "best -";
  const double secs = t.ended > t.started ? t.ended - t.started : 0;
  fmt::print(out_, "trial {:>{}}/{} #{:<4} {:<8} {}  {}  {}  [{}]  {}  elapsed {}{}\n", k, width, total, t.id,
             to_string(t.status), t.proposal.fidelity.key(), value, best_text, arch_text, format_duration(secs),
             format_duration(elapsed_s), left_s ? ", left ~" + format_duration(*left_s) : std::string());
  std::fflush(out_);
}

}  // namespace nascent::run
