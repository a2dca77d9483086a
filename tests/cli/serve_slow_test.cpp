// The live dashboard end to end: the real nascent binary serves real runs over HTTP, headless
// Chromium runs the page's script (Chart.js included) and the DOM shows what the run holds, also
// while a search is running; bad requests, the token and the read-only promise are checked.
#include <arpa/inet.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <thread>

#include "support/browser.h"
#include "support/support.h"

namespace nascent {
namespace {

using test::run_nascent;
using test::TempDir;

// nascent with args, its output to `log`, until stop() (SIGTERM, then SIGKILL) or its end.
class Process {
 public:
  Process(const std::vector<std::string>& args, const std::string& log) {
    std::vector<std::string> owned = args;
    std::string bin = test::nascent_binary();
    std::vector<char*> argv{bin.data()};
    for (auto& a : owned) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_ = fork();
    if (pid_ == 0) {
      if (chdir(test::source_dir().c_str()) != 0) _exit(127);
      if (!freopen(log.c_str(), "w", stdout) || dup2(fileno(stdout), 2) < 0) _exit(127);
      execv(argv[0], argv.data());
      _exit(127);
    }
  }
  ~Process() { stop(); }
  bool running() {
    if (pid_ <= 0) return false;
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      exit_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      pid_ = -1;
      return false;
    }
    return true;
  }
  // Waits up to `seconds` for the process to end; its exit code, or -1 if it is still running.
  int wait(double seconds) {
    const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (running() && std::chrono::steady_clock::now() < end)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    return running() ? -1 : exit_;
  }
  int stop() {
    if (running()) {
      kill(pid_, SIGTERM);
      if (wait(10) < 0) {
        kill(pid_, SIGKILL);
        wait(10);
      }
    }
    return exit_;
  }

