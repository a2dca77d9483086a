#include "nascent/run/mpi_executor.h"

#include <fmt/format.h>
#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <stdexcept>
#include <thread>

#include "nascent/core/error.h"
#include "nascent/estimate/trainer.h"
#include "nascent/run/interrupt.h"
#include "nascent/run/process_executor.h"
#include "nascent/space/space.h"

namespace nascent::run::mpi {
namespace {

constexpr int kTagConfig = 1;   // rank 0 -> worker: {"config": ..., "threads": n}
constexpr int kTagRequest = 2;  // rank 0 -> worker: a worker_request line
constexpr int kTagResult = 3;   // worker -> rank 0: a result line
constexpr int kTagStop = 4;     // rank 0 -> worker: exit
constexpr int kTagFinal = 5;    // rank 0 -> worker: join a data-parallel final training

bool g_initialised = false;
bool g_workers_released = false;

void send_string(const std::string& s, int dest, int tag) {
  MPI_Send(s.data(), static_cast<int>(s.size()), MPI_CHAR, dest, tag, MPI_COMM_WORLD);
}

std::string recv_string(int source, int* tag_out, int* source_out) {
  MPI_Status st;
  MPI_Probe(source, MPI_ANY_TAG, MPI_COMM_WORLD, &st);
  int n = 0;
  MPI_Get_count(&st, MPI_CHAR, &n);
  std::string s(static_cast<size_t>(n), '\0');
  MPI_Recv(s.data(), n, MPI_CHAR, st.MPI_SOURCE, st.MPI_TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
  if (tag_out) *tag_out = st.MPI_TAG;
  if (source_out) *source_out = st.MPI_SOURCE;
  return s;
}

void stop_workers() {
  if (g_workers_released || size() <= 1 || rank() != 0) return;
  for (int r = 1; r < size(); ++r) send_string("", r, kTagStop);
  g_workers_released = true;
}

// Waits for rank 0's next message by polling, with pauses from 0.1 ms doubling up to 10 ms,
// instead of blocking in MPI_Probe: OpenMPI's blocking calls spin at full speed, so idle worker
// ranks would take the cores of the ranks (or the final training) that share their node, and on
// an oversubscribed node rank 0's (bench/scale).
void wait_for_rank0() {
  int flag = 0;
  MPI_Status st;
  auto pause = std::chrono::microseconds(100);
  while (true) {
    MPI_Iprobe(0, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &st);
    if (flag) return;
    std::this_thread::sleep_for(pause);
    pause = std::min<std::chrono::microseconds>(2 * pause, std::chrono::milliseconds(10));
  }
}

// A group's stop (rank 0's Ctrl-C), on a worker rank: the training ends, the worker waits for
// rank 0's next message.
struct GroupStopped : std::runtime_error {
  GroupStopped() : std::runtime_error("the final training was stopped by rank 0") {}
};

estimate::DataParallel group_parallel(MPI_Comm comm) {
  estimate::DataParallel dp;
  MPI_Comm_rank(comm, &dp.rank);
  MPI_Comm_size(comm, &dp.size);
  dp.sum = [comm](float* values, int64_t count) {
    NASCENT_CHECK(count <= INT32_MAX, "data-parallel sum: too many values for one MPI message");
    MPI_Allreduce(MPI_IN_PLACE, values, static_cast<int>(count), MPI_FLOAT, MPI_SUM, comm);
  };
  return dp;
}

}  // namespace

struct TrainingGroup::State {
  MPI_Comm comm = MPI_COMM_NULL;
  estimate::DataParallel parallel;
};

TrainingGroup::TrainingGroup(const nlohmann::json& request, int ranks) : state_(std::make_unique<State>()) {
  NASCENT_CHECK(rank() == 0 && ranks >= 1 && ranks <= size(), "a training group is started by rank 0");
  nlohmann::json r = request;
  r["ranks"] = ranks;
  const std::string msg = r.dump();
  for (int w = 1; w < size(); ++w) send_string(msg, w, kTagFinal);
  MPI_Comm_split(MPI_COMM_WORLD, 0, 0, &state_->comm);
  state_->parallel = group_parallel(state_->comm);
  state_->parallel.replans = request.value("replans", false);
  state_->parallel.stop_requested = [] { return stop_requested(); };
  state_->parallel.stopped = [] { throw Interrupted(); };
}

TrainingGroup::~TrainingGroup() {
  if (state_->comm != MPI_COMM_NULL) MPI_Comm_free(&state_->comm);
}

const estimate::DataParallel& TrainingGroup::parallel() const { return state_->parallel; }

int init(int* argc, char*** argv) {
  const bool launched = std::getenv("OMPI_COMM_WORLD_SIZE") || std::getenv("PMI_SIZE") || std::getenv("PMIX_RANK");
  if (!launched) return 1;
  MPI_Init(argc, argv);
  g_initialised = true;
  return size();
}

int rank() {
  if (!g_initialised) return 0;
  int r = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &r);
  return r;
}

int size() {
  if (!g_initialised) return 1;
  int s = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &s);
  return s;
}

