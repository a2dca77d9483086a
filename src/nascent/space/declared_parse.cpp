// Parsing a declared space from its YAML (as JSON): layer types, their fields, choice lists,
// residual and repeated blocks. Checks that every layer gets the kind of tensor it needs (an
// image for convolutions and pools, a vector for linear layers) so that a mistake is reported
// at its YAML path before any search starts.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>
#include <set>

#include "nascent/core/config.h"
#include "nascent/core/error.h"
#include "nascent/space/declared.h"
#include "nascent/space/ops.h"

namespace nascent::space {
namespace {

enum class Kind { kPositive, kOdd, kCount, kRate, kAct, kPoolKind, kBool };

struct FieldSpec {
  const char* name;
  Kind kind;
  const char* def;  // nullptr: required; "": optional without a default
};

const std::map<std::string, std::vector<FieldSpec>>& layer_types() {
  static const std::map<std::string, std::vector<FieldSpec>> t = {
      {"conv",
       {{"channels", Kind::kPositive, nullptr},
        {"kernel", Kind::kOdd, "3"},
        {"stride", Kind::kPositive, "1"},
        {"act", Kind::kAct, "relu"},
        {"bn", Kind::kBool, "true"}}},
      {"dwconv",
       {{"kernel", Kind::kOdd, "3"},
        {"stride", Kind::kPositive, "1"},
        {"act", Kind::kAct, "relu"},
        {"bn", Kind::kBool, "true"}}},
      {"pool", {{"kind", Kind::kPoolKind, "max"}, {"size", Kind::kPositive, "2"}, {"stride", Kind::kPositive, ""}}},
      {"global_pool", {{"kind", Kind::kPoolKind, "avg"}}},
      {"flatten", {}},
      {"batchnorm", {}},
      {"linear", {{"units", Kind::kPositive, nullptr}, {"act", Kind::kAct, "none"}}},
      {"dropout", {{"rate", Kind::kRate, nullptr}}},
      {"activation", {{"act", Kind::kAct, nullptr}}},
      {"residual", {}},
  };
  return t;
}

std::string type_list() {
  std::vector<std::string> names;
  for (const auto& [n, _] : layer_types()) names.push_back(n);
  return fmt::format("{}", fmt::join(names, ", "));
}

const char* expected(Kind k) {
  switch (k) {
    case Kind::kPositive:
      return "expected an integer >= 1 or a choice list";
    case Kind::kOdd:
      return "expected an odd integer or a choice list";
    case Kind::kCount:
      return "expected an integer >= 0 or a choice list";
    case Kind::kRate:
      return "expected a number from 0 to 0.95 or a choice list";
    case Kind::kAct:
      return "expected an activation (relu, relu6, hswish, swish, gelu, sigmoid, tanh, none) or a choice list";
    case Kind::kPoolKind:
      return "expected max or avg, or a choice list";
    case Kind::kBool:
      return "expected true or false, or a choice list";
  }
  return "";
}

// One fixed value as option text, or nullopt when it is not valid for the kind.
std::optional<std::string> option_text(Kind k, const nlohmann::json& v) {
  auto integer = [&](int64_t lo) -> std::optional<int64_t> {
    if (v.is_number_integer() && v.get<int64_t>() >= lo && v.get<int64_t>() <= 65536) return v.get<int64_t>();
    return std::nullopt;
  };
  switch (k) {
    case Kind::kPositive:
      if (auto i = integer(1)) return std::to_string(*i);
      return std::nullopt;
    case Kind::kOdd:
      if (auto i = integer(1); i && *i % 2 == 1) return std::to_string(*i);
      return std::nullopt;
    case Kind::kCount:
      if (auto i = integer(0); i && *i <= 64) return std::to_string(*i);
      return std::nullopt;
    case Kind::kRate:
      if (v.is_number() && v.get<double>() >= 0 && v.get<double>() <= 0.95) return fmt::format("{:g}", v.get<double>());
      return std::nullopt;
    case Kind::kAct:
      if (v.is_string() && is_activation(v.get<std::string>())) return v.get<std::string>();
      return std::nullopt;
    case Kind::kPoolKind:
      if (v.is_string() && (v.get<std::string>() == "max" || v.get<std::string>() == "avg"))
        return v.get<std::string>();
      return std::nullopt;
    case Kind::kBool:
      if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
      return std::nullopt;
  }
  return std::nullopt;
}

class Parser {
 public:
  explicit Parser(const ConfigSection& sec) : file_(sec.file()) {}

