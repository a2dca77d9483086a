// The space registry: names in configs and on the command line map to factories here. Built-in
// spaces are registered on first use; a program adds its own with register_space() before it
// runs a search, and from then on its space works with every strategy and command.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "nascent/space/space.h"

namespace nascent {
class ConfigSection;
}

namespace nascent::space {

// Reads the space's own options (and calls finish() on them) and builds the space.
using SpaceFactory = std::function<std::unique_ptr<SearchSpace>(ConfigSection& options)>;

struct SpaceInfo {
  std::string name;
  std::string summary;  // one line for `nascent spaces`
  SpaceFactory factory;
};

void register_space(SpaceInfo info);
// Throws InputError naming `options.path()` if the name is unknown.
std::unique_ptr<SearchSpace> make_space(const std::string& name, ConfigSection& options);
std::unique_ptr<SearchSpace> make_space(const std::string& name);  // all defaults
std::vector<SpaceInfo> registered_spaces();
bool has_space(const std::string& name);

}  // namespace nascent::space
