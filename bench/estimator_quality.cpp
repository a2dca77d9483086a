// How far each performance estimate can be trusted on our own data: the Spearman and Kendall
// rank correlation of every lower fidelity and every zero-cost proxy with the validation accuracy
// at the reference fidelity, over distinct nb201 architectures, with each estimate's cost.
//
// With --runs DIR it first joins the nascent runs under DIR (one sub-directory per fidelity or
// proxy, made by bench/estimator_quality.sh) into the measured tables: --table (one row per
// architecture) and --long (one row per architecture and fidelity, the table estimator's format).
// It then reads --table back and prints and writes the correlations (--md, --json), so rerunning
// it on the stored table alone reproduces them.
//
//   build/bench/estimator_quality [--runs runs/estimator_quality] [--reference e=3,d=0.37037]
//       [--table bench/results/nb201_fmnist_table.csv] [--long bench/results/nb201_fmnist_trials.csv]
//       [--md bench/results/estimator_quality.md] [--json bench/results/estimator_quality.json]
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "nascent/core/error.h"
#include "nascent/core/rng.h"
#include "nascent/data/csv.h"
#include "nascent/estimate/proxies.h"
#include "nascent/estimate/rank_correlation.h"
#include "nascent/estimate/table_evaluator.h"
#include "nascent/run/outputs.h"
#include "nascent/space/nb201.h"
#include "nascent/store/store.h"

namespace {

using namespace nascent;
namespace fs = std::filesystem;

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path, "", "cannot read file");
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Spearman on NAS-Bench-201 CIFAR-10 from Abdelfattah et al. 2021 (Table 2), for comparison.
const std::map<std::string, double> kPublished = {
    {"synflow", 0.74}, {"jacob_cov", 0.73}, {"snip", 0.58}, {"grad_norm", 0.58}, {"fisher", 0.36}};

// One architecture's measurements: trained runs by fidelity key, proxies by name.
struct ArchRow {
  std::string text;  // nb201 cell string
  std::map<std::string, std::map<std::string, double>> by_fidelity;
  std::map<std::string, double> proxies;  // name -> value, and name_seconds -> cost
};

double number(const std::string& s) { return s.empty() ? NAN : std::stod(s); }

// Joins every run under dir; returns the fidelity keys seen, reference first.
std::vector<std::string> join_runs(const std::string& dir, const std::string& reference, const space::Nb201Space& space,
                                   std::map<std::string, ArchRow>& rows, std::vector<std::string>& order) {
  std::vector<std::string> fidelities = {reference};
  std::vector<fs::path> runs;
  for (const auto& e : fs::directory_iterator(dir))
    if (fs::exists(e.path() / "trials.csv") && fs::exists(e.path() / "experiment.db")) runs.push_back(e.path());
  std::sort(runs.begin(), runs.end());
  for (const auto& run : runs) {
    const nlohmann::json config = store::Store::read_config((run / "experiment.db").string());
    const std::string estimator = config.value("estimator", nlohmann::json::object()).value("name", "train");
    const std::string proxy = estimator.rfind("proxy:", 0) == 0 ? estimator.substr(6) : "";
    const std::string path = (run / "trials.csv").string();
    const data::CsvTable t = data::parse_csv(read_text(path), path, ',', true, 0);
    std::map<std::string, size_t> col;
    for (size_t i = 0; i < t.columns.size(); ++i) col[t.columns[i]] = i;
    for (const auto& f : t.rows) {
      if (f[col.at("status")] != "ok") continue;
      const Arch arch = space.from_json(nlohmann::json::parse(f[col.at("arch")]), path);
      const std::string h = space.hash(arch);
      auto [it, fresh] = rows.try_emplace(h);
      if (fresh) {
        it->second.text = space.to_text(arch);
        order.push_back(h);
      }
      if (!proxy.empty()) {
        // Every proxy run profiles its networks: params and flops are known without training.
        for (const char* m : {"params", "flops"}) it->second.proxies[m] = number(f[col.at(m)]);
        it->second.proxies[proxy] = number(f[col.at(proxy)]);
        it->second.proxies[proxy + "_seconds"] = number(f[col.at("proxy_seconds")]);
        continue;
      }
      const std::string fid = estimate::parse_fidelity_key(f[col.at("fidelity")]).key();
      if (std::find(fidelities.begin(), fidelities.end(), fid) == fidelities.end()) fidelities.push_back(fid);
      auto& m = it->second.by_fidelity[fid];
      for (size_t i = 4; i < t.columns.size(); ++i)
        if (!f[i].empty()) m[t.columns[i]] = number(f[i]);
    }
  }
  return fidelities;
}

