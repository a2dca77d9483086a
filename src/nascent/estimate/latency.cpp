#include "nascent/estimate/latency.h"

#include <c10/core/Allocator.h>
#include <fmt/format.h>
#include <torch/script.h>
#include <torch/torch.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <new>
#include <opencv2/core.hpp>
#include <opencv2/dnn.hpp>
#include <sstream>

#include "nascent/core/config.h"
#include "nascent/core/error.h"
#include "nascent/core/objective.h"
#include "nascent/estimate/profile.h"
#include "nascent/estimate/rank_correlation.h"
#include "nascent/export/onnx.h"
#include "nascent/export/torchscript.h"
#include "nascent/space/network.h"

namespace nascent::estimate {

LatencyOptions LatencyOptions::from_config(ConfigSection& s) {
  LatencyOptions o;
  o.runtime = s.get_choice("runtime", o.runtime, {"torchscript", "onnx-opencv", "libtorch"});
  o.batch_size = s.get_int("batch_size", o.batch_size, 1, 65536);
  o.threads = s.get_int("threads", o.threads, 1, 1024);
  o.warmup = s.get_int("warmup", o.warmup, 0, 100000);
  o.runs = s.get_int("runs", o.runs, 1, 100000);
  o.repeats = s.get_int("repeats", o.repeats, 1, 1000);
  o.source = s.get_choice("source", o.source, {"measure", "predict", "predict+verify"});
  o.table = s.get_string("table", o.table);
  if (o.source != "measure" && o.table.empty())
    s.fail("table", "latency.source " + o.source + " needs the file of a `nascent latency-table` table");
  if (o.source != "measure" && o.runtime != "torchscript")
    s.fail("source", "predicted latency is for runtime torchscript; runtime is " + o.runtime);
  s.finish();
  return o;
}

const std::vector<std::string>& latency_metric_names() {
  static const std::vector<std::string> names = {"latency_ms", "latency_ms_p90", "latency_cv", "size_mb",
                                                 "peak_memory_mb"};
  return names;
}

bool objective_needs_latency(const Objective& objective) {
  const auto& names = latency_metric_names();
  auto named = [&](const std::string& m) { return std::find(names.begin(), names.end(), m) != names.end(); };
  for (const auto& m : objective.metrics())
    if (named(m.name)) return true;
  for (const auto& c : objective.constraints())
    if (named(c.metric)) return true;
  return false;
}

void LatencyResult::add_to(Metrics& m) const {
  m["latency_ms"] = median_ms;
  m["latency_ms_p90"] = p90_ms;
  m["latency_cv"] = cv;
  m["size_mb"] = size_mb;
  m["peak_memory_mb"] = peak_memory_mb;
}

namespace {

constexpr double kMiB = 1024.0 * 1024.0;

// A CPU allocator for torch that counts the bytes of live tensors: installed around a forward
// pass, its peak is what inference needs on top of the weights (oneDNN's own scratch memory is
// not allocated through it and is not counted). Some of torch's code allocates "raw" (the
// deleter gets the data pointer alone), so each block carries its size in a header in front of
// the data, which keeps the 64-byte alignment torch's own allocator gives.
class CountingAllocator final : public c10::Allocator {
 public:
  static constexpr size_t kHeader = 64;

  c10::DataPtr allocate(size_t n) const override {
    if (n == 0) return {nullptr, nullptr, &CountingAllocator::release, c10::Device(c10::DeviceType::CPU)};
    void* base = nullptr;
    if (posix_memalign(&base, kHeader, n + kHeader) != 0) throw std::bad_alloc();
    *static_cast<size_t*>(base) = n;
    void* data = static_cast<char*>(base) + kHeader;
    const int64_t now = live().fetch_add(static_cast<int64_t>(n)) + static_cast<int64_t>(n);
    int64_t top = peak().load();
    while (now > top && !peak().compare_exchange_weak(top, now)) {
    }
    return {data, data, &CountingAllocator::release, c10::Device(c10::DeviceType::CPU)};
  }
  c10::DeleterFnPtr raw_deleter() const override { return &CountingAllocator::release; }

  // Process-wide counters: a block may be freed after the allocator is uninstalled.
  static std::atomic<int64_t>& live() {
    static std::atomic<int64_t> v{0};
    return v;
  }
  static std::atomic<int64_t>& peak() {
    static std::atomic<int64_t> v{0};
    return v;
  }

