// Plain 3x3 conv networks for the latency tests (tests/estimate/latency*_test.cpp).
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <memory>

#include "nascent/core/rng.h"
#include "nascent/space/cnn.h"
#include "nascent/space/network.h"

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

// The space's one network for `task`, with weights from torch seed 0.
inline std::shared_ptr<space::Network> plain_cnn_net(const space::CnnSpace& space, const Task& task) {
  Rng rng(1);
  torch::manual_seed(0);
  return space.build(space.sample(rng), task, 1.0);
}

}  // namespace nascent::estimate::test_nets
