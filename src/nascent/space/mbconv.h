// `mbconv`: a MobileNetV2 / MnasNet / Once-for-All style chain of inverted-bottleneck blocks
// (Sandler et al. 2018; Tan et al. 2019; Cai et al. 2020). Per stage a depth; per block (up to
// the largest depth; blocks beyond the stage's depth are inactive) a kernel, an expansion ratio,
// squeeze-and-excitation on/off and an activation; one width multiplier for all stages. Fixed
// stem (3x3 conv) and head (1x1 conv to `head` features, global pool, linear).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "nascent/space/space.h"

namespace nascent::space {

struct MbconvOptions {
  int64_t stem = 16;                                          // stem conv channels
  int64_t stem_stride = 1;                                    // 1 keeps 28x28 inputs at full resolution
  std::vector<int64_t> widths = {24, 40, 80};                 // output channels per stage (before the multiplier)
  std::vector<int64_t> strides = {2, 2, 2};                   // stride of each stage's first block
  std::vector<int64_t> depths = {2, 3, 4};                    // blocks-per-stage options
  std::vector<int64_t> kernels = {3, 5, 7};                   // depthwise kernel options (odd)
  std::vector<int64_t> expansions = {3, 4, 6};                // expansion ratio options
  bool se = true;                                             // offer squeeze-and-excitation (no/yes) per block
  std::vector<std::string> activations = {"relu", "hswish"};  // activation options per block
  std::vector<double> width_mults = {0.75, 1.0, 1.25};        // width multiplier options (one decision)
  int64_t head = 256;                                         // channels of the 1x1 head conv before pooling

  static MbconvOptions from_config(ConfigSection& section);
};

class MbconvSpace : public SearchSpace {
 public:
  explicit MbconvSpace(MbconvOptions options = {});

  struct Block {
    int64_t kernel = 3, expand = 1;
    bool se = false;
    std::string act;
  };
  struct Layout {
    double width_mult = 1;
    std::vector<std::vector<Block>> stages;  // the active blocks of each stage
  };
  Layout layout(const Arch& arch) const;
  const MbconvOptions& options() const { return options_; }

  std::string describe(const Arch& arch) const override;
  std::shared_ptr<Network> build(const Arch& arch, const Task& task, double width_mult) const override;
  // OFA / SPOS-style weight sharing; see mbconv_supernet.cpp.
  std::shared_ptr<Supernet> build_supernet(const Task& task, const SupernetOptions& options) const override;

  // Decision names, shared with the supernet.
  static std::string block_prefix(size_t stage, size_t block);  // "s1_b2_"
  static std::string depth_name(size_t stage);                  // "s1_depth"

 private:
  MbconvOptions options_;
};

// Channels of an SE bottleneck for `mid` expanded channels (MobileNetV3: a quarter).
int64_t se_channels(int64_t mid);

}  // namespace nascent::space
