#include "nascent/data/csv.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "nascent/core/error.h"
#include "nascent/data/file_bytes.h"

namespace nascent::data {
namespace {

// Splits one line into fields. Returns false on an unterminated quote.
bool split_line(const std::string& line, char delim, std::vector<std::string>& out) {
  out.clear();
  std::string field;
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c == '"' && field.find_first_not_of(" \t") == std::string::npos) {
      quoted = true;
      field.clear();
    } else if (c == delim) {
      out.push_back(field);
      field.clear();
    } else {
      field += c;
    }
  }
  out.push_back(field);
  return !quoted;
}

std::string trim(const std::string& s) {
  const size_t a = s.find_first_not_of(" \t");
  if (a == std::string::npos) return "";
  const size_t b = s.find_last_not_of(" \t");
  return s.substr(a, b - a + 1);
}

bool is_missing(const std::string& v) {
  return v.empty() || v == "NA" || v == "N/A" || v == "NaN" || v == "nan" || v == "?" || v == "null";
}

bool parse_number(const std::string& v, double& out) {
  if (v.empty()) return false;
  char* end = nullptr;
  errno = 0;
  out = std::strtod(v.c_str(), &end);
  return *end == '\0' && errno == 0 && std::isfinite(out);
}

int column_index(const CsvTable& t, const std::string& name, const std::string& path, const std::string& field) {
  for (size_t i = 0; i < t.columns.size(); ++i)
    if (t.columns[i] == name) return static_cast<int>(i);
  throw InputError(path, field, fmt::format("no column '{}'; columns are: {}", name, fmt::join(t.columns, ", ")));
}

// The label and feature fields of a table's rows (rows with a missing value left out under
// task.missing: drop), before encoding.
struct RawRows {
  std::vector<std::vector<std::string>> features;  // [row][feature], trimmed; "" where missing
  std::vector<std::string> labels;
  std::vector<int64_t> lines;
};

RawRows extract(const CsvTable& t, const std::string& path, int label, const std::vector<int>& features,
                const TaskOptions& o) {
  RawRows r;
  auto where = [&](size_t row, int col) {
    return fmt::format("line {}, column {} ({})", t.lines[row], col + 1, t.columns[col]);
  };
  const std::string hint = "; set task.missing: drop to leave such rows out, or fill to fill them in";
  for (size_t i = 0; i < t.rows.size(); ++i) {
    const auto& row = t.rows[i];
    std::vector<std::string> values(features.size());
    bool drop = false;
    for (size_t f = 0; f < features.size() && !drop; ++f) {
      const std::string v = trim(row[features[f]]);
      if (!is_missing(v)) {
        values[f] = v;
        continue;
      }
      if (o.missing == "drop")
        drop = true;
      else if (o.missing == "error")
        throw InputError(path, where(i, features[f]), fmt::format("missing value '{}'{}", v, hint));
    }
    const std::string y = trim(row[label]);
    if (!drop && is_missing(y)) {
      if (o.missing == "error") throw InputError(path, where(i, label), fmt::format("missing label '{}'{}", y, hint));
      drop = true;  // a row without a label teaches nothing (drop and fill alike)
    }
    if (drop) continue;
    r.features.push_back(std::move(values));
    r.labels.push_back(y);
    r.lines.push_back(t.lines[i]);
  }
  return r;
}

// Which feature columns are categorical: those named in task.categorical_columns, and with
// task.categorical: auto those where most present values are not numbers (a column of numbers
// with a typo stays numeric, and the typo is an error naming its line).
std::vector<bool> categorical_columns(const RawRows& r, const std::vector<std::string>& names, const TaskOptions& o) {
  std::vector<bool> cat(names.size(), false);
  for (size_t f = 0; f < names.size(); ++f) {
    if (std::find(o.categorical_columns.begin(), o.categorical_columns.end(), names[f]) !=
        o.categorical_columns.end()) {
      cat[f] = true;
      continue;
    }
    if (o.categorical != "auto") continue;
    int64_t present = 0, text = 0;
    double d = 0;
    for (const auto& row : r.features) {
      if (row[f].empty()) continue;
      ++present;
      if (!parse_number(row[f], d)) ++text;
    }
    cat[f] = present > 0 && 2 * text > present;
  }
  return cat;
}

