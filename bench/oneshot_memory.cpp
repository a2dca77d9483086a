// Peak memory and time of one-shot search steps on nb201 against training one architecture of
// the same space: every case runs in its own child process (so that ru_maxrss is its own), and
// reports the growth of peak resident memory over the process's size after loading the data,
// and the time per step. Cases: a sampled architecture and the all-conv3x3 cell (the heaviest)
// trained standalone (the references), darts order 1 (also with PC-DARTS' partial channels, K = 4)
// and 2, gdas and spos, each running the
// real strategy for one supernet epoch. Prints a table with ratios to the sampled architecture
// and writes bench/results/oneshot_memory.json.
//
//   nice -n 10 build/bench/oneshot_memory [--C 16] [--N 2] [--batch 64] [--steps 10] [--threads 1]
#include <fmt/format.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <torch/torch.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "child_output.h"
#include "nascent/core/allocator.h"
#include "nascent/core/rng.h"
#include "nascent/data/dataset.h"
#include "nascent/space/nb201.h"
#include "nascent/space/network.h"
#include "nascent/strategy/darts_search.h"
#include "nascent/strategy/gdas_search.h"
#include "nascent/strategy/spos_search.h"
#include "nascent/strategy/supernet_data.h"

namespace {

using namespace nascent;

struct Setup {
  int64_t C = 16, N = 2, batch = 64, steps = 10, threads = 1;
};

double rss_mb() {  // current resident set
  long pages = 0, resident = 0;
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (f) {
    if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
    std::fclose(f);
  }
  return static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE)) / 1048576.0;
}

double max_rss_mb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;  // kilobytes on Linux
}

class Collect : public strategy::EventSink {
 public:
  void record(const strategy::StrategyEvent& e) override {
    if (e.kind == "supernet_epoch") epoch = e.data;
  }
  nlohmann::json epoch;
};

nlohmann::json child(const std::string& what, const Setup& s) {
  tune_allocator();
  torch::set_num_threads(static_cast<int>(s.threads));
  data::TaskOptions to;
  // Two halves of the training split (90% of limit), each `steps` batches.
  to.limit = (2 * s.batch * s.steps * 10) / 9 + 2;
  const data::TaskData data = data::load_task(to);
  space::Nb201Options no;
  no.C = s.C;
  no.N = s.N;
  const space::Nb201Space space(no);
  const double base = rss_mb();
  nlohmann::json r = {{"case", what}};
  if (what == "sampled" || what == "conv3x3") {
    Rng rng(0);
    Arch arch = space.sample(rng);
    if (what == "conv3x3")
      arch = space.from_text(
          "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|", "bench");
    torch::manual_seed(0);
    auto net = space.build(arch, data.task, 1.0);
    net->train();
    torch::optim::SGD opt(net->parameters(), torch::optim::SGDOptions(0.025).momentum(0.9).weight_decay(3e-4));
    std::vector<int64_t> rows(static_cast<size_t>(s.batch));
    double seconds = 0;
    for (int64_t i = 0; i < s.steps; ++i) {
      for (int64_t k = 0; k < s.batch; ++k) rows[static_cast<size_t>(k)] = (i * s.batch + k) % data.train.size();
      strategy::Batch b = strategy::take_batch(data, rows);
      const auto t0 = std::chrono::steady_clock::now();
      opt.zero_grad();
      torch::nn::functional::cross_entropy(net->forward(b.x), b.y).backward();
      opt.step();
      seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    }
    r["arch"] = space.to_text(arch);
    r["ms_per_step"] = 1000 * seconds / static_cast<double>(s.steps);
  } else {
    Collect sink;
    strategy::StrategyContext ctx;
    ctx.space = &space;
    ctx.seed = 0;
    ctx.data = &data;
    ctx.events = &sink;
    std::unique_ptr<strategy::OneShotStrategy> st;
    if (what == "darts1" || what == "darts2" || what == "pc-darts1") {
      strategy::DartsSearchOptions o;
      o.train.epochs = 1;
      o.train.batch_size = s.batch;
      o.order = what == "darts2" ? 2 : 1;
      if (what == "pc-darts1") {  // PC-DARTS' memory option: 1/4 of the channels through the ops
        o.partial_channels = 4;
        o.edge_normalization = true;
      }
      st = std::make_unique<strategy::DartsSearch>(ctx, o);
    } else if (what == "gdas") {
      strategy::GdasSearchOptions o;
      o.train.epochs = 1;
      o.train.batch_size = s.batch;
      st = std::make_unique<strategy::GdasSearch>(ctx, o);
    } else {
      strategy::SposSearchOptions o;
      o.train.epochs = 1;
      o.train.batch_size = s.batch;
      o.population = 2;  // the evolution is not measured here: keep it minimal
      o.generations = 0;
      o.recalibrate_batches = 1;
      o.eval_batches = 1;
      o.parents = 1;
      o.top_k = 1;
      st = std::make_unique<strategy::SposSearch>(ctx, o);
    }
    st->search();
    const double steps = sink.epoch.at("steps").get<double>();
    r["steps"] = steps;
    r["ms_per_step"] = 1000 * sink.epoch.at("seconds").get<double>() / steps;
    r["epoch_seconds"] = sink.epoch.at("seconds");
  }
  r["peak_growth_mb"] = max_rss_mb() - base;
  return r;
}

