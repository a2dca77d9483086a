// `nascent spaces` and `nascent profile` on every space, each built for a task that fits it,
// and bad data or declared-space input turned into one line and exit 2.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "support/support.h"

namespace nascent {
namespace {

using test::run_nascent;
using test::TempDir;

std::vector<nlohmann::json> json_lines(const std::string& out) {
  std::vector<nlohmann::json> v;
  std::istringstream lines(out);
  std::string line;
  while (std::getline(lines, line)) v.push_back(nlohmann::json::parse(line));
  return v;
}

// The line of `nascent spaces` that starts with the space's name.
std::string line_of(const std::string& out, const std::string& space) {
  std::istringstream lines(out);
  std::string line;
  while (std::getline(lines, line))
    if (line.rfind(space + " ", 0) == 0) return line;
  return "";
}

TEST(CliSpaces, ListsEverySpaceWithItsSize) {
  auto r = run_nascent({"spaces"});
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(line_of(r.out, "chain").find(" 2.986e+09 architectures,  21 decisions"), std::string::npos) << r.out;
  EXPECT_NE(line_of(r.out, "mbconv").find(" 1.547e+19 architectures,  52 decisions"), std::string::npos) << r.out;
  EXPECT_NE(line_of(r.out, "transformer").find(" 9,324 architectures,  11 decisions"), std::string::npos) << r.out;
  EXPECT_NE(line_of(r.out, "mlp").find(" 12,240 architectures,   8 decisions"), std::string::npos) << r.out;
  EXPECT_NE(line_of(r.out, "nb201").find(" 15,625 cells, 6,466 distinct,   6 decisions"), std::string::npos) << r.out;
  EXPECT_NE(line_of(r.out, "darts").find(" architectures, "), std::string::npos) << r.out;
  EXPECT_NE(line_of(r.out, "declared").find("(needs space.declared)"), std::string::npos) << r.out;
  r = run_nascent({"spaces", "--config", "examples/declared.yaml"});
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(line_of(r.out, "declared").find(" 192 architectures"), std::string::npos) << r.out;
}

TEST(CliSpaces, SamplesEachSpaceOnATaskThatFitsIt) {
  for (const std::string space : {"mbconv", "transformer", "mlp"}) {
    auto r = run_nascent({"spaces", "--space", space, "--sample", "2", "--seed", "3"});
    ASSERT_EQ(r.exit_code, 0) << space << ": " << r.out;
    auto lines = json_lines(r.out);
    ASSERT_EQ(lines.size(), 2u) << r.out;
    for (const auto& j : lines) {
      EXPECT_EQ(j["space"], space);
      EXPECT_GT(j["params"].get<int64_t>(), 0);
      EXPECT_GT(j["flops"].get<double>(), 0);
    }
  }
  // A declared space from a config, built for that config's task (Fashion-MNIST).
  auto r = run_nascent({"spaces", "--space", "declared", "--config", "examples/declared.yaml", "--sample", "3"});
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(json_lines(r.out).size(), 3u);
  // The tabular example's task: an MLP for 4 features and 3 species: at least 4x8 + 8 + 8x3 + 3.
  r = run_nascent({"spaces", "--space", "mlp", "--config", "examples/tabular.yaml", "--sample", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_GE(json_lines(r.out)[0]["params"].get<int64_t>(), 67);
  // A space that cannot build for the config's task is named.
  r = run_nascent({"spaces", "--space", "transformer", "--config", "examples/tabular.yaml", "--sample", "1"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.out.find("examples/tabular.yaml: task: space 'transformer' cannot build networks for tabular data"),
            std::string::npos)
      << r.out;
}

TEST(CliSpaces, ProfileBuildsTextArchitecturesForTheirTask) {
  TempDir dir;
  test::write_file(dir.file("a.json"),
                   R"({"space": "transformer", "choices": {"layers": "1", "embed": "64", "act": "gelu",
                       "l1_heads": "4", "l1_ffn": "128"}})");
  auto r = run_nascent({"profile", "--arch", dir.file("a.json"), "--runs", "3"});
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["input_shape"], (std::vector<int64_t>{1, 64}));
  // T = 64, E = 64, F = 128, vocabulary 99: 4TE^2 + 2T^2E + 2TEF + TEV.
  EXPECT_DOUBLE_EQ(j["flops"].get<double>(),
                   4.0 * 64 * 64 * 64 + 2.0 * 64 * 64 * 64 + 2.0 * 64 * 64 * 128 + 64.0 * 64 * 99);
  r = run_nascent({"profile", "--arch", dir.file("a.json"), "--input-shape", "1,1,28,28"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.out.find("--input-shape: applies to image tasks; this is a text task"), std::string::npos) << r.out;
}

TEST(CliSpaces, BadDeclaredSpaceAndBadDataExit2WithOneLine) {
  TempDir dir;
  test::write_file(dir.file("c.yaml"),
                   "space:\n  name: declared\n  declared:\n    layers:\n"
                   "      - {type: conv, channels: {choice: [8, 16]}}\n      - {type: conv, channels: 8, kernel: 4}\n");
  auto r = run_nascent({"search", "--config", dir.file("c.yaml"), "--out", dir.file("run")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "nascent: error: " + dir.file("c.yaml") +
                       ": space.declared.layers[1].kernel: expected an odd integer or a choice list\n");
  test::write_file(dir.file("bad.csv"), "a,b,y\n1,2,x\n3,oops,z\n");
  r = run_nascent({"search", "--config", "examples/tabular.yaml", "--set", "task.path=" + dir.file("bad.csv"), "--set",
                   "task.features=[a, b]", "--set", "task.label_column=y", "--out", dir.file("run2")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out,
            "nascent: error: " + dir.file("bad.csv") + ": line 3, column 2 (b): expected a number, got 'oops'\n");
}

}  // namespace
}  // namespace nascent
