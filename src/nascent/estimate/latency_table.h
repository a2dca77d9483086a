// Kernel-level latency prediction, in the spirit of nn-Meter's kernel detection and OFA's lookup
// tables: a network's deployed forward pass is cut into the operations its traced TorchScript
// graph runs (a convolution with its shapes, strides and groups, a batch norm, an activation, a
// pooling, a linear layer, ...), each distinct operation is timed once on its own in the same
// interpreter and stored in a table, and a network's latency is predicted from the sum of its
// operations' times by a linear fit on a few measured networks. The table is built by
// `nascent latency-table` on the machine the model will run on and can be copied to the machine
// that searches: a search with `latency.source: predict` then screens thousands of candidates in
// seconds for the other machine.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "nascent/core/task.h"
#include "nascent/estimate/latency.h"

namespace nascent::space {
class Network;
}
namespace nascent::exporting {
struct InputTransform;
}

namespace nascent::estimate {

// The machine a table was built on: the CPU's model name and its number of logical CPUs.
std::string this_machine();

struct LatencyTable {
  std::string machine;  // this_machine() where it was built
  std::string runtime = "torchscript";
  int64_t threads = 1;
  int64_t batch_size = 1;
  std::map<std::string, double> kernel_ms;  // operation key -> median time in ms
  // latency_ms = scale * (sum of the network's kernel times in ms) ^ exponent, fitted on the
  // logs of measured networks: what the whole graph costs beyond its operations timed alone
  // (attribute reads, the interpreter between nodes, caches shared between operations).
  double scale = 1, exponent = 1;
  int64_t calibration_networks = 0;
  std::vector<std::string> spaces;  // the spaces whose samples built it

  nlohmann::json to_json() const;
  // Throws InputError naming `file` and the field when the JSON is not a latency table.
  static LatencyTable from_json(const nlohmann::json& j, const std::string& file);
  static LatencyTable load(const std::string& path);  // InputError when unreadable
  void save(const std::string& path) const;           // atomically
  // Whether this process can time missing kernels for it: same machine, runtime torchscript.
  bool timeable_here() const;
};

// A network's kernels, as its deployed TorchScript graph runs them.
struct KernelSummary {
  double kernel_sum_ms = 0;  // sum of the table's times over the network's kernels
  int64_t kernels = 0;       // operations timed through the table
  int64_t light_nodes = 0;   // other nodes of the graph (shape arithmetic, views): not timed
  int64_t timed_now = 0;     // kernels that were missing and were timed (and added to the table)
  double predicted_ms(const LatencyTable& t) const;
};

// Traces `net` as exported (eval mode, the input normalisation included) at the table's batch
// size and `task`'s shape at `resolution` (0 = the task's), and sums its kernels' times.
// Kernels missing from the table are timed here and added when `table.timeable_here()`;
// otherwise TrialFailure names the first missing kernel.
KernelSummary summarize_kernels(LatencyTable& table, space::Network& net, const Task& task,
                                const exporting::InputTransform& input, int resolution = 0);

// Fits scale on measured networks.
void fit_latency_table(LatencyTable& table, const std::vector<KernelSummary>& networks,
                       const std::vector<double>& measured_ms);

// The table at `path`, loaded once per process and shared (kernels timed during a search are
// added to the shared copy, not written back). Thread-safe.
LatencyTable& shared_latency_table(const std::string& path);

}  // namespace nascent::estimate
