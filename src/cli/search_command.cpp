// nascent search: config in, run directory out (experiment.db, trials.csv, summary.json,
// best_arch.json, and with final training weights.pt).
#include <fmt/format.h>
#include <sys/stat.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "cli/commands.h"
#include "nascent/core/config.h"
#include "nascent/core/error.h"
#include "nascent/core/rng.h"
#include "nascent/data/dataset.h"
#include "nascent/estimate/estimator.h"
#include "nascent/run/dashboard_server.h"
#include "nascent/run/executor.h"
#include "nascent/run/experiment.h"
#include "nascent/run/final_training.h"
#include "nascent/run/interrupt.h"
#include "nascent/run/mpi_executor.h"
#include "nascent/run/outputs.h"
#include "nascent/run/plain_summary.h"
#include "nascent/run/process_executor.h"
#include "nascent/run/progress.h"
#include "nascent/run/reevaluate.h"
#include "nascent/run/report.h"
#include "nascent/run/run_lock.h"
#include "nascent/run/runner.h"
#include "nascent/run/strategy_events.h"
#include "nascent/store/store.h"

namespace nascent::cli {
namespace fs = std::filesystem;

namespace {

// The first dotted path at which a and b differ, or "" if equal.
std::string first_difference(const nlohmann::json& a, const nlohmann::json& b, const std::string& path) {
  if (a.is_object() && b.is_object()) {
    for (auto it = a.begin(); it != a.end(); ++it) {
      const std::string p = path.empty() ? it.key() : path + "." + it.key();
      if (!b.contains(it.key())) return p;
      std::string d = first_difference(*it, b[it.key()], p);
      if (!d.empty()) return d;
    }
    for (auto it = b.begin(); it != b.end(); ++it)
      if (!a.contains(it.key())) return path.empty() ? it.key() : path + "." + it.key();
    return "";
  }
  return a == b ? "" : (path.empty() ? "(top level)" : path);
}

// The objective chosen for imbalanced classes when the config names none (stored with it).
const nlohmann::json& balanced_metrics() {
  static const nlohmann::json m = nlohmann::json::array({{{"name", "val_balanced_accuracy"}, {"direction", "max"}}});
  return m;
}

// Leaves out of `stored` the objective that nascent chose itself (not in the user's file).
void drop_chosen_objective(nlohmann::json& stored, const nlohmann::json& given) {
  const bool given_metrics =
      given.contains("objective") && given["objective"].is_object() && given["objective"].contains("metrics");
  if (given_metrics || !stored.contains("objective") || !stored["objective"].is_object()) return;
  nlohmann::json& o = stored["objective"];
  if (!o.contains("metrics") || o["metrics"] != balanced_metrics()) return;
  o.erase("metrics");
  if (o.empty() && !given.contains("objective")) stored.erase("objective");
  // The class weights chosen with it.
  const bool given_weights =
      given.contains("train") && given["train"].is_object() && given["train"].contains("class_weights");
  if (!given_weights && stored.contains("train") && stored["train"].is_object() &&
      stored["train"].value("class_weights", std::string()) == "auto") {
    stored["train"].erase("class_weights");
    if (stored["train"].empty() && !given.contains("train")) stored.erase("train");
  }
}

// `chosen`: the config nascent chose for --data without --config (null otherwise).
nlohmann::json resolve_config(const SearchFlags& f, const std::string& db_path, const nlohmann::json& chosen) {
  // --resume without --config: the stored config, with what the flags and --set change.
  const bool stored_only = f.resume && f.config.empty();
  nlohmann::json config = stored_only         ? store::Store::read_config(db_path)
                          : !chosen.is_null() ? chosen
                                              : load_config(f.config, f.sets);
  if (stored_only || !chosen.is_null())
    for (const auto& s : f.sets) apply_override(config, s);
  if (!f.data.empty() && chosen.is_null()) point_config_at_data(config, f.data);
  if (f.seed) config["seed"] = *f.seed;
  if (!f.strategy.empty()) config["strategy"]["name"] = f.strategy;
  if (!f.estimator.empty()) config["estimator"]["name"] = f.estimator;
  if (!f.scheduler.empty()) config["scheduler"]["name"] = f.scheduler;
  if (!f.prefilter.empty()) config["prefilter"]["proxy"] = f.prefilter;
  if (f.max_trials) config["budget"]["max_trials"] = *f.max_trials;
  if (f.time_budget) config["budget"]["time_minutes"] = *f.time_budget;
  if (f.workers) config["run"]["workers"] = *f.workers;
  if (f.darts_order) config["strategy"]["darts"]["order"] = *f.darts_order;
  if (!f.resume) return config;
  // Resuming continues the stored experiment; only its budget and how it runs may change.
  nlohmann::json stored = store::Store::read_config(db_path);
  nlohmann::json a = stored, b = config;
  drop_chosen_objective(a, b);
  for (const char* free : {"budget", "run"}) {
    a.erase(free);
    b.erase(free);
  }
  const std::string diff = first_difference(a, b, "");
  if (!diff.empty())
    throw InputError(f.config.empty() ? "--set" : f.config, diff,
                     "differs from the experiment being resumed in " + db_path +
                         "; only budget.* (--max-trials, --time-budget) and run.* (--workers) may change on --resume");
  for (const char* free : {"budget", "run"})
    if (config.contains(free)) stored[free] = config[free];
  return stored;
}

// Torch threads of each MPI worker rank: run.threads, or this node's cores shared among its ranks.
int mpi_threads(const run::RunOptions& r) {
  if (r.threads > 0) return static_cast<int>(r.threads);
  const char* local = std::getenv("OMPI_COMM_WORLD_LOCAL_SIZE");
  const int ranks = local ? std::max(1, std::atoi(local)) : 1;
  return std::max(1, static_cast<int>(std::thread::hardware_concurrency()) / ranks);
}

std::string default_out(const SearchFlags& f) {
  const fs::path named = !f.config.empty() ? fs::path(f.config) : fs::path(f.data).lexically_normal();
  std::string stem = (named.has_filename() ? named : named.parent_path()).stem().string();
  return "runs/" + (stem.empty() ? std::string("search") : stem);
}

// Fewer validation examples per class than this cannot rank candidates: one example is several
// points of accuracy, more than the differences between architectures.
constexpr int64_t kMinValPerClass = 20;

std::string small_validation_warning(const data::TaskData& data, const data::TaskOptions& task) {
  if (data.task.per_position() || data.task.num_classes < 2) return "";
  const int64_t n = data.val.size(), k = data.task.num_classes;
  if (n >= kMinValPerClass * k) return "";
  return fmt::format(
      "the validation split has {} examples for {} classes ({:.1f} per class, one example = {:.1f} points of "
      "accuracy): too few to rank candidates reliably; use more data, raise task.val_fraction (now {}), or train "
      "each candidate longer (fidelity.epochs)",
      n, k, static_cast<double>(n) / static_cast<double>(k), 100.0 / static_cast<double>(std::max<int64_t>(1, n)),
      task.val_fraction);
}

// Every completed trial at one value of the first metric: the search learned nothing.
// With strongly imbalanced classes and no objective in the config, plain accuracy would reward
// a network that ignores the small classes; balanced accuracy does not.
bool balanced_objective_needed(const run::ExperimentConfig& cfg, const data::TaskData& data) {
  const nlohmann::json& o = cfg.raw.contains("objective") ? cfg.raw["objective"] : nlohmann::json();
  const bool has_metrics = o.is_object() && o.contains("metrics");
  return !has_metrics && cfg.estimator.name == "train" && data.imbalance_ratio >= data::kImbalanceRatio &&
         !data.task.per_position();
}

// The images left out under task.bad_files: skip, one "path: why" per line, beside the run.
void write_skipped_files(const std::string& out, const data::TaskData& data) {
  if (data.skipped.empty()) return;
  std::ofstream f(fs::path(out) / "skipped_files.txt");
  for (const std::string& s : data.skipped) f << s << "\n";
}

std::string flat_results_warning(const std::vector<Trial>& trials, const Objective& objective) {
  const std::string m = objective.metrics().front().name;
  std::vector<double> v;
  for (const auto& t : trials)
    if (t.status == TrialStatus::kOk)
      if (auto x = t.metric(m)) v.push_back(*x);
  if (v.size() < 3 || std::any_of(v.begin(), v.end(), [&](double x) { return x != v.front(); })) return "";
  return fmt::format(
      "all {} completed trials have {} {:.4f}: the candidates could not be told apart (a validation split too small, "
      "or training too short to learn: raise fidelity.epochs or task.val_fraction)",
      v.size(), m, v.front());
}

}  // namespace

int run_search(const SearchFlags& f) {
  const auto job_start = std::chrono::steady_clock::now();
  if (f.config.empty() && f.data.empty() && !f.resume)
    throw InputError("nascent search", "--config",
                     "required (or --data PATH to search on your own data, or --out DIR --resume to continue a run)");
  if (f.config.empty() && f.resume && f.out.empty())
    throw InputError("nascent search", "--out", "--resume without --config needs the run directory as --out");
  const std::string out = f.out.empty() ? default_out(f) : f.out;
  const std::string db_path = out + "/experiment.db";
  if (!f.resume && fs::exists(db_path))
    throw InputError(db_path, "",
                     "an experiment already exists here; add --resume to continue it, or choose another --out");
  DataConfig chosen;
  if (!f.data.empty() && f.config.empty() && !f.resume)
    chosen = config_for_data(f.data, f.time_budget ? *f.time_budget : 30.0);
  const nlohmann::json raw = resolve_config(f, db_path, chosen.config);
  run::ExperimentConfig cfg = run::ExperimentConfig::parse(raw, f.config.empty() ? db_path : f.config);
  // One writer per run directory, for the whole job (search and final training).
  const run::RunLock lock(out, "--out");
  // The live dashboard, bound before anything is loaded so a port in use fails at once; it reads
  // the run directory (which may not exist yet) read-only, and stops when the job ends.
  std::unique_ptr<run::DashboardServer> dashboard;
  if (f.serve) {
    run::ServeOptions so;
    so.root = out;
    so.port = static_cast<int>(*f.serve);
    dashboard = std::make_unique<run::DashboardServer>(so);
    dashboard->start();
  }
  // With worker processes or ranks the search process only coordinates.
  const bool remote = cfg.run.workers > 1 || run::mpi::size() > 1;
  run::set_threads(remote ? 1 : cfg.run.threads_per_worker());

  run::ProgressReporter progress(stdout, f.quiet);
  if (dashboard) {  // printed even with --quiet: it is how the user finds the page
    fmt::print("live dashboard: {}\n", dashboard->url());
    std::fflush(stdout);
  }
  const data::TaskData data = data::load_task(cfg.task);
  auto space = cfg.make_space();
  if (!space->supports(data.task))
    throw InputError(f.config, "space.name",
                     fmt::format("space '{}' cannot build networks for {} data", space->name(), data.task.kind));

  std::vector<std::string> warnings;
  if (const std::string w = small_validation_warning(data, cfg.task); !w.empty()) {
    warnings.push_back(w);
    progress.message("warning: " + w);
  }

  // What nascent chose for --data (once the data has loaded) and what the reader found.
  for (const std::string& why : chosen.reasons) progress.message(why);
  for (const std::string& note : data.notes) progress.message(note);
  if (balanced_objective_needed(cfg, data)) {
    // Stored with the config, so a resume (and every worker) ranks trials the same way.
    nlohmann::json changed = cfg.raw;
    changed["objective"]["metrics"] = balanced_metrics();
    const bool weigh = !changed.contains("train") || !changed["train"].is_object() ||
                       (!changed["train"].contains("class_weights") && !changed["train"].contains("sampler"));
    if (weigh) changed["train"]["class_weights"] = "auto";
    cfg = run::ExperimentConfig::parse(changed, f.config.empty() ? db_path : f.config);
    progress.message(fmt::format(
        "the search maximises balanced accuracy (the mean of the per-class recalls) instead of accuracy{}, because "
        "the classes are imbalanced; set objective.metrics (and train.class_weights) in the config to choose otherwise",
        weigh ? ", and the loss weighs each class by the inverse of its share" : ""));
  }

  std::error_code ec;
  fs::create_directories(out, ec);
  if (ec) throw InputError(out, "--out", "cannot create the run directory: " + ec.message());
  write_skipped_files(out, data);
  auto store =
      f.resume ? store::Store::open(db_path, *space) : store::Store::create(db_path, cfg.raw, cfg.seed, *space);
  // The complete config the run follows (with what nascent chose), to repeat or edit the run.
  {
    std::ofstream yaml(fs::path(out) / "config.yaml");
    yaml << "# The complete config of this run (nascent search --config config.yaml repeats it).\n" << to_yaml(cfg.raw);
  }
  // One-shot strategies train their supernet in this process, on every core this search may use.
  run::StoredEventSink events(*store, progress);
  strategy::StrategyContext ctx = cfg.strategy_context(*space);
  ctx.data = &data;
  ctx.checkpoint_dir = out + "/checkpoints";
  ctx.threads = remote ? (cfg.run.threads > 0 ? static_cast<int>(cfg.run.threads)
                                              : static_cast<int>(std::max(1u, std::thread::hardware_concurrency())))
                       : 0;
  ctx.events = &events;
  ctx.poll = [] { run::check_stop(); };
  auto strategy = cfg.make_strategy(ctx);

  progress.message(fmt::format("nascent search: space {} ({:.3g} architectures), strategy {}{}, {}", space->name(),
                               space->size(), strategy->name(),
                               (cfg.prefilter.on() ? ", prefilter " + cfg.prefilter.describe() : "") +
                                   (cfg.scheduler.name == "none" ? "" : ", scheduler " + cfg.scheduler.describe()),
                               cfg.objective.describe()));
  std::string compute = fmt::format("{} torch threads", torch::get_num_threads());
  if (run::mpi::size() > 1)
    compute = fmt::format("{} MPI worker ranks x {} torch threads", run::mpi::size() - 1, mpi_threads(cfg.run));
  else if (cfg.run.workers > 1)
    compute = fmt::format("{} worker processes x {} torch threads", cfg.run.workers, cfg.run.threads_per_worker());
  progress.message(fmt::format(
      "  data {} ({} train / {} val / {} test), fidelity {}, budget {} trials{}, {}, out {}", data.task.name,
      data.train.size(), data.val.size(), data.test.size(), cfg.fidelity.key(), cfg.budget.max_trials,
      cfg.budget.time_minutes > 0 ? fmt::format(" / {} min", cfg.budget.time_minutes) : "", compute, out));

  const std::unique_ptr<estimate::Evaluator> evaluator =
      estimate::make_evaluator(cfg.estimator, *space, data, cfg.train, cfg.objective);
  std::unique_ptr<run::Executor> executor;
  if (run::mpi::size() > 1) {
    executor = std::make_unique<run::mpi::MpiExecutor>(*space, cfg.raw, mpi_threads(cfg.run));
  } else if (cfg.run.workers > 1) {
    run::ProcessExecutorOptions po;
    po.binary = fs::read_symlink("/proc/self/exe").string();
    po.run_dir = fs::absolute(out).string();
    po.workers = static_cast<int>(cfg.run.workers);
    po.threads = cfg.run.threads_per_worker();
    executor = std::make_unique<run::ProcessExecutor>(*space, po);
  } else {
    executor = std::make_unique<run::InlineExecutor>(*evaluator, [&progress](const Trial& t) -> estimate::ProgressFn {
      const std::string label = fmt::format("trial #{}", t.id);
      return [&progress, label](const estimate::TrainProgress& p) {
        run::check_stop();
        progress.training(label, p);
      };
    });
  }
  run::RunnerOptions ro;
  ro.max_trials = cfg.budget.max_trials;
  // With final.epochs: auto the time budget is the whole job's: the search gets its share, the
  // final training what is left when the search ends.
  const double total_budget_s = cfg.budget.time_minutes * 60.0;
  ro.time_budget_s = cfg.final.auto_epochs ? total_budget_s * (1.0 - cfg.final.time_fraction) : total_budget_s;
  ro.simulated_time = cfg.estimator.name == "table";
  ro.seed = cfg.seed;
  ro.out_dir = out;
  ro.strategy_name = strategy->name();
  ro.space_options = cfg.space_options;
  ro.task = run::task_signature(data.task);
  ro.early_stopping = cfg.train.early_stopping;
  run::Runner runner(*space, *strategy, *store, *executor, cfg.objective, ro, progress);

  run::install_interrupt_handler();
  const double setup_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - job_start).count();
  const run::RunOutcome outcome = runner.run();
  const auto search_end = std::chrono::steady_clock::now();
  std::vector<Trial> trials = store->trials();
  const bool final_wanted = cfg.final.epochs > 0 || cfg.final.auto_epochs;
  nlohmann::json reevaluation = nullptr;
  bool reevaluation_interrupted = false;
  if (outcome.status != "interrupted" && final_wanted && cfg.final.reevaluate_top > 0 && cfg.objective.best(trials)) {
    if (cfg.estimator.name != "train") {
      progress.message("final.reevaluate skipped: it trains candidates, and this search's estimator is " +
                       cfg.estimator.name);
    } else {
      try {
        if (remote) run::set_threads(0);  // the workers are idle now: use every core
        const run::Reevaluation r =
            run::reevaluate_top(*space, *store, *evaluator, cfg.objective, cfg.final.reevaluate_top,
                                cfg.final.reevaluate, cfg.seed, progress);
        trials = store->trials();
        reevaluation = r.to_json(trials, cfg.objective);
      } catch (const run::Interrupted&) {
        reevaluation_interrupted = true;
        progress.message("re-evaluation interrupted; the search results are complete (resume to go on)");
      }
    }
  }
  auto best = run::chosen_trial(trials, cfg.objective);

