// nascent: neural architecture search on LibTorch. Parses the command line and dispatches to
// the subcommands; turns bad input into one clear line and exit code 2.
#include <fmt/format.h>
#include <mpi.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>

#include "cli/commands.h"
#include "nascent/core/allocator.h"
#include "nascent/core/error.h"
#include "nascent/run/mpi_executor.h"
#include "nascent/run/process_executor.h"

namespace {

// Worker ranks of `mpirun -np N nascent search ...` evaluate what rank 0 sends them.
int mpi_worker_main() {
  try {
    return nascent::run::mpi::worker_loop();
  } catch (const nascent::InputError& e) {
    fmt::print(stderr, "nascent (mpi rank {}): error: {}\n", nascent::run::mpi::rank(), e.what());
    return 2;
  } catch (const std::exception& e) {
    fmt::print(stderr, "nascent (mpi rank {}): failed: {}\n", nascent::run::mpi::rank(), e.what());
    return 1;
  }
}

int run(int argc, char** argv);

}  // namespace

int main(int argc, char** argv) {
  nascent::tune_allocator();
  const int world = nascent::run::mpi::init(&argc, &argv);
  int rc;
  if (world > 1 && nascent::run::mpi::rank() > 0) {
    rc = mpi_worker_main();
    if (rc != 0) nascent::run::mpi::abort(rc);  // a worker that cannot work stops the whole job
  } else {
    rc = run(argc, argv);
  }
  nascent::run::mpi::finish();
  return rc;
}

namespace {

int run(int argc, char** argv) {
  using namespace nascent::cli;
  CLI::App app{
      "nascent: neural architecture search on LibTorch.\n"
      "Searches a space of networks for the one that best fits your data and budget."};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("nascent ") + NASCENT_VERSION);

  SearchFlags sf;
  auto* search = app.add_subcommand("search", "Run (or resume) an architecture search");
  search->add_option("--config", sf.config,
                     "Experiment config (YAML or JSON); with --resume, the stored one by default");
  search->add_option("--data", sf.data,
                     "Your data: a folder of images (one sub-folder per class; PNG, JPEG, BMP, TIFF, DICOM), a CSV "
                     "table or a text file. Without --config nascent chooses the space, strategy, fidelity and time "
                     "split from the data and writes them to config.yaml in the run directory; with --config, the "
                     "config's task reads this data");
  search->add_option("--out", sf.out, "Run directory (default: runs/<config or data name>)");
  search->add_flag("--resume", sf.resume, "Continue the experiment in --out where it stopped");
  search->add_option("--seed", sf.seed, "Experiment seed (overrides `seed`)");
  search->add_option("--strategy", sf.strategy, "Search strategy (overrides strategy.name)");
  search->add_option(
      "--estimator", sf.estimator,
      "Performance estimator: train, proxy:NAME (synflow, jacob_cov, ...), table or synthetic (estimator.name)");
  search->add_option("--scheduler", sf.scheduler,
                     "Multi-fidelity scheduler: none | sha | hyperband (overrides scheduler.name)");
  search->add_option("--prefilter", sf.prefilter,
                     "Zero-cost pre-filter: score pools of candidates by this proxy (synflow, ...) and train only "
                     "the best (prefilter.proxy; none = off)");
  search->add_option("--max-trials", sf.max_trials, "Trial budget (overrides budget.max_trials)")
      ->check(CLI::PositiveNumber);
  search->add_option("--time-budget", sf.time_budget, "Search time budget in minutes (overrides budget.time_minutes)")
      ->check(CLI::NonNegativeNumber);
  search->add_option("--workers", sf.workers, "Evaluate this many candidates at once in worker processes (run.workers)")
      ->check(CLI::PositiveNumber);
  search
      ->add_option("--darts-order", sf.darts_order,
                   "DARTS: 1 = first-order, 2 = second-order architecture gradient (strategy.darts.order)")
      ->check(CLI::IsMember({1, 2}));
  search->add_option("--set", sf.sets, "Override a config value by dotted path: --set fidelity.epochs=2");
  search->add_flag("--quiet", sf.quiet, "Print only the final summary");
  search
      ->add_option("--serve", sf.serve,
                   "Serve the live dashboard of this search on 127.0.0.1:PORT while it runs (0 = any free port; "
                   "the URL is printed); `nascent serve --run DIR` shows it afterwards")
      ->check(CLI::Range(0, 65535));

