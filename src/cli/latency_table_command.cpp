// nascent latency-table: times the operations of a space's networks on this machine into a
// kernel table (estimate/latency_table.h), fits the predictor on measured networks, and, with
// --heldout N, reports how well it predicts N other networks, next to FLOPs and parameters
// used as predictors.
#include <fmt/format.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>

#include "cli/commands.h"
#include "nascent/core/config.h"
#include "nascent/core/error.h"
#include "nascent/core/rng.h"
#include "nascent/estimate/latency.h"
#include "nascent/estimate/latency_table.h"
#include "nascent/estimate/profile.h"
#include "nascent/estimate/rank_correlation.h"
#include "nascent/export/torchscript.h"
#include "nascent/space/network.h"
#include "nascent/space/registry.h"

namespace nascent::cli {

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// How well `predicted` matches `measured`: share within +-10%, RMSE, mean absolute error in
// percent, Spearman's rank correlation.
nlohmann::json accuracy(const std::vector<double>& predicted, const std::vector<double>& measured) {
  double within = 0, sq = 0, pct = 0;
  for (size_t i = 0; i < measured.size(); ++i) {
    const double rel = std::abs(predicted[i] - measured[i]) / measured[i];
    within += rel <= 0.10 ? 1 : 0;
    pct += rel;
    sq += (predicted[i] - measured[i]) * (predicted[i] - measured[i]);
  }
  const double n = static_cast<double>(measured.size());
  return {{"within_10pct", within / n},
          {"rmse_ms", std::sqrt(sq / n)},
          {"mean_abs_error_pct", 100 * pct / n},
          {"spearman", estimate::spearman(predicted, measured)}};
}

// Least squares y = a + b x; returns {a, b}.
std::pair<double, double> line_fit(const std::vector<double>& x, const std::vector<double>& y) {
  const double n = static_cast<double>(x.size());
  double sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    sx += x[i];
    sy += y[i];
    sxx += x[i] * x[i];
    sxy += x[i] * y[i];
  }
  const double den = n * sxx - sx * sx;
  const double b = den != 0 ? (n * sxy - sx * sy) / den : 0;
  return {(sy - b * sx) / n, b};
}

struct Measured {
  estimate::KernelSummary kernels;
  double measured_ms = 0, cv = 0, flops = 0, params = 0;
  double speed = 1;  // the reference network's time now / when the kernels were timed
};

}  // namespace

