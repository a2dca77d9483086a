#include "nascent/core/objective.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <regex>
#include <stdexcept>

#include "nascent/core/config.h"

namespace nascent {

bool is_static_metric(const std::string& name) { return name == "params" || name == "flops" || name == "memory_mb"; }

bool Constraint::satisfied(double v) const {
  switch (op) {
    case Op::kLe:
      return v <= bound;
    case Op::kLt:
      return v < bound;
    case Op::kGe:
      return v >= bound;
    case Op::kGt:
      return v > bound;
  }
  return false;
}

Constraint Constraint::parse(const std::string& text) {
  static const std::regex re(R"(^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(<=|<|>=|>)\s*([-+0-9.eE]+)\s*$)");
  std::smatch m;
  if (!std::regex_match(text, m, re))
    throw std::invalid_argument("expected 'metric <= number' (or <, >=, >), got '" + text + "'");
  Constraint c;
  c.metric = m[1];
  const std::string op = m[2];
  c.op = op == "<=" ? Op::kLe : op == "<" ? Op::kLt : op == ">=" ? Op::kGe : Op::kGt;
  try {
    size_t used = 0;
    c.bound = std::stod(m[3], &used);
    if (used != static_cast<size_t>(m[3].length())) throw std::invalid_argument("");
  } catch (const std::exception&) {
    throw std::invalid_argument("'" + m[3].str() + "' is not a number in '" + text + "'");
  }
  c.text = fmt::format("{} {} {}", c.metric, op, m[3].str());
  return c;
}

Objective::Objective() : metrics_{{"val_accuracy", true}} {}

Objective::Objective(std::vector<ObjectiveMetric> metrics, std::vector<Constraint> constraints)
    : metrics_(std::move(metrics)), constraints_(std::move(constraints)) {}

Objective Objective::from_config(ConfigSection& section) {
  std::vector<ObjectiveMetric> metrics;
  nlohmann::json ms = section.get_json("metrics");
  if (ms.is_null()) {
    metrics.push_back({"val_accuracy", true});
  } else {
    if (!ms.is_array() || ms.empty()) section.fail("metrics", "expected a non-empty list of {name, direction}");
    for (size_t i = 0; i < ms.size(); ++i) {
      ConfigSection m(ms[i], section.field_path("metrics") + fmt::format("[{}]", i), section.file());
      ObjectiveMetric om;
      om.name = m.get_string("name", "");
      if (om.name.empty()) m.fail("name", "missing metric name");
      // The validation metrics by their short names ("balanced_accuracy" = val_balanced_accuracy).
      for (const char* short_name : {"accuracy", "loss", "balanced_accuracy", "macro_f1", "auroc", "perplexity"})
        if (om.name == short_name) om.name = "val_" + om.name;
      om.maximize = m.get_choice("direction", "max", {"max", "min"}) == "max";
      m.finish();
      metrics.push_back(om);
    }
  }
  std::vector<Constraint> constraints;
  const auto texts = section.get_strings("constraints", {});
  for (size_t i = 0; i < texts.size(); ++i) {
    try {
      constraints.push_back(Constraint::parse(texts[i]));
    } catch (const std::invalid_argument& e) {
      section.fail(fmt::format("constraints[{}]", i), e.what());
    }
  }
  return Objective(std::move(metrics), std::move(constraints));
}

std::optional<std::string> Objective::violation(const Metrics& m) const {
  for (const auto& c : constraints_) {
    auto it = m.find(c.metric);
    if (it != m.end() && !c.satisfied(it->second)) return fmt::format("{} (is {:g})", c.text, it->second);
  }
  return std::nullopt;
}

std::optional<std::vector<double>> Objective::values(const Trial& t) const {
  if (t.status != TrialStatus::kOk || violation(t.metrics)) return std::nullopt;
  std::vector<double> out;
  for (const auto& om : metrics_) {
    auto v = t.metric(om.name);
    if (!v || !std::isfinite(*v)) return std::nullopt;
    out.push_back(om.maximize ? *v : -*v);
  }
  return out;
}

std::optional<double> Objective::score(const Trial& t) const {
  auto v = values(t);
  if (!v) return std::nullopt;
  return (*v)[0];
}

bool Objective::dominates(const Trial& a, const Trial& b) const {
  auto va = values(a), vb = values(b);
  if (!va || !vb) return false;
  bool strictly = false;
  for (size_t i = 0; i < va->size(); ++i) {
    if ((*va)[i] < (*vb)[i]) return false;
    if ((*va)[i] > (*vb)[i]) strictly = true;
  }
  return strictly;
}

std::vector<size_t> Objective::pareto_front(const std::vector<Trial>& trials) const {
  std::vector<size_t> front;
  for (size_t i = 0; i < trials.size(); ++i) {
    if (!values(trials[i])) continue;
    bool dominated = false;
    for (size_t j = 0; j < trials.size() && !dominated; ++j) dominated = j != i && dominates(trials[j], trials[i]);
    // The same architecture at the same fidelity with the same values again (a reused result)
    // is listed once.
    for (size_t k : front)
      dominated = dominated || (trials[k].proposal.arch == trials[i].proposal.arch &&
                                trials[k].proposal.fidelity == trials[i].proposal.fidelity &&
                                *values(trials[k]) == *values(trials[i]));
    if (!dominated) front.push_back(i);
  }
  std::stable_sort(front.begin(), front.end(),
                   [&](size_t a, size_t b) { return (*values(trials[a]))[0] > (*values(trials[b]))[0]; });
  return front;
}

std::optional<size_t> Objective::best(const std::vector<Trial>& trials) const {
  std::optional<size_t> best;
  double best_score = 0;
  for (size_t i = 0; i < trials.size(); ++i) {
    auto s = score(trials[i]);
    if (s && (!best || *s > best_score)) {
      best = i;
      best_score = *s;
    }
  }
  return best;
}

std::string Objective::describe() const {
  std::string out;
  for (size_t i = 0; i < metrics_.size(); ++i) {
    if (i) out += ", ";
    out += (metrics_[i].maximize ? "maximise " : "minimise ") + metrics_[i].name;
  }
  for (size_t i = 0; i < constraints_.size(); ++i) out += (i ? ", " : " subject to ") + constraints_[i].text;
  return out;
}

}  // namespace nascent
