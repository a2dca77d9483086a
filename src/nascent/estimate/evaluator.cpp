#include "nascent/estimate/evaluator.h"

#include <ATen/CPUGeneratorImpl.h>
#include <fmt/format.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <new>

#include "nascent/core/error.h"
#include "nascent/data/dataset.h"
#include "nascent/estimate/latency_table.h"
#include "nascent/estimate/profile.h"
#include "nascent/export/torchscript.h"
#include "nascent/space/network.h"
#include "nascent/space/space.h"

namespace nascent::estimate {

std::string short_reason(const std::string& what) {
  std::string s = what.substr(0, what.find('\n'));
  const auto ex = s.find("Exception raised from");
  if (ex != std::string::npos) s = s.substr(0, ex);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\r')) s.pop_back();
  if (s.size() > 300) s = s.substr(0, 297) + "...";
  return s;
}

TrainingEvaluator::TrainingEvaluator(const space::SearchSpace& space, const data::TaskData& data, TrainOptions options,
                                     Objective objective, LatencyOptions latency)
    : space_(space),
      data_(data),
      options_(std::move(options)),
      objective_(std::move(objective)),
      latency_(std::move(latency)) {}

Evaluation evaluate_guarded(const std::function<void(Evaluation&)>& body) {
  Evaluation e;
  const auto fail = [&](std::string reason) {
    e.status = TrialStatus::kFailed;
    e.reason = std::move(reason);
  };
  try {
    body(e);
  } catch (const TrialFailure& ex) {
    fail(ex.what());
  } catch (const c10::Error& ex) {
    fail(short_reason(ex.what()));
  } catch (const std::bad_alloc&) {
    fail("out of memory");
  } catch (const InternalError& ex) {
    fail(short_reason(ex.what()));
  }
  return e;
}

bool reject_on_constraints(const Objective& objective, Evaluation& e) {
  auto v = objective.violation(e.metrics);
  if (!v) return false;
  e.status = TrialStatus::kRejected;
  e.reason = "breaks constraint " + *v;
  return true;
}

bool measure_deployed(const space::SearchSpace& space, const data::TaskData& data, const Proposal& p,
                      space::Network& net, const LatencyOptions& latency, const Objective& objective, Evaluation& e) {
  if (latency.enabled) {
    const exporting::InputTransform input = exporting::InputTransform::of(data);
    std::shared_ptr<space::Network> full;
    if (p.fidelity.width_mult != 1.0) {
      // The deployed network has every channel; building it must not move the generator that
      // initialises and trains the candidate.
      at::Generator gen = at::detail::getDefaultCPUGenerator();
      const at::Tensor state = gen.get_state();
      full = space.build(p.arch, data.task, 1.0);
      gen.set_state(state);
    }
    space::Network& deployed = full ? *full : net;
    if (latency.source == "measure") {
      measure_latency(deployed, data.task, input, latency).add_to(e.metrics);
    } else {
      // The table's prediction; with predict+verify it screens the constraints and the
      // candidates it lets through are measured.
      LatencyTable& table = shared_latency_table(latency.table);
      const double predicted = summarize_kernels(table, deployed, data.task, input).predicted_ms(table);
      const LatencyResult footprint = measure_footprint(deployed, data.task, input, latency);
      e.metrics["latency_ms_predicted"] = predicted;
      e.metrics["latency_ms"] = predicted;
      e.metrics["size_mb"] = footprint.size_mb;
      e.metrics["peak_memory_mb"] = footprint.peak_memory_mb;
      if (latency.source == "predict+verify") {
        if (reject_on_constraints(objective, e)) return true;
        const LatencyResult measured = measure_latency(deployed, data.task, input, latency);
        measured.add_to(e.metrics);
      }
    }
  }
  return reject_on_constraints(objective, e);
}

Evaluation TrainingEvaluator::evaluate(const Proposal& p, uint64_t seed, const ProgressFn& progress) {
  return evaluate_guarded([&](Evaluation& e) {
    torch::manual_seed(seed);
    std::shared_ptr<space::Network> net = space_.build(p.arch, data_.task, p.fidelity.width_mult);
    const Profile prof = profile_network(*net, data_.task, p.fidelity.resolution);
    prof.add_to(e.metrics, options_.batch_size);
    if (reject_on_constraints(objective_, e)) return;
    if (measure_deployed(space_, data_, p, *net, latency_, objective_, e)) return;
    if (prof.params > options_.max_params)
      throw TrialFailure(fmt::format("{} parameters exceed train.max_params = {}", prof.params, options_.max_params));
    if (prof.memory_mb(options_.batch_size) > options_.max_memory_mb)
      throw TrialFailure(fmt::format("estimated training memory {:.0f} MB exceeds train.max_memory_mb = {:.0f}",
                                     prof.memory_mb(options_.batch_size), options_.max_memory_mb));
    // Early stopping: validation accuracy after every epoch, against the median curve of earlier
    // trials that the runner sent with the proposal.
    std::vector<double> curve;
    std::optional<std::string> pruned;
    EpochEndFn on_epoch;
    const std::vector<double> median = median_curve_from_json(p.meta.value("median_curve", nlohmann::json()));
    if (options_.early_stopping.enabled()) {
      on_epoch = [&](int64_t) {
        curve.push_back(
            evaluate_network(*net, data_, data_.val, p.fidelity.resolution, options_.eval_batch_size).accuracy);
        pruned = median_stop(curve, median, options_.early_stopping);
        return pruned.has_value();
      };
    }
    Fidelity f = p.fidelity;
    if (options_.equal_cost_flops > 0 && prof.flops > 0) {
      f.epochs *= std::clamp(std::pow(options_.equal_cost_flops / prof.flops, options_.equal_cost_power), 0.25, 4.0);
      e.metrics["train_epochs"] = f.epochs;
    }
    const TrainResult tr =
        train_network(*net, data_, data_.train, f, options_, seed, data_.split_seed, progress, on_epoch);
    for (size_t k = 0; k < curve.size(); ++k) e.metrics[curve_metric(static_cast<int64_t>(k) + 1)] = curve[k];
    if (pruned) {
      e.status = TrialStatus::kPruned;
      e.reason = *pruned;
      e.metrics["val_accuracy"] = curve.back();
      e.metrics["train_loss"] = tr.train_loss;
      e.metrics["train_seconds"] = tr.train_seconds;
      return;
    }
    const auto t0 = std::chrono::steady_clock::now();
    const EvalResult ev = evaluate_network(*net, data_, data_.val, p.fidelity.resolution, options_.eval_batch_size);
    // The last point of the curve, when training ended on a whole epoch.
    if (options_.early_stopping.enabled() && f.epochs == std::floor(f.epochs))
      e.metrics[curve_metric(static_cast<int64_t>(f.epochs))] = ev.accuracy;
    e.metrics["val_accuracy"] = ev.accuracy;
    e.metrics["val_loss"] = ev.loss;
    if (ev.classes) {
      // For imbalanced classes: any of these can be the objective (objective.metrics).
      e.metrics["val_balanced_accuracy"] = ev.classes->balanced_accuracy;
      e.metrics["val_macro_f1"] = ev.classes->macro_f1;
      if (std::isfinite(ev.classes->auroc)) e.metrics["val_auroc"] = ev.classes->auroc;
    }
    if (data_.task.per_position()) e.metrics["val_perplexity"] = std::exp(ev.loss);
    e.metrics["train_loss"] = tr.train_loss;
    e.metrics["train_seconds"] = tr.train_seconds;
    e.metrics["eval_seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  });
}

}  // namespace nascent::estimate