  TrainFlags tf;
  auto* train = app.add_subcommand(
      "train",
      "Train an architecture from scratch and report test accuracy. Writes weights.pt, model.pt, model.json and "
      "train.json to a new directory; never over existing files without --force");
  train->add_option("--run", tf.run,
                    "Run directory of a search: trains its best_arch.json with the run's own config (task, data, "
                    "every --set of the search)");
  train->add_option("--arch", tf.arch,
                    "Architecture JSON (e.g. from `nascent spaces --sample`); inside a run directory, the run's "
                    "config is used unless --config is given");
  train->add_option("--config", tf.config,
                    "Config for the task and training options with --arch (default: the run's, else built-in "
                    "defaults: Fashion-MNIST)");
  train
      ->add_option("--epochs", tf.epochs,
                   "Training epochs (default: final.epochs of the config, else 10); with --time-budget, the most")
      ->check(CLI::PositiveNumber);
  train
      ->add_option("--time-budget", tf.time_budget,
                   "Minutes for the whole command: the epochs that fit are measured and chosen")
      ->check(CLI::PositiveNumber);
  train->add_option("--out", tf.out,
                    "Directory for weights.pt, model.pt, model.json and train.json (default: a new train-N folder "
                    "in the run directory, or beside the architecture file)");
  train->add_flag("--force", tf.force, "Overwrite weights.pt, model.pt, model.json and train.json in --out");
  train->add_option("--seed", tf.seed, "Seed for initial weights and data order");
  train->add_option("--set", tf.sets, "Override a config value by dotted path");

  ExportFlags ef;
  auto* exp = app.add_subcommand("export", "Write an architecture with trained weights as a deployable model file");
  exp->add_option("--run", ef.run,
                  "Run directory of a search: exports its best_arch.json with its final weights.pt, described with "
                  "the run's own config (task, classes, normalisation)");
  exp->add_option("--arch", ef.arch,
                  "Architecture JSON (e.g. a run's best_arch.json); inside a run directory, the run's config is "
                  "used unless --config is given");
  exp->add_option("--weights", ef.weights,
                  "Trained weights (weights.pt of `nascent train` or a search's final training); required with "
                  "--arch, default with --run: the run's weights.pt");
  exp->add_option("--format", ef.format,
                  "torchscript (default): a TorchScript module for torch.jit.load / torch::jit::load; onnx: an ONNX "
                  "model (opset 13) for onnxruntime, OpenCV DNN and other runtimes")
      ->check(CLI::IsMember({"torchscript", "onnx"}));
  exp->add_option("--out", ef.out, "Model file to write (e.g. model.pt)")->required();
  exp->add_option("--config", ef.config,
                  "Config the weights were trained with, for --arch outside a run directory: its task fixes the "
                  "input shape, the classes and the input normalisation inside the model (default: Fashion-MNIST)");
  exp->add_option("--set", ef.sets, "Override a config value by dotted path");
  exp->add_flag("--force", ef.force, "Overwrite --out and its description if they exist");

  PredictFlags predf;
  auto* predict = app.add_subcommand(
      "predict",
      "Run a trained model on images: one CSV row per image with the predicted class and each class's "
      "probability; with class sub-folders, the accuracy, balanced accuracy and per-class recall too");
  predict->add_option("--model", predf.model, "A run directory (its model.pt) or a model.pt beside its model.json")
      ->required();
  predict
      ->add_option("--data", predf.data,
                   "An image (PNG, JPEG, BMP, TIFF, DICOM) or a folder of them; images in sub-folders named like "
                   "the model's classes count as labelled")
      ->required();
  predict->add_option("--out", predf.out, "Predictions CSV to write (default predictions.csv)");
  predict->add_option("--metrics-out", predf.metrics_out, "With labelled images: write the metrics as JSON here");
  predict->add_flag("--force", predf.force, "Overwrite --out if it exists");

  ReportFlags repf;
  auto* report =
      app.add_subcommand("report", "Write a run's report.html: plots, the best architecture drawn, top trials");
  report->add_option("--run", repf.run, "Run directory (the --out of a search)")->required();

  ServeFlags servef;
  auto* serve = app.add_subcommand(
      "serve",
      "Serve a live dashboard of a run, or of every run under a folder, in the browser: trials as they finish, the "
      "best so far, trade-offs, which decisions mattered, parallel coordinates, supernet alphas. Read-only");
  serve->add_option("--run", servef.run, "A run directory (the --out of a search) or a folder of runs")->required();
  serve->add_option("--port", servef.port, "Port to listen on (default 8080; 0 = any free port)")
      ->check(CLI::Range(0, 65535));
  serve->add_option("--host", servef.host,
                    "Address to listen on (default 127.0.0.1, this machine only); any other address requires a "
                    "token, made at start and printed in the URL");

  RecoverFlags recf;
  auto* recover = app.add_subcommand(
      "recover",
      "Save the readable trials of a damaged experiment.db into a new run directory that --resume continues");
  recover->add_option("--run", recf.run, "Run directory whose experiment.db is damaged (it is not modified)")
      ->required();
  recover->add_option("--out", recf.out, "New run directory (default: RUN-recovered); must not hold an experiment");

  SpacesFlags pf;
  auto* spaces = app.add_subcommand("spaces", "List search spaces, or sample architectures from one");
  spaces->add_option("--space", pf.space, "Show one space: its decisions and size");
  spaces->add_option("--sample", pf.sample, "Print this many sampled architectures as JSON lines")
      ->check(CLI::NonNegativeNumber);
  spaces->add_option("--seed", pf.seed, "Seed for --sample");
  spaces->add_option("--config", pf.config, "Config whose space options (and task, if it has one) to use");