int run_latency_table(const LatencyTableFlags& f) {
  if (f.runtime != "torchscript")
    throw InputError("", "--runtime",
                     fmt::format("the kernel table times TorchScript operations; runtime {} is measured only "
                                 "(latency.source: measure)",
                                 f.runtime));
  const nlohmann::json config = load_config(f.config, {});
  const nlohmann::json options = config.contains("space") && config["space"].contains(f.space)
                                     ? config["space"][f.space]
                                     : nlohmann::json::object();
  ConfigSection o(options, "space." + f.space, f.config.empty() ? "--space" : f.config);
  const auto sp = space::make_space(f.space, o);
  const Task task = task_for_space(*sp, config, f.config);
  const exporting::InputTransform input = estimate::nominal_input_transform(task);

  estimate::LatencyTable table;
  table.machine = estimate::this_machine();
  table.threads = f.threads;
  table.batch_size = f.batch_size;
  const bool extending = std::filesystem::exists(f.out) && !f.force;
  if (extending) {
    table = estimate::LatencyTable::load(f.out);
    auto same = [&](const std::string& field, const std::string& have, const std::string& want) {
      if (have != want)
        throw InputError(f.out, field,
                         fmt::format("the table is for {} {}, not {}; give another --out or --force to replace it",
                                     field, have, want));
    };
    same("machine", table.machine, estimate::this_machine());
    same("threads", std::to_string(table.threads), std::to_string(f.threads));
    same("batch_size", std::to_string(table.batch_size), std::to_string(f.batch_size));
  }
  if (std::find(table.spaces.begin(), table.spaces.end(), f.space) == table.spaces.end())
    table.spaces.push_back(f.space);

  estimate::LatencyOptions lo;
  lo.runtime = "torchscript";
  lo.threads = f.threads;
  lo.batch_size = f.batch_size;
  lo.repeats = 1;
  torch::set_num_threads(static_cast<int>(f.threads));
  // A network's time depends on where its tensors fall at load (bimodal for some networks here:
  // 0.47 or 0.90 ms); its reference latency is the mean over 10 loads of 20 timed passes, the
  // expectation the sum of kernel times estimates.
  constexpr int kLoads = 10;

  auto build = [&](const Arch& a) {
    torch::manual_seed(0);
    return sp->build(a, task, 1.0);
  };
  auto mean_latency = [&](space::Network& net, int loads, double* cv) {
    std::vector<double> v;
    for (int i = 0; i < loads; ++i) v.push_back(estimate::measure_latency(net, task, input, lo).median_ms);
    double mean = 0, var = 0;
    for (double x : v) mean += x / loads;
    for (double x : v) var += (x - mean) * (x - mean) / loads;
    if (cv) *cv = std::sqrt(var) / mean;
    return mean;
  };
  // This machine's speed drifts by tens of percent over minutes (a shared virtual machine: one
  // run's measured/predicted ratio went 1.46 -> 0.97 between blocks of 20 networks a minute
  // apart), so a reference network is measured right after the kernels are timed and again next
  // to every network measured later; `speed` is their ratio, by which the measurement is
  // divided for the fit and the prediction multiplied for the corrected comparison.
  std::shared_ptr<space::Network> reference;
  double reference_ms = 0;
  auto measure = [&](const Arch& a) {
    auto net = build(a);
    Measured m;
    m.kernels = estimate::summarize_kernels(table, *net, task, input);
    m.measured_ms = mean_latency(*net, kLoads, &m.cv);
    m.speed = reference ? mean_latency(*reference, 5, nullptr) / reference_ms : 1.0;
    const auto prof = estimate::profile_network(*net, task);
    m.flops = prof.flops;
    m.params = static_cast<double>(prof.params);
    return m;
  };

  // 1. The kernels of --samples networks, each timed once.
  const auto t0 = std::chrono::steady_clock::now();
  const size_t before = table.kernel_ms.size();
  Rng rng = Rng::derive(static_cast<uint64_t>(f.seed), "latency-table/" + f.space + "/sample");
  std::set<std::string> seen;
  for (int64_t i = 0; i < f.samples; ++i) {
    const Arch a = sp->sample(rng);
    seen.insert(sp->hash(a));
    auto net = build(a);
    estimate::summarize_kernels(table, *net, task, input);
    if (!f.quiet && (i + 1) % 50 == 0)
      fmt::print(stderr, "latency-table: {} networks, {} kernels timed\n", i + 1, table.kernel_ms.size() - before);
  }
  const double kernel_seconds = seconds_since(t0);
  {
    Rng ref_rng = Rng::derive(static_cast<uint64_t>(f.seed), "latency-table/" + f.space + "/reference");
    const Arch a = sp->sample(ref_rng);
    seen.insert(sp->hash(a));
    reference = build(a);
    estimate::summarize_kernels(table, *reference, task, input);
    reference_ms = mean_latency(*reference, kLoads, nullptr);
  }

  // 2. The fit on --calibrate measured networks (their kernels are in the table by now or timed).
  const auto t1 = std::chrono::steady_clock::now();
  Rng crng = Rng::derive(static_cast<uint64_t>(f.seed), "latency-table/" + f.space + "/calibrate");
  std::vector<Measured> calib;
  while (static_cast<int64_t>(calib.size()) < f.calibrate) {
    const Arch a = sp->sample(crng);
    seen.insert(sp->hash(a));
    calib.push_back(measure(a));
  }
  std::vector<estimate::KernelSummary> sums;
  std::vector<double> ms, flops, params;
  for (const auto& m : calib) {
    sums.push_back(m.kernels);
    ms.push_back(m.measured_ms / m.speed);
    flops.push_back(m.flops);
    params.push_back(m.params);
  }
  estimate::fit_latency_table(table, sums, ms);
  const double calibrate_seconds = seconds_since(t1);
  table.save(f.out);

  nlohmann::json out = {{"table", f.out},
                        {"machine", table.machine},
                        {"runtime", table.runtime},
                        {"threads", table.threads},
                        {"batch_size", table.batch_size},
                        {"space", f.space},
                        {"kernels", table.kernel_ms.size()},
                        {"kernels_added", table.kernel_ms.size() - before},
                        {"sampled_networks", f.samples},
                        {"kernel_seconds", kernel_seconds},
                        {"calibration_networks", calib.size()},
                        {"calibration_seconds", calibrate_seconds},
                        {"fit", table.to_json()["fit"]}};

  // 3. Held-out networks, none of them sampled above: the prediction against the measurement.
  if (f.heldout > 0) {
    const auto [fa, fb] = line_fit(flops, ms);
    const auto [pa, pb] = line_fit(params, ms);
    Rng hrng = Rng::derive(static_cast<uint64_t>(f.seed), "latency-table/" + f.space + "/heldout");
    std::vector<double> measured, by_kernels, corrected, by_flops, by_params, cvs, predict_ms, speeds;
    int64_t missing = 0, kernels = 0, attempts = 0;
    nlohmann::json rows = nlohmann::json::array();
    while (static_cast<int64_t>(measured.size()) < f.heldout) {
      if (++attempts > 100 * f.heldout) break;
      const Arch a = sp->sample(hrng);
      if (!seen.insert(sp->hash(a)).second) continue;
      const Measured m = measure(a);
      // The time a prediction takes once the kernels are known: trace and look up.
      auto net = build(a);
      const auto tp = std::chrono::steady_clock::now();
      estimate::summarize_kernels(table, *net, task, input);
      predict_ms.push_back(1000 * seconds_since(tp));
      missing += m.kernels.timed_now;
      kernels += m.kernels.kernels;
      measured.push_back(m.measured_ms);
      cvs.push_back(m.cv);
      by_kernels.push_back(m.kernels.predicted_ms(table));
      corrected.push_back(by_kernels.back() * m.speed);
      speeds.push_back(m.speed);
      by_flops.push_back((fa + fb * m.flops) * m.speed);
      by_params.push_back((pa + pb * m.params) * m.speed);
      rows.push_back({{"arch", sp->to_json(a)},
                      {"kernel_sum_ms", m.kernels.kernel_sum_ms},
                      {"kernels", m.kernels.kernels},
                      {"hash", sp->hash(a)},
                      {"measured_ms", m.measured_ms},
                      {"cv", m.cv},
                      {"predicted_ms", by_kernels.back()},
                      {"speed", m.speed},
                      {"flops", m.flops},
                      {"params", m.params}});
      if (!f.quiet && measured.size() % 50 == 0)
        fmt::print(stderr, "latency-table: {} held-out networks measured\n", measured.size());
    }
    std::sort(predict_ms.begin(), predict_ms.end());
    std::sort(cvs.begin(), cvs.end());
    out["heldout"] = {
        {"networks", measured.size()},
        {"kernels_missing_from_table", missing},
        {"kernels_looked_up", kernels},
        {"measurement_cv_median", cvs.empty() ? 0.0 : cvs[cvs.size() / 2]},
        {"predict_ms_median", predict_ms.empty() ? 0.0 : predict_ms[predict_ms.size() / 2]},
        {"measured_ms_range",
         {measured.empty() ? 0.0 : *std::min_element(measured.begin(), measured.end()),
          measured.empty() ? 0.0 : *std::max_element(measured.begin(), measured.end())}},
        {"machine_speed_range",
         {*std::min_element(speeds.begin(), speeds.end()), *std::max_element(speeds.begin(), speeds.end())}},
        {"kernel_table_uncorrected", accuracy(by_kernels, measured)},
        {"kernel_table", accuracy(corrected, measured)},
        {"flops_linear", accuracy(by_flops, measured)},
        {"params_linear", accuracy(by_params, measured)}};
    if (!f.rows.empty()) {
      std::ofstream r(f.rows);
      if (!r) throw InputError(f.rows, "--rows", "cannot write");
      r << rows.dump(1) << "\n";
    }
    table.save(f.out);  // with the kernels the held-out networks added
  }
  fmt::print("{}\n", out.dump(2));
  return 0;
}

}  // namespace nascent::cli