std::string cell(double v) { return std::isfinite(v) ? fmt::format("{:.10g}", v) : ""; }

void write_tables(const std::map<std::string, ArchRow>& rows, const std::vector<std::string>& order,
                  const std::vector<std::string>& fidelities, const std::string& table, const std::string& long_table) {
  const std::vector<std::string> trained = {"val_accuracy", "val_loss", "train_loss", "train_seconds"};
  std::string out = "arch,params,flops";
  for (const auto& f : fidelities)
    for (const auto& m : trained) out += "," + run::csv_field(m + "@" + f);
  // params and flops are profiled for every trained architecture; the other proxies get a column
  // each, and every proxy its cost.
  auto profiled = [](const std::string& p) { return p == "params" || p == "flops"; };
  for (const auto& p : estimate::proxy_names()) out += (profiled(p) ? "" : "," + p) + "," + p + "_seconds";
  out += "\n";
  std::string lng = "arch,fidelity,val_accuracy,val_loss,train_loss,train_seconds,params,flops";
  for (const auto& p : estimate::proxy_names())
    if (!profiled(p)) lng += "," + p;
  lng += "\n";
  auto get = [](const std::map<std::string, double>& m, const std::string& k) {
    auto it = m.find(k);
    return it == m.end() ? NAN : it->second;
  };
  for (const auto& h : order) {
    const ArchRow& r = rows.at(h);
    double params = get(r.proxies, "params"), flops = get(r.proxies, "flops");
    for (const auto& [f, m] : r.by_fidelity) {
      params = get(m, "params");
      flops = get(m, "flops");
    }
    out += fmt::format("{},{},{}", r.text, cell(params), cell(flops));
    for (const auto& f : fidelities) {
      auto it = r.by_fidelity.find(f);
      for (const auto& m : trained) out += "," + cell(it == r.by_fidelity.end() ? NAN : get(it->second, m));
    }
    for (const auto& p : estimate::proxy_names())
      out += (profiled(p) ? "" : "," + cell(get(r.proxies, p))) + "," + cell(get(r.proxies, p + "_seconds"));
    out += "\n";
    for (const auto& [f, m] : r.by_fidelity) {
      lng += fmt::format("{},{}", r.text, run::csv_field(f));
      for (const auto& k : trained) lng += "," + cell(get(m, k));
      lng += "," + cell(params) + "," + cell(flops);
      for (const auto& p : estimate::proxy_names())
        if (!profiled(p)) lng += "," + cell(get(r.proxies, p));
      lng += "\n";
    }
  }
  run::write_file_atomic(table, out);
  run::write_file_atomic(long_table, lng);
}

struct Estimate {
  std::string name, kind;      // kind: fidelity | proxy
  std::vector<double> values;  // per table row; NaN = not measured
  int n = 0;
  double spearman = 0, kendall = 0, seconds = NAN;
};

// How well each estimate would promote in a successive-halving rung of eta 3 (docs/schedulers/):
// of the reference's best third, the share that is also in the estimate's best third, over the
// architectures that have both; and how often the reference's best survives (is in that third).
std::string promotion_precision(const std::vector<Estimate>& estimates, const std::vector<double>& truth,
                                nlohmann::json& j) {
  std::string out =
      "\n## Promotion in a rung of eta 3\n\n"
      "Of the architectures with both values, the best third by the estimate is what a successive-halving or "
      "Hyperband rung with eta 3 promotes. Precision = the share of the reference's best third among them (random "
      "promotion: 0.33); best kept = whether the reference's best architecture is among them.\n\n"
      "| estimate | n | precision of the promoted third | reference's best promoted |\n| --- | ---: | ---: | --- |\n";
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& e : estimates) {
    std::vector<size_t> idx;
    for (size_t i = 0; i < truth.size(); ++i)
      if (std::isfinite(truth[i]) && !std::isnan(e.values[i])) idx.push_back(i);
    if (idx.size() < 9) continue;
    const size_t third = idx.size() / 3;
    std::vector<size_t> by_est = idx, by_ref = idx;
    std::stable_sort(by_est.begin(), by_est.end(), [&](size_t a, size_t b) { return e.values[a] > e.values[b]; });
    std::stable_sort(by_ref.begin(), by_ref.end(), [&](size_t a, size_t b) { return truth[a] > truth[b]; });
    const std::set<size_t> promoted(by_est.begin(), by_est.begin() + static_cast<std::ptrdiff_t>(third));
    size_t both = 0;
    for (size_t k = 0; k < third; ++k) both += promoted.count(by_ref[k]);
    const double precision = static_cast<double>(both) / static_cast<double>(third);
    const bool best_kept = promoted.count(by_ref[0]) > 0;
    out += fmt::format("| {} | {} | {:.2f} | {} |\n", e.name, idx.size(), precision, best_kept ? "yes" : "no");
    rows.push_back({{"name", e.name}, {"n", idx.size()}, {"precision", precision}, {"best_promoted", best_kept}});
  }
  j["promotion_eta3"] = rows;
  return out;
}

