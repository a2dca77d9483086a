// The common frame of one-shot strategies (darts, gdas, spos). Such a strategy trains its own
// supernet inside ask() (blocking; one progress event and one checkpoint per epoch), then
// proposes the architecture(s) it derived, at the context's fidelity, one per ask, and is then
// exhausted. The proposals are trained, recorded and reported like any other trial.
// A search killed during supernet training resumes from the last completed epoch's checkpoint;
// once it has proposed, the stored strategy state holds the proposals and nothing is retrained.
#pragma once

#include <torch/torch.h>

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "nascent/space/supernet.h"
#include "nascent/strategy/strategy.h"
#include "nascent/strategy/supernet_data.h"

namespace nascent::strategy {

// How the supernet's weights are trained; every one-shot strategy reads these from its own
// section (strategy.darts, strategy.gdas, strategy.spos) with its own defaults.
struct SupernetTrainOptions {
  int64_t epochs = 10;         // supernet training epochs; one epoch = one pass over the weight part
  int64_t batch_size = 64;     // images per step (from each part, for bilevel strategies)
  double lr = 0.025;           // SGD on the weights, cosine-annealed per epoch from lr to lr_min
  double lr_min = 0.001;       //
  double momentum = 0.9;       //
  bool nesterov = false;       //
  double weight_decay = 3e-4;  //
  double grad_clip = 5;        // max norm of the weights' gradient (0 = none)
  double data_fraction = 1;    // share of the training split the search uses (a fixed subset)
  double arch_fraction = 0.5;  // share of that held out for the architecture (alphas, or ranking paths)

  // Reads the fields present in `section` over these values (the strategy's defaults).
  void read(ConfigSection& section);
  nlohmann::json to_json() const;
};

// Adam on the architecture parameters (DARTS sec. 3: lr 3e-4, betas (0.5, 0.999), decay 1e-3).
struct ArchOptimizerOptions {
  double lr = 3e-4;            // architecture learning rate
  double beta1 = 0.5;          // Adam's first-moment decay
  double beta2 = 0.999;        // Adam's second-moment decay
  double weight_decay = 1e-3;  // L2 on the alphas

  void read(ConfigSection& section);  // fields arch_lr, arch_beta1, arch_beta2, arch_weight_decay
  nlohmann::json to_json() const;
};

// beta-DARTS (Ye et al. 2022, eq. 9): adds to each alpha tensor's gradient that of
// weight * mean over its rows (edges) of logsumexp(row), i.e. weight * softmax(row) / rows. It
// pulls every edge's alphas down in proportion to their softmax weight, so no operation runs away
// with an edge early (the "beta decay" of the softmax-activated architecture parameters).
// darts and gdas use it (their remedy beta_decay).
void add_beta_decay_grad(std::vector<torch::Tensor> alphas, double weight);
// The regulariser's weight in an epoch: rising linearly from 0 at the first epoch towards `max`
// (as beta-DARTS' reference code's epoch * 0.5 over 100 epochs rises to 50).
double beta_decay_weight(double max, int64_t epoch, int64_t epochs);

// Per-step numbers summed over an epoch.
struct EpochMeter {
  double loss = 0, correct = 0, count = 0;
  void add(const torch::Tensor& logits, const torch::Tensor& y, double loss_value);
  double mean_loss() const { return count > 0 ? loss / count : 0; }
  double accuracy() const { return count > 0 ? correct / count : 0; }
};

class OneShotStrategy : public Strategy {
 public:
  std::optional<Proposal> ask() override;
  void tell(const Trial&) override {}  // proposals are fixed once derived
  bool exhausted() const override { return searched_ && asked_ >= proposals_.size(); }
  nlohmann::json state() const override;
  void load_state(const nlohmann::json& s) override;

  // Trains the supernet (resuming from a checkpoint if there is one) and derives the proposals;
  // ask() calls it on first use. Idempotent.
  void search();
  const std::vector<Proposal>& proposals() const { return proposals_; }
  space::Supernet& supernet();
  // The checkpoint file ("" without a checkpoint directory).
  std::string checkpoint_path() const;

 protected:
  OneShotStrategy(const StrategyContext& ctx, SupernetTrainOptions train, nlohmann::json options);

  // What the strategy needs of the supernet (partial channels, auxiliary skip).
  virtual space::SupernetOptions supernet_options() const { return {}; }
  // Called once the supernet, its weight optimiser and the batch streams exist (before a
  // checkpoint is loaded): strategies that train alphas create their optimiser here.
  virtual void prepare() {}
  // True when the supernet's alphas are trained (logged per epoch, derived from).
  virtual bool trains_alphas() const { return true; }
  // One epoch of training; returns its numbers for the progress event.
  virtual nlohmann::json train_epoch(int64_t epoch) = 0;
  // After the last epoch: the architectures to propose, best first, each with its meta.
  virtual std::vector<std::pair<Arch, nlohmann::json>> select() = 0;
  // The strategy's own generators' states (beyond the batch streams and the supernet's noise).
  virtual nlohmann::json generators() const { return nlohmann::json::object(); }
  virtual void load_generators(const nlohmann::json&) {}

  // The weights' learning rate in an epoch: cosine from lr to lr_min (DARTS' CosineAnnealingLR).
  double lr_at(int64_t epoch) const;
  // One SGD step on the weights for a batch, in the supernet's current mode.
  void weight_step(const Batch& b, EpochMeter& meter);
  // Clips the weights' gradient to train_.grad_clip (if set).
  void clip_weight_grad();
  // Adam on the alphas, created by strategies that train them.
  void make_arch_optimizer(const ArchOptimizerOptions& o);
  // Calls the context's poll (which may throw to stop the search).
  void poll() const;
  // An event the user sees as one line and the run stores.
  void emit(const std::string& kind, int64_t step, nlohmann::json data, const std::string& line) const;

  SupernetTrainOptions train_;
  nlohmann::json options_;  // the strategy's options, for checkpoint fingerprints
  std::shared_ptr<space::Supernet> net_;
  std::unique_ptr<torch::optim::SGD> weight_opt_;
  std::unique_ptr<torch::optim::Adam> arch_opt_;
  BatchStream weight_batches_, arch_batches_;
  SupernetRows rows_;

 private:
  void build();
  nlohmann::json fingerprint() const;
  void save_checkpoint(int64_t epochs_done) const;
  int64_t load_checkpoint();  // epochs done, or 0 without a usable checkpoint
  nlohmann::json epoch_event(int64_t epoch, nlohmann::json stats, double seconds) const;

  bool searched_ = false;
  std::vector<Proposal> proposals_;
  size_t asked_ = 0;
};

}  // namespace nascent::strategy
