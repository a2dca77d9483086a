#include "nascent/run/process_executor.h"

#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <torch/torch.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>
#include <nlohmann/json.hpp>

#include "nascent/core/error.h"
#include "nascent/data/dataset.h"
#include "nascent/estimate/estimator.h"
#include "nascent/run/experiment.h"
#include "nascent/run/final_training.h"
#include "nascent/run/interrupt.h"
#include "nascent/run/progress.h"
#include "nascent/space/space.h"
#include "nascent/store/store.h"

namespace nascent::run {
namespace {

void write_all(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    const ssize_t n = ::write(fd, s.data() + off, s.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw InternalError(std::string("cannot write to worker: ") + std::strerror(errno));
    off += static_cast<size_t>(n);
  }
}

}  // namespace

ProcessExecutor::ProcessExecutor(const space::SearchSpace& space, ProcessExecutorOptions options)
    : space_(space), options_(std::move(options)) {
  NASCENT_CHECK(options_.workers >= 1, "ProcessExecutor needs at least one worker");
  // A worker that dies must not kill us with SIGPIPE when we write to it.
  ::signal(SIGPIPE, SIG_IGN);
  workers_.resize(static_cast<size_t>(options_.workers));
  for (size_t i = 0; i < workers_.size(); ++i) {
    workers_[i].index = static_cast<int>(i);
    spawn(workers_[i]);
  }
}

ProcessExecutor::~ProcessExecutor() {
  for (auto& w : workers_) stop(w);
}

void ProcessExecutor::spawn(Worker& w) {
  int in[2], out[2];
  if (pipe(in) != 0 || pipe(out) != 0) throw InternalError("pipe() failed");
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) throw InternalError("fork() failed");
  if (pid == 0) {
    // Die with the search; leave Ctrl-C to the search process, which stops us.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(1);
    ::signal(SIGINT, SIG_IGN);
    dup2(in[0], STDIN_FILENO);
    dup2(out[1], STDOUT_FILENO);
    close(in[0]);
    close(in[1]);
    close(out[0]);
    close(out[1]);
    const std::string threads = std::to_string(options_.threads);
    execl(options_.binary.c_str(), options_.binary.c_str(), "worker", "--run", options_.run_dir.c_str(), "--threads",
          threads.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  w.pid = pid;
  w.to = in[1];
  w.from = out[0];
  w.buffer.clear();
  w.busy = false;
}

void ProcessExecutor::stop(Worker& w) {
  if (w.pid <= 0) return;
  close(w.to);
  close(w.from);
  kill(w.pid, SIGKILL);
  waitpid(w.pid, nullptr, 0);
  w.pid = -1;
}

int ProcessExecutor::pending() const {
  int n = static_cast<int>(queue_.size());
  for (const auto& w : workers_) n += w.busy;
  return n;
}

std::string worker_request(const space::SearchSpace& space, const Trial& t, uint64_t seed) {
  nlohmann::json req = {{"trial", t.id},
                        {"arch", space.to_json(t.proposal.arch)},
                        {"fidelity", t.proposal.fidelity.to_json()},
                        {"seed", std::to_string(seed)}};
  if (t.proposal.meta.contains("median_curve")) req["median_curve"] = t.proposal.meta["median_curve"];
  return req.dump();
}

void apply_worker_result(Trial& t, const std::string& line) {
  try {
    const auto j = nlohmann::json::parse(line);
    NASCENT_CHECK(j.at("trial").get<int64_t>() == t.id, "worker answered for another trial");
    t.status = trial_status_from_string(j.at("status").get<std::string>());
    t.reason = j.value("reason", "");
    t.metrics.clear();
    for (auto it = j.at("metrics").begin(); it != j.at("metrics").end(); ++it)
      if (it->is_number()) t.metrics[it.key()] = it->get<double>();
  } catch (const std::exception& e) {
    t.status = TrialStatus::kFailed;
    t.reason = std::string("worker sent an unreadable result: ") + e.what();
  }
}

void ProcessExecutor::send(Worker& w, const Trial& t, uint64_t seed) {
  const std::string req = worker_request(space_, t, seed);
  w.trial = t;
  w.seed = seed;
  w.trial.started = unix_now();
  w.trial.worker = fmt::format("process-{}", w.index);
  w.busy = true;
  try {
    write_all(w.to, req + "\n");
  } catch (const InternalError&) {
    // The worker is gone; collect() will see its closed pipe and report the trial as failed.
  }
}

void ProcessExecutor::submit(const Trial& trial, uint64_t seed) {
  for (auto& w : workers_) {
    if (!w.busy) {
      send(w, trial, seed);
      return;
    }
  }
  queue_.emplace_back(trial, seed);
}

Trial ProcessExecutor::finish(Worker& w, const std::string& line) {
  Trial t = w.trial;
  w.busy = false;
  t.ended = unix_now();
  apply_worker_result(t, line);
  return t;
}

std::optional<Trial> ProcessExecutor::crashed(Worker& w) {
  Trial t = w.trial;
  t.ended = unix_now();
  int status = 0;
  close(w.to);
  close(w.from);
  waitpid(w.pid, &status, 0);
  w.pid = -1;
  w.busy = false;
  spawn(w);
  if (++deaths_[t.id] < 2) {
    send(w, t, w.seed);
    return std::nullopt;
  }
  deaths_.erase(t.id);
  t.status = TrialStatus::kFailed;
  if (WIFSIGNALED(status))
    t.reason =
        fmt::format("worker process died with signal {} ({}), twice", WTERMSIG(status), strsignal(WTERMSIG(status)));
  else
    t.reason = fmt::format("worker process exited with code {}, twice", WEXITSTATUS(status));
  return t;
}

Trial ProcessExecutor::collect() {
  NASCENT_CHECK(pending() > 0, "collect() with nothing submitted");
  while (true) {
    // A complete line already buffered?
    for (auto& w : workers_) {
      const auto nl = w.buffer.find('\n');
      if (w.busy && nl != std::string::npos) {
        const std::string line = w.buffer.substr(0, nl);
        w.buffer.erase(0, nl + 1);
        Trial t = finish(w, line);
        if (!queue_.empty()) {
          auto [next, seed] = queue_.front();
          queue_.pop_front();
          send(w, next, seed);
        }
        return t;
      }
    }
    std::vector<pollfd> fds;
    std::vector<Worker*> owners;
    for (auto& w : workers_) {
      if (!w.busy) continue;
      fds.push_back({w.from, POLLIN, 0});
      owners.push_back(&w);
    }
    const int rc = ::poll(fds.data(), fds.size(), 1000);
    if (rc < 0 && errno != EINTR) throw InternalError(std::string("poll() failed: ") + std::strerror(errno));
    check_stop();
    if (rc <= 0) continue;
    for (size_t i = 0; i < fds.size(); ++i) {
      if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      Worker& w = *owners[i];
      char buf[4096];
      const ssize_t n = ::read(w.from, buf, sizeof buf);
      if (n > 0) {
        w.buffer.append(buf, static_cast<size_t>(n));
      } else if (n == 0 || (n < 0 && errno != EINTR)) {
        std::optional<Trial> failed = crashed(w);
        if (!failed) continue;  // evaluated again by the new worker
        Trial t = std::move(*failed);
        if (!queue_.empty()) {
          auto [next, seed] = queue_.front();
          queue_.pop_front();
          send(w, next, seed);
        }
        return t;
      }
    }
  }
}

struct WorkerSession::State {
  ExperimentConfig cfg;
  data::TaskData data;
  std::unique_ptr<space::SearchSpace> space;
  std::unique_ptr<estimate::Evaluator> evaluator;
};

WorkerSession::WorkerSession(const nlohmann::json& config, const std::string& source, int threads)
    : state_(std::make_unique<State>()) {
  state_->cfg = ExperimentConfig::parse(config, source);
  torch::set_num_threads(std::max(1, threads));
  state_->data = data::load_task(state_->cfg.task);
  state_->space = state_->cfg.make_space();
  state_->evaluator = estimate::make_evaluator(state_->cfg.estimator, *state_->space, state_->data, state_->cfg.train,
                                               state_->cfg.objective);
}

WorkerSession::~WorkerSession() = default;

std::string WorkerSession::handle(const std::string& request) {
  const auto req = nlohmann::json::parse(request);
  Proposal p;
  p.arch = state_->space->from_json(req.at("arch"), "worker request");
  p.fidelity = Fidelity::from_json(req.at("fidelity"));
  if (req.contains("median_curve")) p.meta["median_curve"] = req["median_curve"];
  const uint64_t seed = std::stoull(req.at("seed").get<std::string>());
  const estimate::Evaluation e = state_->evaluator->evaluate(p, seed, nullptr);
  nlohmann::json metrics = nlohmann::json::object();
  for (const auto& [k, v] : e.metrics)
    if (std::isfinite(v)) metrics[k] = v;
  const nlohmann::json res = {
      {"trial", req.at("trial")}, {"status", to_string(e.status)}, {"reason", e.reason}, {"metrics", metrics}};
  return res.dump();
}

void WorkerSession::train_final_share(const nlohmann::json& request, const estimate::DataParallel& parallel) {
  const Arch arch = state_->space->from_json(request.at("arch"), "final training request");
  ProgressReporter quiet(stdout, true);
  train_final(*state_->space, arch, state_->data, state_->cfg.final.apply(state_->cfg.train),
              request.at("epochs").get<double>(), request.at("augment").get<bool>(),
              std::stoull(request.at("seed").get<std::string>()), "", quiet, nullptr, &parallel);
}

int run_worker(const std::string& run_dir, int threads) {
  const std::string db = run_dir + "/experiment.db";
  WorkerSession session(store::Store::read_config(db), db, threads);
  std::string line;
  while (std::getline(std::cin, line)) std::cout << session.handle(line) << "\n" << std::flush;
  return 0;
}

}  // namespace nascent::run