  // final.pareto: the front's best other architectures (by the first metric), trained after the
  // chosen one; with epochs: auto each gets an equal share of the final time.
  std::vector<size_t> pareto_members;
  if (cfg.final.pareto > 0 && best) {
    const ObjectiveMetric& first = cfg.objective.metrics().front();
    std::vector<size_t> front = cfg.objective.pareto_front(trials);
    std::stable_sort(front.begin(), front.end(), [&](size_t a, size_t b) {
      const double va = trials[a].metric(first.name).value_or(0), vb = trials[b].metric(first.name).value_or(0);
      return first.maximize ? va > vb : va < vb;
    });
    std::set<std::string> taken{space->hash(trials[*best].proposal.arch)};
    for (size_t i : front)
      if (static_cast<int64_t>(pareto_members.size()) < cfg.final.pareto &&
          taken.insert(space->hash(trials[i].proposal.arch)).second)
        pareto_members.push_back(i);
  }
  const double final_share = 1.0 / (1.0 + static_cast<double>(pareto_members.size()));
  const int final_ranks =
      run::mpi::size() > 1
          ? static_cast<int>(cfg.final.ranks == 0 ? run::mpi::size()
                                                  : std::min<int64_t>(cfg.final.ranks, run::mpi::size()))
          : 1;