// How rows become the network's input vector: numeric columns as numbers (a missing one is the
// training mean under task.missing: fill), categorical ones one-hot over the categories of the
// training rows (an unseen or missing category is all zeros).
struct Encoding {
  std::vector<std::string> names;
  std::vector<bool> categorical;
  std::vector<std::vector<std::string>> categories;  // per categorical column, sorted
  std::vector<double> fill;                          // per numeric column: the training mean
  int64_t width() const {
    int64_t w = 0;
    for (size_t f = 0; f < names.size(); ++f) w += categorical[f] ? static_cast<int64_t>(categories[f].size()) : 1;
    return w;
  }
  nlohmann::json to_json() const {
    nlohmann::json cols = nlohmann::json::array();
    for (size_t f = 0; f < names.size(); ++f) {
      if (categorical[f])
        cols.push_back({{"name", names[f]}, {"kind", "categorical"}, {"categories", categories[f]}});
      else
        cols.push_back({{"name", names[f]}, {"kind", "numeric"}, {"fill", fill[f]}});
    }
    return cols;
  }
};

Encoding fit_encoding(const RawRows& r, const std::vector<int64_t>& train_rows, const std::vector<std::string>& names,
                      const std::vector<bool>& categorical) {
  Encoding e;
  e.names = names;
  e.categorical = categorical;
  e.categories.resize(names.size());
  e.fill.assign(names.size(), 0.0);
  for (size_t f = 0; f < names.size(); ++f) {
    if (categorical[f]) {
      std::vector<std::string>& c = e.categories[f];
      for (int64_t i : train_rows)
        if (!r.features[static_cast<size_t>(i)][f].empty()) c.push_back(r.features[static_cast<size_t>(i)][f]);
      std::sort(c.begin(), c.end());
      c.erase(std::unique(c.begin(), c.end()), c.end());
    } else {
      double sum = 0, d = 0;
      int64_t n = 0;
      for (int64_t i : train_rows)
        if (parse_number(r.features[static_cast<size_t>(i)][f], d)) {
          sum += d;
          ++n;
        }
      e.fill[f] = n ? sum / static_cast<double>(n) : 0.0;
    }
  }
  return e;
}

// A non-number in a numeric column is an error naming line and column, found before the split
// so that it is what a small bad file reports.
void check_numbers(const RawRows& r, const std::vector<bool>& categorical, const std::vector<std::string>& names,
                   const std::string& path, const std::vector<int>& feature_cols, bool listed) {
  double d = 0;
  for (size_t i = 0; i < r.features.size(); ++i)
    for (size_t f = 0; f < names.size(); ++f) {
      const std::string& v = r.features[i][f];
      if (categorical[f] || v.empty() || parse_number(v, d)) continue;
      throw InputError(path, fmt::format("line {}, column {} ({})", r.lines[i], feature_cols[f] + 1, names[f]),
                       fmt::format("expected a number, got '{}'{}", v,
                                   listed ? ""
                                          : "; list the numeric columns in task.features, or name this one in "
                                            "task.categorical_columns"));
    }
}

// [rows, width] floats; a non-number in a numeric column is an error naming line and column.
std::vector<float> encode(const RawRows& r, const Encoding& e, const std::string& path,
                          const std::vector<int>& feature_cols, bool listed) {
  std::vector<float> x;
  x.reserve(r.features.size() * static_cast<size_t>(e.width()));
  for (size_t i = 0; i < r.features.size(); ++i) {
    for (size_t f = 0; f < e.names.size(); ++f) {
      const std::string& v = r.features[i][f];
      if (e.categorical[f]) {
        for (const auto& c : e.categories[f]) x.push_back(v == c ? 1.0f : 0.0f);
        continue;
      }
      double d = e.fill[f];
      if (!v.empty() && !parse_number(v, d))
        throw InputError(path, fmt::format("line {}, column {} ({})", r.lines[i], feature_cols[f] + 1, e.names[f]),
                         fmt::format("expected a number, got '{}'{}", v,
                                     listed ? ""
                                            : "; list the numeric columns in task.features, or name this one in "
                                              "task.categorical_columns"));
      x.push_back(static_cast<float>(d));
    }
  }
  return x;
}

