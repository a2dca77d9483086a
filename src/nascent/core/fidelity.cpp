#include "nascent/core/fidelity.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

namespace nascent {

std::string Fidelity::key() const {
  std::string k = fmt::format("e={:g},d={:g}", epochs, data_fraction);
  if (resolution > 0) k += fmt::format(",r={}", resolution);
  if (width_mult != 1) k += fmt::format(",w={:g}", width_mult);
  return k;
}

nlohmann::json Fidelity::to_json() const {
  return {{"epochs", epochs}, {"data_fraction", data_fraction}, {"resolution", resolution}, {"width_mult", width_mult}};
}

Fidelity Fidelity::from_json(const nlohmann::json& j) {
  Fidelity f;
  f.epochs = j.value("epochs", f.epochs);
  f.data_fraction = j.value("data_fraction", f.data_fraction);
  f.resolution = j.value("resolution", f.resolution);
  f.width_mult = j.value("width_mult", f.width_mult);
  return f;
}

}  // namespace nascent
