// Loaded data for a task: train / validation / test splits as tensors. Validation is carved from
// the training files with a fixed split seed; the test split is only used for final reporting.
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

#include "nascent/core/task.h"

namespace nascent {
class ConfigSection;
}

namespace nascent::data {

struct Split {
  torch::Tensor x;  // images: uint8 [N, C, H, W]; tabular: float [N, F]
  torch::Tensor y;  // int64 [N]
  int64_t size() const { return y.defined() ? y.size(0) : 0; }
};

struct TaskData {
  Task task;
  Split train, val, test;
  std::vector<float> mean, std;  // per channel, from the training split, for uint8 images
  std::string source;            // where the data came from, for logs and summaries
  uint64_t split_seed = 0;
};

struct TaskOptions {
  std::string dataset = "fashion-mnist";                   // fashion-mnist | idx
  std::string path = "/usr/share/datasets/fashion-mnist";  // directory of the IDX files
  // For dataset: idx (file names inside `path`, or absolute paths).
  std::string train_images = "train-images-idx3-ubyte.gz";
  std::string train_labels = "train-labels-idx1-ubyte.gz";
  std::string test_images = "t10k-images-idx3-ubyte.gz";
  std::string test_labels = "t10k-labels-idx1-ubyte.gz";
  double val_fraction = 0.1;  // of the training files, held out for validation
  int64_t split_seed = 0;     // fixed so that every experiment sees the same split
  int64_t limit = 0;          // keep only this many training examples (0 = all); for quick tests

  static TaskOptions from_config(ConfigSection& section);
};

// Loads and splits the data; throws InputError naming the file on bad or missing data.
TaskData load_task(const TaskOptions& options);

// uint8 images -> normalised float [N, C, H, W]; float inputs pass through.
torch::Tensor normalize(const torch::Tensor& x, const TaskData& data);

// The train and validation splits joined (for final training, once the search is over).
Split join(const Split& a, const Split& b);

}  // namespace nascent::data
