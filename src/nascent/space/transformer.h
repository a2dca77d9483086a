// `transformer`: a HAT / AutoFormer-style encoder space for character sequences (Wang et al.
// 2020, "HAT"; Chen et al. 2021, "AutoFormer"). Decisions: number of layers, embedding width,
// activation, and per layer the attention heads and FFN width (layers beyond the chosen depth
// are inactive). Pre-LayerNorm blocks with learned positions; a next-token head (causal
// attention, language modelling) or a classification head (mean over non-padding positions),
// chosen by the task.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "nascent/space/space.h"

namespace nascent::space {

struct TransformerOptions {
  std::vector<int64_t> layers = {1, 2, 3, 4};       // encoder-layer count options
  std::vector<int64_t> embed_dims = {64, 96, 128};  // embedding width options (shared by all layers)
  std::vector<int64_t> heads = {2, 4};              // attention-head options per layer; must divide every embed_dim
  std::vector<int64_t> ffn_dims = {128, 256, 512};  // feed-forward hidden width options per layer
  std::vector<std::string> activations = {"relu", "gelu"};  // FFN activation options (one for the network)

  static TransformerOptions from_config(ConfigSection& section);
};

class TransformerSpace : public SearchSpace {
 public:
  explicit TransformerSpace(TransformerOptions options = {});

  struct Layout {
    int64_t embed = 0;
    std::string act;
    std::vector<int64_t> heads, ffn;  // one per layer
  };
  Layout layout(const Arch& arch) const;

  std::string describe(const Arch& arch) const override;
  std::shared_ptr<Network> build(const Arch& arch, const Task& task, double width_mult) const override;
  bool supports(const Task& task) const override;  // text: token ids [T] with a vocabulary
  Task default_task() const override;              // character LM: 64 positions, 99 tokens

 private:
  TransformerOptions options_;
};

}  // namespace nascent::space
