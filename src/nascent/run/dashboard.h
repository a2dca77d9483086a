// The live dashboard of `nascent serve` and `nascent search --serve`: JSON snapshots of runs,
// read from their experiment databases read-only (WAL lets them read while a search writes; the
// dashboard never writes a run), and the page that draws them with Chart.js.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace nascent::space {
class SearchSpace;
}
namespace nascent::store {
class Store;
}

namespace nascent::run {

struct ExperimentConfig;

// The run directories at `root` (itself, "."), or else below it up to three levels down, by
// their path relative to root, sorted. Empty when there is none.
std::vector<std::string> find_runs(const std::string& root);

// One run, opened once and read again at every snapshot.
class RunReader {
 public:
  // Opens DIR/experiment.db read-only; InputError if it is not a run of this version.
  explicit RunReader(const std::string& run_dir);
  ~RunReader();

  // Everything the dashboard shows about the run now:
  // {"name", "dir", "status", "space", "strategy", "seed", "created", "elapsed_s", "objective":
  //  {"text", "metrics": [{"name", "direction"}], "constraints"}, "metric", "counts": {status: n},
  //  "decisions": [{"name", "options"}], "trials": [{"id", "status", "reason", "fidelity", "arch"
  //  (short form), "choices" (option index per decision, -1 inactive), "metrics", "curve", "started",
  //  "ended", "worker", "pareto"}], "best": {"id", "value", "arch", "diagram" (SVG)} or null,
  //  "supernet": [epoch events], "importance" (summary.json's, else computed from the trials, or
  //  null), "summary" (summary.json or null), "config", "version"}. "version" changes whenever
  //  anything else does.
  nlohmann::json snapshot(const std::string& name);
  // {"name", "status", "trials", "best", "metric", "updated"} for the list of runs.
  nlohmann::json overview(const std::string& name);

 private:
  std::string dir_;
  std::unique_ptr<ExperimentConfig> config_;
  nlohmann::json raw_config_;
  std::unique_ptr<space::SearchSpace> space_;
  std::unique_ptr<store::Store> store_;
  // The importance computed for the last trial count (fANOVA is not free).
  size_t importance_trials_ = static_cast<size_t>(-1);
  nlohmann::json importance_;
};

// The dashboard page: HTML with its script; the script fetches /api/runs and /api/run?name=...
// every two seconds (with ?token=T when the server has a token) and loads /chart.js.
std::string dashboard_page(const std::string& token);

// Chart.js as Debian's libjs-chart.js installs it; "" if it is not installed.
std::string chart_js_path();

}  // namespace nascent::run
