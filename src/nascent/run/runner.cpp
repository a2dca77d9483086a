#include "nascent/run/runner.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <map>
#include <set>

#include "nascent/core/rng.h"
#include "nascent/run/interrupt.h"
#include "nascent/run/outputs.h"
#include "nascent/run/reevaluate.h"
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

uint64_t evaluation_seed(uint64_t seed, const space::SearchSpace& space, const Proposal& p) {
  return Rng::derive(seed, "eval/" + space.hash(p.arch) + "/" + p.fidelity.key()).next();
}

uint64_t Runner::eval_seed(const Proposal& p) const { return evaluation_seed(options_.seed, space_, p); }

RunOutcome Runner::run() {
  const auto session_start = std::chrono::steady_clock::now();
  const double elapsed_before = store_.info().elapsed_s;
  double credited_s = 0;  // the original time of results recovered from a damaged database
  auto elapsed = [&] {
    return elapsed_before + credited_s +
           std::chrono::duration<double>(std::chrono::steady_clock::now() - session_start).count();
  };
  // Results are told to the strategy in trial order, and proposals are asked only at the start
  // and after each tell, keeping at most `window` trials asked and not told. So the sequence of
  // asks and tells, and with it every proposal, depends on the seed and the number of workers,
  // never on which worker finishes first; a result that arrives early is stored (untold) and
  // waits for its turn. Twice as many trials as workers are kept outstanding, so that a worker
  // rarely waits for a slow trial ahead of it; one process asks and tells strictly in turn.
  const int64_t window = executor_.capacity() > 1 ? 2 * static_cast<int64_t>(executor_.capacity()) : 1;
  auto key = [&](const Proposal& p) { return space_.hash(p.arch) + "/" + p.fidelity.key(); };

  std::vector<Trial> done;                // told trials, in trial order
  std::map<std::string, Trial> first_ok;  // the first told ok trial of each architecture and fidelity
  std::set<std::string> keys;             // the architecture and fidelity of every trial asked so far
  std::map<int64_t, Trial> outstanding;   // asked and not told yet, by id
  std::set<int64_t> finished;             // outstanding trials whose result is in
  std::set<int64_t> followers;            // outstanding trials that take an earlier trial's result
  std::set<int64_t> salvaged_ids;         // outstanding results recovered from a damaged database
  std::deque<int64_t> ready;              // outstanding trials waiting for a free worker
  int64_t counted = 0;
  const int64_t salvaged = store_.salvaged_count();
  const bool early = options_.early_stopping.enabled();

  auto told = [&](const Trial& t) {
    done.push_back(t);
    if (t.status == TrialStatus::kOk) first_ok.emplace(key(t.proposal), t);
    keys.insert(key(t.proposal));
  };
  // A newly asked (or, on resume, re-queued) trial: a result recovered from a damaged database,
  // an architecture already proposed at this fidelity (it takes that trial's result when its turn
  // comes), or a trial to evaluate.
  auto place = [&](Trial t) {
    const int64_t id = t.id;
    if (std::optional<Trial> saved =
            salvaged > 0 ? store_.find_salvaged(t.proposal.arch, t.proposal.fidelity) : std::nullopt) {
      // The result as it was, with the time it took then, so that budgets and the strategy see the
      // same search as before the damage.
      t.status = saved->status;
      t.metrics = saved->metrics;
      t.reason = saved->reason;
      t.started = saved->started;
      t.ended = saved->ended;
      t.worker = saved->worker;
      credited_s += std::max(0.0, t.ended - t.started);
      store_.record_result(t, elapsed(), saved->id);
      finished.insert(id);
      salvaged_ids.insert(id);
    } else if (options_.reuse_results && keys.count(key(t.proposal))) {
      followers.insert(id);
    } else {
      ready.push_back(id);
    }
    keys.insert(key(t.proposal));
    outstanding[id] = std::move(t);
  };

  std::set<int64_t> untold;
  for (int64_t id : store_.untold()) untold.insert(id);
  std::vector<Trial> requeue;
  for (auto& t : store_.trials()) {
    // A re-evaluation cut off before the final training is the search command's to finish (its
    // result is never told to the strategy).
    if (t.status == TrialStatus::kRunning && is_reevaluation(t)) continue;
    if (t.status == TrialStatus::kRunning) {
      requeue.push_back(t);
    } else if (untold.count(t.id)) {
      keys.insert(key(t.proposal));
      finished.insert(t.id);
      outstanding[t.id] = t;
    } else {
      if (counts_against_budget(t)) ++counted;
      told(t);
    }
  }
  if (auto state = store_.strategy_state()) strategy_.load_state(*state);
  if (salvaged > 0)
    progress_.message(
        fmt::format("{} results recovered from a damaged database are taken as the strategy proposes "
                    "them again; the rest is trained",
                    salvaged));
  if (!done.empty() || !requeue.empty() || !outstanding.empty())
    progress_.message(fmt::format("resuming: {} trials counted, {} re-queued, {} of search time spent", counted,
                                  requeue.size(), format_duration(elapsed_before)));
  // Re-queued in trial order, so that each sees the trials before it as it did when it was asked.
  std::sort(requeue.begin(), requeue.end(), [](const Trial& a, const Trial& b) { return a.id < b.id; });
  for (auto& t : requeue) place(std::move(t));

  // With a table estimator the budget is spent by the recorded training times, not wall time.
  double simulated = simulated_seconds(done);
  auto spent = [&] { return options_.simulated_time ? simulated : elapsed(); };
  auto out_of_time = [&] { return options_.time_budget_s > 0 && spent() >= options_.time_budget_s; };

  const std::string metric = objective_.metrics().front().name;
  auto best_value = [&]() -> std::optional<double> {
    auto b = objective_.best(done);
    if (!b) return std::nullopt;
    return done[*b].metric(metric);
  };

  // Where the coordinator's time goes (bench/scale): stored as the "coordinator" event at the end
  // of each session. Waiting for results is `wait`; the rest is the coordinator at work.
  struct {
    double ask = 0, tell = 0, state = 0, store = 0, outputs = 0, submit = 0, wait = 0;
  } spent_in;
  auto timed = [](double& total, auto&& work) {
    const auto t0 = std::chrono::steady_clock::now();
    struct AddTime {
      double& total;
      std::chrono::steady_clock::time_point t0;
      ~AddTime() { total += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); }
    } add{total, t0};
    return work();
  };

  auto next_outputs = std::chrono::steady_clock::now();  // when trials.csv and summary.json are due

  int64_t session_counted = 0;
  int64_t consecutive_rejections = 0;
  bool too_many_rejections = false;

  std::unique_ptr<store::Transaction> group;  // the open group of writes (tell_and_ask below)
  auto commit_group = [&] {
    if (!group) return;
    timed(spent_in.store, [&] { group->commit(); });
    group.reset();
  };
  double last_ask_s = 1;  // the first ask counts as slow: its time is not known yet

  auto fill = [&] {
    while (!too_many_rejections && static_cast<int64_t>(outstanding.size()) < window) {
      if (counted + static_cast<int64_t>(outstanding.size()) >= options_.max_trials) break;
      if (out_of_time() || stop_requested()) break;
      // After a slow ask (or before the first) what was told is committed before asking, and the
      // writes that follow commit one by one: a strategy that trains to propose (a supernet, a
      // model) records events while it asks, and a kill during the ask must lose nothing.
      if (last_ask_s > 0.02) commit_group();
      const double ask_from = spent_in.ask;
      std::optional<Proposal> p = timed(spent_in.ask, [&] { return strategy_.ask(); });
      last_ask_s = spent_in.ask - ask_from;
      if (!p) break;
      Trial t;
      t.proposal = *p;
      // The early-stopping rule compares with the trials told before this ask, wherever and
      // whenever the trial runs (kept in the trial so that a resume sends the same reference).
      if (early) t.proposal.meta["median_from"] = done.size();
      const nlohmann::json state = timed(spent_in.state, [&] { return strategy_.state(); });
      t.id = timed(spent_in.store,
                   [&] { return store_.begin_trial(t.proposal, state, window > 1 ? "queued" : "inline"); });
      t.status = TrialStatus::kRunning;
      place(std::move(t));
    }
  };

  // Tells every result that is next in trial order, asking after each tell.
  auto tell_in_order = [&] {
    while (!too_many_rejections && !outstanding.empty()) {
      auto it = outstanding.begin();
      const int64_t id = it->first;
      if (followers.count(id)) {
        // Every earlier trial has been told: take the first ok result of the same architecture
        // and fidelity, or train it if there is none.
        followers.erase(id);
        auto e = first_ok.find(key(it->second.proposal));
        if (e == first_ok.end()) {
          ready.push_front(id);
        } else {
          Trial& r = it->second;
          r.status = e->second.status;
          r.metrics = e->second.metrics;
          r.reason = fmt::format("reused trial {}", e->second.id);
          r.started = r.ended = unix_now();
          r.worker = "reused";
          finished.insert(id);
        }
      }
      if (!finished.count(id)) return;
      Trial t = std::move(it->second);
      outstanding.erase(it);
      finished.erase(id);
      const bool was_salvaged = salvaged_ids.erase(id) > 0;
      simulated += simulated_seconds({t});
      timed(spent_in.tell, [&] { strategy_.tell(t); });
      const nlohmann::json state = timed(spent_in.state, [&] { return strategy_.state(); });
      timed(spent_in.store, [&] { store_.finish_trial(t, state, elapsed()); });
      told(t);
      if (counts_against_budget(t)) {
        ++counted;
        if (t.worker != "reused" && !was_salvaged) ++session_counted;
        consecutive_rejections = 0;
      } else if (++consecutive_rejections >= options_.max_consecutive_rejections) {
        progress_.message(fmt::format("{} candidates in a row broke the constraints ({}); stopping",
                                      consecutive_rejections, objective_.describe()));
        too_many_rejections = true;
        return;
      }
      std::optional<double> left;
      if (session_counted > 0) {
        const double per = (elapsed() - elapsed_before - credited_s) / static_cast<double>(session_counted);
        left = per * static_cast<double>(std::max<int64_t>(0, options_.max_trials - counted));
        if (options_.time_budget_s > 0 && !options_.simulated_time)
          left = std::min(*left, std::max(0.0, options_.time_budget_s - elapsed()));
      }
      timed(spent_in.outputs, [&] {
        progress_.trial_done(t, space_.describe(t.proposal.arch), metric, counted, options_.max_trials, best_value(),
                             elapsed(), left);
        // trials.csv and summary.json are rebuilt from the whole store, a cost that grows with
        // the trials: at most once a second, and never more than a tenth of the coordinator's
        // time (bench/scale). The store has every result at once; the end of the search writes
        // them in full.
        const auto now = std::chrono::steady_clock::now();
        if (!options_.out_dir.empty() && now >= next_outputs) {
          write_outputs("running");
          const auto took = std::chrono::steady_clock::now() - now;
          next_outputs = now + std::max<std::chrono::steady_clock::duration>(std::chrono::seconds(1), 10 * took);
        }
      });
      fill();
    }
  };

  // Hands waiting trials to free workers (none once the time is up or a stop was requested).
  auto submit_ready = [&] {
    while (!ready.empty() && executor_.pending() < executor_.capacity()) {
      if (out_of_time() || stop_requested()) return;
      const Trial& t = outstanding.at(ready.front());
      ready.pop_front();
      if (early) {
        // The reference travels with the trial (not stored), so that the rule runs wherever it
        // is evaluated: inline, in a worker process or on an MPI rank.
        const size_t n = std::min<size_t>(done.size(), t.proposal.meta.value("median_from", done.size()));
        const std::vector<Trial> before(done.begin(), done.begin() + static_cast<std::ptrdiff_t>(n));
        Trial sent = t;
        sent.proposal.meta["median_curve"] = estimate::median_curve_to_json(
            estimate::median_curve(before, t.proposal.fidelity, options_.early_stopping.min_trials));
        timed(spent_in.submit, [&] { executor_.submit(sent, eval_seed(t.proposal)); });
      } else {
        timed(spent_in.submit, [&] { executor_.submit(t, eval_seed(t.proposal)); });
      }
    }
  };

  // The results told in one pass and the trials asked after them are written in one SQLite
  // transaction (group commit), committed before any new trial is handed out, so every told
  // result is on disk before the next trial starts. Only asks that took under 20 ms last time are
  // inside a group (fill() above); an ask that throws (Ctrl-C) keeps what was written before it.
  auto tell_and_ask = [&](auto&& work) {
    group = timed(spent_in.store, [&] { return store_.group_writes(); });
    try {
      work();
    } catch (...) {
      // Keep what was written before the throw (unless a write itself failed: then the group
      // rolls back, and the original error is the one reported).
      try {
        commit_group();
      } catch (...) {
      }
      group.reset();
      throw;
    }
    commit_group();
  };

  std::string status = "done";
  try {
    tell_and_ask(fill);
    while (true) {
      tell_and_ask(tell_in_order);
      if (too_many_rejections) {
        status = "exhausted";
        break;
      }
      submit_ready();
      if (executor_.pending() == 0) {
        if (counted >= options_.max_trials || out_of_time()) {
          status = "done";
        } else if (stop_requested()) {
          status = "interrupted";
        } else {
          status = strategy_.exhausted() ? "exhausted" : "done";
        }
        break;
      }
      Trial t = timed(spent_in.wait, [&] { return executor_.collect(); });
      t.proposal.meta.erase("median_curve");
      // Stored at once; told when every trial before it has been (at once when it is the next).
      if (t.id != outstanding.begin()->first) timed(spent_in.store, [&] { store_.record_result(t, elapsed()); });
      finished.insert(t.id);
      outstanding[t.id] = std::move(t);
    }
  } catch (const Interrupted&) {
    status = "interrupted";
  }
  store_.set_status(status == "interrupted" ? "interrupted" : "done");
  const double session_s = elapsed() - elapsed_before - credited_s;
  store_.record_event("coordinator", counted,
                      {{"session_s", session_s},
                       {"trials", session_counted},
                       {"workers", executor_.capacity()},
                       {"ask_s", spent_in.ask},
                       {"tell_s", spent_in.tell},
                       {"strategy_state_s", spent_in.state},
                       {"store_s", spent_in.store},
                       {"outputs_s", spent_in.outputs},
                       {"submit_s", spent_in.submit},
                       {"wait_s", spent_in.wait}});
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
  if (auto b = chosen_trial(trials, objective_))
    write_file_atomic(
        options_.out_dir + "/best_arch.json",
        arch_file_json(trials[*b].proposal.arch, space_, options_.space_options, options_.task).dump(2) + "\n");
}

}  // namespace nascent::run
