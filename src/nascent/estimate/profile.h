// Profiling without training: exact parameter count, multiply-accumulates per example, and an
// estimate of training memory, from one counted forward pass at batch size 1.
#pragma once

#include <cstdint>

#include "nascent/core/task.h"
#include "nascent/core/trial.h"

namespace nascent::space {
class Network;
}

namespace nascent::estimate {

struct Profile {
  int64_t params = 0;      // trainable parameters of the deployed network (no training-only heads)
  double flops = 0;        // multiply-accumulates per example (conv + linear), as NAS papers count FLOPs
  double activations = 0;  // elements written by counted ops per example
  // Rough peak memory of one training step: weights, gradients and momentum, plus activations
  // kept for backward (forward output and its gradient) for the whole batch.
  double memory_mb(int64_t batch_size) const;
  void add_to(Metrics& m, int64_t batch_size) const;
};

// resolution 0 = the task's own input size.
Profile profile_network(space::Network& net, const Task& task, int resolution = 0);

// The input shape of one example at a resolution: [C, r, r] for images.
std::vector<int64_t> input_shape(const Task& task, int resolution);

}  // namespace nascent::estimate
