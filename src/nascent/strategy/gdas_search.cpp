#include "nascent/strategy/gdas_search.h"

#include <fmt/format.h>

#include <cmath>

#include "nascent/core/config.h"
#include "nascent/core/error.h"

namespace nascent::strategy {

GdasSearchOptions GdasSearchOptions::from_config(ConfigSection& s) {
  GdasSearchOptions o;
  o.train.read(s);
  o.arch.read(s);
  o.tau_max = s.get_double("tau_max", o.tau_max, 1e-3, 1000);
  o.tau_min = s.get_double("tau_min", o.tau_min, 1e-3, 1000);
  o.remedy = s.get_choice("remedy", o.remedy, {"beta_decay", "none"});
  o.beta_decay_max = s.get_double("beta_decay_max", o.beta_decay_max, 0, 1e4);
  o.warmup_fraction = s.get_double("warmup_fraction", o.warmup_fraction, 0, 0.9);
  if (o.tau_min > o.tau_max)
    throw InputError(s.file(), s.field_path("tau_min"),
                     fmt::format("{} is above tau_max = {}; the temperature anneals down", o.tau_min, o.tau_max));
  s.finish();
  return o;
}

nlohmann::json GdasSearchOptions::to_json() const {
  nlohmann::json j = train.to_json();
  j.update(arch.to_json());
  j["tau_max"] = tau_max;
  j["tau_min"] = tau_min;
  j["remedy"] = remedy;
  j["beta_decay_max"] = beta_decay_max;
  j["warmup_fraction"] = warmup_fraction;
  return j;
}

int64_t GdasSearchOptions::warmup_epochs() const {
  return static_cast<int64_t>(std::floor(warmup_fraction * static_cast<double>(train.epochs) + 1e-9));
}

GdasSearch::GdasSearch(const StrategyContext& ctx, const GdasSearchOptions& o)
    : OneShotStrategy(ctx, o.train, o.to_json()), o_(o) {}

double GdasSearch::tau_at(int64_t epoch) const {
  if (train_.epochs <= 1) return o_.tau_max;
  return o_.tau_max - (o_.tau_max - o_.tau_min) * static_cast<double>(epoch) / static_cast<double>(train_.epochs - 1);
}

void GdasSearch::prepare() {
  net_->set_mode(space::MixMode::kGumbelHard);
  make_arch_optimizer(o_.arch);
}

nlohmann::json GdasSearch::train_epoch(int64_t epoch) {
  const double tau = tau_at(epoch);
  net_->set_tau(tau);
  // During the warm-up the alphas stay at their initial values (1e-3 * N(0, 1)), so every step
  // samples one operation per edge nearly uniformly: single-path training that gives every
  // operation its share of the weight steps before the alphas start to choose.
  const bool train_alphas = epoch >= o_.warmup_epochs();
  const double beta_weight =
      o_.remedy == "beta_decay" ? beta_decay_weight(o_.beta_decay_max, epoch, train_.epochs) : 0.0;
  EpochMeter weights, arch;
  const int64_t steps = weight_batches_.batches_per_pass();
  for (int64_t step = 0; step < steps; ++step) {
    poll();
    // The reference's order: weights on a training batch, then alphas on a held-out batch,
    // each forward pass with a fresh Gumbel sample.
    weight_step(weight_batches_.next(), weights);
    if (!train_alphas) continue;
    Batch val = arch_batches_.next();
    arch_opt_->zero_grad();
    weight_opt_->zero_grad();
    torch::Tensor logits = net_->forward(val.x);
    torch::Tensor loss = torch::nn::functional::cross_entropy(logits, val.y);
    loss.backward();
    if (beta_weight > 0) add_beta_decay_grad(net_->alphas(), beta_weight);
    arch_opt_->step();
    arch.add(logits.detach(), val.y, loss.item<double>());
  }
  return {{"train_loss", weights.mean_loss()},
          {"train_accuracy", weights.accuracy()},
          {"arch_loss", arch.mean_loss()},
          {"arch_accuracy", arch.accuracy()},
          {"tau", tau},
          {"alphas_trained", train_alphas},
          {"beta_decay", beta_weight},
          {"steps", steps}};
}

std::vector<std::pair<Arch, nlohmann::json>> GdasSearch::select() {
  return {{net_->derive(),
           {{"supernet_epochs", train_.epochs},
            {"tau_min", o_.tau_min},
            {"remedy", o_.remedy},
            {"warmup_epochs", o_.warmup_epochs()}}}};
}

}  // namespace nascent::strategy