  [[noreturn]] void fail(const std::string& path, const std::string& problem) const {
    throw InputError(file_, path, problem);
  }

  // A fixed value or {choice: [...]}; a choice adds a decision named `name`.
  DeclaredValue value(Kind k, const nlohmann::json& v, const std::string& path, const std::string& name,
                      const std::optional<Condition>& when) {
    if (v.is_object()) {
      auto c = v.find("choice");
      if (c == v.end() || v.size() != 1 || !c->is_array() || c->empty())
        fail(path, std::string(expected(k)) + " ({choice: [a, b, ...]})");
      Decision d{name, {}, when};
      for (size_t i = 0; i < c->size(); ++i) {
        auto text = option_text(k, (*c)[i]);
        if (!text) fail(fmt::format("{}.choice[{}]", path, i), expected(k));
        if (std::find(d.options.begin(), d.options.end(), *text) != d.options.end())
          fail(fmt::format("{}.choice[{}]", path, i), fmt::format("{} is listed twice", *text));
        d.options.push_back(*text);
      }
      decisions.push_back(d);
      return {"", static_cast<int>(decisions.size()) - 1};
    }
    auto text = option_text(k, v);
    if (!text) fail(path, expected(k));
    return {*text, -1};
  }

  // Parses a list of layers that starts on a tensor of `kind` ("image" | "vector"); returns the
  // kind it ends with.
  std::string layers(const nlohmann::json& list, const std::string& path, const std::string& name, std::string kind,
                     const std::optional<Condition>& when, std::vector<DeclaredLayer>& out) {
    if (!list.is_array() || list.empty()) fail(path, "expected a non-empty list of layers");
    for (size_t i = 0; i < list.size(); ++i)
      kind = layer(list[i], fmt::format("{}[{}]", path, i), fmt::format("{}.{}", name, i), kind, when, out);
    return kind;
  }

  std::vector<Decision> decisions;

 private:
  std::string layer(const nlohmann::json& j, const std::string& path, const std::string& name, const std::string& kind,
                    const std::optional<Condition>& when, std::vector<DeclaredLayer>& out) {
    if (!j.is_object() || (!j.contains("type") && !j.contains("repeat")))
      fail(path, "expected a layer {type: ..., ...} (types: " + type_list() +
                     ") or a repeat block {repeat: N, layers: [...]}");
    // Repeat blocks copy their layers once per count, and nested ones multiply: a few lines could
    // declare billions of layers. No network built on a CPU comes near this many.
    if (++parsed_ > kMaxLayers)
      fail(path, fmt::format("the space has more than {} layers once repeat blocks are expanded (nested repeats "
                             "multiply); declare fewer",
                             kMaxLayers));
    DeclaredLayer l;
    l.path = path;
    if (j.contains("repeat")) return repeat(j, path, name, kind, when, out);
    if (!j["type"].is_string() || !layer_types().count(j["type"].get<std::string>()))
      fail(path + ".type", fmt::format("unknown layer type {}; expected one of: {}", j["type"].dump(), type_list()));
    l.type = j["type"].get<std::string>();
    const auto& specs = layer_types().at(l.type);
    std::vector<std::string> known{"type"};
    for (const auto& f : specs) known.push_back(f.name);
    if (l.type == "residual") known.push_back("layers");
    for (auto it = j.begin(); it != j.end(); ++it)
      if (std::find(known.begin(), known.end(), it.key()) == known.end())
        fail(path + "." + it.key(),
             fmt::format("unknown field for {}; expected one of: {}", l.type, fmt::join(known, ", ")));
    for (const auto& f : specs) {
      auto v = j.find(f.name);
      if (v == j.end() || v->is_null()) {
        if (!f.def) fail(path + "." + f.name, fmt::format("missing; a {} layer needs {}", l.type, f.name));
        if (*f.def) l.fields[f.name] = {f.def, -1};
        continue;
      }
      l.fields[f.name] = value(f.kind, *v, path + "." + f.name, name + "." + f.name, when);
    }
    std::string next = kind;
    const bool needs_image = l.type == "conv" || l.type == "dwconv" || l.type == "pool" || l.type == "global_pool";
    if (needs_image && kind != "image")
      fail(path, fmt::format("a {} layer needs an image input [C, H, W], but here the input is a vector", l.type));
    if (l.type == "linear" && kind != "vector")
      fail(path, "a linear layer needs a vector input; add {type: global_pool} or {type: flatten} before it");
    if (l.type == "global_pool" || l.type == "flatten") next = "vector";
    if (l.type == "residual") {
      if (!j.contains("layers")) fail(path + ".layers", "missing; a residual block lists its layers");
      const std::string end = layers(j["layers"], path + ".layers", name + ".layers", kind, when, l.body);
      if (end != kind) fail(path + ".layers", "a residual block must end with the kind of tensor it starts with");
    }
    out.push_back(std::move(l));
    return next;
  }

