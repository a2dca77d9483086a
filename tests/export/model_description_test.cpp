#include "nascent/export/model_description.h"

#include <gtest/gtest.h>

#include "nascent/core/error.h"

namespace nascent::exporting {
namespace {

// The InputError's field for a description text, or "(accepted)".
std::string error_field(const std::string& text) {
  try {
    parse_model_description(text, "m.json");
  } catch (const InputError& e) {
    EXPECT_EQ(e.file(), "m.json");
    return e.field();
  }
  return "(accepted)";
}

TEST(ModelDescription, ReadsImageAndTableModelsAsDescribeModelWritesThem) {
  const ModelDescription image = parse_model_description(
      R"({"format": "torchscript", "input": {"name": "x", "shape": [null, 1, 28, 28], "dtype": "float32"},
          "class_names": ["T-shirt", "Trouser"]})",
      "m.json");
  EXPECT_TRUE(image.image);
  EXPECT_FALSE(image.table);
  EXPECT_EQ(image.channels, 1);
  EXPECT_EQ(image.side, 28);
  EXPECT_EQ(image.class_names, (std::vector<std::string>{"T-shirt", "Trouser"}));

  const ModelDescription table = parse_model_description(
      R"({"input": {"shape": [null, 3], "label_column": "y",
          "columns": [{"name": "a", "kind": "numeric", "fill": 0.5}, {"name": "b", "kind": "categorical",
                       "categories": ["x", "z"]}]}})",
      "m.json");
  EXPECT_TRUE(table.table);
  EXPECT_FALSE(table.image);
  EXPECT_EQ(table.label_column, "y");
  EXPECT_EQ(table.columns.size(), 2u);

  // A text model is neither; predict says so.
  const ModelDescription text = parse_model_description(R"({"input": {"shape": [null, 64]}})", "m.json");
  EXPECT_FALSE(text.image);
  EXPECT_FALSE(text.table);
}

TEST(ModelDescription, EveryMalformedFieldIsAnInputErrorNamingIt) {
  EXPECT_EQ(error_field("{\"input\": "), "");  // not JSON
  EXPECT_EQ(error_field("[1, 2]"), "");
  EXPECT_EQ(error_field(R"({"class_names": ["a", 3]})"), "class_names");
  EXPECT_EQ(error_field(R"({"class_names": "a"})"), "class_names");
  EXPECT_EQ(error_field(R"({"input": 7})"), "input");
  EXPECT_EQ(error_field(R"({"input": {"shape": [null, "1", 28, 28]}})"), "input.shape[1]");
  EXPECT_EQ(error_field(R"({"input": {"shape": [null, 0, 28, 28]}})"), "input.shape[1]");
  // A side that would make predict allocate terabytes.
  EXPECT_EQ(error_field(R"({"input": {"shape": [null, 3, 1000000000, 1000000000]}})"), "input.shape[2]");
  EXPECT_EQ(error_field(R"({"input": {"shape": [null, 3, 28, 2.5]}})"), "input.shape[3]");
  EXPECT_EQ(error_field(R"({"input": {"shape": [null, 3, 28, 14]}})"), "input.shape");
  EXPECT_EQ(error_field(R"({"input": {"columns": {"name": "a"}}})"), "input.columns");
  EXPECT_EQ(error_field(R"({"input": {"columns": []}})"), "input.columns");
  EXPECT_EQ(error_field(R"({"input": {"columns": [3]}})"), "input.columns[0]");
  EXPECT_EQ(error_field(R"({"input": {"columns": [{"name": 3}]}})"), "input.columns[0].name");
  EXPECT_EQ(error_field(R"({"input": {"columns": [{"name": "a"}, {"name": "b", "categories": [1]}]}})"),
            "input.columns[1].categories");
  EXPECT_EQ(error_field(R"({"input": {"columns": [{"name": "a", "fill": "x"}]}})"), "input.columns[0].fill");
  EXPECT_EQ(error_field(R"({"input": {"columns": [{"name": "a"}], "label_column": 1}})"), "input.label_column");
}

TEST(ModelDescription, AMissingFileIsAnInputError) {
  EXPECT_THROW(read_model_description("/nonexistent/model.json"), InputError);
}

}  // namespace
}  // namespace nascent::exporting
