// Plain 3x3 conv networks for the latency tests (tests/estimate/latency*_test.cpp).
#pragma once

#include <cstdint>

#include "nascent/space/cnn.h"

namespace nascent::estimate::test_nets {

// Stem and first stage at 28x28, second stage at 14x14 (strided), `width` channels throughout,
// `blocks` conv+BN+ReLU blocks per stage: the space holds one architecture.
inline space::CnnSpace plain_cnn_space(int64_t width, int64_t blocks = 1) {
  space::CnnOptions so;
  so.stems = {width};
  so.widths = {{width}, {width}};
  so.blocks = {blocks};
  so.kinds = {"plain"};
  so.downsamples = {"stride"};
  so.se = {"no"};
  so.activations = {"relu"};
  return space::CnnSpace(so);
}

}  // namespace nascent::estimate::test_nets
