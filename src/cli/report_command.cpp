// nascent report: a run directory's report.html, from its experiment.db and summary.json.
#include <fmt/format.h>

#include <filesystem>

#include "cli/commands.h"
#include "nascent/core/error.h"
#include "nascent/run/experiment.h"
#include "nascent/run/report.h"
#include "nascent/store/store.h"

namespace nascent::cli {

int run_report(const ReportFlags& f) {
  const std::string db = f.run + "/experiment.db";
  if (!std::filesystem::is_regular_file(db))
    throw InputError(f.run, "--run", "not a run directory: it has no experiment.db (give the --out of a search)");
  const nlohmann::json raw = store::Store::read_config(db);
  const run::ExperimentConfig cfg = run::ExperimentConfig::parse(raw, db);
  auto space = cfg.make_space();
  auto store = store::Store::open(db, *space);
  const std::string path = run::write_report(f.run, *store, *space, cfg.objective);
  fmt::print("wrote {} ({} trials)\n", path, store->trials().size());
  return 0;
}

}  // namespace nascent::cli
