#include "nascent/strategy/darts_search.h"

#include <fmt/format.h>

#include <algorithm>

#include "nascent/core/config.h"
#include "nascent/core/error.h"
#include "nascent/core/rng.h"
#include "nascent/space/space.h"
#include "nascent/strategy/darts_unrolled.h"

namespace nascent::strategy {

DartsSearchOptions DartsSearchOptions::from_config(ConfigSection& s) {
  DartsSearchOptions o;
  o.train.read(s);
  o.arch.read(s);
  o.order = s.get_int("order", o.order, 1, 2);
  o.remedy = s.get_choice("remedy", o.remedy, {"auxiliary_skip", "beta_decay", "none"});
  o.aux_skip_init = s.get_double("aux_skip_init", o.aux_skip_init, 0, 10);
  o.beta_decay_max = s.get_double("beta_decay_max", o.beta_decay_max, 0, 1e4);
  o.partial_channels = s.get_int("partial_channels", o.partial_channels, 1, 64);
  o.edge_normalization = s.get_bool("edge_normalization", o.edge_normalization);
  o.unrolled_r = s.get_double("unrolled_r", o.unrolled_r, 1e-6, 1);
  o.warmup_epochs = s.get_int("warmup_epochs", o.warmup_epochs, 0, 100000);
  if (o.warmup_epochs >= o.train.epochs)
    throw InputError(s.file(), s.field_path("warmup_epochs"),
                     fmt::format("{} leaves no epoch to train the alphas (epochs = {}); expected fewer than epochs",
                                 o.warmup_epochs, o.train.epochs));
  o.selection = s.get_choice("selection", o.selection, {"argmax", "perturbation"});
  o.selection_batches = s.get_int("selection_batches", o.selection_batches, 1, 100000);
  s.finish();
  return o;
}

nlohmann::json DartsSearchOptions::to_json() const {
  nlohmann::json j = train.to_json();
  j.update(arch.to_json());
  j["order"] = order;
  j["remedy"] = remedy;
  j["aux_skip_init"] = aux_skip_init;
  j["beta_decay_max"] = beta_decay_max;
  j["partial_channels"] = partial_channels;
  j["edge_normalization"] = edge_normalization;
  j["unrolled_r"] = unrolled_r;
  j["warmup_epochs"] = warmup_epochs;
  j["selection"] = selection;
  j["selection_batches"] = selection_batches;
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

void DartsSearch::arch_step(const Batch& train, const Batch& val, double lr, double beta_weight, EpochMeter& meter) {
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
  if (beta_weight > 0) add_beta_decay_grad(net_->alphas(), beta_weight);
  arch_opt_->step();
}

nlohmann::json DartsSearch::train_epoch(int64_t epoch) {
  // DARTS- (Chu et al. 2021, sec. 3.3): the auxiliary skip's weight decays linearly to 0.
  const double beta = o_.remedy == "auxiliary_skip"
                          ? o_.aux_skip_init * (1.0 - static_cast<double>(epoch) / static_cast<double>(train_.epochs))
                          : 0.0;
  net_->set_auxiliary_skip(beta);
  const double beta_weight =
      o_.remedy == "beta_decay" ? beta_decay_weight(o_.beta_decay_max, epoch, train_.epochs) : 0.0;
  const double lr = lr_at(epoch);
  EpochMeter weights, arch;
  const int64_t steps = weight_batches_.batches_per_pass();
  for (int64_t step = 0; step < steps; ++step) {
    poll();
    Batch train = weight_batches_.next();
    // Alg. 1: the architecture step first, then the weights; none during the warm-up.
    if (epoch >= o_.warmup_epochs) arch_step(train, arch_batches_.next(), lr, beta_weight, arch);
    weight_step(train, weights);
  }
  return {{"train_loss", weights.mean_loss()},
          {"train_accuracy", weights.accuracy()},
          {"arch_loss", arch.mean_loss()},
          {"arch_accuracy", arch.accuracy()},
          {"aux_skip", beta},
          {"beta_decay", beta_weight},
          {"steps", steps}};
}

Arch DartsSearch::perturbation_select() {
  // DARTS-PT (Wang et al. 2021, Alg. 1), without the fine-tuning between edges: edge by edge in a
  // random order, remove each operation in turn (its alpha to -inf) and keep the one whose removal
  // costs the supernet the most accuracy on held-out batches; the edge is then fixed to it.
  torch::Tensor alpha = net_->alphas().at(0);
  const space::SearchSpace& space = *ctx_.space;
  if (alpha.dim() != 2 || alpha.size(0) != static_cast<int64_t>(space.num_decisions()))
    throw InputError("", "strategy.darts.selection",
                     "perturbation selection needs one alpha row per decision (space nb201); use argmax");
  torch::NoGradGuard no_grad;
  net_->set_auxiliary_skip(0);
  net_->eval();
  BatchStream stream(*ctx_.data, rows_.arch, train_.batch_size, Rng::derive(ctx_.seed, "darts-pt/batches").next());
  std::vector<Batch> batches;
  for (int64_t i = 0; i < std::min(o_.selection_batches, stream.batches_per_pass()); ++i)
    batches.push_back(stream.next());
  auto accuracy = [&] {
    double correct = 0, count = 0;
    for (const auto& b : batches) {
      correct += net_->forward(b.x).argmax(1).eq(b.y).sum().item<double>();
      count += static_cast<double>(b.y.size(0));
    }
    return correct / count;
  };
  const torch::Tensor saved = alpha.clone();
  std::vector<int64_t> order(static_cast<size_t>(alpha.size(0)));
  for (size_t e = 0; e < order.size(); ++e) order[e] = static_cast<int64_t>(e);
  Rng rng = Rng::derive(ctx_.seed, "darts-pt/order");
  rng.shuffle(order);
  std::vector<int> choices(order.size(), 0);
  constexpr double kMasked = -1e9;
  for (int64_t e : order) {
    poll();
    const torch::Tensor row = alpha[e].clone();
    double worst = 2;
    int64_t pick = 0;
    for (int64_t o = 0; o < alpha.size(1); ++o) {
      alpha[e][o] = kMasked;
      const double acc = accuracy();
      alpha[e].copy_(row);
      if (acc < worst) {
        worst = acc;
        pick = o;
      }
    }
    choices[static_cast<size_t>(e)] = static_cast<int>(pick);
    alpha[e].fill_(kMasked);
    alpha[e][pick] = 0;
  }
  alpha.copy_(saved);
  net_->train();
  return space.canonical(Arch{space.name(), choices});
}

std::vector<std::pair<Arch, nlohmann::json>> DartsSearch::select() {
  const Arch arch = o_.selection == "perturbation" ? perturbation_select() : net_->derive();
  return {{arch,
           {{"order", o_.order},
            {"remedy", o_.remedy},
            {"selection", o_.selection},
            {"argmax", ctx_.space->to_json(net_->derive())},
            {"supernet_epochs", train_.epochs}}}};
}

}  // namespace nascent::strategy
