// The dashboard's HTTP server (cpp-httplib): the page, Chart.js and two JSON endpoints, read-only.
//   GET /                       the page
//   GET /chart.js               Chart.js from Debian's libjs-chart.js
//   GET /api/runs               [{"name", "status", "trials", "best", "metric", "updated"}]
//   GET /api/run?name=NAME      one run's snapshot (RunReader::snapshot)
// Loopback only unless another host is given; then every request needs ?token=T (a random token
// made at start and printed in the URL). Paths with "..", unknown runs and other methods get 4xx.
#pragma once

#include <memory>
#include <string>

namespace nascent::run {

struct ServeOptions {
  std::string root;                // a run directory, or a folder of runs
  std::string host = "127.0.0.1";  // where to listen
  int port = 8080;                 // 0: any free port
  std::string token;               // "" = none; required (made if empty) when host is not loopback
};

bool is_loopback(const std::string& host);
// 32 hex digits from the system's random source.
std::string random_token();

class DashboardServer {
 public:
  // Binds host:port; InputError (naming --port or --host) when it cannot.
  explicit DashboardServer(ServeOptions options);
  ~DashboardServer();  // stops and joins
  DashboardServer(const DashboardServer&) = delete;
  DashboardServer& operator=(const DashboardServer&) = delete;

  int port() const;
  // http://HOST:PORT/ (with ?token=T when there is one).
  std::string url() const;
  // Serves on a background thread until stop() or destruction.
  void start();
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace nascent::run