  ProfileFlags rf;
  auto* profile = app.add_subcommand(
      "profile",
      "Parameters, FLOPs, memory, and measured latency, model size and peak inference memory of an architecture");
  profile->add_option("--run", rf.run, "Run directory of a search: profiles its best_arch.json for the run's task");
  profile->add_option("--arch", rf.arch,
                      "Architecture JSON; inside a run directory, the run's config is used unless --config is given");
  profile->add_option("--input-shape", rf.input_shape, "Image input shape N,C,H,W (default 1,<task shape>)");
  profile->add_option("--classes", rf.classes, "Number of classes of the head (default: the task's)")
      ->check(CLI::PositiveNumber);
  profile
      ->add_option("--runs", rf.runs, "Timed forward passes per measurement (default: the config's latency.runs, 20)")
      ->check(CLI::PositiveNumber);
  profile->add_option("--threads", rf.threads, "Threads of the runtime while timed (default: latency.threads, 1)")
      ->check(CLI::PositiveNumber);
  profile
      ->add_option("--runtime", rf.runtime,
                   "Where to time it: torchscript (the exported file in LibTorch), onnx-opencv (the ONNX file in "
                   "OpenCV's DNN module) or libtorch (the module itself); default: the config's latency.runtime, "
                   "else libtorch")
      ->check(CLI::IsMember({"torchscript", "onnx-opencv", "libtorch"}));
  profile->add_option("--config", rf.config, "Config whose space options (and task, if it has one) to use");

  LatencyTableFlags lf;
  auto* latency_table = app.add_subcommand(
      "latency-table",
      "Time the operations of a space's networks on this machine into a kernel table that predicts latency "
      "(latency.source: predict); --heldout N reports its accuracy on N other networks");
  latency_table->add_option("--space", lf.space, "Space whose sampled networks give the operations")->required();
  latency_table->add_option("--runtime", lf.runtime, "Runtime the table is for (torchscript)")
      ->check(CLI::IsMember({"torchscript", "onnx-opencv", "libtorch"}));
  latency_table->add_option("--threads", lf.threads, "Threads of the runtime (default 1)")->check(CLI::PositiveNumber);
  latency_table->add_option("--batch-size", lf.batch_size, "Examples per forward pass (default 1)")
      ->check(CLI::PositiveNumber);
  latency_table->add_option("--config", lf.config, "Config whose space options and task to use");
  latency_table->add_option("--samples", lf.samples, "Sampled networks whose operations are timed (default 200)")
      ->check(CLI::NonNegativeNumber);
  latency_table->add_option("--calibrate", lf.calibrate, "Networks measured whole to fit the prediction (default 40)")
      ->check(CLI::Range(3, 100000));
  latency_table
      ->add_option("--heldout", lf.heldout,
                   "Other networks to measure and predict, to report the predictor's accuracy (default 0)")
      ->check(CLI::NonNegativeNumber);
  latency_table->add_option("--seed", lf.seed, "Seed of the sampled networks");
  latency_table->add_option("--out", lf.out,
                            "Table file (default latency-table.json); an existing table of this machine, "
                            "threads and batch size is extended");
  latency_table->add_option("--rows", lf.rows, "With --heldout: write each held-out network's numbers here (JSON)");
  latency_table->add_flag("--force", lf.force, "Replace --out instead of extending it");
  latency_table->add_flag("--quiet", lf.quiet, "No progress lines");

  std::string worker_run;
  int worker_threads = 1;
  auto* worker = app.add_subcommand("worker", "Internal: the evaluation process that `search --workers N` starts");
  worker->add_option("--run", worker_run, "Run directory whose experiment.db holds the config")->required();
  worker->add_option("--threads", worker_threads, "Torch threads");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    fmt::print(stderr, "nascent: error: {}\n", e.what());
    fmt::print(stderr, "run 'nascent --help' or 'nascent <command> --help' for usage\n");
    return 2;
  }

  if (nascent::run::mpi::size() > 1 && !*search) {
    fmt::print(stderr, "nascent: error: only `nascent search` runs under mpirun\n");
    return 2;
  }
  try {
    if (*search) return run_search(sf);
    if (*train) return run_train(tf);
    if (*spaces) return run_spaces(pf);
    if (*profile) return run_profile(rf);
    if (*latency_table) return run_latency_table(lf);
    if (*exp) return run_export(ef);
    if (*report) return run_report(repf);
    if (*serve) return run_serve(servef);
    if (*predict) return run_predict(predf);
    if (*recover) return run_recover(recf);
    if (*worker) return nascent::run::run_worker(worker_run, worker_threads);
  } catch (const nascent::InputError& e) {
    fmt::print(stderr, "nascent: error: {}\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    fmt::print(stderr, "nascent: failed: {}\n", e.what());
    return 1;
  }
  return 1;
}

}  // namespace
