// CSV tables for tabular tasks (`task.dataset: csv`): a header row, a label column and feature
// columns, numeric or categorical (one-hot). Features are standardised with the training split's
// mean and deviation;
// rows are split into train / validation / test with the fixed split seed. Every bad value is
// reported with the file, its line and its column.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "nascent/data/dataset.h"

namespace nascent::data {

// A parsed CSV file: column names and rows of raw fields, each with its line number (1-based,
// counting every line of the file) for messages.
struct CsvTable {
  std::vector<std::string> columns;  // from the header, or "1", "2", ... without one
  std::vector<std::vector<std::string>> rows;
  std::vector<int64_t> lines;  // line number of each row
};

// Splits fields on `delimiter`; double-quoted fields may hold the delimiter and "" for a quote.
// Blank lines are skipped. Throws InputError(path, "line N", ...) for a row with the wrong
// number of fields or an unterminated quote.
CsvTable parse_csv(const std::string& text, const std::string& path, char delimiter, bool header, int64_t skip_rows);

// The rows of `t` encoded as the model's input (`columns`: TaskData::columns["columns"], as in
// model.json): [rows, width] row-major; a missing value is its column's fill (numeric) or no
// category. Throws InputError naming the file for a missing column or a non-number.
std::vector<float> encode_table(const CsvTable& t, const nlohmann::json& columns, const std::string& path,
                                int64_t& width);

// Reads o.path (and o.test_path) as a classification table: Task kind "tabular", input_shape
// [features], classes = the distinct labels of the file (in numeric order when every label is a
// number, else alphabetical).
TaskData load_csv_task(const TaskOptions& o);

}  // namespace nascent::data
