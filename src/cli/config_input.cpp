#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli/commands.h"
#include "nascent/core/config.h"
#include "nascent/core/error.h"
#include "nascent/data/dataset.h"
#include "nascent/run/outputs.h"
#include "nascent/space/registry.h"
#include "nascent/store/store.h"

namespace nascent::cli {

nlohmann::json load_config(const std::string& path, const std::vector<std::string>& sets) {
  nlohmann::json config = path.empty() ? nlohmann::json::object() : load_config_file(path);
  for (const auto& s : sets) apply_override(config, s);
  return config;
}

RunInputs resolve_run_inputs(const std::string& command, const std::string& run, const std::string& arch,
                             const std::string& config, const std::vector<std::string>& sets) {
  if (run.empty() == arch.empty())
    throw InputError(run.empty() ? "nascent " + command : run, run.empty() ? "--arch" : "--run",
                     "give either --run DIR (a search's run directory) or --arch FILE, not both and not neither");
  RunInputs r;
  r.run_dir = run;
  r.arch_path = arch.empty() ? (std::filesystem::path(run) / "best_arch.json").string() : arch;
  if (!std::filesystem::exists(r.arch_path))
    throw InputError(
        r.arch_path, arch.empty() ? "--run" : "--arch",
        arch.empty() ? "the run has no best_arch.json (did its search finish a trial?)" : "no such architecture file");
  if (r.run_dir.empty() && config.empty() && !arch.empty()) {
    const auto dir = std::filesystem::path(arch).parent_path();
    if (std::filesystem::exists((dir.empty() ? std::filesystem::path(".") : dir) / "experiment.db"))
      r.run_dir = dir.empty() ? "." : dir.string();
  }
  if (r.run_dir.empty()) {
    r.config = load_config(config, sets);
    r.config_name = config.empty() ? "--set" : config;
    return r;
  }
  if (!config.empty())
    throw InputError(config, "--config", "--run takes the config from the run's database; use --set to change a value");
  const std::string db = (std::filesystem::path(r.run_dir) / "experiment.db").string();
  if (!std::filesystem::exists(db))
    throw InputError(r.run_dir, "--run", "no experiment.db here: not the run directory of a search");
  r.config = store::Store::read_config(db);
  for (const auto& s : sets) apply_override(r.config, s);
  r.config_name = db;
  return r;
}

Task task_for_space(const space::SearchSpace& space, const nlohmann::json& config, const std::string& config_path) {
  if (!config.contains("task")) return space.default_task();
  ConfigSection root(config, "", config_path);
  ConfigSection sec = root.child("task");
  const data::TaskData data = data::load_task(data::TaskOptions::from_config(sec));
  if (!space.supports(data.task))
    throw InputError(config_path, "task",
                     fmt::format("space '{}' cannot build networks for {} data", space.name(), data.task.kind));
  return data.task;
}

nlohmann::json read_json_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw InputError(path, "", "cannot open file");
  std::stringstream ss;
  ss << in.rdbuf();
  try {
    return nlohmann::json::parse(ss.str());
  } catch (const nlohmann::json::exception& e) {
    throw InputError(path, "", std::string("not valid JSON: ") + e.what());
  }
}

ArchFile load_arch_file(const std::string& path, const nlohmann::json& config, const std::string& config_path) {
  const nlohmann::json j = read_json_file(path);
  if (!j.is_object() || !j.contains("space") || !j["space"].is_string())
    throw InputError(path, "space", "expected an architecture object with a \"space\" name");
  const std::string name = j["space"].get<std::string>();
  if (!space::has_space(name)) space::make_space(name);  // throws the unknown-space error
  ArchFile a;
  std::string source = path;
  if (j.contains("space_options")) {
    a.space_options = j["space_options"];
  } else if (config.contains("space") && config["space"].is_object() && config["space"].contains(name)) {
    a.space_options = config["space"][name];
    source = config_path;
  } else {
    a.space_options = nlohmann::json::object();
  }
  ConfigSection opts(a.space_options, j.contains("space_options") ? "space_options" : "space." + name, source);
  a.space = space::make_space(name, opts);
  a.arch = a.space->from_json(j, path);
  if (j.contains("task")) a.task = j["task"];
  return a;
}

void check_arch_task(const ArchFile& a, const std::string& arch_path, const Task& task,
                     const std::string& config_name) {
  if (const std::string why = run::task_mismatch(a.task, task); !why.empty())
    throw InputError(arch_path, "task",
                     fmt::format("{} (from {}); pass --run with the run directory it came from, or the run's config "
                                 "as --config",
                                 why, config_name));
}

}  // namespace nascent::cli
