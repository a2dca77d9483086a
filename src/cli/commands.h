// The nascent command line: one function per subcommand, each given its parsed flags. Flags and
// output files are the contract of DESIGN.md.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "nascent/core/arch.h"
#include "nascent/space/space.h"

namespace nascent::cli {

struct SearchFlags {
  std::string config;
  std::string data;  // --data: the user's images, table or text
  std::string out;
  bool resume = false;
  std::optional<int64_t> seed;
  std::string strategy;
  std::string estimator;  // overrides estimator.name: train | proxy:NAME | table
  std::string scheduler;
  std::string prefilter;
  std::optional<int64_t> max_trials;
  std::optional<double> time_budget;
  std::optional<int64_t> workers;
  std::optional<int64_t> darts_order;  // shortcut for --set strategy.darts.order=
  std::vector<std::string> sets;
  bool quiet = false;
  std::optional<int64_t> serve;  // --serve PORT: the live dashboard of this run while it runs (0 = any port)
};
int run_search(const SearchFlags& f);

// `--data PATH` (data_config.cpp). The kind of data: images (a folder), csv or text; throws
// InputError for a missing path or a single image.
std::string data_kind(const std::string& path);
struct DataConfig {
  nlohmann::json config;             // a complete experiment config for the data
  std::vector<std::string> reasons;  // what was chosen and why, in plain words
};
// The config nascent chooses for the data at `path` with a whole-job budget of `minutes`.
DataConfig config_for_data(const std::string& path, double minutes);
// Points a config's task at the data (dataset kind and path; options of another kind dropped).
void point_config_at_data(nlohmann::json& config, const std::string& path);

struct TrainFlags {
  std::string run;  // a search's run directory: its best_arch.json and stored config
  std::string arch;
  bool force = false;                 // overwrite existing output files
  std::optional<double> time_budget;  // minutes: fit the epochs to this
  std::string config;
  std::optional<double> epochs;
  std::string out;
  std::optional<int64_t> seed;
  std::vector<std::string> sets;
};
int run_train(const TrainFlags& f);

struct SpacesFlags {
  std::string space;
  int64_t sample = 0;
  int64_t seed = 0;
  std::string config;
};
int run_spaces(const SpacesFlags& f);

struct ProfileFlags {
  std::string run;  // a search's run directory: its best_arch.json for its task
  std::string arch;
  std::string input_shape;  // "1,1,28,28"
  int64_t classes = 0;      // 0 = the task's
  int64_t runs = 0;         // 0 = the config's latency.runs (default 20)
  int64_t threads = 0;      // 0 = the config's latency.threads (default 1)
  std::string runtime;      // "" = the config's latency.runtime, or libtorch without a latency section
  std::string config;
};
int run_profile(const ProfileFlags& f);

struct LatencyTableFlags {
  std::string space;
  std::string runtime = "torchscript";
  int64_t threads = 1;
  int64_t batch_size = 1;
  std::string config;      // space options and task
  int64_t samples = 200;   // networks whose kernels are timed
  int64_t calibrate = 40;  // networks measured whole for the fit
  int64_t heldout = 0;     // other networks measured to report the predictor's accuracy
  int64_t seed = 0;
  std::string out = "latency-table.json";
  std::string rows;    // with --heldout: every held-out network's measurement and prediction, as JSON
  bool force = false;  // replace --out instead of extending it
  bool quiet = false;
};
int run_latency_table(const LatencyTableFlags& f);

struct ExportFlags {
  std::string run;  // a search's run directory: its best_arch.json, weights.pt and stored config
  std::string arch;
  std::string weights;
  std::string format = "torchscript";  // torchscript | onnx
  std::string out;
  std::string config;
  std::vector<std::string> sets;
  bool force = false;  // write over an existing model file or description
};
int run_export(const ExportFlags& f);

struct PredictFlags {
  std::string model;        // a run directory (its model.pt) or a model.pt with its model.json
  std::string data;         // an image file or a folder of images (class sub-folders give labels)
  std::string out;          // predictions CSV (default predictions.csv)
  std::string metrics_out;  // with labels: the metrics as JSON
  bool force = false;       // write over an existing --out
};
int run_predict(const PredictFlags& f);

struct ReportFlags {
  std::string run;
};
int run_report(const ReportFlags& f);

struct ServeFlags {
  std::string run;  // a run directory, or a folder of runs
  int64_t port = 8080;
  std::string host = "127.0.0.1";
};
int run_serve(const ServeFlags& f);

struct RecoverFlags {
  std::string run;
  std::string out;  // default: RUN-recovered
};
int run_recover(const RecoverFlags& f);

// Where a command that works after a search gets its config: with --run DIR, or with an
// architecture file inside a run directory (beside its experiment.db) and no --config, the
// config stored in the run's database, so every --set of the search applies; otherwise --config
// (or {}). --set overrides apply in both cases. Exactly one of --run and --arch must be given;
// InputError otherwise, when --run is not a run directory or is given with --config, and when
// the architecture file does not exist.
struct RunInputs {
  std::string run_dir;      // the run the config came from, "" when none
  std::string arch_path;    // --arch, or the run's best_arch.json
  nlohmann::json config;    // with --set applied
  std::string config_name;  // for messages: the database, the config file, or "--set"
};
RunInputs resolve_run_inputs(const std::string& command, const std::string& run, const std::string& arch,
                             const std::string& config, const std::vector<std::string>& sets);

// The config file (YAML or JSON) with --set overrides applied; an empty path gives {}.
nlohmann::json load_config(const std::string& path, const std::vector<std::string>& sets);
struct ArchFile {
  std::unique_ptr<space::SearchSpace> space;
  Arch arch;
  nlohmann::json space_options;
  nlohmann::json task;  // the signature of the task it was searched for (null = none stored)
};

// Throws InputError naming the architecture file when it was searched for another task.
void check_arch_task(const ArchFile& a, const std::string& arch_path, const Task& task, const std::string& config_name);

// An architecture file with the space it belongs to, rebuilt from the file's space_options
// (or, without them, from the config's space.<name> section).
ArchFile load_arch_file(const std::string& path, const nlohmann::json& config, const std::string& config_path);

// The task to build `space` for where no search runs: the config's task section, loaded (so a
// text task knows its vocabulary), or without one the space's default_task(). Throws
// InputError when the space cannot build for the config's task.
Task task_for_space(const space::SearchSpace& space, const nlohmann::json& config, const std::string& config_path);

// Reads an architecture file: {"space", "choices"[, "space_options"]}.
nlohmann::json read_json_file(const std::string& path);

}  // namespace nascent::cli
