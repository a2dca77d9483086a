#include "nascent/strategy/policy_lstm.h"

#include <torch/torch.h>

#include "nascent/core/error.h"

namespace nascent::strategy {

PolicyLstmImpl::PolicyLstmImpl(const space::SearchSpace& space, int64_t hidden, double tanh_constant)
    : space_(space), hidden_(hidden), tanh_constant_(tanh_constant) {
  cell_ = register_module("cell", torch::nn::LSTMCell(hidden, hidden));
  start_ = register_parameter("start", torch::zeros({1, hidden}));
  const auto& ds = space.decisions();
  for (size_t i = 0; i < ds.size(); ++i) {
    const int64_t n = static_cast<int64_t>(ds[i].options.size());
    embed_.push_back(register_module("embed" + std::to_string(i), torch::nn::Embedding(n, hidden)));
    heads_.push_back(register_module("head" + std::to_string(i), torch::nn::Linear(hidden, n)));
  }
}

void PolicyLstmImpl::init_uniform(Rng& rng, double range) {
  torch::NoGradGuard no_grad;
  for (auto& p : parameters()) {
    std::vector<float> v(static_cast<size_t>(p.numel()));
    for (auto& x : v) x = static_cast<float>((2 * rng.uniform() - 1) * range);
    p.copy_(torch::from_blob(v.data(), p.sizes(), torch::kFloat32));
  }
}

template <typename Visit>
void PolicyLstmImpl::walk(Arch& arch, size_t stop, Visit visit) {
  torch::Tensor x = start_;
  torch::Tensor h = torch::zeros({1, hidden_}), c = torch::zeros({1, hidden_});
  for (size_t i = 0; i < stop; ++i) {
    if (!space_.active(arch, i)) continue;  // depends only on earlier decisions, already chosen
    std::tie(h, c) = cell_(x, std::make_tuple(h, c));
    torch::Tensor logits = heads_[i](h);  // [1, options]
    if (tanh_constant_ > 0) logits = tanh_constant_ * torch::tanh(logits);
    visit(i, logits);
    x = embed_[i](torch::tensor({static_cast<int64_t>(arch.choices[i])}));  // [1, hidden]
  }
}

Arch PolicyLstmImpl::sample(Rng& rng) {
  torch::NoGradGuard no_grad;
  Arch arch{space_.name(), std::vector<int>(space_.num_decisions(), 0)};
  walk(arch, space_.num_decisions(), [&](size_t i, const torch::Tensor& logits) {
    const torch::Tensor p = torch::softmax(logits, 1).to(torch::kFloat64).contiguous();
    std::vector<double> probs(p.data_ptr<double>(), p.data_ptr<double>() + p.numel());
    arch.choices[i] = static_cast<int>(rng.categorical(probs));
  });
  return space_.canonical(arch);
}

std::pair<torch::Tensor, torch::Tensor> PolicyLstmImpl::log_prob_and_entropy(const std::vector<Arch>& targets) {
  const int64_t k = static_cast<int64_t>(targets.size());
  std::vector<Arch> archs;
  for (const auto& a : targets) archs.push_back(space_.canonical(a));
  torch::Tensor x = start_.expand({k, hidden_});
  torch::Tensor h = torch::zeros({k, hidden_}), c = torch::zeros({k, hidden_});
  torch::Tensor log_prob = torch::zeros({k}), entropy = torch::zeros({k});
  for (size_t i = 0; i < space_.num_decisions(); ++i) {
    std::vector<int64_t> choice(k);
    std::vector<float> on(k);
    bool any = false;
    for (int64_t j = 0; j < k; ++j) {
      choice[j] = archs[j].choices[i];
      on[j] = space_.active(archs[j], i) ? 1.f : 0.f;
      any |= on[j] > 0;
    }
    if (!any) continue;
    const torch::Tensor mask = torch::tensor(on);      // [K]; 0 where decision i does not apply
    const torch::Tensor keep = mask.unsqueeze(1) > 0;  // [K, 1]
    auto [h2, c2] = cell_(x, std::make_tuple(h, c));
    torch::Tensor logits = heads_[i](h2);  // [K, options]
    if (tanh_constant_ > 0) logits = tanh_constant_ * torch::tanh(logits);
    const torch::Tensor lp = torch::log_softmax(logits, 1);
    const torch::Tensor idx = torch::tensor(choice);
    log_prob = log_prob + mask * lp.gather(1, idx.unsqueeze(1)).squeeze(1);
    entropy = entropy - mask * (lp.exp() * lp).sum(1);
    // Samples for which decision i does not apply keep their state, as if the step never ran.
    h = torch::where(keep, h2, h);
    c = torch::where(keep, c2, c);
    x = torch::where(keep, embed_[i](idx), x);
  }
  return {log_prob, entropy};
}

std::vector<double> PolicyLstmImpl::probabilities(const Arch& target, size_t decision) {
  torch::NoGradGuard no_grad;
  Arch arch = space_.canonical(target);
  NASCENT_CHECK(space_.active(arch, decision), "probabilities of an inactive decision");
  std::vector<double> out;
  walk(arch, decision + 1, [&](size_t i, const torch::Tensor& logits) {
    if (i != decision) return;
    const torch::Tensor p = torch::softmax(logits, 1).to(torch::kFloat64).contiguous();
    out.assign(p.data_ptr<double>(), p.data_ptr<double>() + p.numel());
  });
  return out;
}

}  // namespace nascent::strategy
