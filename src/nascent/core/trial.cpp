#include "nascent/core/trial.h"

#include "nascent/core/error.h"

namespace nascent {

std::string to_string(TrialStatus s) {
  switch (s) {
    case TrialStatus::kRunning:
      return "running";
    case TrialStatus::kOk:
      return "ok";
    case TrialStatus::kFailed:
      return "failed";
    case TrialStatus::kRejected:
      return "rejected";
    case TrialStatus::kPruned:
      return "pruned";
  }
  return "unknown";
}

TrialStatus trial_status_from_string(const std::string& s) {
  if (s == "running") return TrialStatus::kRunning;
  if (s == "ok") return TrialStatus::kOk;
  if (s == "failed") return TrialStatus::kFailed;
  if (s == "rejected") return TrialStatus::kRejected;
  if (s == "pruned") return TrialStatus::kPruned;
  throw InternalError("unknown trial status '" + s + "'");
}

}  // namespace nascent
