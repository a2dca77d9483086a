#include "nascent/run/outputs.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <stdexcept>

#include "nascent/core/error.h"
#include "nascent/run/importance.h"
#include "nascent/run/reevaluate.h"
#include "nascent/space/space.h"

namespace nascent::run {
std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

void write_file_atomic(const std::string& path, const std::string& text) {
  // A failed write (full disk, read-only directory, file size limit) is not bad input: it stops
  // the command with exit 1, naming the file and the system's reason; the old file stays whole.
  const std::string tmp = path + ".tmp";
  auto fail = [&](const char* what) {
    const int err = errno;
    std::remove(tmp.c_str());
    throw std::runtime_error(fmt::format("{}: {}: {}", path, what, std::strerror(err)));
  };
  FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) fail("cannot write file");
  const bool written = std::fwrite(text.data(), 1, text.size(), f) == text.size() && std::fflush(f) == 0;
  const int err = errno;
  if (std::fclose(f) != 0 || !written) {
    errno = written ? errno : err;
    fail("cannot write file");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) fail("cannot replace file");
}

std::string trials_csv(const std::vector<Trial>& trials, const space::SearchSpace& space) {
  std::set<std::string> names;
  for (const auto& t : trials)
    for (const auto& [k, _] : t.metrics) names.insert(k);
  std::string out = "trial,status,fidelity,arch";
  for (const auto& n : names) out += "," + n;
  out += "\n";
  for (const auto& t : trials) {
    out += fmt::format("{},{},{},{}", t.id, to_string(t.status), csv_field(t.proposal.fidelity.key()),
                       csv_field(space.to_json(t.proposal.arch).dump()));
    for (const auto& n : names) {
      auto v = t.metric(n);
      out += ",";
      if (v && std::isfinite(*v)) out += fmt::format("{}", *v);
    }
    out += "\n";
  }
  return out;
}

nlohmann::json trial_json(const Trial& t, const space::SearchSpace& space) {
  nlohmann::json m = nlohmann::json::object();
  for (const auto& [k, v] : t.metrics)
    if (std::isfinite(v)) m[k] = v;
  nlohmann::json j = {{"trial", t.id},
                      {"status", to_string(t.status)},
                      {"arch", space.to_json(t.proposal.arch)},
                      {"hash", space.hash(t.proposal.arch)},
                      {"fidelity", t.proposal.fidelity.to_json()},
                      {"metrics", m}};
  if (!t.reason.empty()) j["reason"] = t.reason;
  return j;
}

nlohmann::json importance_json(const std::vector<Trial>& trials, const space::SearchSpace& space,
                               const Objective& objective) {
  // Trials at different fidelities are not comparable: the fidelity with the most results.
  std::map<std::string, std::vector<size_t>> by_fidelity;
  for (size_t i = 0; i < trials.size(); ++i)
    if (objective.score(trials[i])) by_fidelity[trials[i].proposal.fidelity.key()].push_back(i);
  const auto largest = std::max_element(by_fidelity.begin(), by_fidelity.end(),
                                        [](const auto& a, const auto& b) { return a.second.size() < b.second.size(); });
  if (largest == by_fidelity.end() || largest->second.size() < kImportanceMinTrials) return nullptr;
  const auto& decisions = space.decisions();
  std::vector<std::string> names;
  std::vector<std::vector<std::string>> options;
  for (const auto& d : decisions) {
    names.push_back(d.name);
    options.push_back(d.options);
    if (d.condition) options.back().push_back("(inactive)");
  }
  std::vector<std::vector<int>> x;
  std::vector<double> y;
  for (size_t i : largest->second) {
    const Arch& a = trials[i].proposal.arch;
    std::vector<int> row;
    for (size_t d = 0; d < decisions.size(); ++d)
      row.push_back(space.active(a, d) ? a.choices[d] : static_cast<int>(decisions[d].options.size()));
    x.push_back(row);
    y.push_back(*trials[i].metric(objective.metrics().front().name));
  }
  nlohmann::json out = {{"method", "fANOVA on a random forest (64 trees)"},
                        {"metric", objective.metrics().front().name},
                        {"fidelity", largest->first},
                        {"trials", x.size()},
                        {"decisions", nlohmann::json::array()}};
  for (const auto& d : fanova_importance(x, y, names, options)) out["decisions"].push_back(d.to_json());
  return out;
}

nlohmann::json summary_json(const SummaryInput& in) {
  const auto& trials = *in.trials;
  nlohmann::json counts = {{"ok", 0}, {"failed", 0}, {"rejected", 0}, {"pruned", 0}, {"running", 0}};
  for (const auto& t : trials) counts[to_string(t.status)] = counts[to_string(t.status)].get<int>() + 1;
  nlohmann::json s;
  auto best = chosen_trial(trials, *in.objective);
  s["best"] = best ? trial_json(trials[*best], *in.space) : nlohmann::json(nullptr);
  nlohmann::json pareto = nlohmann::json::array();
  for (size_t i : in.objective->pareto_front(trials)) pareto.push_back(trial_json(trials[i], *in.space));
  s["pareto"] = pareto;
  s["trials"] = trials.size();
  s["counts"] = counts;
  s["strategy"] = in.strategy;
  s["space"] = in.space->name();
  s["objective"] = in.objective->describe();
  s["seed"] = in.seed;
  s["elapsed_s"] = in.elapsed_s;
  if (in.simulated_s >= 0) s["simulated_s"] = in.simulated_s;
  s["status"] = in.status;
  if (!in.final.is_null()) s["final"] = in.final;
  if (!in.final_skipped.empty()) s["final_skipped"] = in.final_skipped;
  if (!in.warnings.empty()) s["warnings"] = in.warnings;
  if (const nlohmann::json imp = importance_json(trials, *in.space, *in.objective); !imp.is_null())
    s["importance"] = imp;
  return s;
}

nlohmann::json arch_file_json(const Arch& arch, const space::SearchSpace& space, const nlohmann::json& space_options,
                              const nlohmann::json& task) {
  nlohmann::json j = space.to_json(arch);
  if (!space.text_field().empty()) j[space.text_field()] = space.to_text(arch);
  if (!space_options.is_null() && !space_options.empty()) j["space_options"] = space_options;
  if (!task.is_null()) j["task"] = task;
  return j;
}

nlohmann::json task_signature(const Task& task) {
  return {{"name", task.name},
          {"kind", task.kind},
          {"input_shape", task.input_shape},
          {"num_classes", task.num_classes},
          {"target", task.target}};
}

std::string task_mismatch(const nlohmann::json& stored, const Task& task) {
  if (!stored.is_object()) return "";
  const nlohmann::json now = task_signature(task);
  for (const char* key : {"kind", "input_shape", "num_classes", "target"})
    if (stored.contains(key) && stored[key] != now[key])
      return fmt::format(
          "it was searched for {} data {} with input {} and {} outputs, but this task is {} data {} "
          "with input {} and {} outputs",
          stored.value("kind", "?"), stored.value("name", "?"), stored.value("input_shape", nlohmann::json()).dump(),
          stored.value("num_classes", nlohmann::json()).dump(), task.kind, task.name, now["input_shape"].dump(),
          task.num_classes);
  return "";
}

}  // namespace nascent::run
