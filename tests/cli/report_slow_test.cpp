// report.html as a browser sees it: a real search's report, loaded by headless Chromium, whose
// parsed DOM must hold every trial's point and the best architecture's drawing.
#include <gtest/gtest.h>

#include <string>

#include "support/browser.h"
#include "support/support.h"

namespace nascent {
namespace {

using test::run_nascent;
using test::TempDir;

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
  const std::string dom = test::browser_dom("file://" + out + "/report.html", dir.file("chromium"), 0, status);
  ASSERT_EQ(status, 0) << "chromium-headless-shell is installed by scripts/install-deps.sh";
  // The browser parsed the inline SVG into elements: one titled point per trial in the progress
  // plot, the nb201 cell's four nodes.
  const size_t plot = dom.find("<svg id=\"progress-plot\"");
  ASSERT_NE(plot, std::string::npos) << dom.substr(0, 2000);
  const std::string progress = dom.substr(plot, dom.find("</svg>", plot) - plot);
  EXPECT_EQ(test::count_of(progress, "<title>trial #"), 3u);
  const size_t diagram = dom.find("<div id=\"arch-diagram\">");
  ASSERT_NE(diagram, std::string::npos);
  EXPECT_EQ(test::count_of(dom.substr(diagram, dom.find("</div>", diagram) - diagram), "<g class=\"node\">"), 4u);
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
