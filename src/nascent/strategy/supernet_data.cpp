#include "nascent/strategy/supernet_data.h"

#include <fmt/format.h>

#include <cmath>

#include "nascent/core/error.h"
#include "nascent/core/rng.h"
#include "nascent/data/dataset.h"

namespace nascent::strategy {

SupernetRows split_rows(int64_t n, double data_fraction, double arch_fraction, uint64_t seed, int64_t min_rows) {
  std::vector<int64_t> all(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) all[static_cast<size_t>(i)] = i;
  Rng rng = Rng::derive(seed, "supernet-rows");
  rng.shuffle(all);
  const auto used = static_cast<int64_t>(std::llround(data_fraction * static_cast<double>(n)));
  const auto arch = static_cast<int64_t>(std::llround(arch_fraction * static_cast<double>(used)));
  if (used - arch < min_rows || (arch_fraction > 0 && arch < min_rows))
    throw InputError("", "strategy",
                     fmt::format("the supernet's data is too small: {} training rows x data_fraction {} = {}, "
                                 "{} of them for the architecture, and each part needs a batch of {}",
                                 n, data_fraction, used, arch, min_rows));
  SupernetRows r;
  r.arch.assign(all.begin(), all.begin() + arch);
  r.weights.assign(all.begin() + arch, all.begin() + used);
  return r;
}

Batch take_batch(const data::TaskData& data, const std::vector<int64_t>& rows) {
  auto idx = torch::from_blob(const_cast<int64_t*>(rows.data()), {static_cast<int64_t>(rows.size())}, torch::kInt64);
  return {data::normalize(data.train.x.index_select(0, idx), data), data.train.y.index_select(0, idx)};
}

BatchStream::BatchStream(const data::TaskData& data, std::vector<int64_t> rows, int64_t batch_size, uint64_t seed)
    : data_(&data), rows_(std::move(rows)), batch_(batch_size), seed_(seed) {
  NASCENT_CHECK(batch_ >= 1 && static_cast<int64_t>(rows_.size()) >= batch_, "batch stream: fewer rows than a batch");
  shuffle();
}

void BatchStream::shuffle() {
  order_ = rows_;
  Rng rng = Rng::derive(seed_, fmt::format("pass/{}", pass_));
  rng.shuffle(order_);
}

int64_t BatchStream::batches_per_pass() const { return static_cast<int64_t>(rows_.size()) / batch_; }

Batch BatchStream::next() {
  NASCENT_CHECK(data_ != nullptr, "batch stream without data");
  if (pos_ >= batches_per_pass()) {  // full batches only: BatchNorm needs more than one example
    ++pass_;
    pos_ = 0;
    shuffle();
  }
  std::vector<int64_t> rows(order_.begin() + pos_ * batch_, order_.begin() + (pos_ + 1) * batch_);
  ++pos_;
  return take_batch(*data_, rows);
}

nlohmann::json BatchStream::state() const { return {{"pass", pass_}, {"pos", pos_}}; }

void BatchStream::load_state(const nlohmann::json& s) {
  pass_ = s.at("pass").get<int64_t>();
  pos_ = s.at("pos").get<int64_t>();
  shuffle();
}

}  // namespace nascent::strategy
