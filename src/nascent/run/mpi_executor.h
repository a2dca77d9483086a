// Evaluations on MPI ranks: started as `mpirun -np N nascent search ...`, rank 0 runs the
// strategy, the store and this executor; ranks 1..N-1 run mpi_worker_loop(), which builds the
// task and space from the config rank 0 sends and answers evaluation requests.
#pragma once

#include <deque>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "nascent/run/executor.h"

namespace nascent::space {
class SearchSpace;
}
namespace nascent::estimate {
struct DataParallel;
}

namespace nascent::run::mpi {

// Initialises MPI when the process was started by mpirun (OpenMPI, MPICH or Slurm PMI); safe
// to call when it was not. Returns the world size (1 without MPI).
int init(int* argc, char*** argv);
int rank();
int size();
// Releases the worker ranks (they exit) if rank 0 never handed them a config (e.g. bad input),
// then finalises MPI. Call on every exit path of rank 0 and of workers.
void finish();
// Ends every rank of the job with this exit code.
[[noreturn]] void abort(int code);

// Rank 0's executor: one evaluation per worker rank at a time.
class MpiExecutor : public Executor {
 public:
  // Sends every worker the experiment's config (they build task and space from it).
  MpiExecutor(const space::SearchSpace& space, const nlohmann::json& config, int threads_per_rank);
  ~MpiExecutor() override;  // tells the workers to stop
  int capacity() const override { return static_cast<int>(busy_.size()); }
  int pending() const override;
  void submit(const Trial& trial, uint64_t seed) override;
  Trial collect() override;

 private:
  void send(int worker, const Trial& trial, uint64_t seed);
  const space::SearchSpace& space_;
  std::vector<bool> busy_;     // per worker rank (index = rank - 1)
  std::vector<Trial> trials_;  // the trial each worker is evaluating
  std::deque<std::pair<Trial, uint64_t>> queue_;
};

// Data-parallel final training (final.ranks): rank 0 hands `request` ({arch, epochs, augment,
// seed, replans}: WorkerSession::train_final_share) to every worker rank, and ranks 1 ..
// `ranks` - 1 join rank 0 in a communicator of their own; parallel() sums over it
// (estimate::DataParallel). Rank 0 then calls train_final with parallel(); the group ends (its
// communicator is freed) when this object goes.
class TrainingGroup {
 public:
  TrainingGroup(const nlohmann::json& request, int ranks);
  ~TrainingGroup();
  TrainingGroup(const TrainingGroup&) = delete;
  TrainingGroup& operator=(const TrainingGroup&) = delete;
  const estimate::DataParallel& parallel() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// Worker ranks: receive the config, then evaluate requests until told to stop. Returns the exit code.
int worker_loop();

}  // namespace nascent::run::mpi