Split to_split(const RawRows& r, const std::vector<float>& x, int64_t width,
               const std::map<std::string, int64_t>& class_of, const std::string& path, int label_col,
               const std::string& label_name) {
  const int64_t n = static_cast<int64_t>(r.labels.size());
  std::vector<int64_t> y(n);
  for (int64_t i = 0; i < n; ++i) {
    auto it = class_of.find(r.labels[i]);
    if (it == class_of.end())
      throw InputError(path, fmt::format("line {}, column {} ({})", r.lines[i], label_col + 1, label_name),
                       fmt::format("label '{}' does not occur in the training file", r.labels[i]));
    y[i] = it->second;
  }
  Split s;
  s.x = torch::from_blob(const_cast<float*>(x.data()), {n, width}, torch::kFloat32).clone();
  s.y = torch::from_blob(y.data(), {n}, torch::kInt64).clone();
  return s;
}

}  // namespace

CsvTable parse_csv(const std::string& text, const std::string& path, char delimiter, bool header, int64_t skip_rows) {
  CsvTable t;
  std::vector<std::string> fields;
  int64_t line_no = 0;
  size_t pos = 0;
  bool have_header = !header;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line_no <= skip_rows || trim(line).empty()) continue;
    if (!split_line(line, delimiter, fields))
      throw InputError(path, fmt::format("line {}", line_no), "unterminated quoted field");
    if (!have_header) {
      for (auto& f : fields) t.columns.push_back(trim(f));
      have_header = true;
      continue;
    }
    if (t.columns.empty())
      for (size_t i = 0; i < fields.size(); ++i) t.columns.push_back(std::to_string(i + 1));
    if (fields.size() != t.columns.size())
      throw InputError(path, fmt::format("line {}", line_no),
                       fmt::format("expected {} fields{}, got {}", t.columns.size(),
                                   header ? " (as in the header)" : " (as in the first row)", fields.size()));
    t.rows.push_back(fields);
    t.lines.push_back(line_no);
  }
  if (t.columns.empty()) throw InputError(path, "", "the file is empty");
  if (t.rows.empty()) throw InputError(path, "", "no data rows after the header");
  return t;
}

std::vector<float> encode_table(const CsvTable& t, const nlohmann::json& columns, const std::string& path,
                                int64_t& width) {
  Encoding e;
  std::vector<int> cols;
  for (const auto& c : columns) {
    const std::string name = c.value("name", std::string());
    cols.push_back(column_index(t, name, path, "model input.columns"));
    e.names.push_back(name);
    e.categorical.push_back(c.value("kind", std::string()) == "categorical");
    e.categories.push_back(c.value("categories", std::vector<std::string>()));
    e.fill.push_back(c.value("fill", 0.0));
  }
  RawRows r;
  for (size_t i = 0; i < t.rows.size(); ++i) {
    std::vector<std::string> values;
    for (int c : cols) {
      const std::string v = trim(t.rows[i][c]);
      values.push_back(is_missing(v) ? std::string() : v);
    }
    r.features.push_back(std::move(values));
    r.lines.push_back(t.lines[i]);
  }
  width = e.width();
  return encode(r, e, path, cols, true);
}