// What a zero-cost pre-filter (docs/estimators/prefilter.md) gains, simulated on the table: many
// pools of kPool architectures drawn (fixed seed) from those with a reference result; an estimate
// keeps its kKeep best of each pool, and the value is the best reference accuracy among the kept
// (what a search that trains only those finds, if training gives the reference). Against kKeep
// drawn at random from the same pool (no pre-filter) and the pool's best (a perfect estimate).
std::string prefilter_value(const std::vector<Estimate>& estimates, const std::vector<double>& truth,
                            nlohmann::json& j) {
  constexpr int kPool = 50, kKeep = 5, kDraws = 2000;
  std::vector<size_t> known;
  for (size_t i = 0; i < truth.size(); ++i)
    if (std::isfinite(truth[i])) known.push_back(i);
  if (known.size() <= static_cast<size_t>(kPool)) return "";
  auto best_of = [&](const std::vector<size_t>& idx, size_t k) {
    double b = -INFINITY;
    for (size_t i = 0; i < k && i < idx.size(); ++i) b = std::max(b, truth[idx[i]]);
    return b;
  };
  Rng rng(20261130);
  std::vector<std::vector<size_t>> pools;
  std::vector<double> tops;  // each pool's best reference accuracy
  double random_best = 0, pool_best = 0;
  for (int d = 0; d < kDraws; ++d) {
    std::vector<size_t> all = known;
    rng.shuffle(all);
    all.resize(kPool);
    random_best += best_of(all, kKeep) / kDraws;  // the pool's order is random: its first kKeep
    tops.push_back(best_of(all, kPool));
    pool_best += tops.back() / kDraws;
    pools.push_back(std::move(all));
  }
  std::string out = fmt::format(
      "\n## Pre-filter value (simulated on this table)\n\n"
      "{} pools of {} architectures drawn (seed 20261130) from the {} with a reference result. Each estimate keeps "
      "its {} best of a pool (as `prefilter: {{pool: {}, keep: {}}}` does); the value is the best reference accuracy "
      "among them, i.e. what a search that trains only the kept ones finds. Without a pre-filter ({} of the pool at "
      "random): **{:.4f}**; a perfect estimate (the pool's best): **{:.4f}**. Gap closed = (kept - random) / (best - "
      "random); hit = how often the pool's best is among the kept.\n\n"
      "| estimate | best of the kept (mean) | gap closed | hit |\n| --- | ---: | ---: | ---: |\n",
      kDraws, kPool, known.size(), kKeep, kPool, kKeep, kKeep, random_best, pool_best);
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& e : estimates) {
    double kept_best = 0, hits = 0;
    int draws = 0;
    for (size_t p = 0; p < pools.size(); ++p) {
      const std::vector<size_t>& pool = pools[p];
      std::vector<size_t> scored;
      for (size_t i : pool)
        if (!std::isnan(e.values[i])) scored.push_back(i);
      if (scored.size() < pool.size()) continue;  // the estimate is missing for part of the pool
      std::stable_sort(scored.begin(), scored.end(), [&](size_t a, size_t b) { return e.values[a] > e.values[b]; });
      const double b = best_of(scored, kKeep);
      kept_best += b;
      hits += b == tops[p];
      ++draws;
    }
    if (draws == 0) continue;
    kept_best /= draws;
    const double closed = (kept_best - random_best) / (pool_best - random_best);
    out += fmt::format("| {} | {:.4f} | {:.2f} | {:.2f} |\n", e.name, kept_best, closed, hits / draws);
    rows.push_back({{"name", e.name}, {"kept_best", kept_best}, {"gap_closed", closed}, {"hit", hits / draws}});
  }
  j["prefilter"] = {{"pool", kPool},          {"keep", kKeep},    {"draws", kDraws}, {"random_best", random_best},
                    {"pool_best", pool_best}, {"estimates", rows}};
  return out;
}

