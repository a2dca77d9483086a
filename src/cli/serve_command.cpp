// nascent serve: the live dashboard of a run, or of every run under a folder, until Ctrl-C.
#include <fmt/format.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "cli/commands.h"
#include "nascent/core/error.h"
#include "nascent/run/dashboard.h"
#include "nascent/run/dashboard_server.h"

namespace nascent::cli {

namespace {
volatile std::sig_atomic_t g_stop = 0;
}  // namespace

int run_serve(const ServeFlags& f) {
  std::error_code ec;
  if (!std::filesystem::is_directory(f.run, ec)) throw InputError(f.run, "--run", "no such directory");
  const std::vector<std::string> runs = run::find_runs(f.run);
  if (runs.empty())
    throw InputError(f.run, "--run",
                     "no run here: neither it nor its sub-folders (three levels down) hold an experiment.db; give the "
                     "--out of a search, or a folder of runs");
  run::DashboardServer server({f.run, f.host, static_cast<int>(f.port), ""});
  server.start();
  if (run::chart_js_path().empty())
    fmt::print(stderr, "warning: Chart.js is not installed (Debian's libjs-chart.js); the page will have no charts\n");
  fmt::print("nascent dashboard of {} run{} under {}: {}\n(Ctrl-C stops it; runs are only read, never written)\n",
             runs.size(), runs.size() == 1 ? "" : "s", f.run, server.url());
  std::fflush(stdout);
  // Ctrl-C or SIGTERM (on whichever thread it lands) ends the wait; the server stops cleanly.
  struct sigaction sa {};
  sa.sa_handler = [](int) { g_stop = 1; };
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  while (!g_stop) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  server.stop();
  return 0;
}

}  // namespace nascent::cli