 private:
  pid_t pid_ = -1;
  int exit_ = -1;
};

// The dashboard URL the process printed to `log` (waits up to a minute), as host, port and token.
struct Url {
  std::string host;
  int port = 0;
  std::string token;
};
Url printed_url(const std::string& log, Process& p) {
  const std::regex re(R"(http://([0-9.]+):([0-9]+)/(\?token=([0-9a-f]+))?)");
  const auto end = std::chrono::steady_clock::now() + std::chrono::minutes(1);
  while (std::chrono::steady_clock::now() < end) {
    std::smatch m;
    const std::string text = test::read_file(log);
    if (std::regex_search(text, m, re)) return {m[1], std::stoi(m[2]), m[4]};
    if (!p.running()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ADD_FAILURE() << "no dashboard URL printed:\n" << test::read_file(log);
  return {};
}

nlohmann::json get_json(httplib::Client& c, const std::string& path, int expect = 200) {
  auto r = c.Get(path.c_str());
  if (!r) {
    ADD_FAILURE() << path << ": no response";
    return nullptr;
  }
  EXPECT_EQ(r->status, expect) << path << ": " << r->body;
  return nlohmann::json::parse(r->body, nullptr, false);
}

// The value of data-points on the canvas `id` in the DOM (Chart.js adds its own attributes
// before it), or -1.
int points_drawn(const std::string& dom, const std::string& id) {
  std::smatch m;
  const std::regex re("<canvas id=\"" + id + "\"[^>]*data-points=\"([0-9]+)\"");
  return std::regex_search(dom, m, re) ? std::stoi(m[1]) : -1;
}

std::string smoke_run(TempDir& dir, const std::string& name, std::vector<std::string> extra = {},
                      const std::string& trials = "3") {
  const std::string out = dir.file(name);
  std::vector<std::string> args = {
      "search", "--config", "examples/smoke.yaml", "--max-trials", trials, "--set", "space.name=nb201", "--out", out};
  args.insert(args.end(), extra.begin(), extra.end());
  auto r = run_nascent(args);
  EXPECT_EQ(r.exit_code, 0) << r.out;
  return out;
}

TEST(ServeEndToEnd, ServesRunsToABrowserReadOnlyAndRefusesBadRequests) {
  TempDir dir;
  const std::string runs = dir.file("runs");
  const std::string run = smoke_run(dir, "runs/first", {}, "9");  // 8 finished trials give an importance
  const std::string db_before = test::read_file(run + "/experiment.db");

  Process serve({"serve", "--run", runs, "--port", "0"}, dir.file("serve.log"));
  const Url url = printed_url(dir.file("serve.log"), serve);
  ASSERT_GT(url.port, 0);
  EXPECT_EQ(url.host, "127.0.0.1");  // loopback by default, no token
  EXPECT_TRUE(url.token.empty());
  httplib::Client c(url.host, url.port);

  const nlohmann::json list = get_json(c, "/api/runs");
  ASSERT_EQ(list.size(), 1u) << list;
  EXPECT_EQ(list[0]["name"], "first");
  EXPECT_EQ(list[0]["status"], "done");
  EXPECT_EQ(list[0]["trials"], 9);
  const nlohmann::json s = get_json(c, "/api/run?name=first");
  EXPECT_EQ(s["trials"].size(), 9u);
  EXPECT_EQ(s["space"], "nb201");
  EXPECT_TRUE(s["best"].is_object());

  // Refused: unknown runs, paths outside the page's, other methods, a missing parameter.
  get_json(c, "/api/run?name=../first", 404);
  get_json(c, "/api/run?name=missing", 404);
  get_json(c, "/api/run", 400);
  get_json(c, "/../../etc/passwd", 400);
  get_json(c, "/nothing-here", 404);
  auto post = c.Post("/api/run?name=first", "{}", "application/json");
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 405);
  // A malformed request line: 400, and the server goes on.
  {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(url.port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    const std::string garbage = "NOT A REQUEST\r\n\r\n";
    ASSERT_EQ(write(fd, garbage.data(), garbage.size()), static_cast<ssize_t>(garbage.size()));
    char buf[64] = {};
    const ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    ASSERT_GT(n, 0);
    EXPECT_EQ(std::string(buf).rfind("HTTP/1.1 400", 0), 0u) << buf;
  }
  auto js = c.Get("/chart.js");
  ASSERT_TRUE(js);
  EXPECT_EQ(js->status, 200);
  EXPECT_NE(js->body.find("Chart"), std::string::npos);

  // The page in a real browser: the script ran, Chart.js drew the trials, the table lists them.
  int status = -1;
  const std::string dom =
      test::browser_dom(fmt::format("http://127.0.0.1:{}/", url.port), dir.file("chromium"), 8000, status);
  ASSERT_EQ(status, 0) << "chromium-headless-shell is installed by scripts/install-deps.sh";
  EXPECT_NE(dom.find("<span id=\"trial-count\">9</span>"), std::string::npos) << dom.substr(0, 3000);
  EXPECT_EQ(test::count_of(dom, "data-trial=\""), 9u);
  const int ok = s["counts"]["ok"];
  EXPECT_GE(ok, 1);
  EXPECT_EQ(points_drawn(dom, "progress-chart"), ok);  // every nb201 smoke trial with a value is ok
  EXPECT_EQ(points_drawn(dom, "parallel-chart"), ok);
  EXPECT_EQ(points_drawn(dom, "tradeoff-chart"), ok);
  // Which decisions mattered: a bar per nb201 edge, once 8 trials are in; the run in sentences.
  EXPECT_GE(ok, 8);
  EXPECT_EQ(points_drawn(dom, "importance-chart"), 6);
  const size_t in_short = dom.find("<ul id=\"in-short\">");
  ASSERT_NE(in_short, std::string::npos);
  EXPECT_EQ(dom.find("<li>The best architecture is trial #", in_short), in_short + 18) << dom.substr(in_short, 300);
  EXPECT_NE(dom.find("<div id=\"error\" class=\"error\"></div>"), std::string::npos);  // no error shown
  const size_t diagram = dom.find("<div id=\"best-diagram\">");
  ASSERT_NE(diagram, std::string::npos);
  EXPECT_EQ(test::count_of(dom.substr(diagram, dom.find("</div>", diagram) - diagram), "<g class=\"node\">"), 4u);

  EXPECT_EQ(serve.stop(), 0);                                     // SIGTERM: a clean stop
  EXPECT_EQ(test::read_file(run + "/experiment.db"), db_before);  // the server never wrote the run
}

TEST(ServeEndToEnd, BeyondLoopbackEveryRequestNeedsTheToken) {
  TempDir dir;
  const std::string run = smoke_run(dir, "run");
  Process serve({"serve", "--run", run, "--port", "0", "--host", "0.0.0.0"}, dir.file("serve.log"));
  const Url url = printed_url(dir.file("serve.log"), serve);
  ASSERT_GT(url.port, 0);
  ASSERT_EQ(url.token.size(), 32u) << test::read_file(dir.file("serve.log"));
  httplib::Client c("127.0.0.1", url.port);
  get_json(c, "/api/runs", 403);
  get_json(c, "/api/runs?token=0123", 403);
  auto page = c.Get("/");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 403);
  const nlohmann::json list = get_json(c, "/api/runs?token=" + url.token);
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["name"], ".");
  auto ok = c.Get(("/?token=" + url.token).c_str());
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
  EXPECT_NE(ok->body.find("data-token=\"" + url.token + "\""), std::string::npos);
}

TEST(ServeEndToEnd, ThePageOfARunningSearchShowsItsTrialsArrive) {
  TempDir dir;
  const std::string out = dir.file("live");
  Process search({"search", "--config", "examples/smoke.yaml", "--max-trials", "12", "--set", "space.name=nb201",
                  "--out", out, "--serve", "0"},
                 dir.file("search.log"));
  const Url url = printed_url(dir.file("search.log"), search);
  ASSERT_GT(url.port, 0);
  httplib::Client c(url.host, url.port);
  c.set_connection_timeout(2);
  // Polls the run until `done` finished trials are in it; the count seen.
  auto finished = [&]() -> int {
    auto r = c.Get("/api/run?name=.");
    if (!r || r->status != 200) return -1;
    const auto s = nlohmann::json::parse(r->body, nullptr, false);
    if (!s.is_object()) return -1;
    return s["counts"]["ok"].get<int>() + s["counts"]["failed"].get<int>();
  };
  auto wait_for = [&](int n) {
    const auto end = std::chrono::steady_clock::now() + std::chrono::minutes(3);
    int seen = -1;
    while (search.running() && std::chrono::steady_clock::now() < end && (seen = finished()) < n)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    return seen;
  };
  // The browser, twice while the search runs: the page's count follows the trials.
  int browsers = 0;
  auto dom_count = [&]() -> int {
    int status = -1;
    const std::string dom = test::browser_dom(fmt::format("http://127.0.0.1:{}/", url.port),
                                              dir.file("chromium" + std::to_string(++browsers)), 5000, status);
    EXPECT_EQ(status, 0);
    std::smatch m;
    static const std::regex re("<span id=\"trial-count\">([0-9]+)</span>");
    return std::regex_search(dom, m, re) ? std::stoi(m[1]) : -1;
  };
  const int first_seen = wait_for(2);
  ASSERT_GE(first_seen, 2) << test::read_file(dir.file("search.log"));
  const int first = dom_count();
  EXPECT_GE(first, 2);
  EXPECT_LT(first, 12) << "the search ended before the browser looked";
  const int second_seen = wait_for(first + 2);
  ASSERT_GE(second_seen, first + 2) << test::read_file(dir.file("search.log"));
  const int second = dom_count();
  EXPECT_GE(second, first + 2);
  EXPECT_EQ(search.wait(300), 0) << test::read_file(dir.file("search.log"));
  // Serving never disturbed the search: all 12 trials, the summary written.
  EXPECT_EQ(test::read_trial_rows(out + "/experiment.db").size(), 12u);
}

TEST(ServeEndToEnd, DartsAlphasAreAHeatMapPerEdge) {
  TempDir dir;
  const std::string run = smoke_run(dir, "darts", {"--strategy", "darts", "--set", "fidelity.data_fraction=0.2"});
  Process serve({"serve", "--run", run, "--port", "0"}, dir.file("serve.log"));
  const Url url = printed_url(dir.file("serve.log"), serve);
  ASSERT_GT(url.port, 0);
  int status = -1;
  const std::string dom =
      test::browser_dom(fmt::format("http://127.0.0.1:{}/", url.port), dir.file("chromium"), 8000, status);
  ASSERT_EQ(status, 0);
  // nb201: six edges, five operations each, a column per supernet epoch (2).
  EXPECT_EQ(test::count_of(dom, "<table class=\"alpha\""), 6u) << dom.substr(0, 3000);
  const size_t first = dom.find("<table class=\"alpha\"");
  ASSERT_NE(first, std::string::npos);
  const std::string table = dom.substr(first, dom.find("</table>", first) - first);
  EXPECT_EQ(test::count_of(table, "<tr>"), 5u);
  EXPECT_EQ(test::count_of(table, "<td title=\"epoch "), 10u);
  EXPECT_NE(table.find("<th>skip_connect</th>"), std::string::npos) << table;
  EXPECT_EQ(points_drawn(dom, "supernet-chart"), 2);
}

TEST(ServeEndToEnd, ADirectoryWithoutRunsAndAPortInUseAreOneLine) {
  TempDir dir;
  auto r = run_nascent({"serve", "--run", dir.path(), "--port", "0"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.out.find(dir.path() + ": --run: no run here"), std::string::npos) << r.out;
  const std::string run = smoke_run(dir, "run");
  Process serve({"serve", "--run", run, "--port", "0"}, dir.file("serve.log"));
  const Url url = printed_url(dir.file("serve.log"), serve);
  ASSERT_GT(url.port, 0);
  Process again({"serve", "--run", run, "--port", std::to_string(url.port)}, dir.file("again.log"));
  EXPECT_EQ(again.wait(60), 2);
  EXPECT_NE(
      test::read_file(dir.file("again.log")).find(std::to_string(url.port) + ": --port: cannot listen on 127.0.0.1"),
      std::string::npos)
      << test::read_file(dir.file("again.log"));
}

}  // namespace
}  // namespace nascent
