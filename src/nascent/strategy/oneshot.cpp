#include "nascent/strategy/oneshot.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>

#include "nascent/core/config.h"
#include "nascent/core/error.h"
#include "nascent/core/rng.h"
#include "nascent/data/dataset.h"
#include "nascent/space/space.h"
#include "nascent/strategy/checkpoint.h"

namespace nascent::strategy {

void SupernetTrainOptions::read(ConfigSection& s) {
  epochs = s.get_int("epochs", epochs, 1, 100000);
  batch_size = s.get_int("batch_size", batch_size, 2, 65536);
  lr = s.get_double("lr", lr, 0, 10);
  lr_min = s.get_double("lr_min", lr_min, 0, 10);
  momentum = s.get_double("momentum", momentum, 0, 0.999);
  nesterov = s.get_bool("nesterov", nesterov);
  weight_decay = s.get_double("weight_decay", weight_decay, 0, 1);
  grad_clip = s.get_double("grad_clip", grad_clip, 0, 1e6);
  data_fraction = s.get_double("data_fraction", data_fraction, 1e-6, 1);
  arch_fraction = s.get_double("arch_fraction", arch_fraction, 0.01, 0.99);
}

nlohmann::json SupernetTrainOptions::to_json() const {
  return {{"epochs", epochs},
          {"batch_size", batch_size},
          {"lr", lr},
          {"lr_min", lr_min},
          {"momentum", momentum},
          {"nesterov", nesterov},
          {"weight_decay", weight_decay},
          {"grad_clip", grad_clip},
          {"data_fraction", data_fraction},
          {"arch_fraction", arch_fraction}};
}

void ArchOptimizerOptions::read(ConfigSection& s) {
  lr = s.get_double("arch_lr", lr, 0, 10);
  beta1 = s.get_double("arch_beta1", beta1, 0, 0.9999);
  beta2 = s.get_double("arch_beta2", beta2, 0, 0.9999);
  weight_decay = s.get_double("arch_weight_decay", weight_decay, 0, 1);
}

nlohmann::json ArchOptimizerOptions::to_json() const {
  return {{"arch_lr", lr}, {"arch_beta1", beta1}, {"arch_beta2", beta2}, {"arch_weight_decay", weight_decay}};
}

void EpochMeter::add(const torch::Tensor& logits, const torch::Tensor& y, double loss_value) {
  const auto n = static_cast<double>(y.size(0));
  loss += loss_value * n;
  correct += logits.argmax(1).eq(y).sum().item<double>();
  count += n;
}

namespace {

// Sets torch's thread count for a scope and restores it afterwards.
class ThreadScope {
 public:
  explicit ThreadScope(int threads) : before_(torch::get_num_threads()) {
    if (threads > 0) torch::set_num_threads(threads);
  }
  ~ThreadScope() { torch::set_num_threads(before_); }