void finish() {
  if (!g_initialised) return;
  stop_workers();
  MPI_Finalize();
  g_initialised = false;
}

void abort(int code) {
  MPI_Abort(MPI_COMM_WORLD, code);
  std::exit(code);
}

MpiExecutor::MpiExecutor(const space::SearchSpace& space, const nlohmann::json& config, int threads_per_rank)
    : space_(space) {
  NASCENT_CHECK(size() > 1, "MpiExecutor needs at least one worker rank");
  busy_.assign(static_cast<size_t>(size() - 1), false);
  trials_.resize(busy_.size());
  const std::string hello = nlohmann::json{{"config", config}, {"threads", threads_per_rank}}.dump();
  for (int r = 1; r < size(); ++r) send_string(hello, r, kTagConfig);
}

MpiExecutor::~MpiExecutor() { stop_workers(); }

int MpiExecutor::pending() const {
  int n = static_cast<int>(queue_.size());
  for (bool b : busy_) n += b;
  return n;
}

void MpiExecutor::send(int worker, const Trial& trial, uint64_t seed) {
  trials_[worker] = trial;
  trials_[worker].started = unix_now();
  trials_[worker].worker = fmt::format("mpi-rank-{}", worker + 1);
  busy_[worker] = true;
  send_string(worker_request(space_, trial, seed), worker + 1, kTagRequest);
}

void MpiExecutor::submit(const Trial& trial, uint64_t seed) {
  for (size_t w = 0; w < busy_.size(); ++w) {
    if (!busy_[w]) {
      send(static_cast<int>(w), trial, seed);
      return;
    }
  }
  queue_.emplace_back(trial, seed);
}

Trial MpiExecutor::collect() {
  NASCENT_CHECK(pending() > 0, "collect() with nothing submitted");
  // Poll rather than block, so that Ctrl-C is noticed while workers train.
  int flag = 0;
  MPI_Status st;
  while (true) {
    MPI_Iprobe(MPI_ANY_SOURCE, kTagResult, MPI_COMM_WORLD, &flag, &st);
    if (flag) break;
    check_stop();
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  int source = 0;
  const std::string line = recv_string(st.MPI_SOURCE, nullptr, &source);
  const int w = source - 1;
  Trial t = trials_[w];
  busy_[w] = false;
  t.ended = unix_now();
  apply_worker_result(t, line);
  if (!queue_.empty()) {
    auto [next, seed] = queue_.front();
    queue_.pop_front();
    send(w, next, seed);
  }
  return t;
}

int worker_loop() {
  int tag = 0;
  wait_for_rank0();
  const std::string hello = recv_string(0, &tag, nullptr);
  if (tag == kTagStop) return 0;  // rank 0 stopped before the search began
  const auto h = nlohmann::json::parse(hello);
  nlohmann::json config = h.at("config");
  // Nodes that hold the data at another path than rank 0's say where (docs/cluster.md).
  if (const char* path = std::getenv("NASCENT_TASK_PATH"); path && *path) config["task"]["path"] = path;
  WorkerSession session(config, fmt::format("mpi rank {}", rank()), h.at("threads").get<int>());
  while (true) {
    wait_for_rank0();
    const std::string req = recv_string(0, &tag, nullptr);
    if (tag == kTagStop) return 0;
    if (tag == kTagFinal) {
      const auto r = nlohmann::json::parse(req);
      MPI_Comm comm = MPI_COMM_NULL;
      MPI_Comm_split(MPI_COMM_WORLD, rank() < r.at("ranks").get<int>() ? 0 : MPI_UNDEFINED, rank(), &comm);
      if (comm == MPI_COMM_NULL) continue;  // not in the group: wait for rank 0
      estimate::DataParallel dp = group_parallel(comm);
      dp.replans = r.value("replans", false);
      dp.stopped = [] { throw GroupStopped(); };
      try {
        session.train_final_share(r, dp);
      } catch (const GroupStopped&) {
      } catch (const TrialFailure&) {
        // A non-finite loss is seen by every rank at once (the loss is summed): rank 0 reports it.
      } catch (const std::exception& e) {
        // Anything else leaves the others waiting in a sum: end the job (a resume trains again).
        fmt::print(stderr, "nascent: mpi rank {}: final training failed: {}\n", rank(), e.what());
        abort(1);
      }
      MPI_Comm_free(&comm);
      continue;
    }
    send_string(session.handle(req), 0, kTagResult);
  }
}

}  // namespace nascent::run::mpi
