#include "nascent/strategy/reinforce.h"

#include <torch/torch.h>

#include <cmath>

#include "nascent/core/config.h"
#include "nascent/core/error.h"
#include "nascent/space/space.h"
#include "nascent/strategy/policy_lstm.h"
#include "nascent/strategy/torch_archive.h"

namespace nascent::strategy {
namespace {

nlohmann::json optional_json(const std::optional<double>& r) {
  return r ? nlohmann::json(*r) : nlohmann::json(nullptr);
}
std::optional<double> optional_of(const nlohmann::json& j) {
  if (j.is_null()) return std::nullopt;
  return j.get<double>();
}
nlohmann::json standing_json(const Standing& s) { return {s.tier, s.value}; }
Standing standing_of(const nlohmann::json& j) { return Standing{j.at(0).get<int>(), j.at(1).get<double>()}; }

}  // namespace

struct Reinforce::Controller {
  PolicyLstm policy;
  torch::optim::Adam adam;
  Controller(const space::SearchSpace& space, const ReinforceOptions& o, Rng init)
      : policy(space, o.hidden, o.tanh_constant), adam(policy->parameters(), torch::optim::AdamOptions(o.lr)) {
    policy->init_uniform(init, o.init_range);
  }
};

ReinforceOptions ReinforceOptions::from_config(ConfigSection& sec) {
  ReinforceOptions o;
  o.batch = sec.get_int("batch", o.batch, 1, 100000);
  o.hidden = sec.get_int("hidden", o.hidden, 1, 4096);
  o.lr = sec.get_double("lr", o.lr, 1e-8, 10);
  o.entropy_weight = sec.get_double("entropy_weight", o.entropy_weight, 0, 100);
  o.baseline_decay = sec.get_double("baseline_decay", o.baseline_decay, 0, 1);
  o.tanh_constant = sec.get_double("tanh_constant", o.tanh_constant, 0, 100);
  o.init_range = sec.get_double("init_range", o.init_range, 0, 10);
  o.normalize = sec.get_bool("normalize", o.normalize);
  o.max_resample = sec.get_int("max_resample", o.max_resample, 0, 1000000);
  sec.finish();
  return o;
}

Reinforce::Reinforce(const StrategyContext& ctx, ReinforceOptions options)
    : Strategy(ctx),
      options_(options),
      rng_(Rng::derive(ctx.seed, "strategy/reinforce")),
      controller_(std::make_unique<Controller>(*ctx.space, options, Rng::derive(ctx.seed, "strategy/reinforce/init"))) {
}

Reinforce::~Reinforce() = default;

std::optional<Proposal> Reinforce::ask() {
  if (proposed_ >= options_.batch) return std::nullopt;  // the update needs this batch's rewards
  const auto& space = *ctx_.space;
  Arch arch;
  std::string hash;
  for (int64_t draw = 0;; ++draw) {
    arch = controller_->policy->sample(rng_);
    hash = space.hash(arch);
    auto known = known_.find(hash);
    bool pending = false;
    for (const auto& s : batch_) pending |= s.proposed && !s.told && s.hash == hash;
    if ((known == known_.end() && !pending) || draw >= options_.max_resample) break;
    // A repeat costs no evaluation: it is still a sample of the current policy, so it enters
    // the update with the reward already known.
    if (known != known_.end()) batch_.push_back(Sample{arch, hash, false, true, known->second});
  }
  batch_.push_back(Sample{arch, hash, true, false, Standing::worst()});
  ++proposed_;
  return Proposal{arch, ctx_.fidelity, {{"origin", "policy"}, {"update", updates_}}};
}

void Reinforce::tell(const Trial& trial) {
  const std::string hash = ctx_.space->hash(trial.proposal.arch);
  const Standing standing = Standing::of(ctx_.objective, trial);
  known_[hash] = standing;
  bool waiting = false, matched = false;
  for (auto& s : batch_) {
    if (!matched && s.proposed && !s.told && s.hash == hash) {
      s.told = true;
      s.standing = standing;
      matched = true;
    }
    waiting |= s.proposed && !s.told;
  }
  if (matched && !waiting && proposed_ >= options_.batch) update();
}

double Reinforce::reward(const Standing& s) const {
  if (s.feasible()) return s.value;
  // Infeasible and failed samples rank below every feasible result, infeasible ones by how far
  // they break the constraints (so the policy is led back to feasibility, not just pushed away)
  // and failed ones below those. Units: the spread of the feasible scores seen so far.
  const double anchor = worst_.value_or(0.0);
  const double spread = best_ ? std::max(*best_ - *worst_, 1e-3 * std::max(1.0, std::abs(*worst_))) : 1.0;
  if (s.tier == 1) return anchor - spread * (1 - s.value);  // s.value = -violation
  return anchor - spread * (2 + max_violation_);
}

void Reinforce::update() {
  for (const auto& s : batch_) {
    if (s.standing.feasible()) {
      best_ = best_ ? std::max(*best_, s.standing.value) : s.standing.value;
      worst_ = worst_ ? std::min(*worst_, s.standing.value) : s.standing.value;
    } else if (s.standing.tier == 1) {
      max_violation_ = std::max(max_violation_, -s.standing.value);
    }
  }
  const size_t k = batch_.size();
  std::vector<double> rewards(k), adv(k);
  for (size_t i = 0; i < k; ++i) rewards[i] = reward(batch_[i].standing);
  if (!baseline_) {
    double sum = 0;
    for (double r : rewards) sum += r;
    baseline_ = sum / static_cast<double>(k);
  }
  double sq = 0;
  for (size_t i = 0; i < k; ++i) {
    adv[i] = rewards[i] - *baseline_;
    sq += adv[i] * adv[i];
  }
  if (options_.normalize) {
    const double rms = std::sqrt(sq / static_cast<double>(k));
    for (auto& a : adv) a = rms > 0 ? a / rms : 0.0;
  }
  // REINFORCE with a baseline (Williams 1992; Zoph & Le 2017, eq. 2), plus an entropy bonus:
  // loss = -1/k sum_i (R_i - b) log pi(arch_i) - beta * H.
  auto& c = *controller_;
  c.adam.zero_grad();
  std::vector<Arch> archs;
  std::vector<float> a32;
  for (size_t i = 0; i < k; ++i) {
    archs.push_back(batch_[i].arch);
    a32.push_back(static_cast<float>(adv[i]));
  }
  auto [log_prob, entropy] = c.policy->log_prob_and_entropy(archs);  // [K], [K]
  const torch::Tensor loss = -(torch::tensor(a32) * log_prob).mean() - options_.entropy_weight * entropy.mean();
  loss.backward();
  // A parameter no sample touched (e.g. the embedding of an option never drawn) has no
  // gradient; give it a zero one so that Adam keeps state for every parameter. LibTorch's
  // optimizer serialisation matches saved state to parameters by position among those that have
  // state, so a gap would hand one parameter's moments to another after a resume. A zero
  // gradient leaves the parameter and its (zero) moments unchanged.
  for (auto& p : c.policy->parameters())
    if (!p.grad().defined()) p.mutable_grad() = torch::zeros_like(p);
  c.adam.step();
  // The baseline follows every sample's reward, repeats included, so that an architecture the
  // policy keeps returning to stops being reinforced once it is what the policy expects.
  for (double r : rewards) baseline_ = options_.baseline_decay * *baseline_ + (1 - options_.baseline_decay) * r;
  batch_.clear();
  proposed_ = 0;
  ++updates_;
}

std::vector<double> Reinforce::policy(const Arch& arch, size_t decision) const {
  return controller_->policy->probabilities(arch, decision);
}

nlohmann::json Reinforce::state() const {
  torch::serialize::OutputArchive weights, optimizer;
  controller_->policy->save(weights);
  controller_->adam.save(optimizer);
  nlohmann::json batch = nlohmann::json::array();
  for (const auto& s : batch_)
    batch.push_back({{"arch", choices_to_json(s.arch)},
                     {"proposed", s.proposed},
                     {"told", s.told},
                     {"standing", standing_json(s.standing)}});
  nlohmann::json known = nlohmann::json::object();
  for (const auto& [h, r] : known_) known[h] = standing_json(r);
  auto opt = [](const std::optional<double>& v) { return optional_json(v); };
  return {{"rng", rng_.state()},
          {"weights", archive_to_base64(weights)},
          {"optimizer", archive_to_base64(optimizer)},
          {"batch", batch},
          {"proposed", proposed_},
          {"known", known},
          {"baseline", opt(baseline_)},
          {"best", opt(best_)},
          {"worst", opt(worst_)},
          {"max_violation", max_violation_},
          {"updates", updates_}};
}

void Reinforce::load_state(const nlohmann::json& s) {
  rng_.load_state(s.at("rng"));
  torch::serialize::InputArchive weights, optimizer;
  archive_from_base64(s.at("weights").get<std::string>(), weights);
  controller_->policy->load(weights);
  archive_from_base64(s.at("optimizer").get<std::string>(), optimizer);
  controller_->adam.load(optimizer);
  batch_.clear();
  for (const auto& b : s.at("batch")) {
    Arch a = arch_from_choices(ctx_.space->name(), b.at("arch"));
    batch_.push_back(Sample{a, ctx_.space->hash(a), b.at("proposed").get<bool>(), b.at("told").get<bool>(),
                            standing_of(b.at("standing"))});
  }
  proposed_ = s.at("proposed").get<int64_t>();
  known_.clear();
  for (auto it = s.at("known").begin(); it != s.at("known").end(); ++it) known_[it.key()] = standing_of(it.value());
  baseline_ = optional_of(s.at("baseline"));
  best_ = optional_of(s.at("best"));
  worst_ = optional_of(s.at("worst"));
  max_violation_ = s.at("max_violation").get<double>();
  updates_ = s.at("updates").get<int64_t>();
}

}  // namespace nascent::strategy
