#include "nascent/core/config.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <yaml-cpp/yaml.h>

#include <cmath>
#include <fstream>
#include <sstream>

#include "nascent/core/error.h"

namespace nascent {

ConfigSection::ConfigSection(nlohmann::json node, std::string path, std::string file)
    : node_(std::move(node)), path_(std::move(path)), file_(std::move(file)) {
  if (node_.is_null()) node_ = nlohmann::json::object();
  if (!node_.is_object()) throw InputError(file_, path_, "expected a mapping of options");
}

std::string ConfigSection::field_path(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }

void ConfigSection::fail(const std::string& key, const std::string& problem) const {
  throw InputError(file_, field_path(key), problem);
}

bool ConfigSection::has(const std::string& key) const { return node_.contains(key); }

const nlohmann::json* ConfigSection::find(const std::string& key) {
  read_.insert(key);
  auto it = node_.find(key);
  if (it == node_.end() || it->is_null()) return nullptr;
  return &*it;
}

int64_t ConfigSection::get_int(const std::string& key, int64_t def, int64_t lo, int64_t hi) {
  const nlohmann::json* v = find(key);
  int64_t x = def;
  if (v) {
    if (v->is_number_integer()) {
      x = v->get<int64_t>();
    } else if (v->is_number_float() && std::floor(v->get<double>()) == v->get<double>()) {
      x = static_cast<int64_t>(v->get<double>());
    } else {
      fail(key, fmt::format("expected an integer, got {}", v->dump()));
    }
  }
  if (x < lo || x > hi) fail(key, fmt::format("{} is out of range; expected {} to {}", x, lo, hi));
  return x;
}

double ConfigSection::get_double(const std::string& key, double def, double lo, double hi) {
  const nlohmann::json* v = find(key);
  double x = def;
  if (v) {
    if (!v->is_number()) fail(key, fmt::format("expected a number, got {}", v->dump()));
    x = v->get<double>();
  }
  if (!(x >= lo && x <= hi)) fail(key, fmt::format("{:g} is out of range; expected {:g} to {:g}", x, lo, hi));
  return x;
}

bool ConfigSection::get_bool(const std::string& key, bool def) {
  const nlohmann::json* v = find(key);
  if (!v) return def;
  if (!v->is_boolean()) fail(key, fmt::format("expected true or false, got {}", v->dump()));
  return v->get<bool>();
}

std::string ConfigSection::get_string(const std::string& key, const std::string& def) {
  const nlohmann::json* v = find(key);
  if (!v) return def;
  if (v->is_string()) return v->get<std::string>();
  if (v->is_number()) return v->dump();
  fail(key, fmt::format("expected a string, got {}", v->dump()));
}

std::string ConfigSection::get_choice(const std::string& key, const std::string& def,
                                      const std::vector<std::string>& allowed) {
  std::string s = get_string(key, def);
  for (const auto& a : allowed)
    if (a == s) return s;
  fail(key, fmt::format("'{}' is not one of: {}", s, fmt::join(allowed, ", ")));
}

std::vector<std::string> ConfigSection::get_strings(const std::string& key, const std::vector<std::string>& def) {
  const nlohmann::json* v = find(key);
  if (!v) return def;
  std::vector<std::string> out;
  if (!v->is_array()) fail(key, fmt::format("expected a list, got {}", v->dump()));
  for (const auto& e : *v) {
    if (e.is_string())
      out.push_back(e.get<std::string>());
    else if (e.is_number())
      out.push_back(e.dump());
    else
      fail(key, fmt::format("expected a list of strings, got element {}", e.dump()));
  }
  return out;
}

std::vector<int64_t> ConfigSection::get_ints(const std::string& key, const std::vector<int64_t>& def, int64_t lo,
                                             int64_t hi) {
  const nlohmann::json* v = find(key);
  std::vector<int64_t> out = def;
  if (v) {
    if (!v->is_array() || v->empty())
      fail(key, fmt::format("expected a non-empty list of integers, got {}", v->dump()));
    out.clear();
    for (const auto& e : *v) {
      if (!e.is_number_integer()) fail(key, fmt::format("expected a list of integers, got element {}", e.dump()));
      out.push_back(e.get<int64_t>());
    }
  }
  for (int64_t x : out)
    if (x < lo || x > hi) fail(key, fmt::format("{} is out of range; expected {} to {}", x, lo, hi));
  return out;
}

std::vector<double> ConfigSection::get_doubles(const std::string& key, const std::vector<double>& def, double lo,
                                               double hi) {
  const nlohmann::json* v = find(key);
  std::vector<double> out = def;
  if (v) {
    if (!v->is_array() || v->empty()) fail(key, fmt::format("expected a non-empty list of numbers, got {}", v->dump()));
    out.clear();
    for (const auto& e : *v) {
      if (!e.is_number()) fail(key, fmt::format("expected a list of numbers, got element {}", e.dump()));
      out.push_back(e.get<double>());
    }
  }
  for (double x : out)
    if (!(x >= lo && x <= hi)) fail(key, fmt::format("{:g} is out of range; expected {:g} to {:g}", x, lo, hi));
  return out;
}

nlohmann::json ConfigSection::get_json(const std::string& key) {
  const nlohmann::json* v = find(key);
  return v ? *v : nlohmann::json();
}

ConfigSection ConfigSection::child(const std::string& key) {
  const nlohmann::json* v = find(key);
  if (v && !v->is_object()) fail(key, "expected a mapping of options, got " + v->dump());
  return ConfigSection(v ? *v : nlohmann::json::object(), field_path(key), file_);
}

void ConfigSection::finish() const {
  std::vector<std::string> known(read_.begin(), read_.end());
  for (auto it = node_.begin(); it != node_.end(); ++it) {
    if (!read_.count(it.key())) {
      throw InputError(file_, field_path(it.key()),
                       known.empty() ? "unknown field; this section takes no options"
                                     : fmt::format("unknown field; expected one of: {}", fmt::join(known, ", ")));
    }
  }
}

namespace {
// YAML aliases share nodes, so a few lines can stand for billions of values ("billion laughs");
// converting them to JSON would never end. No real config comes near this many values.
constexpr int64_t kMaxYamlValues = 1000000;

// Thrown by yaml_to_json when the budget runs out; the callers turn it into an InputError.
struct TooManyValues {};

// Thrown by yaml_to_json for text that is not UTF-8 (a config saved as Latin-1): JSON cannot hold
// it, so it could neither be stored with the run nor shown in a message.
struct NotUtf8 {
  int64_t line;
};

const std::string& utf8(const std::string& s, const YAML::Node& n) {
  try {
    (void)nlohmann::json(s).dump();
  } catch (const nlohmann::json::type_error&) {
    throw NotUtf8{n.Mark().line + 1};
  }
  return s;
}

nlohmann::json yaml_to_json(const YAML::Node& n, int64_t& budget) {
  if (--budget < 0) throw TooManyValues{};
  switch (n.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return nullptr;
    case YAML::NodeType::Sequence: {
      nlohmann::json a = nlohmann::json::array();
      for (const auto& e : n) a.push_back(yaml_to_json(e, budget));
      return a;
    }
    case YAML::NodeType::Map: {
      nlohmann::json o = nlohmann::json::object();
      for (const auto& kv : n) o[utf8(kv.first.as<std::string>(), kv.first)] = yaml_to_json(kv.second, budget);
      return o;
    }
    case YAML::NodeType::Scalar: {
      const std::string& s = utf8(n.Scalar(), n);
      if (n.Tag() == "!") return s;  // quoted: always a string
      bool b;
      if (YAML::convert<bool>::decode(n, b) && s != "y" && s != "n" && s != "Y" && s != "N") return b;
      if (s == "~" || s == "null") return nullptr;
      // Integers and floats the way YAML 1.2 core schema reads them.
      char* end = nullptr;
      errno = 0;
      long long i = std::strtoll(s.c_str(), &end, 10);
      if (!s.empty() && *end == '\0' && errno == 0) return static_cast<int64_t>(i);
      double d = std::strtod(s.c_str(), &end);
      if (!s.empty() && *end == '\0' && s.find_first_of("0123456789") != std::string::npos) return d;
      return s;
    }
  }
  return nullptr;
}

nlohmann::json yaml_to_json(const YAML::Node& n) {
  int64_t budget = kMaxYamlValues;
  return yaml_to_json(n, budget);
}

const std::string kTooManyValues = fmt::format(
    "more than {} values once YAML aliases (*name) are expanded; a config is never this large", kMaxYamlValues);
}  // namespace

nlohmann::json load_config_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw InputError(path, "", "cannot open the config file");
  std::stringstream ss;
  ss << in.rdbuf();
  try {
    YAML::Node root = YAML::Load(ss.str());
    nlohmann::json j = yaml_to_json(root);
    if (!j.is_object()) throw InputError(path, "", "expected a mapping of sections at the top level");
    return j;
  } catch (const YAML::Exception& e) {
    throw InputError(path, fmt::format("line {}", e.mark.line + 1), e.msg);
  } catch (const TooManyValues&) {
    throw InputError(path, "", kTooManyValues);
  } catch (const NotUtf8& e) {
    throw InputError(path, fmt::format("line {}", e.line), "not UTF-8 text; save the file as UTF-8");
  }
}

