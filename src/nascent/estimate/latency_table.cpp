#include "nascent/estimate/latency_table.h"

#include <ATen/CPUGeneratorImpl.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <torch/csrc/jit/api/function_impl.h>
#include <torch/csrc/jit/ir/constants.h>
#include <torch/csrc/jit/passes/inliner.h>
#include <torch/script.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>
#include <unordered_map>

#include "nascent/core/error.h"
#include "nascent/estimate/profile.h"
#include "nascent/estimate/rank_correlation.h"
#include "nascent/export/torchscript.h"
#include "nascent/run/outputs.h"
#include "nascent/space/network.h"

namespace nascent::estimate {

using torch::jit::Graph;
using torch::jit::Node;
using torch::jit::Value;

std::string this_machine() {
  // Read once: a search asks for every kernel missing from its table.
  static const std::string machine = [] {
    std::ifstream in("/proc/cpuinfo");
    std::string line, model = "unknown CPU";
    while (std::getline(in, line)) {
      if (line.rfind("model name", 0) == 0) {
        const size_t colon = line.find(':');
        if (colon != std::string::npos) {
          model = line.substr(colon + 1);
          model.erase(0, model.find_first_not_of(" \t"));
        }
        break;
      }
    }
    return fmt::format("{} x{}", model, std::max(1u, std::thread::hardware_concurrency()));
  }();
  return machine;
}

nlohmann::json LatencyTable::to_json() const {
  return {{"format", "nascent latency table 1"},
          {"machine", machine},
          {"runtime", runtime},
          {"threads", threads},
          {"batch_size", batch_size},
          {"spaces", spaces},
          {"fit", {{"scale", scale}, {"exponent", exponent}, {"calibration_networks", calibration_networks}}},
          {"kernel_ms", kernel_ms}};
}

LatencyTable LatencyTable::from_json(const nlohmann::json& j, const std::string& file) {
  if (!j.is_object() || j.value("format", "") != "nascent latency table 1")
    throw InputError(file, "format", "expected a latency table made by `nascent latency-table`");
  LatencyTable t;
  try {
    t.machine = j.at("machine").get<std::string>();
    t.runtime = j.at("runtime").get<std::string>();
    t.threads = j.at("threads").get<int64_t>();
    t.batch_size = j.at("batch_size").get<int64_t>();
    t.spaces = j.value("spaces", std::vector<std::string>{});
    const auto& fit = j.at("fit");
    t.scale = fit.at("scale").get<double>();
    t.exponent = fit.at("exponent").get<double>();
    t.calibration_networks = fit.at("calibration_networks").get<int64_t>();
    t.kernel_ms = j.at("kernel_ms").get<std::map<std::string, double>>();
  } catch (const nlohmann::json::exception& e) {
    throw InputError(file, "latency table", std::string("malformed: ") + e.what());
  }
  return t;
}

LatencyTable LatencyTable::load(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw InputError(path, "", "cannot read the latency table");
  nlohmann::json j;
  try {
    in >> j;
  } catch (const nlohmann::json::exception& e) {
    throw InputError(path, "", std::string("not JSON: ") + e.what());
  }
  return from_json(j, path);
}

void LatencyTable::save(const std::string& path) const { run::write_file_atomic(path, to_json().dump(1) + "\n"); }

bool LatencyTable::timeable_here() const { return runtime == "torchscript" && machine == this_machine(); }

double KernelSummary::predicted_ms(const LatencyTable& t) const {
  return kernel_sum_ms > 0 ? t.scale * std::pow(kernel_sum_ms, t.exponent) : 0.0;
}

namespace {

// One operation of a traced graph, cut out with its constant arguments into a graph of its own
// whose inputs are its tensors: the weights as they are, activations as random tensors of the
// traced shapes.
struct Kernel {
  std::string key;
  std::shared_ptr<Graph> graph;
  std::vector<torch::Tensor> inputs;  // the weights, and made-up activations
};

struct TracedKernels {
  std::vector<Kernel> kernels;
  int64_t light_nodes = 0;
};

c10::optional<std::vector<int64_t>> complete_sizes(const Value* v) {
  const auto t = v->type()->cast<c10::TensorType>();
  if (!t || !t->scalarType()) return c10::nullopt;
  return t->sizes().concrete_sizes();
}

std::string tensor_key(const torch::Tensor& t) {
  return fmt::format("{}[{}]{}", c10::toString(t.scalar_type()), fmt::join(t.sizes(), ","),
                     t.is_contiguous() ? "" : "nc");
}

std::string value_key(const c10::IValue& v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

// A list of constants as one constant, when its elements are ints, floats or bools.
std::optional<c10::IValue> constant_list(const Node* n, const std::unordered_map<const Value*, c10::IValue>& known) {
  std::vector<c10::IValue> items;
  for (const Value* in : n->inputs()) {
    const auto it = known.find(in);
    if (it == known.end()) return std::nullopt;
    items.push_back(it->second);
  }
  auto all = [&](auto pred) { return std::all_of(items.begin(), items.end(), pred); };
  if (all([](const c10::IValue& v) { return v.isInt(); })) {
    c10::List<int64_t> l;
    for (const auto& v : items) l.push_back(v.toInt());
    return c10::IValue(l);
  }
  if (all([](const c10::IValue& v) { return v.isDouble(); })) {
    c10::List<double> l;
    for (const auto& v : items) l.push_back(v.toDouble());
    return c10::IValue(l);
  }
  if (all([](const c10::IValue& v) { return v.isBool(); })) {
    c10::List<bool> l;
    for (const auto& v : items) l.push_back(v.toBool());
    return c10::IValue(l);
  }
  return std::nullopt;
}

torch::Tensor made_up(const Value* v) {
  const auto t = v->type()->expect<c10::TensorType>();
  const std::vector<int64_t> sizes = *t->sizes().concrete_sizes();
  const auto dtype = *t->scalarType();
  if (c10::isFloatingType(dtype)) return torch::randn(sizes, torch::TensorOptions().dtype(dtype));
  return torch::ones(sizes, torch::TensorOptions().dtype(dtype));
}

// The kernels of the network as torch::jit runs its traced, inlined forward graph. Attribute
// reads, constants and lists of constants are folded into the operations that use them; a node
// whose inputs are not all known constants or tensors of known shape (shape arithmetic such as
// aten::size, views with a computed shape) counts as a light node.
TracedKernels trace_kernels(space::Network& net, const Task& task, const exporting::InputTransform& input,
                            int64_t batch) {
  torch::jit::Module m = exporting::trace(net, exporting::example_input(task, batch), input);
  std::shared_ptr<Graph> g = m.get_method("forward").graph()->copy();
  torch::jit::Inline(*g);
  std::unordered_map<const Value*, c10::IValue> known;
  known[g->inputs()[0]] = m._ivalue();
  TracedKernels out;
  for (Node* n : g->nodes()) {
    const auto kind = n->kind();
    if (kind == c10::prim::Constant) {
      if (auto v = torch::jit::toIValue(n->output())) known[n->output()] = *v;
      continue;
    }
    if (kind == c10::prim::GetAttr) {
      const auto it = known.find(n->input(0));
      if (it != known.end() && it->second.isObject())
        known[n->output()] = it->second.toObjectRef().getAttr(n->s(c10::attr::name));
      continue;
    }
    if (kind == c10::prim::ListConstruct) {
      if (auto l = constant_list(n, known)) {
        known[n->output()] = *l;
        continue;
      }
      ++out.light_nodes;
      continue;
    }
    bool timeable = n->outputs().size() >= 1 && complete_sizes(n->outputs()[0]).has_value();
    for (const Value* in : n->inputs()) {
      const auto it = known.find(in);
      if (it != known.end()) {
        if (!it->second.isTensor() && !it->second.isNone() && !it->second.isInt() && !it->second.isDouble() &&
            !it->second.isBool() && !it->second.isList() && !it->second.isString())
          timeable = false;
      } else if (!complete_sizes(in)) {
        timeable = false;
      }
    }
    if (!timeable) {
      ++out.light_nodes;
      continue;
    }
    Kernel k;
    k.graph = std::make_shared<Graph>();
    std::unordered_map<const Value*, Value*> env;
    std::vector<std::string> parts;
    for (const Value* in : n->inputs()) {
      const auto it = known.find(in);
      if (env.count(in)) {
        parts.push_back("same");
        continue;
      }
      if (it != known.end() && !it->second.isTensor()) {
        env[in] = k.graph->insertConstant(it->second);
        parts.push_back(value_key(it->second));
        continue;
      }
      Value* gi = k.graph->addInput();
      gi->setType(in->type());
      env[in] = gi;
      torch::Tensor t = it != known.end() ? it->second.toTensor() : made_up(in);
      parts.push_back((it != known.end() ? "w:" : "") + tensor_key(t));
      k.inputs.push_back(std::move(t));
    }
    Node* copy = k.graph->createClone(n, [&](Value* v) { return env.at(v); });
    k.graph->insertNode(copy);
    for (Value* o : copy->outputs()) k.graph->registerOutput(o);
    k.key = fmt::format("{}({})", kind.toQualString(), fmt::join(parts, "; "));
    out.kernels.push_back(std::move(k));
  }
  return out;
}

// The kernel's time in its own graph function, as the interpreter runs it in a deployed model.
// Where the tensors lie in memory changes a small operation's time by up to 2x here (one 1x1
// convolution: 35 or 56 us, depending on its allocation), and a deployed model meets a different
// placement at every load; so each of 9 rounds gives the kernel fresh copies of all its inputs
// (weights too) and times 20 runs after 3 warm-up runs (the profiling executor optimises on the
// first ones), and the kernel's time is the mean of the rounds' medians: the expected time over
// placements, which is what a sum over a network's kernels needs.
double time_kernel(const Kernel& k) {
  torch::jit::GraphFunction fn("kernel", k.graph->copy(), nullptr);
  constexpr int kRounds = 9, kRuns = 20, kWarmup = 3;
  double sum = 0;
  for (int r = 0; r < kRounds; ++r) {
    torch::jit::Stack inputs;
    for (const torch::Tensor& t : k.inputs) inputs.emplace_back(t.clone());
    std::vector<double> ms;
    for (int i = 0; i < kWarmup + kRuns; ++i) {
      torch::jit::Stack stack = inputs;
      const auto t0 = std::chrono::steady_clock::now();
      fn.run(stack);
      const double t = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      if (i >= kWarmup) ms.push_back(t);
    }
    sum += median(ms);
  }
  return sum / kRounds;
}

// Torch's thread count for timing, restored after.
class TorchThreads {
 public:
  explicit TorchThreads(int threads) : previous_(torch::get_num_threads()) { torch::set_num_threads(threads); }
  ~TorchThreads() { torch::set_num_threads(previous_); }
  TorchThreads(const TorchThreads&) = delete;
  TorchThreads& operator=(const TorchThreads&) = delete;

 private:
  int previous_;
};

std::mutex& table_mutex() {
  static std::mutex m;
  return m;
}

}  // namespace

KernelSummary summarize_kernels(LatencyTable& table, space::Network& net, const Task& task_in,
                                const exporting::InputTransform& input, int resolution) {
  Task task = task_in;
  task.input_shape = input_shape(task_in, resolution);
  // Made-up activations come from torch's generator, which the candidate's training uses next.
  at::Generator gen = at::detail::getDefaultCPUGenerator();
  const at::Tensor gen_state = gen.get_state();
  struct RestoreGenerator {
    at::Generator& g;
    const at::Tensor& state;
    ~RestoreGenerator() { g.set_state(state); }
  } restore{gen, gen_state};
  const bool was_training = net.is_training();
  net.eval();
  torch::NoGradGuard no_grad;
  TracedKernels traced;
  try {
    traced = trace_kernels(net, task, input, table.batch_size);
  } catch (...) {
    net.train(was_training);
    throw;
  }
  net.train(was_training);
  KernelSummary s;
  s.light_nodes = traced.light_nodes;
  std::lock_guard<std::mutex> lock(table_mutex());
  std::unique_ptr<TorchThreads> threads;
  for (const Kernel& k : traced.kernels) {
    auto it = table.kernel_ms.find(k.key);
    if (it == table.kernel_ms.end()) {
      if (!table.timeable_here())
        throw TrialFailure(
            fmt::format("the latency table (built on {}, runtime {}) has no time for kernel {}; build it with more "
                        "`nascent latency-table --samples` on that machine",
                        table.machine, table.runtime, k.key));
      if (!threads) threads = std::make_unique<TorchThreads>(static_cast<int>(table.threads));
      it = table.kernel_ms.emplace(k.key, time_kernel(k)).first;
      ++s.timed_now;
    }
    s.kernel_sum_ms += it->second;
    ++s.kernels;
  }
  return s;
}

void fit_latency_table(LatencyTable& table, const std::vector<KernelSummary>& networks,
                       const std::vector<double>& measured_ms) {
  if (networks.size() != measured_ms.size() || networks.empty())
    throw InternalError("fit_latency_table needs networks, each with its measured latency");
  // log(latency) = log(scale) + exponent * log(kernel sum), by least squares on the logs (relative
  // errors count alike for small and large networks). Kernels timed alone come out relatively
  // slower for small networks than in the graph: the exponent was 1.04-1.11 on chain networks.
  // A least-squares fit with an intercept and per-kernel terms followed the calibration networks'
  // measurement noise and predicted held-out networks worse than the plain sum.
  std::vector<double> x, y;
  for (size_t i = 0; i < networks.size(); ++i)
    if (networks[i].kernel_sum_ms > 0 && measured_ms[i] > 0) {
      x.push_back(std::log(networks[i].kernel_sum_ms));
      y.push_back(std::log(measured_ms[i]));
    }
  if (x.empty()) throw InternalError("fit_latency_table: no network has kernels");
  const double n = static_cast<double>(x.size());
  double mx = 0, my = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    mx += x[i] / n;
    my += y[i] / n;
  }
  double sxx = 0, sxy = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    sxx += (x[i] - mx) * (x[i] - mx);
    sxy += (x[i] - mx) * (y[i] - my);
  }
  // Too few networks, or all of one size, for a slope: the median ratio alone.
  if (x.size() < 5 || sxx < 1e-6) {
    std::vector<double> ratios;
    for (size_t i = 0; i < x.size(); ++i) ratios.push_back(std::exp(y[i] - x[i]));
    table.exponent = 1;
    table.scale = median(ratios);
  } else {
    table.exponent = std::clamp(sxy / sxx, 0.5, 2.0);
    table.scale = std::exp(my - table.exponent * mx);
  }
  table.calibration_networks = static_cast<int64_t>(networks.size());
}

LatencyTable& shared_latency_table(const std::string& path) {
  static std::mutex m;
  static std::map<std::string, std::unique_ptr<LatencyTable>> tables;
  std::lock_guard<std::mutex> lock(m);
  auto& slot = tables[path];
  if (!slot) slot = std::make_unique<LatencyTable>(LatencyTable::load(path));
  return *slot;
}

}  // namespace nascent::estimate