 private:
  static void release(void* data) {
    if (!data) return;
    void* base = static_cast<char*>(data) - kHeader;
    live().fetch_sub(static_cast<int64_t>(*static_cast<size_t*>(base)));
    free(base);
  }
};

// Installs the counting allocator for torch's CPU tensors while in scope; tensors allocated
// before keep their own allocator's deleter.
class CountAllocations {
 public:
  CountAllocations() : previous_(c10::GetAllocator(c10::DeviceType::CPU)) {
    static CountingAllocator counting;
    c10::SetAllocator(c10::DeviceType::CPU, &counting);
    start_ = CountingAllocator::live().load();
    CountingAllocator::peak().store(start_);
  }
  ~CountAllocations() { c10::SetAllocator(c10::DeviceType::CPU, previous_); }
  CountAllocations(const CountAllocations&) = delete;
  CountAllocations& operator=(const CountAllocations&) = delete;
  // The most bytes live at once since counting began, above what was live then.
  int64_t peak_above_start() const { return CountingAllocator::peak().load() - start_; }

 private:
  c10::Allocator* previous_;
  int64_t start_ = 0;
};

// Torch's and OpenCV's thread counts for the measurement, restored after.
class RuntimeThreads {
 public:
  explicit RuntimeThreads(int threads) : torch_(torch::get_num_threads()), cv_(cv::getNumThreads()) {
    torch::set_num_threads(threads);
    cv::setNumThreads(threads);
  }
  ~RuntimeThreads() {
    torch::set_num_threads(torch_);
    cv::setNumThreads(cv_);
  }
  RuntimeThreads(const RuntimeThreads&) = delete;
  RuntimeThreads& operator=(const RuntimeThreads&) = delete;

 private:
  int torch_, cv_;
};

// Puts the network in eval mode while in scope and restores its mode after.
class EvalMode {
 public:
  explicit EvalMode(space::Network& net) : net_(net), was_training_(net.is_training()) { net_.eval(); }
  ~EvalMode() { net_.train(was_training_); }
  EvalMode(const EvalMode&) = delete;
  EvalMode& operator=(const EvalMode&) = delete;

