// Proposals, metrics and trials: what a strategy asks for and what it is told back.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "nascent/core/arch.h"
#include "nascent/core/fidelity.h"

namespace nascent {

// Named numbers: val_accuracy, test_accuracy, train_loss, params, flops, memory_mb,
// train_seconds, ... Ordered so that output files list them in a stable order.
using Metrics = std::map<std::string, double>;

struct Proposal {
  Arch arch;
  Fidelity fidelity;
  nlohmann::json meta = nlohmann::json::object();  // strategy's own notes (e.g. parent trial)
};

enum class TrialStatus { kRunning, kOk, kFailed, kRejected, kPruned };
std::string to_string(TrialStatus s);
TrialStatus trial_status_from_string(const std::string& s);

struct Trial {
  int64_t id = -1;
  Proposal proposal;
  TrialStatus status = TrialStatus::kRunning;
  std::string reason;  // why it failed, was rejected or pruned
  Metrics metrics;
  double started = 0;  // unix seconds
  double ended = 0;
  std::string worker = "inline";

  std::optional<double> metric(const std::string& name) const {
    auto it = metrics.find(name);
    if (it == metrics.end()) return std::nullopt;
    return it->second;
  }
};

}  // namespace nascent