  nlohmann::json final = nullptr;
  if (outcome.status != "interrupted" && !reevaluation_interrupted && final_wanted && best) {
    const Trial& b = trials[*best];
    // A resumed, already finished search keeps its earlier final training.
    nlohmann::json previous;
    try {
      previous = read_json_file(out + "/summary.json").value("final", nlohmann::json());
    } catch (const InputError&) {
    }
    const bool same_epochs = cfg.final.auto_epochs
                                 ? previous.is_object() && previous.contains("time_split")
                                 : previous.is_object() && previous.value("epochs", 0.0) == cfg.final.epochs;
    if (previous.is_object() && previous.value("trial", -1) == b.id && same_epochs &&
        fs::exists(previous.value("weights", ""))) {
      final = previous;
      // A run from before model.pt existed: write it from the trained weights.
      if (!fs::exists(final.value("model", ""))) {
        const std::string model = out + "/model.pt";
        const std::string err = run::write_model(*space, b.proposal.arch, data, final.value("weights", ""), model);
        final["model"] = err.empty() ? model : "";
        if (!err.empty()) final["model_error"] = err;
      }
    } else {
      try {
        // The workers are idle now: use every core, or with final.ranks each rank its share.
        if (remote) run::set_threads(final_ranks > 1 ? mpi_threads(cfg.run) : 0);
        const uint64_t seed = Rng::derive(cfg.seed, "final").next();
        const estimate::TrainOptions final_train = cfg.final.apply(cfg.train);
        double epochs = cfg.final.epochs;
        nlohmann::json split;
        run::TimeBudget time_budget;
        double time_budget_step_s = 0;
        if (cfg.final.auto_epochs) {
          // The search's time (over every session of a resumed run), this process's set-up and the
          // re-evaluation.
          const double after_search_s =
              std::chrono::duration<double>(std::chrono::steady_clock::now() - search_end).count();
          const double used_s = outcome.elapsed_s + setup_s + after_search_s;
          const double left_s = total_budget_s - used_s;
          const run::EpochFit fit = run::fit_epochs(*space, b.proposal.arch, data, final_train, cfg.final.augment,
                                                    left_s * final_share, cfg.final.min_epochs, cfg.final.max_epochs);
          epochs = fit.epochs;
          time_budget.seconds =
              final_share * (total_budget_s - outcome.elapsed_s - setup_s -
                             std::chrono::duration<double>(std::chrono::steady_clock::now() - search_end).count());
          time_budget.reserved = fit.reserved_seconds;
          time_budget_step_s = fit.step_seconds;
          time_budget.min_epochs = cfg.final.min_epochs;
          time_budget.max_epochs = cfg.final.max_epochs;
          split = {{"budget_s", total_budget_s},  {"search_s", outcome.elapsed_s}, {"setup_s", setup_s},
                   {"final_s_available", left_s}, {"final_epochs", fit.epochs},    {"fit", fit.to_json()}};
          if (reevaluation.is_object()) split["reevaluate_s"] = reevaluation.value("seconds", 0.0);
          progress.message(fmt::format(
              "time split: search {}{} of the {} budget; {} left for final training: {:.1f} s per epoch -> {} "
              "epochs{}",
              run::format_duration(outcome.elapsed_s + setup_s),
              reevaluation.is_object()
                  ? " and re-evaluation " + run::format_duration(reevaluation.value("seconds", 0.0))
                  : std::string(),
              run::format_duration(total_budget_s), run::format_duration(std::max(0.0, left_s)), fit.epoch_seconds,
              fit.epochs,
              fit.clamped ? fmt::format(" (clamped to final.min_epochs {} .. max_epochs {})", cfg.final.min_epochs,
                                        cfg.final.max_epochs)
                          : ""));
        }
        // final.ranks under mpirun: rank 0 and worker ranks train together, each on its share of
        // every batch, at the threads per rank the search used. The reference for the speed-up
        // is rank 0 alone at those threads, timed (by fit_epochs) before the group starts.
        std::unique_ptr<run::mpi::TrainingGroup> group;
        double one_rank_step_s = 0;
        if (final_ranks > 1) {
          one_rank_step_s = cfg.final.auto_epochs
                                ? time_budget_step_s
                                : run::fit_epochs(*space, b.proposal.arch, data, final_train, cfg.final.augment, 60,
                                                  cfg.final.min_epochs, cfg.final.max_epochs)
                                      .step_seconds;
          group = std::make_unique<run::mpi::TrainingGroup>(nlohmann::json{{"arch", space->to_json(b.proposal.arch)},
                                                                           {"epochs", epochs},
                                                                           {"augment", cfg.final.augment},
                                                                           {"seed", std::to_string(seed)},
                                                                           {"replans", cfg.final.auto_epochs}},
                                                            final_ranks);
        }
        run::FinalResult r = run::train_final(
            *space, b.proposal.arch, data, final_train, epochs, cfg.final.augment, seed, out + "/weights.pt", progress,
            cfg.final.auto_epochs ? &time_budget : nullptr, group ? &group->parallel() : nullptr);
        group.reset();
        final = r.to_json();
        final["trial"] = b.id;
        if (final_ranks > 1) {
          // Measured: the group's training speed against rank 0 alone.
          const double examples = static_cast<double>(data.train.size() + data.val.size());
          const double batch = static_cast<double>(std::min<int64_t>(final_train.batch_size, data.train.size()));
          const double group_ips = r.epochs * examples / std::max(1e-9, r.train_seconds);
          const double one_ips = batch / std::max(1e-9, one_rank_step_s);
          final["data_parallel"] = {{"ranks", final_ranks},
                                    {"threads_per_rank", mpi_threads(cfg.run)},
                                    {"images_per_s", group_ips},
                                    {"one_rank_images_per_s", one_ips},
                                    {"speedup", group_ips / one_ips}};
          progress.message(fmt::format(
              "data-parallel final training: {} ranks x {} threads, {:.0f} images/s against {:.0f} for rank 0 "
              "alone ({:.2f}x)",
              final_ranks, mpi_threads(cfg.run), group_ips, one_ips, group_ips / one_ips));
        }
        if (reevaluation.is_object()) final["reevaluation"] = reevaluation;
        if (!split.is_null()) {
          split["final_s"] = r.train_seconds;
          split["final_epochs"] = r.epochs;  // as re-planned after the first epoch
          // The whole job: the search (every session of it), set-up, and everything after the search.
          split["job_s"] = outcome.elapsed_s + setup_s +
                           std::chrono::duration<double>(std::chrono::steady_clock::now() - search_end).count();
          final["time_split"] = split;
        }
      } catch (const run::Interrupted&) {
        progress.message("final training interrupted; the search results are complete (resume to train again)");
      }
    }
  }
  if (final.is_object() && !pareto_members.empty()) {
    // Each front member as the chosen one was trained: into pareto/trial-N/, kept on resume.
    nlohmann::json previous = final.value("pareto", nlohmann::json::array());
    nlohmann::json members = nlohmann::json::array();
    try {
      if (remote) run::set_threads(0);
      const estimate::TrainOptions final_train = cfg.final.apply(cfg.train);
      for (size_t k = 0; k < pareto_members.size(); ++k) {
        const Trial& t = trials[pareto_members[k]];
        const std::string dir = fmt::format("{}/pareto/trial-{}", out, t.id);
        nlohmann::json kept;
        for (const auto& p : previous)
          if (p.value("trial", -1) == t.id && fs::exists(p.value("weights", ""))) kept = p;
        if (kept.is_object()) {
          members.push_back(kept);
          continue;
        }
        fs::create_directories(dir);
        double epochs = cfg.final.epochs;
        run::TimeBudget time_budget;
        if (cfg.final.auto_epochs) {
          const double job_s = outcome.elapsed_s + setup_s +
                               std::chrono::duration<double>(std::chrono::steady_clock::now() - search_end).count();
          const double share_s = std::max(0.0, total_budget_s - job_s) / static_cast<double>(pareto_members.size() - k);
          const run::EpochFit fit = run::fit_epochs(*space, t.proposal.arch, data, final_train, cfg.final.augment,
                                                    share_s, cfg.final.min_epochs, cfg.final.max_epochs);
          epochs = fit.epochs;
          time_budget.seconds = share_s;
          time_budget.reserved = fit.reserved_seconds;
          time_budget.min_epochs = cfg.final.min_epochs;
          time_budget.max_epochs = cfg.final.max_epochs;
        }
        progress.message(fmt::format("final.pareto: training front member trial #{} ({} of {})", t.id, k + 1,
                                     pareto_members.size()));
        const run::FinalResult r =
            run::train_final(*space, t.proposal.arch, data, final_train, epochs, cfg.final.augment,
                             Rng::derive(cfg.seed, fmt::format("final/pareto/{}", t.id)).next(), dir + "/weights.pt",
                             progress, cfg.final.auto_epochs ? &time_budget : nullptr);
        nlohmann::json j = r.to_json();
        j["trial"] = t.id;
        j["arch"] = space->to_json(t.proposal.arch);
        nlohmann::json search_metrics;
        for (const auto& m : cfg.objective.metrics())
          if (auto v = t.metric(m.name)) search_metrics[m.name] = *v;
        j["search_metrics"] = search_metrics;
        run::write_file_atomic(
            dir + "/arch.json",
            run::arch_file_json(t.proposal.arch, *space, cfg.space_options, run::task_signature(data.task)).dump(2) +
                "\n");
        members.push_back(j);
        final["pareto"] = members;  // in the summary even if a later member is interrupted
      }
    } catch (const run::Interrupted&) {
      progress.message("final.pareto interrupted; the members trained so far are kept (resume to go on)");
    }
    final["pareto"] = members;
  }
  if (const std::string w = flat_results_warning(trials, cfg.objective); !w.empty()) {
    warnings.push_back(w);
    progress.message("warning: " + w);
  }
  std::string final_skipped;
  if (!final_wanted)
    final_skipped =
        "final.epochs is 0, so the best architecture was not trained on all the data; set final.epochs "
        "(or auto with a time budget), or run `nascent train --run " +
        out + "`";
  else if (!best)
    final_skipped = "no trial succeeded";
  runner.write_outputs(outcome.status, final, final_skipped, warnings);
  try {
    run::write_report(out, *store, *space, cfg.objective);
  } catch (const std::exception& e) {  // the results are written; a report is not worth failing for
    progress.message(fmt::format("report.html not written: {} (nascent report --run {} tries again)", e.what(), out));
  }

