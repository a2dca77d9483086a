// nascent recover: the readable trials of a damaged experiment.db, its config and seed, copied
// into a new run directory. `nascent search --out NEW --resume` then replays the search: the
// strategy starts again from the seed, and each proposal it makes again takes its recovered
// result instead of training; only what could not be read is trained again.
#include <fmt/format.h>

#include <filesystem>

#include "cli/commands.h"
#include "nascent/core/error.h"
#include "nascent/run/experiment.h"
#include "nascent/run/run_lock.h"
#include "nascent/store/salvage.h"
#include "nascent/store/store.h"
#include "nascent/store/trial_row.h"

namespace nascent::cli {
namespace fs = std::filesystem;

int run_recover(const RecoverFlags& f) {
  const std::string db = (fs::path(f.run) / "experiment.db").string();
  if (!fs::is_regular_file(db))
    throw InputError(f.run, "--run", "not a run directory: it has no experiment.db (give the --out of a search)");
  std::string out = f.out;
  if (out.empty()) out = fs::path(f.run).lexically_normal().string() + "-recovered";
  if (fs::exists(fs::path(out) / "experiment.db"))
    throw InputError(out, "--out", "already holds an experiment; choose another --out");

  const store::Salvage s = store::salvage_database(db);
  if (!s.has_experiment)
    throw InputError(db, "experiment",
                     fmt::format("the experiment's config and seed cannot be read ({}), so nothing can be resumed; "
                                 "start again with `nascent search --config FILE`",
                                 s.problem.empty() ? "no experiment row" : s.problem));
  nlohmann::json raw;
  try {
    raw = nlohmann::json::parse(s.config);
  } catch (const nlohmann::json::exception&) {
    throw InputError(db, "experiment", "the stored config is not readable JSON");
  }
  const run::ExperimentConfig cfg = run::ExperimentConfig::parse(raw, db);
  auto space = cfg.make_space();

  run::RunLock lock(out, "--out");
  auto store = store::Store::create((fs::path(out) / "experiment.db").string(), raw, cfg.seed, *space);
  int64_t kept = 0;
  std::vector<int64_t> unusable;
  for (const store::SalvagedRow& r : s.completed) {
    try {  // a row that reads but that the store could not read back (damaged JSON, another space) is not kept
      store::trial_from_row(r, *space, db);
    } catch (const std::exception&) {
      unusable.push_back(r.id);
      continue;
    }
    store->add_salvaged(r);
    ++kept;
  }
  store->set_status("interrupted");
  fmt::print("{}: {}\n", db, s.problem.empty() ? "no damage found" : s.problem);
  fmt::print("recovered {} completed trial{} into {}", kept, kept == 1 ? "" : "s", out);
  if (!s.lost.empty() || !unusable.empty())
    fmt::print("; not readable: {} trial{} (they are trained again)", s.lost.size() + unusable.size(),
               s.lost.size() + unusable.size() == 1 ? "" : "s");
  if (s.running > 0) fmt::print("; {} were running and run again", s.running);
  fmt::print("\ncontinue with: nascent search --out {} --resume   ({} is left as it was)\n", out, db);
  return 0;
}

}  // namespace nascent::cli
