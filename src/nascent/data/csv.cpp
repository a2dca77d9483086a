#include "nascent/data/csv.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <map>

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

// Feature rows and labels of a table, in the columns that `label` and `features` name.
struct Rows {
  std::vector<float> x;  // row-major [n, features]
  std::vector<std::string> labels;
  std::vector<int64_t> lines;
};

Rows extract(const CsvTable& t, const std::string& path, int label, const std::vector<int>& features,
             const TaskOptions& o) {
  Rows r;
  auto where = [&](size_t row, int col) {
    return fmt::format("line {}, column {} ({})", t.lines[row], col + 1, t.columns[col]);
  };
  std::vector<float> values(features.size());
  for (size_t i = 0; i < t.rows.size(); ++i) {
    const auto& row = t.rows[i];
    bool drop = false;
    for (size_t f = 0; f < features.size() && !drop; ++f) {
      const std::string v = trim(row[features[f]]);
      double d = 0;
      if (is_missing(v)) {
        if (o.missing == "drop") {
          drop = true;
          break;
        }
        throw InputError(path, where(i, features[f]),
                         fmt::format("missing value '{}'; set task.missing: drop to leave such rows out", v));
      }
      if (!parse_number(v, d))
        throw InputError(path, where(i, features[f]),
                         fmt::format("expected a number, got '{}'{}", v,
                                     o.features.empty() ? "; list the numeric columns in task.features" : ""));
      values[f] = static_cast<float>(d);
    }
    const std::string y = trim(row[label]);
    if (!drop && is_missing(y)) {
      if (o.missing != "drop")
        throw InputError(path, where(i, label),
                         fmt::format("missing label '{}'; set task.missing: drop to leave such rows out", y));
      drop = true;
    }
    if (drop) continue;
    r.x.insert(r.x.end(), values.begin(), values.end());
    r.labels.push_back(y);
    r.lines.push_back(t.lines[i]);
  }
  return r;
}

Split to_split(const Rows& r, size_t n_features, const std::map<std::string, int64_t>& class_of,
               const std::string& path, int label_col, const std::string& label_name) {
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
  s.x =
      torch::from_blob(const_cast<float*>(r.x.data()), {n, static_cast<int64_t>(n_features)}, torch::kFloat32).clone();
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
  const Rows rows = extract(t, o.path, label, features, o);
  const std::vector<std::string> names = distinct_labels(rows.labels);
  if (names.size() < 2)
    throw InputError(o.path, fmt::format("column {} ({})", label + 1, t.columns[label]),
                     "the label column has fewer than two distinct values");
  std::map<std::string, int64_t> class_of;
  for (size_t i = 0; i < names.size(); ++i) class_of[names[i]] = static_cast<int64_t>(i);
  const Split all = to_split(rows, features.size(), class_of, o.path, label, t.columns[label]);

  TaskData d;
  std::vector<int64_t> perm = split_permutation(all.size(), static_cast<uint64_t>(o.split_seed));
  int64_t n_test = 0;
  if (!o.test_path.empty()) {
    const CsvTable tt = parse_csv(read_file_bytes(o.test_path, "CSV file"), o.test_path, delim, o.header, o.skip_rows);
    const int tl = column_index(tt, t.columns[label], o.test_path, "task.label_column");
    std::vector<int> tf;
    for (int f : features) tf.push_back(column_index(tt, t.columns[f], o.test_path, "task.features"));
    d.test =
        to_split(extract(tt, o.test_path, tl, tf, o), features.size(), class_of, o.test_path, tl, t.columns[label]);
  } else {
    n_test = std::max<int64_t>(1, static_cast<int64_t>(o.test_fraction * static_cast<double>(all.size()) + 0.5));
    d.test = take(all, std::vector<int64_t>(perm.begin(), perm.begin() + n_test));
  }
  const auto [n_val, n_train] = val_train_sizes(all.size() - n_test, o);
  d.val = take(all, std::vector<int64_t>(perm.begin() + n_test, perm.begin() + n_test + n_val));
  d.train = take(all, std::vector<int64_t>(perm.begin() + n_test + n_val, perm.begin() + n_test + n_val + n_train));

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
  d.task.input_shape = {static_cast<int64_t>(features.size())};
  d.task.num_classes = static_cast<int64_t>(names.size());
  d.class_names = names;
  d.source = o.path;
  d.split_seed = static_cast<uint64_t>(o.split_seed);
  return d;
}

}  // namespace nascent::data