namespace {

void emit(YAML::Emitter& out, const nlohmann::json& j) {
  if (j.is_object()) {
    out << YAML::BeginMap;
    for (const auto& [k, v] : j.items()) {
      out << YAML::Key << k << YAML::Value;
      emit(out, v);
    }
    out << YAML::EndMap;
  } else if (j.is_array()) {
    // Lists of scalars on one line, as people write them.
    bool scalars = true;
    for (const auto& e : j) scalars = scalars && !e.is_structured();
    if (scalars) out << YAML::Flow;
    out << YAML::BeginSeq;
    for (const auto& e : j) emit(out, e);
    out << YAML::EndSeq;
  } else if (j.is_string()) {
    // Quoted when YAML would read it as another type ("no", "1e3", "").
    const std::string s = j.get<std::string>();
    const nlohmann::json back = parse_yaml_value(s.empty() ? "''" : s, "");
    if (back.is_string() && back.get<std::string>() == s)
      out << s;
    else
      out << YAML::DoubleQuoted << s;
  } else if (j.is_boolean()) {
    out << j.get<bool>();
  } else if (j.is_number_integer()) {
    out << j.get<int64_t>();
  } else if (j.is_number()) {
    out << fmt::format("{}", j.get<double>());  // the shortest text that reads back the same
  } else {
    out << YAML::Null;
  }
}

}  // namespace

