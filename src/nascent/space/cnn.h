// `cnn`: plain and residual 3x3 conv+BN stages, the networks people write by hand for small
// images (VGG-style stacks, small ResNets) and every variant between them. A stem conv at full
// resolution, then stages; each stage after the first halves the resolution, by a 2x2 max-pool
// or by a stride-2 first convolution; global average pooling and a linear head. Fast on a CPU:
// dense 3x3 convolutions run in oneDNN's best kernels, unlike depthwise ones.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "nascent/space/space.h"

namespace nascent {
class ConfigSection;
}

namespace nascent::space {

struct CnnOptions {
  std::vector<int64_t> stems = {16, 24, 32};    // stem conv width options
  std::vector<std::vector<int64_t>> widths = {  // width options, one list per stage
      {16, 24, 32, 48},
      {32, 48, 64, 80},
      {48, 64, 80, 96}};
  std::vector<int64_t> blocks = {1, 2, 3};  // blocks-per-stage options
  // Per-stage block options, overriding `blocks` when not empty (one list per stage); 0 is an
  // option here: the stage is left out, with its downsampling, so the depth in stages is searched.
  std::vector<std::vector<int64_t>> stage_blocks;
  std::vector<std::string> kinds = {"plain", "residual"};        // plain: conv-BN-act; residual: two of them + skip
  std::vector<int64_t> kernels = {3};                            // kernel-size options per stage
  std::vector<std::string> downsamples = {"maxpool", "stride"};  // how stages 2.. halve the resolution
  std::vector<std::string> se = {"no", "yes"};                   // squeeze-excite at the end of each block
  std::vector<std::string> activations = {"relu", "hswish"};     // one for the whole network
  double dropout = 0;                                            // before the head (fixed, not searched)

  static CnnOptions from_config(ConfigSection& section);
};

class CnnSpace : public SearchSpace {
 public:
  explicit CnnSpace(CnnOptions options = {});

  std::string describe(const Arch& arch) const override;
  std::shared_ptr<Network> build(const Arch& arch, const Task& task, double width_mult) const override;
  bool supports(const Task& task) const override;

  struct Stage {
    int blocks;
    bool residual;
    int kernel;
    int64_t width;
    bool se;
    std::string down;  // "" for the first stage, else maxpool | stride
  };
  struct Plan {
    int64_t stem;
    std::string act;
    std::vector<Stage> stages;
  };
  // The stages that exist (blocks > 0), in order.
  Plan plan(const Arch& arch) const;
  const CnnOptions& options() const { return options_; }

 private:
  CnnOptions options_;
};

}  // namespace nascent::space
