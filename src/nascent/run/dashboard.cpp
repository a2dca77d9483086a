#include "nascent/run/dashboard.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>

#include "nascent/core/error.h"
#include "nascent/estimate/median_stopping.h"
#include "nascent/run/experiment.h"
#include "nascent/run/outputs.h"
#include "nascent/run/plain_summary.h"
#include "nascent/run/reevaluate.h"
#include "nascent/run/report.h"
#include "nascent/store/store.h"

namespace nascent::run {

namespace fs = std::filesystem;

std::vector<std::string> find_runs(const std::string& root) {
  std::vector<std::string> runs;
  std::error_code ec;
  if (fs::is_regular_file(fs::path(root) / "experiment.db", ec)) return {"."};
  if (!fs::is_directory(root, ec)) return runs;
  // Three levels: runs/NAME, runs/GROUP/NAME (as bench scripts make), runs/GROUP/SUB/NAME.
  auto it = fs::recursive_directory_iterator(root, fs::directory_options::skip_permission_denied, ec);
  for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it.depth() >= 3) {
      it.disable_recursion_pending();
      continue;
    }
    if (!it->is_directory(ec)) continue;
    if (fs::is_regular_file(it->path() / "experiment.db", ec)) {
      runs.push_back(fs::relative(it->path(), root, ec).generic_string());
      it.disable_recursion_pending();  // a run directory holds no other runs
    }
  }
  std::sort(runs.begin(), runs.end());
  return runs;
}

RunReader::RunReader(const std::string& run_dir) : dir_(run_dir) {
  const std::string db = run_dir + "/experiment.db";
  raw_config_ = store::Store::read_config(db, store::Access::kReadOnly);
  config_ = std::make_unique<ExperimentConfig>(ExperimentConfig::parse(raw_config_, db));
  space_ = config_->make_space();
  store_ = store::Store::open_read_only(db, *space_);
}

RunReader::~RunReader() = default;

namespace {

nlohmann::json read_summary(const std::string& dir) {
  std::ifstream in(dir + "/summary.json");
  if (!in) return nullptr;
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception&) {
    return nullptr;  // being replaced at this moment: the next poll reads it
  }
}

nlohmann::json finite_metrics(const Metrics& metrics) {
  nlohmann::json m = nlohmann::json::object();
  for (const auto& [k, v] : metrics)
    if (std::isfinite(v) && k.rfind("val_accuracy_epoch_", 0) != 0) m[k] = v;
  return m;
}

}  // namespace

