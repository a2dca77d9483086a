// `chain`: a macro chain CNN. Per stage: number of blocks, operation (plain conv, depthwise-
// separable conv, inverted bottleneck with expansion ratio), kernel size, width, activation and
// an optional residual skip. The stem runs at full resolution; the first block of each stage
// applies the stage's stride (28x28 input: stages at 14, 7 and 4 pixels).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "nascent/space/space.h"

namespace nascent {
class ConfigSection;
}

namespace nascent::space {

struct ChainOptions {
  int64_t stem = 16;                            // stem conv channels
  std::vector<std::vector<int64_t>> widths = {  // width options, one list per stage
      {16, 24, 32, 48},
      {32, 48, 64, 96},
      {64, 96, 128, 160}};
  std::vector<int64_t> strides = {2, 2, 2};     // stride of each stage's first block
  std::vector<int64_t> blocks = {1, 2, 3};      // blocks-per-stage options
  std::vector<int64_t> kernels = {3, 5, 7};     // kernel-size options
  std::vector<int64_t> expansions = {2, 4, 6};  // inverted-bottleneck expansion options
  std::vector<std::string> activations = {"relu", "hswish", "swish", "gelu"};

  static ChainOptions from_config(ConfigSection& section);
};

class ChainSpace : public SearchSpace {
 public:
  explicit ChainSpace(ChainOptions options = {});

  std::string describe(const Arch& arch) const override;
  std::shared_ptr<Network> build(const Arch& arch, const Task& task, double width_mult) const override;

  // One stage's choices, decoded.
  struct Stage {
    int blocks;
    std::string op;  // conv | sepconv | mbconv
    int expand;      // only for mbconv
    int kernel;
    int64_t width;
    std::string act;
    bool skip;
    int stride;
  };
  std::vector<Stage> stages(const Arch& arch) const;
  const ChainOptions& options() const { return options_; }

 private:
  ChainOptions options_;
};

}  // namespace nascent::space
