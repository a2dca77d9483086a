#include "nascent/run/runner.h"

#include <fmt/format.h>

#include <chrono>
#include <deque>

#include "nascent/core/rng.h"
#include "nascent/run/interrupt.h"
#include "nascent/run/outputs.h"
#include "nascent/space/space.h"
#include "nascent/store/store.h"
#include "nascent/strategy/strategy.h"

namespace nascent::run {

bool counts_against_budget(const Trial& t) {
  return t.status != TrialStatus::kRunning && t.status != TrialStatus::kRejected;
}

double simulated_seconds(const std::vector<Trial>& trials) {
  double s = 0;
  for (const auto& t : trials)
    if (t.worker != "reused") s += t.metric("train_seconds").value_or(0);
  return s;
}

Runner::Runner(const space::SearchSpace& space, strategy::Strategy& strategy, store::Store& store, Executor& executor,
               const Objective& objective, RunnerOptions options, ProgressReporter& progress)
    : space_(space),
      strategy_(strategy),
      store_(store),
      executor_(executor),
      objective_(objective),
      options_(std::move(options)),
      progress_(progress) {}

uint64_t Runner::eval_seed(const Proposal& p) const {
  // The same architecture at the same fidelity always starts from the same weights, whatever
  // order it is proposed in.
  return Rng::derive(options_.seed, "eval/" + space_.hash(p.arch) + "/" + p.fidelity.key()).next();
}

RunOutcome Runner::run() {
  const auto session_start = std::chrono::steady_clock::now();
  const double elapsed_before = store_.info().elapsed_s;
  double credited_s = 0;  // the original time of results recovered from a damaged database
  auto elapsed = [&] {
    return elapsed_before + credited_s +
           std::chrono::duration<double>(std::chrono::steady_clock::now() - session_start).count();
  };

  std::vector<Trial> done;  // finished trials, for the best-so-far shown in progress lines
  std::deque<Trial> requeue;
  int64_t counted = 0;
  for (const auto& t : store_.trials()) {
    if (t.status == TrialStatus::kRunning) {
      requeue.push_back(t);
    } else {
      done.push_back(t);
      if (counts_against_budget(t)) ++counted;
    }
  }
  if (auto state = store_.strategy_state()) strategy_.load_state(*state);
  const int64_t salvaged = store_.salvaged_count();
  if (const int64_t n = salvaged; n > 0)
    progress_.message(
        fmt::format("{} results recovered from a damaged database are taken as the strategy proposes "
                    "them again; the rest is trained",
                    n));
  if (!done.empty() || !requeue.empty())
    progress_.message(fmt::format("resuming: {} trials counted, {} re-queued, {} of search time spent", counted,
                                  requeue.size(), format_duration(elapsed_before)));

  // With a table estimator the budget is spent by the recorded training times, not wall time.
  double simulated = simulated_seconds(done);
  auto spent = [&] { return options_.simulated_time ? simulated : elapsed(); };

  const std::string metric = objective_.metrics().front().name;
  auto best_value = [&]() -> std::optional<double> {
    auto b = objective_.best(done);
    if (!b) return std::nullopt;
    return done[*b].metric(metric);
  };

  int64_t session_counted = 0;
  int64_t consecutive_rejections = 0;
  std::string status = "done";
  try {
    while (true) {
      // Fill the executor.
      while (executor_.pending() < executor_.capacity()) {
        if (counted + executor_.pending() >= options_.max_trials) break;
        if (options_.time_budget_s > 0 && spent() >= options_.time_budget_s) break;
        if (stop_requested()) break;
        Trial t;
        if (!requeue.empty()) {
          t = requeue.front();
          requeue.pop_front();
        } else {
          std::optional<Proposal> p = strategy_.ask();
          if (!p) break;
          t.proposal = *p;
          t.id = store_.begin_trial(t.proposal, strategy_.state(), "inline");
          t.status = TrialStatus::kRunning;
        }
        if (std::optional<Trial> saved =
                salvaged > 0 ? store_.find_salvaged(t.proposal.arch, t.proposal.fidelity) : std::nullopt) {
          // Recovered from a damaged database: the result as it was, with the time it took then,
          // so that budgets and the strategy see the same search as before the damage.
          Trial r = t;
          r.status = saved->status;
          r.metrics = saved->metrics;
          r.reason = saved->reason;
          r.started = saved->started;
          r.ended = saved->ended;
          r.worker = saved->worker;
          credited_s += std::max(0.0, r.ended - r.started);
          simulated += simulated_seconds({r});
          strategy_.tell(r);
          store_.finish_trial(r, strategy_.state(), elapsed(), saved->id);
          done.push_back(r);
          if (counts_against_budget(r)) ++counted;
          progress_.trial_done(r, space_.describe(r.proposal.arch), metric, counted, options_.max_trials, best_value(),
                               elapsed(), std::nullopt);
          continue;
        }
        std::optional<Trial> earlier =
            options_.reuse_results ? store_.find_result(t.proposal.arch, t.proposal.fidelity) : std::nullopt;
        if (earlier) {
          // Already trained at this fidelity: reuse the stored result.
          Trial r = t;
          r.status = earlier->status;
          r.metrics = earlier->metrics;
          r.reason = fmt::format("reused trial {}", earlier->id);
          r.started = r.ended = unix_now();
          r.worker = "reused";
          strategy_.tell(r);
          store_.finish_trial(r, strategy_.state(), elapsed());
          done.push_back(r);
          ++counted;
          ++session_counted;
          progress_.trial_done(r, space_.describe(r.proposal.arch), metric, counted, options_.max_trials, best_value(),
                               elapsed(), std::nullopt);
          continue;
        }
        if (options_.early_stopping.enabled()) {
          // The reference travels with the trial (not stored), so that the rule runs wherever it
          // is evaluated: inline, in a worker process or on an MPI rank.
          Trial sent = t;
          sent.proposal.meta["median_curve"] = estimate::median_curve_to_json(
              estimate::median_curve(done, t.proposal.fidelity, options_.early_stopping.min_trials));
          executor_.submit(sent, eval_seed(t.proposal));
        } else {
          executor_.submit(t, eval_seed(t.proposal));
        }
      }
      if (executor_.pending() == 0) {
        if (counted >= options_.max_trials || (options_.time_budget_s > 0 && spent() >= options_.time_budget_s)) {
          status = "done";
        } else if (stop_requested()) {
          status = "interrupted";
        } else if (consecutive_rejections >= options_.max_consecutive_rejections) {
          status = "exhausted";
        } else {
          status = strategy_.exhausted() ? "exhausted" : "done";
        }
        break;
      }
      Trial t = executor_.collect();
      simulated += simulated_seconds({t});
      t.proposal.meta.erase("median_curve");
      strategy_.tell(t);
      store_.finish_trial(t, strategy_.state(), elapsed());
      done.push_back(t);
      if (counts_against_budget(t)) {
        ++counted;
        ++session_counted;
        consecutive_rejections = 0;
      } else if (++consecutive_rejections >= options_.max_consecutive_rejections) {
        progress_.message(fmt::format("{} candidates in a row broke the constraints ({}); stopping",
                                      consecutive_rejections, objective_.describe()));
        break;
      }
      std::optional<double> left;
      if (session_counted > 0) {
        const double per = (elapsed() - elapsed_before - credited_s) / static_cast<double>(session_counted);
        left = per * static_cast<double>(std::max<int64_t>(0, options_.max_trials - counted));
        if (options_.time_budget_s > 0 && !options_.simulated_time)
          left = std::min(*left, std::max(0.0, options_.time_budget_s - elapsed()));
      }
      progress_.trial_done(t, space_.describe(t.proposal.arch), metric, counted, options_.max_trials, best_value(),
                           elapsed(), left);
      if (!options_.out_dir.empty()) write_outputs("running");
    }
  } catch (const Interrupted&) {
    status = "interrupted";
  }
  store_.set_status(status == "interrupted" ? "interrupted" : "done");
  RunOutcome out{status, counted, elapsed()};
  if (!options_.out_dir.empty()) write_outputs(status);
  return out;
}

void Runner::write_outputs(const std::string& status, const nlohmann::json& final, const std::string& final_skipped,
                           const std::vector<std::string>& warnings) const {
  const std::vector<Trial> trials = store_.trials();
  write_file_atomic(options_.out_dir + "/trials.csv", trials_csv(trials, space_));
  SummaryInput in;
  in.trials = &trials;
  in.space = &space_;
  in.objective = &objective_;
  in.strategy = options_.strategy_name;
  in.seed = options_.seed;
  in.elapsed_s = store_.info().elapsed_s;
  if (options_.simulated_time) in.simulated_s = simulated_seconds(trials);
  in.status = status;
  in.final = final;
  in.final_skipped = final_skipped;
  in.warnings = warnings;
  const nlohmann::json summary = summary_json(in);
  write_file_atomic(options_.out_dir + "/summary.json", summary.dump(2) + "\n");
  if (auto b = objective_.best(trials))
    write_file_atomic(
        options_.out_dir + "/best_arch.json",
        arch_file_json(trials[*b].proposal.arch, space_, options_.space_options, options_.task).dump(2) + "\n");
}

}  // namespace nascent::run
