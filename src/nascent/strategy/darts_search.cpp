#include "nascent/strategy/darts_search.h"

#include "nascent/core/config.h"
#include "nascent/core/error.h"
#include "nascent/strategy/darts_unrolled.h"

namespace nascent::strategy {

DartsSearchOptions DartsSearchOptions::from_config(ConfigSection& s) {
  DartsSearchOptions o;
  o.train.read(s);
  o.arch.read(s);
  o.order = s.get_int("order", o.order, 1, 2);
  o.remedy = s.get_choice("remedy", o.remedy, {"auxiliary_skip", "none"});
  o.aux_skip_init = s.get_double("aux_skip_init", o.aux_skip_init, 0, 10);
  o.partial_channels = s.get_int("partial_channels", o.partial_channels, 1, 64);
  o.edge_normalization = s.get_bool("edge_normalization", o.edge_normalization);
  o.unrolled_r = s.get_double("unrolled_r", o.unrolled_r, 1e-6, 1);
  s.finish();
  return o;
}

nlohmann::json DartsSearchOptions::to_json() const {
  nlohmann::json j = train.to_json();
  j.update(arch.to_json());
  j["order"] = order;
  j["remedy"] = remedy;
  j["aux_skip_init"] = aux_skip_init;
  j["partial_channels"] = partial_channels;
  j["edge_normalization"] = edge_normalization;
  j["unrolled_r"] = unrolled_r;
  return j;
}

DartsSearch::DartsSearch(const StrategyContext& ctx, const DartsSearchOptions& o)
    : OneShotStrategy(ctx, o.train, o.to_json()), o_(o) {}

space::SupernetOptions DartsSearch::supernet_options() const {
  space::SupernetOptions s;
  s.partial_channels = o_.partial_channels;
  s.edge_normalization = o_.edge_normalization;
  s.auxiliary_skip = o_.remedy == "auxiliary_skip";
  return s;
}

void DartsSearch::prepare() {
  net_->set_mode(space::MixMode::kSoftmax);
  make_arch_optimizer(o_.arch);
}

void DartsSearch::arch_step(const Batch& train, const Batch& val, double lr, EpochMeter& meter) {
  arch_opt_->zero_grad();
  if (o_.order == 1) {
    // First order: grad_a L_val(w, a), the current weights taken as optimal (eq. 7 with xi = 0).
    torch::Tensor logits = net_->forward(val.x);
    torch::Tensor loss = torch::nn::functional::cross_entropy(logits, val.y);
    loss.backward();
    meter.add(logits.detach(), val.y, loss.item<double>());
  } else {
    auto train_loss = [&] { return torch::nn::functional::cross_entropy(net_->forward(train.x), train.y); };
    auto val_loss = [&](torch::Tensor* logits) {
      *logits = net_->forward(val.x);
      return torch::nn::functional::cross_entropy(*logits, val.y);
    };
    // xi = the weights' current learning rate, as in the paper's experiments.
    UnrolledGradient g = unrolled_arch_gradient(train_loss, val_loss, net_->weights(), net_->alphas(), lr,
                                                train_.weight_decay, o_.unrolled_r);
    std::vector<torch::Tensor> alphas = net_->alphas();
    for (size_t i = 0; i < alphas.size(); ++i) alphas[i].mutable_grad() = g.alpha_grad[i];
    meter.add(g.val_logits, val.y, g.val_loss);
  }
  arch_opt_->step();
}

nlohmann::json DartsSearch::train_epoch(int64_t epoch) {
  // DARTS- (Chu et al. 2021, sec. 3.3): the auxiliary skip's weight decays linearly to 0.
  const double beta = o_.remedy == "auxiliary_skip"
                          ? o_.aux_skip_init * (1.0 - static_cast<double>(epoch) / static_cast<double>(train_.epochs))
                          : 0.0;
  net_->set_auxiliary_skip(beta);
  const double lr = lr_at(epoch);
  EpochMeter weights, arch;
  const int64_t steps = weight_batches_.batches_per_pass();
  for (int64_t step = 0; step < steps; ++step) {
    poll();
    Batch train = weight_batches_.next();
    Batch val = arch_batches_.next();
    arch_step(train, val, lr, arch);  // Alg. 1: the architecture step first, then the weights
    weight_step(train, weights);
  }
  return {{"train_loss", weights.mean_loss()},
          {"train_accuracy", weights.accuracy()},
          {"arch_loss", arch.mean_loss()},
          {"arch_accuracy", arch.accuracy()},
          {"aux_skip", beta},
          {"steps", steps}};
}

std::vector<std::pair<Arch, nlohmann::json>> DartsSearch::select() {
  return {{net_->derive(), {{"order", o_.order}, {"remedy", o_.remedy}, {"supernet_epochs", train_.epochs}}}};
}

}  // namespace nascent::strategy
