#include "nascent/core/config.h"

#include <gtest/gtest.h>

#include "nascent/core/error.h"
#include "support/support.h"

namespace nascent {
namespace {

using ::nascent::test::error_of;

TEST(ConfigSection, ReadsValuesWithDefaults) {
  ConfigSection s(nlohmann::json{{"a", 3}, {"b", 0.5}, {"c", "x"}, {"d", true}}, "sec", "f.yaml");
  EXPECT_EQ(s.get_int("a", 1, 0, 10), 3);
  EXPECT_DOUBLE_EQ(s.get_double("b", 1, 0, 1), 0.5);
  EXPECT_EQ(s.get_choice("c", "y", {"x", "y"}), "x");
  EXPECT_TRUE(s.get_bool("d", false));
  EXPECT_EQ(s.get_int("missing", 7, 0, 10), 7);
  EXPECT_NO_THROW(s.finish());
}

TEST(ConfigSection, UnknownFieldIsNamedWithTheKnownOnes) {
  ConfigSection s(nlohmann::json{{"population", 3}, {"smaple", 2}}, "strategy.evolution", "f.yaml");
  s.get_int("population", 1, 1, 10);
  s.get_int("sample", 1, 1, 10);
  const std::string e = error_of([&] { s.finish(); });
  EXPECT_EQ(e, "f.yaml: strategy.evolution.smaple: unknown field; expected one of: population, sample");
}

TEST(ConfigSection, OutOfRangeAndWrongTypeAreNamed) {
  ConfigSection s(nlohmann::json{{"n", 0}, {"x", "abc"}, {"c", "z"}}, "budget", "f.yaml");
  EXPECT_EQ(error_of([&] { s.get_int("n", 1, 1, 10); }), "f.yaml: budget.n: 0 is out of range; expected 1 to 10");
  EXPECT_EQ(error_of([&] { s.get_double("x", 1, 0, 1); }), "f.yaml: budget.x: expected a number, got \"abc\"");
  EXPECT_EQ(error_of([&] { s.get_choice("c", "a", {"a", "b"}); }), "f.yaml: budget.c: 'z' is not one of: a, b");
}

TEST(Config, YamlScalarsAreTyped) {
  EXPECT_EQ(parse_yaml_value("2", "k"), nlohmann::json(2));
  EXPECT_EQ(parse_yaml_value("0.25", "k"), nlohmann::json(0.25));
  EXPECT_EQ(parse_yaml_value("true", "k"), nlohmann::json(true));
  EXPECT_EQ(parse_yaml_value("nb201", "k"), nlohmann::json("nb201"));
  EXPECT_EQ(parse_yaml_value("'3'", "k"), nlohmann::json("3"));
  EXPECT_EQ(parse_yaml_value("[1, 2]", "k"), nlohmann::json({1, 2}));
}

// "Billion laughs": ten levels of ten aliases each would expand to 10^10 values.
TEST(Config, AYamlAliasBombIsAnInputErrorNotAHang) {
  std::string yaml = "{l0: &l0 [x, x, x, x, x, x, x, x, x, x]";
  for (int i = 1; i < 10; ++i) {
    const std::string prev = "*l" + std::to_string(i - 1);
    yaml += ", l" + std::to_string(i) + ": &l" + std::to_string(i) + " [" + prev;
    for (int k = 1; k < 10; ++k) yaml += ", " + prev;
    yaml += "]";
  }
  yaml += "}";
  EXPECT_NE(error_of([&] { parse_yaml_value(yaml, "k"); }).find("more than 1000000 values once YAML aliases"),
            std::string::npos);
  // A few levels are fine: aliases themselves are allowed.
  EXPECT_EQ(parse_yaml_value("{a: &a [1, 2], b: *a}", "k")["b"], nlohmann::json({1, 2}));
}

// Found by bench/fuzz.sh (config, declared): a config saved as Latin-1 ended in nlohmann's
// "invalid UTF-8 byte" exception (exit 1) when a message showed the value.
TEST(Config, TextThatIsNotUtf8IsAnInputErrorNamingTheLine) {
  const std::string path = ::testing::TempDir() + "/latin1.yaml";
  FILE* f = fopen(path.c_str(), "w");
  fputs("seed: 3\nrun:\n  threads: caf\xe9\n", f);
  fclose(f);
  EXPECT_EQ(error_of([&] { load_config_file(path); }), path + ": line 3: not UTF-8 text; save the file as UTF-8");
  EXPECT_EQ(error_of([&] { parse_yaml_value("caf\xe9", "task.path"); }),
            "--set: task.path: the value is not UTF-8 text");
  EXPECT_EQ(parse_yaml_value("caf\xc3\xa9", "k"), nlohmann::json("caf\xc3\xa9"));  // UTF-8 is fine
}

TEST(Config, OverridesCreateNestedPaths) {
  nlohmann::json c = {{"fidelity", {{"epochs", 1}}}};
  apply_override(c, "fidelity.epochs=3");
  apply_override(c, "space.chain.stem=8");
  EXPECT_EQ(c["fidelity"]["epochs"], 3);
  EXPECT_EQ(c["space"]["chain"]["stem"], 8);
  EXPECT_NE(error_of([&] { apply_override(c, "novalue"); }), "");
  EXPECT_NE(error_of([&] { apply_override(c, "fidelity.epochs.x=1"); }), "");
}

TEST(Config, LoadsYamlFilesAndReportsSyntaxErrors) {
  const std::string path = ::testing::TempDir() + "/config_test.yaml";
  FILE* f = fopen(path.c_str(), "w");
  fputs("seed: 3\nspace: {name: chain}\n", f);
  fclose(f);
  auto j = load_config_file(path);
  EXPECT_EQ(j["seed"], 3);
  EXPECT_EQ(j["space"]["name"], "chain");
  f = fopen(path.c_str(), "w");
  fputs("seed: [1, 2\n", f);
  fclose(f);
  const std::string e = error_of([&] { load_config_file(path); });
  EXPECT_NE(e.find(path + ": line"), std::string::npos) << e;
  EXPECT_NE(error_of([&] { load_config_file("/nonexistent/x.yaml"); }).find("/nonexistent/x.yaml"), std::string::npos);
}

}  // namespace
}  // namespace nascent