 private:
  int before_;
};

}  // namespace

OneShotStrategy::OneShotStrategy(const StrategyContext& ctx, SupernetTrainOptions train, nlohmann::json options)
    : Strategy(ctx), train_(train), options_(std::move(options)) {}

space::Supernet& OneShotStrategy::supernet() {
  NASCENT_CHECK(net_ != nullptr, "one-shot strategy: the supernet is not built yet");
  return *net_;
}

std::string OneShotStrategy::checkpoint_path() const {
  if (ctx_.checkpoint_dir.empty()) return "";
  return ctx_.checkpoint_dir + "/" + name() + "_supernet.pt";
}

void OneShotStrategy::build() {
  if (ctx_.data == nullptr)
    throw InternalError(name() + ": a one-shot strategy needs the task's data in its context to search");
  const data::TaskData& data = *ctx_.data;
  // The alphas' and weights' initial values come from torch's generator: seed it for this search.
  torch::manual_seed(Rng::derive(ctx_.seed, name() + "/supernet-init").next());
  net_ = ctx_.space->build_supernet(data.task, supernet_options());
  net_->noise_rng() = Rng::derive(ctx_.seed, name() + "/supernet-noise");
  net_->train();
  rows_ = split_rows(data.train.size(), train_.data_fraction, train_.arch_fraction, ctx_.seed, train_.batch_size);
  weight_batches_ =
      BatchStream(data, rows_.weights, train_.batch_size, Rng::derive(ctx_.seed, "weight-batches").next());
  arch_batches_ = BatchStream(data, rows_.arch, train_.batch_size, Rng::derive(ctx_.seed, "arch-batches").next());
  weight_opt_ = std::make_unique<torch::optim::SGD>(net_->weights(), torch::optim::SGDOptions(train_.lr)
                                                                         .momentum(train_.momentum)
                                                                         .nesterov(train_.nesterov)
                                                                         .weight_decay(train_.weight_decay));
  prepare();
}

void add_beta_decay_grad(std::vector<torch::Tensor> alphas, double weight) {
  torch::NoGradGuard no_grad;
  for (torch::Tensor& a : alphas) {
    const torch::Tensor g = weight * torch::softmax(a.detach(), -1) / static_cast<double>(a.size(0));
    if (a.grad().defined())
      a.mutable_grad().add_(g);
    else
      a.mutable_grad() = g;
  }
}

double beta_decay_weight(double max, int64_t epoch, int64_t epochs) {
  return max * static_cast<double>(epoch) / static_cast<double>(std::max<int64_t>(1, epochs));
}

void OneShotStrategy::make_arch_optimizer(const ArchOptimizerOptions& o) {
  arch_opt_ = std::make_unique<torch::optim::Adam>(
      net_->alphas(),
      torch::optim::AdamOptions(o.lr).betas(std::make_tuple(o.beta1, o.beta2)).weight_decay(o.weight_decay));
}

double OneShotStrategy::lr_at(int64_t epoch) const {
  // DARTS' CosineAnnealingLR(T_max = epochs, eta_min = lr_min), stepped once per epoch.
  const double t = static_cast<double>(epoch) / static_cast<double>(train_.epochs);
  return train_.lr_min + 0.5 * (train_.lr - train_.lr_min) * (1 + std::cos(M_PI * t));
}

void OneShotStrategy::poll() const {
  if (ctx_.poll) ctx_.poll();
}

void OneShotStrategy::clip_weight_grad() {
  if (train_.grad_clip > 0) torch::nn::utils::clip_grad_norm_(net_->weights(), train_.grad_clip);
}

void OneShotStrategy::weight_step(const Batch& b, EpochMeter& meter) {
  weight_opt_->zero_grad();
  if (arch_opt_) arch_opt_->zero_grad();
  torch::Tensor logits = net_->forward(b.x);
  torch::Tensor loss = torch::nn::functional::cross_entropy(logits, b.y);
  const double value = loss.item<double>();
  if (!std::isfinite(value))
    throw InputError("", "strategy." + name(),
                     fmt::format("the supernet's training loss became {}; lower strategy.{}.lr", value, name()));
  loss.backward();
  clip_weight_grad();
  weight_opt_->step();
  meter.add(logits.detach(), b.y, value);
}

void OneShotStrategy::emit(const std::string& kind, int64_t step, nlohmann::json data, const std::string& line) const {
  if (ctx_.events) ctx_.events->record({kind, step, std::move(data), line});
}

nlohmann::json OneShotStrategy::fingerprint() const {
  return {{"strategy", name()},          {"options", options_}, {"train", train_.to_json()},
          {"space", ctx_.space->name()}, {"seed", ctx_.seed},   {"train_rows", ctx_.data->train.size()}};
}

void OneShotStrategy::save_checkpoint(int64_t epochs_done) const {
  const std::string path = checkpoint_path();
  if (path.empty()) return;
  torch::serialize::OutputArchive archive, net, wopt, aopt;
  net_->save(net);
  weight_opt_->save(wopt);
  archive.write("net", net);
  archive.write("weight_opt", wopt);
  if (arch_opt_) {
    arch_opt_->save(aopt);
    archive.write("arch_opt", aopt);
  }
  nlohmann::json meta = {{"fingerprint", fingerprint()},
                         {"epochs_done", epochs_done},
                         {"weight_batches", weight_batches_.state()},
                         {"arch_batches", arch_batches_.state()},
                         {"noise_rng", net_->noise_rng().state()},
                         {"generators", generators()}};
  write_json(archive, "meta", meta);
  save_archive_atomic(archive, path);
}

int64_t OneShotStrategy::load_checkpoint() {
  const std::string path = checkpoint_path();
  if (path.empty()) return 0;
  torch::serialize::InputArchive archive;
  if (!load_archive(archive, path)) return 0;
  const nlohmann::json meta = read_json(archive, "meta");
  if (meta.at("fingerprint") != fingerprint()) {
    emit("supernet_checkpoint", 0, {{"ignored", path}},
         fmt::format("{}: checkpoint {} is of another search; starting the supernet afresh", name(), path));
    return 0;
  }
  torch::serialize::InputArchive net, wopt;
  archive.read("net", net);
  net_->load(net);
  archive.read("weight_opt", wopt);
  weight_opt_->load(wopt);
  if (arch_opt_) {
    torch::serialize::InputArchive aopt;
    archive.read("arch_opt", aopt);
    arch_opt_->load(aopt);
  }
  weight_batches_.load_state(meta.at("weight_batches"));
  arch_batches_.load_state(meta.at("arch_batches"));
  net_->noise_rng().load_state(meta.at("noise_rng"));
  load_generators(meta.at("generators"));
  return meta.at("epochs_done").get<int64_t>();
}

nlohmann::json OneShotStrategy::epoch_event(int64_t epoch, nlohmann::json stats, double seconds) const {
  nlohmann::json e = std::move(stats);
  e["epoch"] = epoch + 1;
  e["epochs"] = train_.epochs;
  e["lr"] = lr_at(epoch);
  e["seconds"] = seconds;
  if (trains_alphas()) {
    nlohmann::json table = nlohmann::json::object();
    for (const auto& [label, probs] : net_->alpha_table()) table[label] = probs;
    e["alphas"] = table;
    const Arch derived = net_->derive();
    e["derived"] = ctx_.space->to_json(derived);
    e["derived_text"] = ctx_.space->describe(derived);
  }
  return e;
}

void OneShotStrategy::search() {
  if (searched_) return;
  ThreadScope threads(ctx_.threads);
  build();
  const int64_t start = load_checkpoint();
  if (start > 0)
    emit("supernet_resume", start, {{"epochs_done", start}},
         fmt::format("{}: resuming the supernet from its checkpoint after epoch {}/{}", name(), start, train_.epochs));
  for (int64_t epoch = start; epoch < train_.epochs; ++epoch) {
    const auto t0 = std::chrono::steady_clock::now();
    for (auto& group : weight_opt_->param_groups())
      static_cast<torch::optim::SGDOptions&>(group.options()).lr(lr_at(epoch));
    net_->train();
    nlohmann::json stats = train_epoch(epoch);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    nlohmann::json event = epoch_event(epoch, std::move(stats), seconds);
    std::string line = fmt::format("{} epoch {}/{}: loss {:.3f}, acc {:.3f}", name(), epoch + 1, train_.epochs,
                                   event.value("train_loss", 0.0), event.value("train_accuracy", 0.0));
    if (event.contains("arch_loss"))
      line += fmt::format(", arch loss {:.3f}, arch acc {:.3f}", event.value("arch_loss", 0.0),
                          event.value("arch_accuracy", 0.0));
    line += fmt::format(", {:.1f}s", seconds);
    if (event.contains("derived_text")) line += ", derived " + event["derived_text"].get<std::string>();
    emit("supernet_epoch", epoch + 1, event, line);
    save_checkpoint(epoch + 1);
  }
  for (auto& [arch, meta] : select()) {
    Proposal p{arch, ctx_.fidelity, meta};
    p.meta["strategy"] = name();
    proposals_.push_back(std::move(p));
  }
  searched_ = true;
}

std::optional<Proposal> OneShotStrategy::ask() {
  search();
  if (asked_ >= proposals_.size()) return std::nullopt;
  return proposals_[asked_++];
}

nlohmann::json OneShotStrategy::state() const {
  nlohmann::json props = nlohmann::json::array();
  for (const auto& p : proposals_)
    props.push_back({{"choices", choices_to_json(p.arch)}, {"meta", p.meta}, {"fidelity", p.fidelity.to_json()}});
  return {{"searched", searched_}, {"asked", asked_}, {"proposals", props}};
}

void OneShotStrategy::load_state(const nlohmann::json& s) {
  searched_ = s.at("searched").get<bool>();
  asked_ = s.at("asked").get<size_t>();
  proposals_.clear();
  for (const auto& p : s.at("proposals"))
    proposals_.push_back(
        {arch_from_choices(ctx_.space->name(), p.at("choices")), Fidelity::from_json(p.at("fidelity")), p.at("meta")});
}

}  // namespace nascent::strategy
