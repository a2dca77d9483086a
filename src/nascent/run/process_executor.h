// Runs evaluations in N local worker processes (`nascent worker`), each with its own torch
// threads, talking JSON lines over pipes. A worker that dies (segfault, out-of-memory kill, a kill
// from outside) is replaced and its trial is evaluated once more on the new worker, so that a
// stray kill does not change the search; a trial whose worker dies twice is a failed trial with
// the reason, and the search goes on.
#pragma once

#include <sys/types.h>

#include <deque>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "nascent/run/executor.h"

namespace nascent::space {
class SearchSpace;
}

namespace nascent::estimate {
struct DataParallel;
}

namespace nascent::run {

struct ProcessExecutorOptions {
  std::string binary;   // the nascent executable (normally /proc/self/exe)
  std::string run_dir;  // workers read the experiment's config from run_dir/experiment.db
  int workers = 2;
  int threads = 1;  // torch threads per worker
};

class ProcessExecutor : public Executor {
 public:
  ProcessExecutor(const space::SearchSpace& space, ProcessExecutorOptions options);
  ~ProcessExecutor() override;
  int capacity() const override { return options_.workers; }
  int pending() const override;
  void submit(const Trial& trial, uint64_t seed) override;
  Trial collect() override;

 private:
  struct Worker {
    pid_t pid = -1;
    int to = -1;         // worker's stdin
    int from = -1;       // worker's stdout
    std::string buffer;  // partial line read so far
    bool busy = false;
    Trial trial;  // the trial it is evaluating
    uint64_t seed = 0;
    int index = 0;
  };
  void spawn(Worker& w);
  void stop(Worker& w);
  void send(Worker& w, const Trial& t, uint64_t seed);
  Trial finish(Worker& w, const std::string& line);
  // The worker died: its trial is sent again to a new worker (nullopt), or failed after a second death.
  std::optional<Trial> crashed(Worker& w);

  const space::SearchSpace& space_;
  ProcessExecutorOptions options_;
  std::vector<Worker> workers_;
  std::deque<std::pair<Trial, uint64_t>> queue_;  // submitted while every worker was busy
  std::map<int64_t, int> deaths_;                 // trial id -> workers that died evaluating it
};

// The worker side of an evaluation: built from the experiment's config, it answers one request
// (a JSON line: trial, arch, fidelity, seed) with one result line (trial, status, reason,
// metrics). Shared by worker processes and MPI ranks.
class WorkerSession {
 public:
  WorkerSession(const nlohmann::json& config, const std::string& source, int threads);
  ~WorkerSession();
  std::string handle(const std::string& request);
  // An MPI worker rank's part of a data-parallel final training (final.ranks): `request` is
  // rank 0's {arch, epochs, augment, seed}; the training options are this config's.
  void train_final_share(const nlohmann::json& request, const estimate::DataParallel& parallel);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// Encodes a request for a worker.
std::string worker_request(const space::SearchSpace& space, const Trial& trial, uint64_t seed);
// Applies a worker's result line to the trial it evaluated (status, reason, metrics).
void apply_worker_result(Trial& trial, const std::string& line);

// The worker process: reads requests on stdin, writes results on stdout, until EOF.
int run_worker(const std::string& run_dir, int threads);

}  // namespace nascent::run