  std::string repeat(const nlohmann::json& j, const std::string& path, const std::string& name, const std::string& kind,
                     const std::optional<Condition>& when, std::vector<DeclaredLayer>& out) {
    for (auto it = j.begin(); it != j.end(); ++it)
      if (it.key() != "repeat" && it.key() != "layers")
        fail(path + "." + it.key(), "unknown field for a repeat block; expected repeat, layers");
    if (!j.contains("layers")) fail(path + ".layers", "missing; a repeat block lists the layers it repeats");
    DeclaredLayer l;
    l.type = "repeat";
    l.path = path;
    l.count = value(Kind::kCount, j["repeat"], path + ".repeat", name + ".repeat", when);
    std::vector<int64_t> counts;
    if (l.count.decision >= 0) {
      for (const auto& o : decisions[l.count.decision].options) counts.push_back(std::stoll(o));
    } else {
      counts.push_back(std::stoll(l.count.fixed));
    }
    const int64_t max_count = *std::max_element(counts.begin(), counts.end());
    // Copy k's choices exist only when the count is at least k (single-parent conditions chain
    // through the count decision's own condition).
    for (int64_t k = 1; k <= std::max<int64_t>(1, max_count); ++k) {
      std::optional<Condition> copy_when = when;
      if (l.count.decision >= 0)
        if (auto c = count_at_least(decisions[l.count.decision], k)) copy_when = c;
      std::vector<DeclaredLayer> copy;
      const size_t before = decisions.size();
      const std::string end =
          layers(j["layers"], path + ".layers", fmt::format("{}.copy{}.layers", name, k), kind, copy_when, copy);
      if (end != kind) fail(path + ".layers", "a repeated block must end with the kind of tensor it starts with");
      if (k > max_count)
        decisions.resize(before);  // count fixed at 0: checked, never built
      else
        l.copies.push_back(std::move(copy));
    }
    out.push_back(std::move(l));
    return kind;
  }

  static constexpr int64_t kMaxLayers = 10000;
  std::string file_;
  int64_t parsed_ = 0;  // layers parsed so far, every copy of a repeated block counted
};

}  // namespace

DeclaredOptions DeclaredOptions::from_config(ConfigSection& sec) {
  DeclaredOptions o;
  o.input = sec.get_choice("input", o.input, {"image", "vector"});
  const nlohmann::json layers = sec.get_json("layers");
  if (layers.is_null()) sec.fail("layers", "missing; a declared space lists its layers (see docs/spaces/declared.md)");
  Parser p(sec);
  p.layers(layers, sec.field_path("layers"), "layers", o.input, std::nullopt, o.layers);
  if (p.decisions.empty())
    sec.fail("layers", "no field is a choice list ({choice: [...]}), so there is nothing to search");
  o.decisions = std::move(p.decisions);
  sec.finish();
  return o;
}

}  // namespace nascent::space
