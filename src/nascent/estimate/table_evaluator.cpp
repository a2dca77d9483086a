#include "nascent/estimate/table_evaluator.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

#include "nascent/core/error.h"
#include "nascent/data/csv.h"
#include "nascent/space/space.h"

namespace nascent::estimate {

Fidelity parse_fidelity_key(const std::string& text) {
  Fidelity f;
  std::stringstream in(text);
  std::string part;
  bool epochs = false, data = false;
  while (std::getline(in, part, ',')) {
    const auto eq = part.find('=');
    if (eq == std::string::npos) throw std::invalid_argument("expected name=value parts, got '" + part + "'");
    const std::string name = part.substr(0, eq);
    size_t used = 0;
    double v = 0;
    try {
      v = std::stod(part.substr(eq + 1), &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != part.size() - eq - 1 || !std::isfinite(v) || v <= 0)
      throw std::invalid_argument("'" + part + "' needs a positive number");
    if (name == "e") {
      f.epochs = v;
      epochs = true;
    } else if (name == "d") {
      f.data_fraction = v;
      data = true;
    } else if (name == "r") {
      f.resolution = static_cast<int>(v);
    } else if (name == "w") {
      f.width_mult = v;
    } else {
      throw std::invalid_argument("unknown part '" + name + "' (expected e, d, r, w)");
    }
  }
  if (!epochs || !data) throw std::invalid_argument("needs e= and d= (as in e=2,d=0.2)");
  return f;
}

std::string TableEvaluator::key(const Arch& arch, const Fidelity& f) const { return space_.hash(arch) + "/" + f.key(); }

TableEvaluator::TableEvaluator(const space::SearchSpace& space, const std::string& path, Objective objective)
    : space_(space), path_(path), objective_(std::move(objective)) {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw InputError(path, "estimator.table", "cannot read the table file");
  std::stringstream text;
  text << file.rdbuf();
  const data::CsvTable t = data::parse_csv(text.str(), path, ',', true, 0);
  auto column = [&](const std::string& name) -> int {
    auto it = std::find(t.columns.begin(), t.columns.end(), name);
    return it == t.columns.end() ? -1 : static_cast<int>(it - t.columns.begin());
  };
  const int arch_col = column("arch"), fid_col = column("fidelity"), status_col = column("status");
  const int reason_col = column("reason");
  if (arch_col < 0) throw InputError(path, "arch", "the table needs an arch column (compact JSON or text form)");
  if (fid_col < 0) throw InputError(path, "fidelity", "the table needs a fidelity column (as e=2,d=0.2)");
  if (column("train_seconds") < 0)
    throw InputError(path, "train_seconds", "the table needs a train_seconds column (the simulated cost of a row)");
  if (t.rows.empty()) throw InputError(path, "", "the table has no rows");
  std::map<std::string, int64_t> first_line;
  for (size_t r = 0; r < t.rows.size(); ++r) {
    const auto& fields = t.rows[r];
    const std::string where = fmt::format("line {}", t.lines[r]);
    const std::string& a = fields[static_cast<size_t>(arch_col)];
    const Arch arch = !a.empty() && a.front() == '{'
                          ? space.from_json(nlohmann::json::parse(a, nullptr, false), path + " " + where)
                          : space.from_text(a, path + " " + where);
    Fidelity f;
    try {
      f = parse_fidelity_key(fields[static_cast<size_t>(fid_col)]);
    } catch (const std::invalid_argument& e) {
      throw InputError(path, where, std::string("fidelity: ") + e.what());
    }
    Row row;
    row.status = status_col >= 0 ? fields[static_cast<size_t>(status_col)] : "ok";
    if (reason_col >= 0) row.reason = fields[static_cast<size_t>(reason_col)];
    for (size_t c = 0; c < fields.size(); ++c) {
      const int ci = static_cast<int>(c);
      if (ci == arch_col || ci == fid_col || ci == status_col || ci == reason_col || t.columns[c] == "trial") continue;
      if (fields[c].empty()) continue;  // not measured for this row
      size_t used = 0;
      double v = 0;
      try {
        v = std::stod(fields[c], &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (used == 0 || used != fields[c].size())
        throw InputError(path, where, fmt::format("column {}: '{}' is not a number", t.columns[c], fields[c]));
      row.metrics[t.columns[c]] = v;
    }
    if (row.status == "ok" && !row.metrics.count("train_seconds"))
      throw InputError(path, where, "train_seconds is empty");
    const std::string k = key(arch, f);
    if (first_line.count(k))
      throw InputError(
          path, where,
          fmt::format("the same architecture at fidelity {} is already on line {}", f.key(), first_line[k]));
    first_line[k] = t.lines[r];
    rows_[k] = std::move(row);
  }
}

Evaluation TableEvaluator::evaluate(const Proposal& p, uint64_t /*seed*/, const ProgressFn& /*progress*/) {
  Evaluation e;
  auto it = rows_.find(key(p.arch, p.fidelity));
  if (it == rows_.end()) {
    e.status = TrialStatus::kFailed;
    e.reason = fmt::format("not in table {} at fidelity {}", path_, p.fidelity.key());
    return e;
  }
  const Row& row = it->second;
  e.metrics = row.metrics;
  if (row.status != "ok") {
    e.status = TrialStatus::kFailed;
    e.reason = fmt::format("recorded as {} in the table{}", row.status, row.reason.empty() ? "" : ": " + row.reason);
    return e;
  }
  reject_on_constraints(objective_, e);
  return e;
}

}  // namespace nascent::estimate
