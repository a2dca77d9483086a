#include "nascent/space/registry.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <map>
#include <mutex>

#include "nascent/core/config.h"
#include "nascent/core/error.h"
#include "nascent/space/chain.h"
#include "nascent/space/cnn.h"
#include "nascent/space/darts.h"
#include "nascent/space/declared.h"
#include "nascent/space/mbconv.h"
#include "nascent/space/mlp.h"
#include "nascent/space/nb201.h"
#include "nascent/space/transformer.h"

namespace nascent::space {
namespace {

std::map<std::string, SpaceInfo>& table() {
  static std::map<std::string, SpaceInfo> t;
  static std::once_flag builtins;
  std::call_once(builtins, [] {
    t["chain"] = {"chain", "macro chain CNN: per stage blocks, op, kernel, width, activation, skip",
                  [](ConfigSection& o) { return std::make_unique<ChainSpace>(ChainOptions::from_config(o)); }};
    t["cnn"] = {"cnn",
                "plain and residual 3x3 conv+BN stages (VGG- and ResNet-like): stem, activation; per stage "
                "downsampling, blocks, kind, kernel, width, squeeze-excite",
                [](ConfigSection& o) { return std::make_unique<CnnSpace>(CnnOptions::from_config(o)); }};
    t["mbconv"] = {"mbconv",
                   "inverted-bottleneck chain (MobileNetV2/OFA): per stage depth; per block kernel, expansion, SE, "
                   "activation; width",
                   [](ConfigSection& o) { return std::make_unique<MbconvSpace>(MbconvOptions::from_config(o)); }};
    t["transformer"] = {
        "transformer",
        "text encoder (HAT/AutoFormer): layers, embedding width, activation; per layer heads and FFN width",
        [](ConfigSection& o) { return std::make_unique<TransformerSpace>(TransformerOptions::from_config(o)); }};
    t["mlp"] = {"mlp", "multi-layer perceptron for tabular data: layers, per-layer width, activation, dropout, norm",
                [](ConfigSection& o) { return std::make_unique<MlpSpace>(MlpOptions::from_config(o)); }};
    t["declared"] = {"declared", "a space written in the config: layers with {choice: [...]} fields (space.declared)",
                     [](ConfigSection& o) { return std::make_unique<DeclaredSpace>(DeclaredOptions::from_config(o)); }};
    t["darts"] = {"darts", "DARTS cells (Liu et al. 2019): normal + reduction cell, 4 nodes x 2 (input, op) of 8 ops",
                  [](ConfigSection& o) { return std::make_unique<DartsSpace>(DartsOptions::from_config(o)); }};
    t["nb201"] = {"nb201",
                  "NAS-Bench-201 cell (Dong & Yang 2020): 6 edges x 5 operations in a fixed ResNet-like skeleton",
                  [](ConfigSection& o) { return std::make_unique<Nb201Space>(Nb201Options::from_config(o)); }};
  });
  return t;
}

}  // namespace

void register_space(SpaceInfo info) {
  NASCENT_CHECK(!info.name.empty() && info.factory, "a space needs a name and a factory");
  table()[info.name] = std::move(info);
}

std::unique_ptr<SearchSpace> make_space(const std::string& name, ConfigSection& options) {
  auto& t = table();
  auto it = t.find(name);
  if (it == t.end()) {
    std::vector<std::string> names;
    for (const auto& [n, _] : t) names.push_back(n);
    throw InputError(options.file(), "space.name",
                     fmt::format("unknown space '{}'; known: {}", name, fmt::join(names, ", ")));
  }
  return it->second.factory(options);
}

std::unique_ptr<SearchSpace> make_space(const std::string& name) {
  ConfigSection none(nlohmann::json::object(), "space." + name, "");
  return make_space(name, none);
}

std::vector<SpaceInfo> registered_spaces() {
  std::vector<SpaceInfo> out;
  for (const auto& [_, info] : table()) out.push_back(info);
  return out;
}

bool has_space(const std::string& name) { return table().count(name) > 0; }

}  // namespace nascent::space