 private:
  space::Network& net_;
  bool was_training_;
};

// Times `pass` as configured: per measurement, warm-up passes then `runs` timed ones.
// `load` is called before each measurement and returns the pass to time: a model loaded afresh
// lies at other addresses, and how its tensors fall in memory changes a small network's time by
// up to 2x here (one process measured 0.90 ms, the next 0.54 ms for the same file); fresh loads
// put that spread into every candidate's measurements and its latency_cv.
void time_passes(const std::function<std::function<void()>()>& load, const LatencyOptions& o, LatencyResult& r) {
  std::vector<double> all, medians;
  for (int64_t m = 0; m < o.repeats; ++m) {
    const std::function<void()> pass = load();
    for (int64_t i = 0; i < o.warmup; ++i) pass();
    std::vector<double> ms;
    for (int64_t i = 0; i < o.runs; ++i) {
      const auto t0 = std::chrono::steady_clock::now();
      pass();
      ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    }
    medians.push_back(median(ms));
    all.insert(all.end(), ms.begin(), ms.end());
  }
  std::sort(all.begin(), all.end());
  r.median_ms = median(medians);
  r.p90_ms = all[std::min(all.size() - 1, static_cast<size_t>(0.9 * static_cast<double>(all.size())))];
  double mean = 0;
  for (double v : medians) mean += v;
  mean /= static_cast<double>(medians.size());
  double var = 0;
  for (double v : medians) var += (v - mean) * (v - mean);
  var /= static_cast<double>(medians.size());
  r.cv = mean > 0 ? std::sqrt(var) / mean : 0;
}

// One batch of inputs as the deployed model takes them: pixels or features of value 0.5 (no
// random numbers: measuring must not move the generator that training uses next), token 1.
torch::Tensor latency_input(const Task& task, int64_t batch) {
  torch::Tensor x = exporting::example_input(task, batch);
  return task.kind == "text" ? x : torch::full_like(x, 0.5);
}

double weights_bytes(space::Network& net) {
  double bytes = 0;
  for (const auto& p : net.parameters()) bytes += static_cast<double>(p.nbytes());
  for (const auto& b : net.buffers()) bytes += static_cast<double>(b.nbytes());
  return bytes;
}

void measure_torchscript(space::Network& net, const Task& task, const exporting::InputTransform& input,
                         const LatencyOptions& o, bool timed, LatencyResult& r) {
  // Timed as deployed: the saved file, loaded back, as torch::jit::load gives it to a program.
  std::ostringstream file;
  exporting::trace(net, exporting::example_input(task, 2), input).save(file);
  const std::string bytes = file.str();
  r.size_mb = static_cast<double>(bytes.size()) / kMiB;
  const std::vector<torch::jit::IValue> args{latency_input(task, o.batch_size)};
  if (!timed) return;
  torch::jit::Module m;
  time_passes(
      [&]() -> std::function<void()> {
        std::istringstream in(bytes);
        m = torch::jit::load(in);
        m.eval();
        return [&] { m.forward(args); };
      },
      o, r);
}

void measure_onnx_opencv(space::Network& net, const Task& task, const exporting::InputTransform& input,
                         const LatencyOptions& o, bool timed, LatencyResult& r) {
  if (task.kind == "text")
    throw TrialFailure("latency.runtime onnx-opencv: OpenCV's DNN module takes no token ids; use torchscript");
  const std::string bytes = exporting::onnx_model(net, task, input);
  r.size_mb = static_cast<double>(bytes.size()) / kMiB;
  std::vector<int> shape{static_cast<int>(o.batch_size)};
  for (int64_t d : task.input_shape) shape.push_back(static_cast<int>(d));
  const cv::Mat blob(static_cast<int>(shape.size()), shape.data(), CV_32F, cv::Scalar(0.5));
  if (!timed) return;
  cv::dnn::Net cvnet;
  time_passes(
      [&]() -> std::function<void()> {
        cvnet = cv::dnn::readNetFromONNX(bytes.data(), bytes.size());
        cvnet.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
        cvnet.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
        return [&] {
          cvnet.setInput(blob);
          cvnet.forward();
        };
      },
      o, r);
}

void measure_libtorch(space::Network& net, const Task& task, const exporting::InputTransform& input,
                      const LatencyOptions& o, bool timed, LatencyResult& r) {
  std::ostringstream file;
  torch::serialize::OutputArchive archive;
  net.save(archive);
  archive.save_to(file);
  r.size_mb = static_cast<double>(file.str().size()) / kMiB;
  // The module itself: its weights stay where they are (nothing to load afresh).
  if (!timed) return;
  const torch::Tensor x = latency_input(task, o.batch_size);
  time_passes([&]() -> std::function<void()> { return [&] { net.forward(input.apply(x)); }; }, o, r);
}

LatencyResult measure(space::Network& net, const Task& task_in, const exporting::InputTransform& input,
                      const LatencyOptions& o, int resolution, bool timed) {
  Task task = task_in;
  task.input_shape = input_shape(task_in, resolution);
  LatencyResult r;
  EvalMode eval(net);
  torch::NoGradGuard no_grad;
  RuntimeThreads threads(static_cast<int>(o.threads));
  try {
    if (o.runtime == "torchscript") {
      measure_torchscript(net, task, input, o, timed, r);
    } else if (o.runtime == "onnx-opencv") {
      measure_onnx_opencv(net, task, input, o, timed, r);
    } else if (o.runtime == "libtorch") {
      measure_libtorch(net, task, input, o, timed, r);
    } else {
      throw InternalError("unknown latency runtime " + o.runtime);
    }
    // Peak memory, the same for every runtime: one forward pass of the network itself.
    const torch::Tensor x = latency_input(task, o.batch_size);
    net.forward(input.apply(x));  // first-pass allocations (oneDNN primitives) outside the count
    CountAllocations count;
    net.forward(input.apply(x));
    r.peak_memory_mb = (weights_bytes(net) + static_cast<double>(count.peak_above_start())) / kMiB;
  } catch (const InputError& e) {
    throw TrialFailure(fmt::format("latency.runtime {} cannot run this network: {}", o.runtime, e.problem()));
  } catch (const cv::Exception& e) {
    throw TrialFailure(fmt::format("latency.runtime {} cannot run this network: {}", o.runtime, e.msg));
  }
  return r;
}

}  // namespace

exporting::InputTransform nominal_input_transform(const Task& task) {
  exporting::InputTransform t;
  t.kind = task.kind;
  if ((task.kind == "image" || task.kind == "tabular") && !task.input_shape.empty()) {
    t.mean.assign(static_cast<size_t>(task.input_shape[0]), 0.5f);
    t.std.assign(static_cast<size_t>(task.input_shape[0]), 0.25f);
  }
  return t;
}

LatencyResult measure_latency(space::Network& net, const Task& task, const exporting::InputTransform& input,
                              const LatencyOptions& o, int resolution) {
  return measure(net, task, input, o, resolution, true);
}

LatencyResult measure_footprint(space::Network& net, const Task& task, const exporting::InputTransform& input,
                                const LatencyOptions& o, int resolution) {
  return measure(net, task, input, o, resolution, false);
}

}  // namespace nascent::estimate
