// How cheaply a candidate is evaluated: epochs, fraction of the training data, input resolution
// and width multiplier. Fidelity::full() is the reference; lower values are cheaper estimates.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>

namespace nascent {

struct Fidelity {
  double epochs = 1;         // training epochs (fractional epochs allowed: 0.5 = half an epoch)
  double data_fraction = 1;  // fraction of the training split used, in (0, 1]
  int resolution = 0;        // input side in pixels; 0 = the dataset's own
  double width_mult = 1;     // multiplies every channel count of the built network

  static Fidelity full(double epochs) { return Fidelity{epochs, 1, 0, 1}; }

  // Compact, stable text used as a key and in trials.csv: "e=2,d=0.2" (+ ",r=20,w=0.5").
  std::string key() const;
  nlohmann::json to_json() const;
  static Fidelity from_json(const nlohmann::json& j);

  bool operator==(const Fidelity& o) const { return key() == o.key(); }
  bool operator!=(const Fidelity& o) const { return !(*this == o); }
};

}  // namespace nascent
