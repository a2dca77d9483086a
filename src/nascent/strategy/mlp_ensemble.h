// An ensemble of small MLP regressors on architecture encodings, each trained on all the data
// from its own random initialisation: BANANAS' "meta neural network" ensemble (White, Neiswanger
// & Savani, AAAI 2021, sec. 5). The members' mean and standard deviation are the surrogate's
// prediction and uncertainty. The members train together as one batched network.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "nascent/core/rng.h"

namespace nascent::strategy {

struct MlpEnsembleOptions {
  int64_t members = 5;  // networks in the ensemble (BANANAS: 5)
  int64_t layers = 2;   // hidden layers per network
  int64_t width = 20;   // units per hidden layer (BANANAS: 20)
  int64_t steps = 100;  // full-batch Adam steps per fit
  double lr = 0.01;     // Adam learning rate (BANANAS: 0.01)
};

class MlpEnsemble {
 public:
  explicit MlpEnsemble(MlpEnsembleOptions options = {});
  ~MlpEnsemble();
  MlpEnsemble(MlpEnsemble&&) noexcept;
  MlpEnsemble& operator=(MlpEnsemble&&) noexcept;

  // Trains fresh networks (weights drawn from rng) on x -> y with the mean absolute error
  // (BANANAS' loss); y is standardised internally. x rows all have the same length.
  void fit(const std::vector<std::vector<float>>& x, const std::vector<double>& y, Rng& rng);
  bool fitted() const;

  struct Prediction {
    std::vector<double> mean;  // per row, on y's scale
    std::vector<double> std;   // spread of the members' predictions
  };
  Prediction predict(const std::vector<std::vector<float>>& x) const;

 private:
  struct Net;
  MlpEnsembleOptions options_;
  std::unique_ptr<Net> net_;
};

}  // namespace nascent::strategy