nlohmann::json run_child(const char* self, const std::string& what, const Setup& s) {
  const std::string out =
      nascent::bench::child_output(self, {what, fmt::format("{},{},{},{},{}", s.C, s.N, s.batch, s.steps, s.threads)});
  const size_t line = out.rfind("\n{");
  return nlohmann::json::parse(line == std::string::npos ? out : out.substr(line + 1));
}

}  // namespace

int main(int argc, char** argv) {
  Setup s;
  if (argc == 4 && std::string(argv[1]) == "--child") {
    if (std::sscanf(argv[3], "%ld,%ld,%ld,%ld,%ld", &s.C, &s.N, &s.batch, &s.steps, &s.threads) != 5) return 2;
    std::printf("\n%s\n", child(argv[2], s).dump().c_str());
    return 0;
  }
  std::string out = std::string(NASCENT_SOURCE_DIR) + "/bench/results/oneshot_memory.json";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    const int64_t v = std::atol(argv[i + 1]);
    if (k == "--C")
      s.C = v;
    else if (k == "--N")
      s.N = v;
    else if (k == "--batch")
      s.batch = v;
    else if (k == "--steps")
      s.steps = v;
    else if (k == "--threads")
      s.threads = v;
    else if (k == "--out")
      out = argv[i + 1];
  }
  std::vector<nlohmann::json> rows;
  for (const char* what : {"sampled", "conv3x3", "darts1", "pc-darts1", "darts2", "gdas", "spos"}) {
    rows.push_back(run_child(argv[0], what, s));
    fmt::print(stderr, "{}\n", rows.back().dump());
  }
  const double ref_mb = rows[0].at("peak_growth_mb").get<double>(), ref_ms = rows[0].at("ms_per_step").get<double>();
  fmt::print("nb201 C={} N={}, batch {}, {} steps, {} torch thread(s); reference: the sampled architecture {}\n\n", s.C,
             s.N, s.batch, s.steps, s.threads, rows[0].value("arch", ""));
  fmt::print("| case | peak memory growth (MB) | x reference | ms per step | x reference |\n|---|---|---|---|---|\n");
  for (auto& r : rows) {
    r["memory_ratio"] = r.at("peak_growth_mb").get<double>() / ref_mb;
    r["time_ratio"] = r.at("ms_per_step").get<double>() / ref_ms;
    fmt::print("| {} | {:.1f} | {:.2f} | {:.1f} | {:.2f} |\n", r.at("case").get<std::string>(),
               r.at("peak_growth_mb").get<double>(), r["memory_ratio"].get<double>(), r.at("ms_per_step").get<double>(),
               r["time_ratio"].get<double>());
  }
  nlohmann::json j = {
      {"benchmark", "oneshot_memory"},
      {"setup", {{"C", s.C}, {"N", s.N}, {"batch", s.batch}, {"steps", s.steps}, {"threads", s.threads}}},
      {"cases", rows}};
  std::ofstream(out) << j.dump(2) << "\n";
  return 0;
}
