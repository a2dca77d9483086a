#include "nascent/data/csv.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include "nascent/core/config.h"
#include "nascent/core/error.h"
#include "support/support.h"

namespace nascent::data {
namespace {

using test::kPenguinsCsv;

TaskOptions penguins() {
  TaskOptions o;
  o.dataset = "csv";
  o.path = kPenguinsCsv;
  o.label_column = "species";
  o.features = {"bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"};
  o.missing = "drop";
  return o;
}

std::string error_of(const TaskOptions& o) {
  try {
    load_task(o);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

TEST(CsvReader, PenguinsSplitAndStandardised) {
  TaskData d = load_task(penguins());
  // 344 penguins, 2 without measurements; 20% test, then 10% of the rest for validation.
  EXPECT_EQ(d.test.size(), 68);
  EXPECT_EQ(d.val.size(), 27);
  EXPECT_EQ(d.train.size(), 247);
  EXPECT_EQ(d.task.kind, "tabular");
  EXPECT_EQ(d.task.input_shape, (std::vector<int64_t>{4}));
  EXPECT_EQ(d.task.num_classes, 3);
  EXPECT_EQ(d.class_names, (std::vector<std::string>{"Adelie", "Chinstrap", "Gentoo"}));
  EXPECT_EQ(d.train.x.scalar_type(), torch::kFloat32);
  // The training split is standardised with its own statistics...
  auto mean = d.train.x.mean(0), std = d.train.x.std(0, false);
  for (int f = 0; f < 4; ++f) {
    EXPECT_NEAR(mean[f].item<float>(), 0, 1e-5);
    EXPECT_NEAR(std[f].item<float>(), 1, 1e-5);
  }
  // ... which are the penguins' real ones (flipper length about 200 mm, body mass about 4.2 kg).
  EXPECT_NEAR(d.mean[2], 201, 3);
  EXPECT_NEAR(d.mean[3], 4200, 150);
  // Every split holds every species; labels are class ids.
  EXPECT_EQ(torch::bincount(d.train.y).size(0), 3);
  EXPECT_EQ(torch::bincount(d.test.y).size(0), 3);
  // Fixed split: the same seed gives the same rows, another seed others.
  TaskData again = load_task(penguins());
  EXPECT_TRUE(torch::equal(again.test.x, d.test.x));
  TaskOptions other = penguins();
  other.split_seed = 3;
  EXPECT_FALSE(torch::equal(load_task(other).test.x, d.test.x));
}

TEST(CsvReader, MissingAndNonNumericValuesAreNamedByLineAndColumn) {
  TaskOptions o = penguins();
  o.missing = "error";
  EXPECT_EQ(error_of(o), std::string(kPenguinsCsv) +
                             ": line 5, column 3 (bill_length_mm): missing value 'NA'; set task.missing: drop to "
                             "leave such rows out, or fill to fill them in");
  o = penguins();
  o.features.clear();  // every column but the label, including the island's name
  o.categorical = "none";
  EXPECT_EQ(error_of(o), std::string(kPenguinsCsv) +
                             ": line 2, column 2 (island): expected a number, got 'Torgersen'; list the numeric "
                             "columns in task.features, or name this one in task.categorical_columns");
  o = penguins();
  o.label_column = "specis";
  EXPECT_EQ(error_of(o), std::string(kPenguinsCsv) +
                             ": task.label_column: no column 'specis'; columns are: species, island, bill_length_mm, "
                             "bill_depth_mm, flipper_length_mm, body_mass_g, sex, year");
}

TEST(CsvReader, CategoricalColumnsAreOneHotAndMissingValuesFilled) {
  // Every column but the label: island and sex are words (one-hot), year a number; sex is NA for
  // 11 penguins and two have no measurements at all: with fill they stay in.
  TaskOptions o = penguins();
  o.features.clear();
  o.missing = "fill";
  const TaskData d = load_task(o);
  EXPECT_EQ(d.test.size() + d.val.size() + d.train.size(), 344);
  // bill x2, flipper, mass, year + island (Biscoe, Dream, Torgersen) + sex (female, male).
  EXPECT_EQ(d.task.input_shape, (std::vector<int64_t>{10}));
  const nlohmann::json& cols = d.columns["columns"];
  ASSERT_EQ(cols.size(), 7u);
  EXPECT_EQ(d.columns["label_column"], "species");
  EXPECT_EQ(cols[0]["name"], "island");
  EXPECT_EQ(cols[0]["kind"], "categorical");
  EXPECT_EQ(cols[0]["categories"], (nlohmann::json{"Biscoe", "Dream", "Torgersen"}));
  EXPECT_EQ(cols[5]["categories"], (nlohmann::json{"female", "male"}));
  EXPECT_EQ(cols[6]["name"], "year");
  EXPECT_EQ(cols[6]["kind"], "numeric");
  EXPECT_NEAR(cols[1]["fill"].get<double>(), 43.9, 0.5);  // the training rows' mean bill length
  std::string notes;
  for (const auto& n : d.notes) notes += n + "\n";
  EXPECT_NE(notes.find("column 'island' is categorical: one-hot over its 3 values"), std::string::npos) << notes;
  // Named explicitly, a numeric-looking column is categorical too.
  o.categorical_columns = {"year"};
  EXPECT_EQ(load_task(o).task.input_shape, (std::vector<int64_t>{12}));  // year: 2007, 2008, 2009
}

TEST(CsvReader, BadFilesAreNamedByLine) {
  test::TempDir dir;
  TaskOptions o;
  o.dataset = "csv";
  o.path = dir.file("t.csv");
  test::write_file(o.path, "a,b,y\n1,2,x\n3,4\n");
  EXPECT_EQ(error_of(o), o.path + ": line 3: expected 3 fields (as in the header), got 2");
  test::write_file(o.path, "a,b,y\n1,2,x\n3,\"4,z\n");
  EXPECT_EQ(error_of(o), o.path + ": line 3: unterminated quoted field");
  test::write_file(o.path, "a,b,y\n1,2,x\n3,4e,z\n");
  EXPECT_EQ(error_of(o), o.path +
                             ": line 3, column 2 (b): expected a number, got '4e'; list the numeric columns in "
                             "task.features, or name this one in task.categorical_columns");
  test::write_file(o.path, "a,b,y\n");
  EXPECT_EQ(error_of(o), o.path + ": no data rows after the header");
  test::write_file(o.path, "a,b,y\n1,2,x\n3,4,x\n");
  EXPECT_EQ(error_of(o), o.path + ": column 3 (y): the label column has fewer than two distinct values");
  o.path = dir.file("none.csv");
  EXPECT_EQ(error_of(o), o.path + ": cannot open CSV file (No such file or directory)");
}

TEST(CsvReader, QuotesHeaderlessFilesSkippedLinesGzipAndTestFile) {
  test::TempDir dir;
  // scikit-learn's layout: a count line, no header, integer labels in the last column.
  std::string rows = "6,2,neg,pos\n";
  for (int i = 0; i < 12; ++i)
    rows += std::to_string(i) + ",\"" + std::to_string(i * 2) + "\"," + (i % 2 ? "1" : "0") + "\n";
  const std::string gz = dir.file("t.csv.gz");
  gzFile f = gzopen(gz.c_str(), "wb");
  gzwrite(f, rows.data(), static_cast<unsigned>(rows.size()));
  gzclose(f);
  TaskOptions o;
  o.dataset = "csv";
  o.path = gz;
  o.header = false;
  o.skip_rows = 1;
  o.test_fraction = 0.25;
  o.val_fraction = 0.2;
  TaskData d = load_task(o);
  EXPECT_EQ(d.test.size(), 3);
  EXPECT_EQ(d.val.size(), 2);
  EXPECT_EQ(d.train.size(), 7);
  EXPECT_EQ(d.class_names, (std::vector<std::string>{"0", "1"}));
  // Column 2 is twice column 1 in every row, so after standardisation the columns are equal.
  EXPECT_TRUE(torch::allclose(d.train.x.select(1, 0), d.train.x.select(1, 1)));
  // Label by column number.
  o.label_column = "1";
  EXPECT_EQ(load_task(o).task.num_classes, 12);  // every row's first column is distinct
  // A separate test file: a label it has that the training file lacks is named.
  o.label_column = "";
  o.test_fraction = 0;
  o.test_path = dir.file("test.csv");
  test::write_file(o.test_path, "skipped\n1,2,0\n5,6,7\n");
  try {
    load_task(o);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()),
              o.test_path + ": line 3, column 3 (3): label '7' does not occur in the training file");
  }
}

TEST(CsvReader, ConfigNeedsAPathAndChecksTheDelimiter) {
  ConfigSection none(nlohmann::json{{"dataset", "csv"}}, "task", "c.yaml");
  try {
    TaskOptions::from_config(none);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()), "c.yaml: task.path: dataset csv needs the path of its CSV file");
  }
  ConfigSection delim(nlohmann::json{{"dataset", "csv"}, {"path", "x.csv"}, {"delimiter", ";;"}}, "task", "c.yaml");
  EXPECT_THROW(TaskOptions::from_config(delim), InputError);
  ConfigSection tab(nlohmann::json{{"dataset", "csv"}, {"path", "x.csv"}, {"delimiter", "\\t"}}, "task", "c.yaml");
  EXPECT_EQ(TaskOptions::from_config(tab).delimiter, "\t");
  // Options of another dataset are unknown fields.
  ConfigSection wrong(nlohmann::json{{"dataset", "csv"}, {"path", "x.csv"}, {"seq_len", 8}}, "task", "c.yaml");
  EXPECT_THROW(TaskOptions::from_config(wrong), InputError);
}

}  // namespace
}  // namespace nascent::data
