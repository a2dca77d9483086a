// Inference latency, model size and peak inference memory of a network as it will be deployed:
// timed in the runtime the model will run in (the TorchScript file, the ONNX file in OpenCV's
// DNN module, or the LibTorch module itself), at a set batch size and thread count. Latency does
// not depend on the weights, so an untrained candidate is measured and a constraint such as
// `latency_ms <= 1` rejects it before training, like `params` and `flops`.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "nascent/core/task.h"
#include "nascent/core/trial.h"

namespace nascent {
class ConfigSection;
class Objective;
}  // namespace nascent
namespace nascent::space {
class Network;
}
namespace nascent::exporting {
struct InputTransform;
}

namespace nascent::estimate {

// The config's `latency:` section.
struct LatencyOptions {
  // Measured in every trial: on when the config has a latency section or the objective names one
  // of latency_metric_names(), as the experiment config decides; off otherwise (the default job
  // does not pay for it). from_config reads the options only.
  bool enabled = false;
  std::string runtime = "torchscript";  // torchscript | onnx-opencv | libtorch
  int64_t batch_size = 1;               // examples per forward pass
  int64_t threads = 1;                  // threads of the runtime while it is timed
  int64_t warmup = 5;                   // forward passes before timing (TorchScript optimises on the first ones)
  int64_t runs = 20;                    // timed forward passes per measurement
  // Measurements per network: latency_ms is the median of their medians and latency_cv the
  // coefficient of variation between them (the noise of the number, e.g. from training beside it).
  int64_t repeats = 3;
  // Where latency_ms comes from: measure (every candidate timed), predict (the kernel table at
  // `table` sums the candidate's operations: milliseconds, not seconds, per candidate, and the
  // table may come from another machine) or predict+verify (the prediction screens the
  // constraints; the candidates it lets through are measured, and the measurement counts).
  std::string source = "measure";
  std::string table;  // a table from `nascent latency-table`, for predict and predict+verify

  static LatencyOptions from_config(ConfigSection& section);
};

// The metrics a measurement adds; a config whose objective names one turns measurement on.
const std::vector<std::string>& latency_metric_names();
// Whether the objective's metrics or constraints name one of latency_metric_names().
bool objective_needs_latency(const Objective& objective);

struct LatencyResult {
  double median_ms = 0;       // median over the measurements' medians
  double p90_ms = 0;          // 90th percentile of every timed pass
  double cv = 0;              // standard deviation / mean of the measurements' medians
  double size_mb = 0;         // the model file in the runtime's format (TorchScript, ONNX; weights for libtorch)
  double peak_memory_mb = 0;  // weights and buffers + the most tensor memory live during one forward pass
  void add_to(Metrics& m) const;
};

// The input normalisation of an exported model with placeholder statistics (mean 0.5, standard
// deviation 0.25 per channel or feature): the same operations, for timing without the data.
exporting::InputTransform nominal_input_transform(const Task& task);

// Size on disk and peak memory alone (latency_ms, p90 and cv left 0): for a predicted latency.
LatencyResult measure_footprint(space::Network& net, const Task& task, const exporting::InputTransform& input,
                                const LatencyOptions& options, int resolution = 0);

// Measures `net` (its weights as they are; eval mode while measured, then restored) on inputs of
// `task`'s shape at `resolution` (0 = the task's own). `input` is the normalisation exported
// models carry. Throws TrialFailure when the runtime cannot run the network (e.g. an operation
// without an ONNX conversion for onnx-opencv).
LatencyResult measure_latency(space::Network& net, const Task& task, const exporting::InputTransform& input,
                              const LatencyOptions& options, int resolution = 0);

}  // namespace nascent::estimate