  int ok = 0, failed = 0, rejected = 0, pruned = 0;
  for (const auto& t : trials) {
    ok += t.status == TrialStatus::kOk;
    failed += t.status == TrialStatus::kFailed;
    rejected += t.status == TrialStatus::kRejected;
    pruned += t.status == TrialStatus::kPruned;
  }
  // The run in plain sentences (with the importance and final training summary.json holds).
  nlohmann::json summary;
  try {
    summary = read_json_file(out + "/summary.json");
  } catch (const InputError&) {
  }
  fmt::print("in short:\n");
  for (const std::string& line : run::plain_summary(trials, *space, cfg.objective, summary)) fmt::print("  {}\n", line);
  fmt::print("search {}: {} trials ({} ok, {} failed, {} rejected{}) in {}\n", outcome.status, trials.size(), ok,
             failed, rejected, pruned ? fmt::format(", {} pruned", pruned) : "",
             run::format_duration(outcome.elapsed_s));
  if (best) {
    const Trial& b = trials[*best];
    const std::string m = cfg.objective.metrics().front().name;
    fmt::print("best: trial #{} {} {:.4f}, {} params, {:.2f} MFLOPs  [{}]\n", b.id, m, b.metric(m).value_or(0),
               static_cast<int64_t>(b.metric("params").value_or(0)), b.metric("flops").value_or(0) / 1e6,
               space->describe(b.proposal.arch));
  } else {
    fmt::print("no trial succeeded; see {}/trials.csv for the reasons\n", out);
  }
  if (final.is_object() && final.contains("time_split")) {
    const auto& ts = final["time_split"];
    fmt::print("time: {} of {} (search {}, final training {} for {} epochs)\n",
               run::format_duration(ts.value("job_s", 0.0)), run::format_duration(ts.value("budget_s", 0.0)),
               run::format_duration(ts.value("search_s", 0.0)), run::format_duration(ts.value("final_s", 0.0)),
               ts.value("final_epochs", 0.0));
  }
  if (final.is_object()) {
    fmt::print("final: test_accuracy {:.4f} after {} epochs; weights in {}\n", final.value("test_accuracy", 0.0),
               final.value("epochs", 0.0), final.value("weights", ""));
    if (!final.value("model", "").empty())
      fmt::print("model: {} (TorchScript; torch.jit.load in Python, torch::jit::load in C++)\n",
                 final.value("model", ""));
    else
      fmt::print("model: not written ({}); the weights still export with `nascent export`\n",
                 final.value("model_error", ""));
  }
  if (!final_skipped.empty() && outcome.status != "interrupted") fmt::print("no final model: {}\n", final_skipped);
  for (const auto& w : warnings) fmt::print("warning: {}\n", w);
  fmt::print("results in {}/ (report.html, summary.json, trials.csv, best_arch.json, experiment.db)\n", out);
  return outcome.status == "interrupted" ? 130 : 0;
}

}  // namespace nascent::cli
