// The run directory's files besides the database: trials.csv (one row per trial), summary.json
// (best architecture, Pareto set, counts), best_arch.json. Each is written to a temporary file
// and renamed, so a reader never sees half a file.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "nascent/core/objective.h"
#include "nascent/core/task.h"
#include "nascent/core/trial.h"

namespace nascent::space {
class SearchSpace;
}

namespace nascent::run {

void write_file_atomic(const std::string& path, const std::string& text);

// A CSV field, double-quoted when it holds a comma, quote or newline.
std::string csv_field(const std::string& s);

// Columns: trial, status, fidelity, arch (compact JSON), then one column per metric (the union
// over all trials, in name order).
std::string trials_csv(const std::vector<Trial>& trials, const space::SearchSpace& space);

// A trial as JSON for summaries: {"trial", "status", "arch", "fidelity", "metrics"}.
nlohmann::json trial_json(const Trial& t, const space::SearchSpace& space);

struct SummaryInput {
  const std::vector<Trial>* trials = nullptr;
  const space::SearchSpace* space = nullptr;
  const Objective* objective = nullptr;
  std::string strategy;
  uint64_t seed = 0;
  double elapsed_s = 0;
  double simulated_s = -1;            // table estimator: the trials' recorded train_seconds; < 0 = not simulated
  std::string status;                 // running | done | interrupted
  nlohmann::json final;               // final training results, or null
  std::string final_skipped;          // why there is no final training ("" = there is, or the search is not over)
  std::vector<std::string> warnings;  // what the user should know about the results (small validation split, ...)
};
nlohmann::json summary_json(const SummaryInput& in);

// Which decisions mattered for the objective's first metric (importance.h), from the feasible
// trials at the fidelity with the most of them: {"method", "metric", "fidelity", "trials",
// "decisions": [...]} (most important first); null with fewer than kImportanceMinTrials.
constexpr size_t kImportanceMinTrials = 8;
nlohmann::json importance_json(const std::vector<Trial>& trials, const space::SearchSpace& space,
                               const Objective& objective);

// Architecture JSON (with the space's text form, if it has one) plus the options its space was
// built with, so the file alone rebuilds it.
// `task`, when not null, is the task signature of the run it came from (task_signature), so that
// the file used with another task is refused instead of silently rebuilt for it.
nlohmann::json arch_file_json(const Arch& arch, const space::SearchSpace& space, const nlohmann::json& space_options,
                              const nlohmann::json& task = nullptr);

// What an architecture's network depends on in a task: kind, input shape, outputs.
nlohmann::json task_signature(const Task& task);
// "" when an architecture file's stored signature (null = none) fits `task`, else what differs.
std::string task_mismatch(const nlohmann::json& stored, const Task& task);

}  // namespace nascent::run