nlohmann::json RunReader::snapshot(const std::string& name) {
  const std::vector<Trial> trials = store_->trials();
  const store::ExperimentInfo info = store_->info();
  const Objective& objective = config_->objective;
  const space::SearchSpace& space = *space_;
  const nlohmann::json summary = read_summary(dir_);

  nlohmann::json metrics = nlohmann::json::array();
  for (const auto& m : objective.metrics())
    metrics.push_back({{"name", m.name}, {"direction", m.maximize ? "max" : "min"}});
  nlohmann::json constraints = nlohmann::json::array();
  for (const auto& c : objective.constraints()) constraints.push_back(c.text);

  nlohmann::json decisions = nlohmann::json::array();
  for (const auto& d : space.decisions()) decisions.push_back({{"name", d.name}, {"options", d.options}});

  std::map<std::string, int64_t> counts;
  for (const char* s : {"ok", "running", "queued", "failed", "rejected", "pruned"}) counts[s] = 0;
  std::vector<bool> on_front(trials.size(), false);
  for (size_t i : objective.pareto_front(trials)) on_front[i] = true;
  nlohmann::json rows = nlohmann::json::array();
  double updated = 0;
  for (size_t i = 0; i < trials.size(); ++i) {
    const Trial& t = trials[i];
    // A trial asked ahead of a free worker (--workers N, MPI) is stored as running with worker
    // "queued" until a worker takes it: shown as waiting, not as training.
    const std::string status =
        t.status == TrialStatus::kRunning && t.worker == "queued" ? "queued" : to_string(t.status);
    counts[status]++;
    std::vector<int> choices(space.num_decisions(), -1);
    for (size_t k = 0; k < space.num_decisions() && k < t.proposal.arch.choices.size(); ++k)
      if (space.active(t.proposal.arch, k)) choices[k] = t.proposal.arch.choices[k];
    nlohmann::json row = {{"id", t.id},
                          {"status", status},
                          {"fidelity", t.proposal.fidelity.key()},
                          {"arch", space.describe(t.proposal.arch)},
                          {"choices", choices},
                          {"metrics", finite_metrics(t.metrics)},
                          {"curve", estimate::learning_curve(t)},
                          {"started", t.started},
                          {"ended", t.ended},
                          {"worker", t.worker},
                          {"pareto", static_cast<bool>(on_front[i])}};
    if (!t.reason.empty()) row["reason"] = t.reason;
    rows.push_back(std::move(row));
    updated = std::max({updated, t.started, t.ended});
  }

  nlohmann::json best = nullptr;
  if (const auto b = chosen_trial(trials, objective)) {
    const Trial& t = trials[*b];
    best = {{"id", t.id},
            {"value", t.metric(objective.metrics().front().name).value_or(NAN)},
            {"arch", space.describe(t.proposal.arch)},
            {"choices", space.to_json(t.proposal.arch)["choices"]},
            {"diagram", diagram_svg(space.diagram(t.proposal.arch))}};
  }

  // One-shot strategies: the supernet's epochs, the operation names of each alpha row, and spos'
  // generations over the trained supernet.
  const std::vector<store::StoredEvent> epochs = store_->events("supernet_epoch");
  nlohmann::json supernet = nlohmann::json::array();
  for (const auto& e : epochs) {
    supernet.push_back(e.data);
    updated = std::max(updated, e.time);
  }
  const nlohmann::json alpha_ops = alpha_op_names(space, epochs);
  nlohmann::json spos = nlohmann::json::array();
  for (const auto& e : store_->events("spos_generation")) {
    spos.push_back(e.data);
    updated = std::max(updated, e.time);
  }

  // The importance: the summary's when the search wrote one, else computed from the trials.
  nlohmann::json importance = summary.is_object() ? summary.value("importance", nlohmann::json()) : nullptr;
  if (importance.is_null()) {
    if (importance_trials_ != trials.size()) {
      importance_ = importance_json(trials, space, objective);
      importance_trials_ = trials.size();
    }
    importance = importance_;
  }

  // The run in plain sentences, with the importance as shown (live while the search runs).
  nlohmann::json for_words = summary.is_object() ? summary : nlohmann::json::object();
  for_words["importance"] = importance;
  const std::vector<std::string> in_short = plain_summary(trials, space, objective, for_words);

  const std::string version = fmt::format("{}:{}:{}:{}:{:.3f}:{}", info.status, trials.size(), counts["running"],
                                          counts["queued"], updated, summary.is_object() ? summary.dump().size() : 0);
  return {{"name", name},
          {"dir", dir_},
          {"version", version},
          {"status", info.status},
          {"space", space.name()},
          {"strategy", config_->strategy_name},
          {"seed", info.seed},
          {"created", info.created},
          {"elapsed_s", info.elapsed_s},
          {"objective", {{"text", objective.describe()}, {"metrics", metrics}, {"constraints", constraints}}},
          {"metric", objective.metrics().front().name},
          {"counts", counts},
          {"decisions", decisions},
          {"trials", rows},
          {"best", best},
          {"supernet", supernet},
          {"alpha_ops", alpha_ops},
          {"spos", spos},
          {"importance", importance},
          {"in_short", in_short},
          {"legend", short_form_legend(space.name())},
          {"summary", summary},
          {"config", raw_config_}};
}

nlohmann::json RunReader::overview(const std::string& name) {
  const std::vector<Trial> trials = store_->trials();
  const Objective& objective = config_->objective;
  nlohmann::json best = nullptr;
  if (const auto b = chosen_trial(trials, objective))
    best = trials[*b].metric(objective.metrics().front().name).value_or(NAN);
  double updated = 0;
  for (const auto& t : trials) updated = std::max({updated, t.started, t.ended});
  return {{"name", name},
          {"status", store_->info().status},
          {"trials", trials.size()},
          {"best", best},
          {"metric", objective.metrics().front().name},
          {"updated", updated}};
}

std::string chart_js_path() {
  for (const char* p : {"/usr/share/javascript/chart.js/chart.min.js", "/usr/share/javascript/chart.js/chart.js"})
    if (fs::is_regular_file(p)) return p;
  return "";
}

}  // namespace nascent::run
