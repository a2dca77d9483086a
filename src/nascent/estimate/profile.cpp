#include "nascent/estimate/profile.h"

#include <torch/torch.h>

#include "nascent/space/network.h"
#include "nascent/space/ops.h"

namespace nascent::estimate {

double Profile::memory_mb(int64_t batch_size) const {
  const double bytes = 4.0 * (3.0 * static_cast<double>(params) + 2.0 * activations * static_cast<double>(batch_size));
  return bytes / (1024.0 * 1024.0);
}

void Profile::add_to(Metrics& m, int64_t batch_size) const {
  m["params"] = static_cast<double>(params);
  m["flops"] = flops;
  m["memory_mb"] = memory_mb(batch_size);
}

std::vector<int64_t> input_shape(const Task& task, int resolution) {
  std::vector<int64_t> s = task.input_shape;
  if (resolution > 0 && task.kind == "image" && s.size() == 3) s[1] = s[2] = resolution;
  return s;
}

Profile profile_network(space::Network& net, const Task& task, int resolution) {
  Profile p;
  p.params = net.num_parameters();
  std::vector<int64_t> shape = input_shape(task, resolution);
  shape.insert(shape.begin(), 1);
  const bool was_training = net.is_training();
  net.eval();
  space::OpCounter counter;
  {
    torch::NoGradGuard no_grad;
    space::CountScope scope(&counter);
    torch::Tensor x = task.kind == "text" ? torch::zeros(shape, torch::kInt64) : torch::zeros(shape);
    net.forward(x);
  }
  net.train(was_training);
  p.flops = counter.macs;
  p.activations = counter.activations;
  return p;
}

}  // namespace nascent::estimate
