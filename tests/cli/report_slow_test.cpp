// report.html as a browser sees it: a real search's report, loaded by headless Chromium, whose
// parsed DOM must hold every trial's point and the best architecture's drawing.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <string>

#include "support/support.h"

namespace nascent {
namespace {

using test::run_nascent;
using test::TempDir;

// Runs a shell command; returns its standard output and sets `status` to its exit status.
std::string shell(const std::string& command, int& status) {
  std::string out;
  FILE* p = popen(command.c_str(), "r");
  if (!p) return out;
  std::array<char, 4096> buf;
  size_t n = 0;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  status = pclose(p);
  return out;
}

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + what.size())) ++n;
  return n;
}

TEST(ReportEndToEnd, ChromiumRendersTheReportOfARealSearch) {
  TempDir dir;
  const std::string out = dir.file("run");
  auto r = run_nascent(
      {"search", "--config", "examples/smoke.yaml", "--max-trials", "3", "--set", "space.name=nb201", "--out", out});
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("report.html"), std::string::npos) << r.out;
  const std::string written = test::read_file(out + "/report.html");
  ASSERT_FALSE(written.empty());
  // nascent report writes the same page again from the run directory.
  auto rep = run_nascent({"report", "--run", out});
  ASSERT_EQ(rep.exit_code, 0) << rep.out;
  EXPECT_EQ(test::read_file(out + "/report.html"), written);

  int status = -1;
  const std::string dom =
      shell("chromium-headless-shell --no-sandbox --disable-gpu --user-data-dir=" + dir.file("chromium") +
                " --dump-dom file://" + out + "/report.html 2>/dev/null",
            status);  // its own profile directory: CI may have no writable home
  ASSERT_EQ(status, 0) << "chromium-headless-shell is installed by scripts/install-deps.sh";
  // The browser parsed the inline SVG into elements: one titled point per trial in the progress
  // plot, the nb201 cell's four nodes.
  const size_t plot = dom.find("<svg id=\"progress-plot\"");
  ASSERT_NE(plot, std::string::npos) << dom.substr(0, 2000);
  const std::string progress = dom.substr(plot, dom.find("</svg>", plot) - plot);
  EXPECT_EQ(count(progress, "<title>trial #"), 3u);
  const size_t diagram = dom.find("<div id=\"arch-diagram\">");
  ASSERT_NE(diagram, std::string::npos);
  EXPECT_EQ(count(dom.substr(diagram, dom.find("</div>", diagram) - diagram), "<g class=\"node\">"), 4u);
  EXPECT_NE(dom.find("nascent search report"), std::string::npos);
}

TEST(ReportEndToEnd, ADirectoryWithoutAnExperimentIsNamed) {
  TempDir dir;
  auto r = run_nascent({"report", "--run", dir.path()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.out.find(dir.path() + ": --run: not a run directory"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace nascent
