#include "nascent/run/dashboard_server.h"

#include <fmt/format.h>
#include <httplib.h>
#include <sys/socket.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <sstream>
#include <thread>

#include "nascent/core/error.h"
#include "nascent/run/dashboard.h"

namespace nascent::run {

bool is_loopback(const std::string& host) {
  return host == "127.0.0.1" || host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

std::string random_token() {
  std::random_device rd;  // the system's random source
  std::string t;
  for (int i = 0; i < 4; ++i) t += fmt::format("{:08x}", rd());
  return t;
}

struct DashboardServer::Impl {
  ServeOptions options;
  httplib::Server server;
  std::thread thread;
  int port = 0;
  std::string chart_js;  // the library's text, "" when not installed
  std::mutex mutex;      // one reader at a time per server: RunReader is not thread-safe
  std::map<std::string, std::unique_ptr<RunReader>> readers;

  static void send_json(httplib::Response& res, const nlohmann::json& j, int status = 200) {
    res.status = status;
    res.set_content(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), "application/json");
  }
  static void send_error(httplib::Response& res, int status, const std::string& message) {
    send_json(res, {{"error", message}}, status);
  }

  // The reader of run `name` (a path relative to the root that find_runs lists), opened once.
  RunReader* reader(const std::string& name) {
    auto it = readers.find(name);
    if (it != readers.end()) return it->second.get();
    const std::string dir = name == "." ? options.root : (std::filesystem::path(options.root) / name).string();
    auto r = std::make_unique<RunReader>(dir);
    return readers.emplace(name, std::move(r)).first->second.get();
  }

  void routes() {
    server.set_default_headers({{"Cache-Control", "no-store"},
                                {"X-Content-Type-Options", "nosniff"},
                                {"Content-Security-Policy",
                                 "default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'unsafe-inline'; "
                                 "connect-src 'self'; img-src 'self' data:"}});
    // Before any route: no parent-directory paths, and the token when there is one.
    server.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
      if (req.path.find("..") != std::string::npos) {
        send_error(res, 400, "paths with '..' are refused");
        return httplib::Server::HandlerResponse::Handled;
      }
      if (!options.token.empty() && req.get_param_value("token") != options.token) {
        send_error(res, 403, "this dashboard needs its token: open the URL that `nascent serve` printed");
        return httplib::Server::HandlerResponse::Handled;
      }
      if (req.method != "GET" && req.method != "HEAD") {
        send_error(res, 405, "the dashboard is read-only: GET only");
        return httplib::Server::HandlerResponse::Handled;
      }
      return httplib::Server::HandlerResponse::Unhandled;
    });
    server.Get("/", [this](const httplib::Request&, httplib::Response& res) {
      res.set_content(dashboard_page(options.token), "text/html; charset=utf-8");
    });
    server.Get("/chart.js", [this](const httplib::Request&, httplib::Response& res) {
      if (chart_js.empty()) {
        res.status = 404;
        res.set_content("Chart.js is not installed: install Debian's libjs-chart.js", "text/plain");
        return;
      }
      res.set_content(chart_js, "application/javascript");
    });
    server.Get("/api/runs", [this](const httplib::Request&, httplib::Response& res) {
      nlohmann::json list = nlohmann::json::array();
      std::lock_guard<std::mutex> lock(mutex);
      for (const auto& name : find_runs(options.root)) {
        try {
          list.push_back(reader(name)->overview(name));
        } catch (const std::exception& e) {
          readers.erase(name);  // being created, or damaged: listed with what is wrong, opened again next time
          list.push_back(
              {{"name", name}, {"status", "unreadable"}, {"trials", 0}, {"error", e.what()}, {"updated", 0}});
        }
      }
      send_json(res, list);
    });
    server.Get("/api/run", [this](const httplib::Request& req, httplib::Response& res) {
      if (!req.has_param("name")) return send_error(res, 400, "expected ?name=RUN (one of /api/runs)");
      const std::string name = req.get_param_value("name");
      const auto runs = find_runs(options.root);
      if (std::find(runs.begin(), runs.end(), name) == runs.end())
        return send_error(res, 404, "no run '" + name + "' here; /api/runs lists them");
      std::lock_guard<std::mutex> lock(mutex);
      try {
        send_json(res, reader(name)->snapshot(name));
      } catch (const std::exception& e) {
        readers.erase(name);
        send_error(res, 503, e.what());
      }
    });
    server.set_error_handler([](const httplib::Request&, httplib::Response& res) {
      if (res.body.empty()) send_error(res, res.status, fmt::format("HTTP {}", res.status));
    });
  }
};

DashboardServer::DashboardServer(ServeOptions options) : impl_(std::make_unique<Impl>()) {
  if (options.token.empty() && !is_loopback(options.host)) options.token = random_token();
  impl_->options = std::move(options);
  if (const std::string js = chart_js_path(); !js.empty()) {
    std::ifstream in(js, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    impl_->chart_js = ss.str();
  }
  impl_->routes();
  // SO_REUSEADDR only: httplib's default adds SO_REUSEPORT, with which a second server would bind
  // the same port and share its requests instead of being refused.
  impl_->server.set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, reinterpret_cast<const char*>(&yes), sizeof(yes));
  });
  const ServeOptions& o = impl_->options;
  if (o.port == 0) {
    impl_->port = impl_->server.bind_to_any_port(o.host);
    if (impl_->port <= 0) throw InputError(o.host, "--host", "cannot listen on this address");
  } else {
    if (!impl_->server.bind_to_port(o.host, o.port))
      throw InputError(std::to_string(o.port), "--port",
                       fmt::format("cannot listen on {}:{} (in use, or not an address of this machine); choose "
                                   "another port, or 0 for any free one",
                                   o.host, o.port));
    impl_->port = o.port;
  }
}

DashboardServer::~DashboardServer() { stop(); }

int DashboardServer::port() const { return impl_->port; }

std::string DashboardServer::url() const {
  const std::string& h = impl_->options.host;
  const std::string host = h.find(':') != std::string::npos ? "[" + h + "]" : h;
  return fmt::format("http://{}:{}/{}", host, impl_->port,
                     impl_->options.token.empty() ? "" : "?token=" + impl_->options.token);
}

void DashboardServer::start() {
  if (impl_->thread.joinable()) return;
  impl_->thread = std::thread([this] { impl_->server.listen_after_bind(); });
}

void DashboardServer::stop() {
  impl_->server.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

}  // namespace nascent::run