int main_impl(int argc, char** argv) {
  CLI::App app("Rank correlation of every estimate with the reference validation accuracy");
  std::string runs, reference = "e=3,d=0.37037", table = "bench/results/nb201_fmnist_table.csv";
  std::string long_table = "bench/results/nb201_fmnist_trials.csv";
  std::string md = "bench/results/estimator_quality.md", json_out = "bench/results/estimator_quality.json";
  app.add_option("--runs", runs, "Join the nascent runs under this directory into --table and --long first");
  app.add_option("--reference", reference, "The reference fidelity key");
  app.add_option("--table", table, "The measured table, one row per architecture");
  app.add_option("--long", long_table, "The same, one row per architecture and fidelity (table estimator format)");
  app.add_option("--md", md, "Markdown report");
  app.add_option("--json", json_out, "JSON report");
  CLI11_PARSE(app, argc, argv);
  reference = estimate::parse_fidelity_key(reference).key();

  if (!runs.empty()) {
    space::Nb201Space space;
    std::map<std::string, ArchRow> rows;
    std::vector<std::string> order;
    const auto fidelities = join_runs(runs, reference, space, rows, order);
    write_tables(rows, order, fidelities, table, long_table);
    fmt::print("joined {} architectures from {} into {} and {}\n", order.size(), runs, table, long_table);
  }

  const data::CsvTable t = data::parse_csv(read_text(table), table, ',', true, 0);
  std::map<std::string, size_t> col;
  for (size_t i = 0; i < t.columns.size(); ++i) col[t.columns[i]] = i;
  const std::string ref_col = "val_accuracy@" + reference;
  if (!col.count(ref_col)) throw InputError(table, ref_col, "no column for the reference fidelity");
  auto column = [&](const std::string& name) {
    std::vector<double> v;
    for (const auto& r : t.rows) v.push_back(number(r[col.at(name)]));
    return v;
  };
  const std::vector<double> truth = column(ref_col);
  const std::vector<double> ref_cost = column("train_seconds@" + reference);
  auto mean_finite = [](const std::vector<double>& v) {
    double s = 0;
    int n = 0;
    for (double x : v)
      if (std::isfinite(x)) s += x, ++n;
    return n ? s / n : NAN;
  };
  int n_ref = 0;
  for (double x : truth) n_ref += std::isfinite(x);

  std::vector<Estimate> estimates;
  auto add = [&](const std::string& name, const std::string& kind, const std::vector<double>& v, double seconds) {
    std::vector<double> a, b;
    for (size_t i = 0; i < v.size(); ++i)
      if (!std::isnan(v[i]) && std::isfinite(truth[i])) a.push_back(v[i]), b.push_back(truth[i]);
    Estimate e{name, kind, v, static_cast<int>(a.size()), 0, 0, seconds};
    if (a.size() >= 2) {
      e.spearman = estimate::spearman(a, b);
      e.kendall = estimate::kendall_tau_b(a, b);
    }
    estimates.push_back(e);
  };
  for (const auto& c : t.columns)
    if (c.rfind("val_accuracy@", 0) == 0 && c != ref_col) {
      const std::string f = c.substr(13);
      add(f, "fidelity", column(c), mean_finite(column("train_seconds@" + f)));
    }
  for (const auto& p : estimate::proxy_names()) {
    // A proxy that failed for an architecture (naswot, when every example gets the same code)
    // ranks it last, as a search or a pre-filter does.
    std::vector<double> v = column(p);
    for (double& x : v)
      if (std::isnan(x)) x = -INFINITY;
    add(p, "proxy", v, mean_finite(column(p + "_seconds")));
  }

  std::string report = fmt::format(
      "# Estimator quality on nb201 (C=8, N=1), Fashion-MNIST\n\n"
      "Reference: validation accuracy after training at fidelity {} ({} architectures with a reference result, "
      "mean {:.1f} s each). Rank correlation of each estimate with it over the architectures that have both.\n"
      "Made by `build/bench/estimator_quality` from `{}`. Seconds are wall-clock as recorded "
      "(train_seconds, proxy_seconds), so they depend on the load of the machine the runs had. A proxy that failed for "
      "an "
      "architecture (naswot, when every example gets the same activation code) ranks it last.{}\n\n"
      "| estimate | kind | n | Spearman | Kendall | seconds per arch | cost vs reference | published Spearman (NB201 "
      "CIFAR-10) |\n"
      "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |\n",
      reference, n_ref, mean_finite(ref_cost), table,
      n_ref < 30 ? fmt::format(" **Only {} architectures have a reference result: the correlations below are not yet "
                               "evidence of anything.**",
                               n_ref)
                 : "");
  nlohmann::json j = {{"reference", reference},
                      {"architectures", n_ref},
                      {"reference_seconds", mean_finite(ref_cost)},
                      {"table", table},
                      {"estimates", nlohmann::json::array()}};
  fmt::print("{:<22} {:>8} {:>5} {:>9} {:>8} {:>10}\n", "estimate", "kind", "n", "spearman", "kendall", "s/arch");
  for (const auto& e : estimates) {
    const double ratio = e.seconds / mean_finite(ref_cost);
    auto pub = kPublished.find(e.name);
    fmt::print("{:<22} {:>8} {:>5} {:>9.3f} {:>8.3f} {:>10.4g}\n", e.name, e.kind, e.n, e.spearman, e.kendall,
               e.seconds);
    report += fmt::format("| {} | {} | {} | {:.3f} | {:.3f} | {} | {} | {} |\n", e.name, e.kind, e.n, e.spearman,
                          e.kendall, std::isfinite(e.seconds) ? fmt::format("{:.4g}", e.seconds) : "-",
                          std::isfinite(ratio) ? fmt::format("{:.2g}", ratio) : "-",
                          pub == kPublished.end() ? "-" : fmt::format("{:.2f}", pub->second));
    j["estimates"].push_back({{"name", e.name},
                              {"kind", e.kind},
                              {"n", e.n},
                              {"spearman", e.spearman},
                              {"kendall", e.kendall},
                              {"seconds", std::isfinite(e.seconds) ? nlohmann::json(e.seconds) : nlohmann::json()}});
  }
  // How the estimates agree with each other, over every architecture that has both (the proxies
  // are known for all of them, so this holds even while the reference is partly measured).
  report += "\nSpearman between the estimates (n = architectures that have both):\n\n| |";
  for (const auto& e : estimates) report += " " + e.name + " |";
  report += "\n| --- |";
  for (size_t i = 0; i < estimates.size(); ++i) report += " ---: |";
  report += "\n";
  nlohmann::json agreement = nlohmann::json::object();
  for (const auto& a : estimates) {
    report += "| " + a.name + " |";
    for (const auto& b : estimates) {
      std::vector<double> x, y;
      for (size_t i = 0; i < a.values.size(); ++i)
        if (!std::isnan(a.values[i]) && !std::isnan(b.values[i])) x.push_back(a.values[i]), y.push_back(b.values[i]);
      const double rho = x.size() >= 2 ? estimate::spearman(x, y) : NAN;
      report += std::isfinite(rho) ? fmt::format(" {:.2f} (n={}) |", rho, x.size()) : " - |";
      agreement[a.name][b.name] = {{"spearman", std::isfinite(rho) ? nlohmann::json(rho) : nlohmann::json()},
                                   {"n", x.size()}};
    }
    report += "\n";
  }
  j["agreement"] = agreement;
  report += promotion_precision(estimates, truth, j);
  report += prefilter_value(estimates, truth, j);
  run::write_file_atomic(md, report);
  run::write_file_atomic(json_out, j.dump(2) + "\n");
  fmt::print("wrote {} and {}\n", md, json_out);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return main_impl(argc, argv);
  } catch (const nascent::InputError& e) {
    fmt::print(stderr, "{}\n", e.what());
    return 2;
  }
}
