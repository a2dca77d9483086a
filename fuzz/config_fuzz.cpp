// The experiment config as `nascent search --config F --set K=V ...` reads it: the YAML file,
// then each `--set`, then the whole config validated (every section, the space's and strategy's
// options) and the space built from it. Input: the YAML text, optionally followed by a line
// "--set" and one KEY=VALUE assignment per line.
#include <string>
#include <vector>

#include "fuzz/fuzz_support.h"
#include "nascent/core/config.h"
#include "nascent/run/experiment.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const size_t sep = text.find("\n--set\n");
  const std::string yaml = text.substr(0, sep);
  std::vector<std::string> sets;
  if (sep != std::string::npos) {
    size_t start = sep + 7;
    while (start <= text.size()) {
      const size_t end = text.find('\n', start);
      sets.push_back(text.substr(start, end == std::string::npos ? std::string::npos : end - start));
      if (end == std::string::npos) break;
      start = end + 1;
    }
  }
  const std::string path =
      nascent::fuzz::write_input("config.yaml", reinterpret_cast<const uint8_t*>(yaml.data()), yaml.size());
  nascent::fuzz::expect_only_input_errors([&] {
    nlohmann::json raw = nascent::load_config_file(path);
    for (const std::string& s : sets) nascent::apply_override(raw, s);
    const auto cfg = nascent::run::ExperimentConfig::parse(raw, path);
    const auto space = cfg.make_space();
    // What a search stores and `--resume` reads back.
    const std::string yaml_again = nascent::to_yaml(cfg.raw);
    (void)yaml_again;
  });
  return 0;
}
