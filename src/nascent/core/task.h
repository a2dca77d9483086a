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
  std::vector<int64_t> input_shape{1, 28, 28};  // per example: [C, H, W] images, [F] tabular, [T] text
  int64_t num_classes = 10;                     // output size: classes, or the vocabulary for next_token
  std::string target = "class";                 // class: one label per example; next_token: one per position
  int64_t vocab_size = 0;                       // text: token ids are 0..vocab_size-1 (0 = padding)
  std::string loss = "cross_entropy";
  std::string metric = "accuracy";

  // Language modelling: logits [batch, seq, vocab] against targets [batch, seq].
  bool per_position() const { return target == "next_token"; }
};

}  // namespace nascent
