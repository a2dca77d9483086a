// The commands the docs show run as written: docs/export.md's example (search, then TorchScript
// and ONNX exports of the run), and the README's commands that act on a finished run (report,
// export, profile), pointed at that run. Output paths move into a temporary directory.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "support/support.h"

namespace nascent {
namespace {

using test::run_nascent;
using test::TempDir;

// The command lines of a Markdown file's untyped or sh code blocks that start with `prefix`,
// split into words, without trailing `# comments`.
std::vector<std::vector<std::string>> doc_commands(const std::string& markdown, const std::string& prefix) {
  std::vector<std::vector<std::string>> out;
  std::istringstream in(markdown);
  std::string line;
  bool in_block = false, shell = false;
  while (std::getline(in, line)) {
    if (line.rfind("```", 0) == 0) {
      shell = !in_block && (line == "```" || line == "```sh");
      in_block = !in_block;
      continue;
    }
    if (!in_block || !shell || line.rfind(prefix, 0) != 0) continue;
    if (const size_t hash = line.find(" #"); hash != std::string::npos) line = line.substr(0, hash);
    std::istringstream words(line.substr(prefix.size()));
    std::vector<std::string> cmd;
    for (std::string w; words >> w;) cmd.push_back(w);
    out.push_back(cmd);
  }
  return out;
}

TEST(Docs, ExportExampleAndTheReadmesRunCommandsRunAsWritten) {
  TempDir dir;
  const auto export_doc = doc_commands(test::read_file(test::source_dir() + "/docs/export.md"), "nascent ");
  ASSERT_EQ(export_doc.size(), 3u);
  EXPECT_EQ(export_doc[0][0], "search");
  for (auto cmd : export_doc) {
    for (auto& w : cmd)
      if (w.rfind("runs/", 0) == 0 || w.rfind("deploy/", 0) == 0) w = dir.file(w);
    const auto r = run_nascent(cmd);
    ASSERT_EQ(r.exit_code, 0) << cmd[0] << ": " << r.out;
  }
  const auto ts = nlohmann::json::parse(test::read_file(dir.file("deploy/model.json")));
  const auto onnx = nlohmann::json::parse(test::read_file(dir.file("deploy/model.onnx.json")));
  EXPECT_EQ(ts["format"], "torchscript");
  EXPECT_EQ(onnx["format"], "onnx");

  // The README's commands on a finished run (runs/fmnist there), on this run instead.
  const auto readme = doc_commands(test::read_file(test::source_dir() + "/README.md"), "./build/nascent ");
  int ran = 0;
  for (auto cmd : readme) {
    if (cmd[0] != "report" && cmd[0] != "export" && cmd[0] != "profile") continue;
    if (cmd.size() < 3 || cmd[1] != "--run" || cmd[2] != "runs/fmnist") continue;
    cmd[2] = dir.file("runs/smoke");
    for (auto& w : cmd)
      if (w.rfind("deploy/", 0) == 0) w = dir.file("readme-" + w);
    const auto r = run_nascent(cmd);
    EXPECT_EQ(r.exit_code, 0) << cmd[0] << ": " << r.out;
    ++ran;
  }
  EXPECT_GE(ran, 4);  // report, two exports, profile
  EXPECT_GT(test::read_file(dir.file("readme-deploy/model.onnx")).size(), 1000u);
}

}  // namespace
}  // namespace nascent
