// `mlp`: multi-layer perceptrons for tabular data (and flattened images). Decisions: the number
// of hidden layers, each layer's width, and one activation, dropout rate and normalisation
// (none, batch, layer) for the whole network. Layers beyond the chosen depth are inactive.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "nascent/space/space.h"

namespace nascent::space {

struct MlpOptions {
  std::vector<int64_t> layers = {1, 2, 3, 4};        // hidden-layer count options
  std::vector<int64_t> widths = {32, 64, 128, 256};  // units options of every hidden layer
  std::vector<std::string> activations = {"relu", "gelu", "swish", "tanh"};
  std::vector<double> dropouts = {0.0, 0.1, 0.3};               // dropout after each hidden layer
  std::vector<std::string> norms = {"none", "batch", "layer"};  // normalisation after each linear layer

  static MlpOptions from_config(ConfigSection& section);
};

class MlpSpace : public SearchSpace {
 public:
  explicit MlpSpace(MlpOptions options = {});

  // Decoded architecture.
  struct Layout {
    std::vector<int64_t> widths;  // one per hidden layer
    std::string act, norm;
    double dropout = 0;
  };
  Layout layout(const Arch& arch) const;

  std::string describe(const Arch& arch) const override;
  std::shared_ptr<Network> build(const Arch& arch, const Task& task, double width_mult) const override;
  // Tabular features [F], or images [C, H, W] flattened.
  bool supports(const Task& task) const override;
  Task default_task() const override;

 private:
  MlpOptions options_;
};

}  // namespace nascent::space
