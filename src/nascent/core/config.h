// Reading options from the experiment config. Each component reads its own section through a
// ConfigSection, which checks types and ranges and, on finish(), rejects any field nobody read,
// so a misspelled option is an error that names it rather than a silently ignored default.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

namespace nascent {

class ConfigSection {
 public:
  // node: this section's JSON (null = absent, all defaults); path: dotted path for messages
  // ("strategy.evolution"); file: the config file's name for messages.
  ConfigSection(nlohmann::json node, std::string path, std::string file);

  bool has(const std::string& key) const;
  int64_t get_int(const std::string& key, int64_t def, int64_t lo, int64_t hi);
  double get_double(const std::string& key, double def, double lo, double hi);
  bool get_bool(const std::string& key, bool def);
  std::string get_string(const std::string& key, const std::string& def);
  // One of `allowed`; the error lists them.
  std::string get_choice(const std::string& key, const std::string& def, const std::vector<std::string>& allowed);
  std::vector<std::string> get_strings(const std::string& key, const std::vector<std::string>& def);
  std::vector<int64_t> get_ints(const std::string& key, const std::vector<int64_t>& def, int64_t lo, int64_t hi);
  std::vector<double> get_doubles(const std::string& key, const std::vector<double>& def, double lo, double hi);
  // Raw JSON of a field (marked as read); null when absent.
  nlohmann::json get_json(const std::string& key);
  // A nested section; absent -> empty section with defaults.
  ConfigSection child(const std::string& key);

  // Throws InputError naming the first field that was never read.
  void finish() const;

  // Error helpers that name this section's field.
  [[noreturn]] void fail(const std::string& key, const std::string& problem) const;
  std::string field_path(const std::string& key) const;
  const std::string& path() const { return path_; }
  const std::string& file() const { return file_; }
  const nlohmann::json& node() const { return node_; }

 private:
  const nlohmann::json* find(const std::string& key);
  nlohmann::json node_;
  std::string path_;
  std::string file_;
  std::set<std::string> read_;
};

// Loads a YAML or JSON file into JSON (YAML is a superset; scalars are typed as YAML types them).
nlohmann::json load_config_file(const std::string& path);
// Parses one YAML scalar/flow value, as written after `--set key=`.
nlohmann::json parse_yaml_value(const std::string& text, const std::string& where);
// The config as YAML (block style, keys in JSON's order), loadable by load_config_file.
std::string to_yaml(const nlohmann::json& config);
// Applies `a.b.c=value` to config, creating objects along the path.
void apply_override(nlohmann::json& config, const std::string& assignment);

}  // namespace nascent
