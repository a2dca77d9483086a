#include "nascent/space/mixture.h"

#include "nascent/core/error.h"
#include "nascent/space/mixed_op.h"

namespace nascent::space {

MixWeights mix_weights(const torch::Tensor& alpha, MixMode mode, double tau, int64_t path_choice, Rng& rng) {
  const int64_t n = alpha.size(0);
  MixWeights m;
  if (mode == MixMode::kSoftmax) {
    m.w = torch::softmax(alpha, 0);
    return m;
  }
  if (mode == MixMode::kPath) {
    NASCENT_CHECK(path_choice >= 0 && path_choice < n, "path choice out of range; call set_path() first");
    m.w = torch::zeros({n}, alpha.options().requires_grad(false));
    m.w[path_choice] = 1.0;
    m.chosen = path_choice;
    return m;
  }
  torch::Tensor soft = torch::softmax((torch::log_softmax(alpha, 0) + gumbel_noise(alpha, rng)) / tau, 0);
  m.chosen = soft.argmax().item<int64_t>();
  auto hard = torch::zeros_like(soft);
  hard[m.chosen] = 1.0;
  m.w = hard - soft.detach() + soft;
  return m;
}

torch::Tensor mix(const MixWeights& m, const std::function<torch::Tensor(int64_t)>& f) {
  const int64_t n = m.w.size(0);
  if (m.chosen < 0) {
    torch::Tensor out = m.w[0] * f(0);
    for (int64_t i = 1; i < n; ++i) out = out + m.w[i] * f(i);
    return out;
  }
  torch::Tensor out = m.w[m.chosen] * f(m.chosen);
  if (!m.w.requires_grad()) return out;  // kPath: the other weights are constant zeros
  for (int64_t i = 0; i < n; ++i)
    if (i != m.chosen) out = out + m.w[i];
  return out;
}

}  // namespace nascent::space