std::string to_yaml(const nlohmann::json& config) {
  YAML::Emitter out;
  emit(out, config);
  return std::string(out.c_str()) + "\n";
}

nlohmann::json parse_yaml_value(const std::string& text, const std::string& where) {
  try {
    return yaml_to_json(YAML::Load(text));
  } catch (const YAML::Exception& e) {
    throw InputError("--set", where, "cannot parse value '" + text + "': " + e.msg);
  } catch (const TooManyValues&) {
    throw InputError("--set", where, kTooManyValues);
  } catch (const NotUtf8&) {
    throw InputError("--set", where, "the value is not UTF-8 text");
  }
}

void apply_override(nlohmann::json& config, const std::string& assignment) {
  const auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0)
    throw InputError("--set", assignment, "expected KEY=VALUE with a dotted KEY such as fidelity.epochs=2");
  const std::string key = assignment.substr(0, eq);
  nlohmann::json* node = &config;
  size_t start = 0;
  while (true) {
    const size_t dot = key.find('.', start);
    const std::string part = key.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (part.empty()) throw InputError("--set", key, "empty component in the dotted key");
    if (!node->is_object()) {
      if (!node->is_null()) throw InputError("--set", key, "'" + part + "' is under a value, not a section");
      *node = nlohmann::json::object();
    }
    node = &(*node)[part];
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  *node = parse_yaml_value(assignment.substr(eq + 1), key);
}

}  // namespace nascent
