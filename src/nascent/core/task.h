// What is learned: input shape, number of classes, loss and metric. The tensors themselves live
// in data::Splits; a Task is the part every component may look at without touching torch.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace nascent {

struct Task {
  std::string name = "fashion-mnist";
  std::string kind = "image";                   // image | tabular | text
  std::vector<int64_t> input_shape{1, 28, 28};  // per example: [C, H, W] for images
  int64_t num_classes = 10;
  std::string loss = "cross_entropy";
  std::string metric = "accuracy";
};

}  // namespace nascent
