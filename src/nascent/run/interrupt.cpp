#include "nascent/run/interrupt.h"

#include <atomic>
#include <csignal>

namespace nascent::run {
namespace {
std::atomic<bool> g_stop{false};

extern "C" void on_sigint(int) {
  g_stop.store(true);
  std::signal(SIGINT, SIG_DFL);  // a second Ctrl-C ends the process immediately
}
}  // namespace

void install_interrupt_handler() {
  std::signal(SIGINT, on_sigint);
  std::signal(SIGTERM, on_sigint);
}
void request_stop() { g_stop.store(true); }
bool stop_requested() { return g_stop.load(); }
void check_stop() {
  if (g_stop.load()) throw Interrupted();
}

}  // namespace nascent::run
