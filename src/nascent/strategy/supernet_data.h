// The data of a supernet search: the task's training split (or a fixed share of it) divided once
// into a weight part and an architecture part (DARTS' two halves of the training data; SPOS'
// held-out images for ranking paths), and mini-batches from either part in an order fixed by the
// seed and the pass number, so that a search resumed at an epoch boundary sees the same batches.
// The validation split is never touched: it ranks the proposals like every other trial.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace nascent::data {
struct TaskData;
}

namespace nascent::strategy {

struct Batch {
  torch::Tensor x;  // normalised inputs [B, ...]
  torch::Tensor y;  // targets [B] (or [B, T])
};

struct SupernetRows {
  std::vector<int64_t> weights;  // rows of the training split that train the network weights
  std::vector<int64_t> arch;     // rows that train the alphas (darts, gdas) or rank paths (spos)
};
// Of n training rows, a share data_fraction (a fixed random subset), split so that arch_fraction
// of it goes to the architecture part. Throws InputError when a part would hold fewer than
// `min_rows` rows (a batch).
SupernetRows split_rows(int64_t n, double data_fraction, double arch_fraction, uint64_t seed, int64_t min_rows);

// The rows as one batch, in the given order.
Batch take_batch(const data::TaskData& data, const std::vector<int64_t>& rows);

// Endless full mini-batches over a set of rows: each pass is a fresh permutation drawn from
// (seed, pass), so the stream's whole state is the pass and the position in it.
class BatchStream {
 public:
  BatchStream() = default;
  BatchStream(const data::TaskData& data, std::vector<int64_t> rows, int64_t batch_size, uint64_t seed);

  Batch next();
  int64_t batches_per_pass() const;
  int64_t batch_size() const { return batch_; }

  nlohmann::json state() const;
  void load_state(const nlohmann::json& s);

 private:
  void shuffle();

  const data::TaskData* data_ = nullptr;
  std::vector<int64_t> rows_, order_;
  int64_t batch_ = 1;
  uint64_t seed_ = 0;
  int64_t pass_ = 0, pos_ = 0;
};

}  // namespace nascent::strategy