TaskData load_csv_task(const TaskOptions& o) {
  const char delim = o.delimiter.at(0);
  const CsvTable t = parse_csv(read_file_bytes(o.path, "CSV file"), o.path, delim, o.header, o.skip_rows);
  if (t.columns.size() < 2) throw InputError(o.path, "", "expected at least two columns (features and a label)");
  const int label = o.label_column.empty() ? static_cast<int>(t.columns.size()) - 1
                                           : column_index(t, o.label_column, o.path, "task.label_column");
  std::vector<int> features;
  if (o.features.empty()) {
    for (int i = 0; i < static_cast<int>(t.columns.size()); ++i)
      if (i != label) features.push_back(i);
  } else {
    for (const auto& f : o.features) {
      const int i = column_index(t, f, o.path, "task.features");
      if (i == label) throw InputError(o.path, "task.features", fmt::format("'{}' is the label column", f));
      features.push_back(i);
    }
  }
  const RawRows rows = extract(t, o.path, label, features, o);
  if (rows.labels.empty())
    throw InputError(o.path, "", "no rows left: every row has a missing value (task.missing: drop)");
  const std::vector<std::string> names = distinct_labels(rows.labels);
  if (names.size() < 2)
    throw InputError(o.path, fmt::format("column {} ({})", label + 1, t.columns[label]),
                     "the label column has fewer than two distinct values");
  std::map<std::string, int64_t> class_of;
  for (size_t i = 0; i < names.size(); ++i) class_of[names[i]] = static_cast<int64_t>(i);

  std::vector<std::string> feature_names;
  for (int f : features) feature_names.push_back(t.columns[f]);
  const std::vector<bool> categorical = categorical_columns(rows, feature_names, o);
  check_numbers(rows, categorical, feature_names, o.path, features, !o.features.empty());

  // The split first (rows of the file), so that categories and fill values come from training rows.
  TaskData d;
  const int64_t n_all = static_cast<int64_t>(rows.labels.size());
  std::vector<int64_t> perm = split_permutation(n_all, static_cast<uint64_t>(o.split_seed));
  const int64_t n_test =
      o.test_path.empty()
          ? std::max<int64_t>(1, static_cast<int64_t>(o.test_fraction * static_cast<double>(n_all) + 0.5))
          : 0;
  const auto [n_val, n_train] = val_train_sizes(n_all - n_test, o);
  const std::vector<int64_t> test_rows(perm.begin(), perm.begin() + n_test);
  const std::vector<int64_t> val_rows(perm.begin() + n_test, perm.begin() + n_test + n_val);
  const std::vector<int64_t> train_rows(perm.begin() + n_test + n_val, perm.begin() + n_test + n_val + n_train);

  const Encoding enc = fit_encoding(rows, train_rows, feature_names, categorical);
  const int64_t width = enc.width();
  if (width == 0) throw InputError(o.path, "task.features", "no input columns left after encoding");
  const Split all = to_split(rows, encode(rows, enc, o.path, features, !o.features.empty()), width, class_of, o.path,
                             label, t.columns[label]);
  if (!o.test_path.empty()) {
    const CsvTable tt = parse_csv(read_file_bytes(o.test_path, "CSV file"), o.test_path, delim, o.header, o.skip_rows);
    const int tl = column_index(tt, t.columns[label], o.test_path, "task.label_column");
    std::vector<int> tf;
    for (int f : features) tf.push_back(column_index(tt, t.columns[f], o.test_path, "task.features"));
    const RawRows test_raw = extract(tt, o.test_path, tl, tf, o);
    d.test = to_split(test_raw, encode(test_raw, enc, o.test_path, tf, !o.features.empty()), width, class_of,
                      o.test_path, tl, t.columns[label]);
  } else {
    d.test = take(all, test_rows);
  }
  d.val = take(all, val_rows);
  d.train = take(all, train_rows);
  d.columns = {{"label_column", t.columns[label]}, {"columns", enc.to_json()}};
  for (size_t f = 0; f < feature_names.size(); ++f)
    if (enc.categorical[f])
      d.notes.push_back(fmt::format("column '{}' is categorical: one-hot over its {} values in the training rows",
                                    feature_names[f], enc.categories[f].size()));

  // Standardise every split with the training split's statistics (constant columns keep scale 1).
  auto mean = d.train.x.mean(0);
  auto std = d.train.x.std(0, /*unbiased=*/false);
  std = torch::where(std < 1e-12, torch::ones_like(std), std);
  for (Split* s : {&d.train, &d.val, &d.test}) s->x = (s->x - mean) / std;
  for (int64_t f = 0; f < mean.size(0); ++f) {
    d.mean.push_back(mean[f].item<float>());
    d.std.push_back(std[f].item<float>());
  }
  d.task.name = std::filesystem::path(o.path).stem().string();
  d.task.kind = "tabular";
  d.task.input_shape = {width};
  d.task.num_classes = static_cast<int64_t>(names.size());
  d.class_names = names;
  d.source = o.path;
  d.split_seed = static_cast<uint64_t>(o.split_seed);
  return d;
}

}  // namespace nascent::data
