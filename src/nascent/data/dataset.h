// Loaded data for a task: train / validation / test splits as tensors. Validation is carved from
// the training files with a fixed split seed; the test split is only used for final reporting.
// Readers: IDX images (fashion-mnist, idx), CSV tables (csv.h) and plain text (text.h).
#pragma once

#include <torch/torch.h>

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "nascent/core/task.h"

namespace nascent {
class ConfigSection;
}

namespace nascent::data {

struct Split {
  torch::Tensor x;  // images: uint8 [N, C, H, W]; tabular: float [N, F]; text: int64 token ids [N, T]
  torch::Tensor y;  // int64 [N]; language modelling: the next tokens, int64 [N, T]
  int64_t size() const { return y.defined() ? y.size(0) : 0; }
};

struct TaskData {
  Task task;
  Split train, val, test;
  std::vector<float> mean, std;  // from the training split: per channel (uint8 images, applied by
                                 // normalize) or per feature (tabular, already applied)
  std::vector<std::string>
      class_names;  // the name of each class id: csv and text labels, Fashion-MNIST's names, IDX label values
  std::vector<std::string> vocabulary;  // text: the character of each token id (0 padding, 1 unknown)
  std::string source;                   // where the data came from, for logs and summaries
  std::vector<std::string> skipped;     // images: files left out under task.bad_files: skip, "path: why"
  std::vector<std::string> notes;       // what the reader chose and found, in plain words (logged)
  // csv: how a row becomes the input vector, {"label_column", "columns": [{name, kind: numeric
  // (fill) | categorical (categories)}]}, for model.json and `nascent predict`; null otherwise.
  nlohmann::json columns;
  // Classification: training examples of the largest class over the smallest (1 = balanced);
  // from kImbalanceRatio up the classes count as imbalanced and a note says so.
  double imbalance_ratio = 1.0;
  uint64_t split_seed = 0;
};

constexpr double kImbalanceRatio = 3.0;

struct TaskOptions {
  std::string dataset = "fashion-mnist";                   // fashion-mnist | idx | csv | text | images | dicom
  std::string path = "/usr/share/datasets/fashion-mnist";  // IDX directory; csv and text: the file;
                                                           // images, dicom: the folder (image_folder.h;
                                                           // dicom is images whose files are DICOM)
  // For dataset: idx (file names inside `path`, or absolute paths).
  std::string train_images = "train-images-idx3-ubyte.gz";
  std::string train_labels = "train-labels-idx1-ubyte.gz";
  std::string test_images = "t10k-images-idx3-ubyte.gz";
  std::string test_labels = "t10k-labels-idx1-ubyte.gz";
  // For dataset: idx: a name per label value 0..classes-1 for the model's description (empty =
  // the label values); class_names_file: the config file, for the error when the count differs.
  std::vector<std::string> class_names;
  std::string class_names_file;
  // For dataset: csv (see csv.h).
  std::string label_column;                      // name (or 1-based number without a header); "" = the last column
  std::vector<std::string> features;             // numeric feature columns; empty = every column but the label
  bool header = true;                            // the first line (after skip_rows) names the columns
  int64_t skip_rows = 0;                         // lines to skip at the top of the file
  std::string delimiter = ",";                   // one character; "\t" for tab-separated files
  std::string missing = "error";                 // empty or NA values: error | drop (leave the row out) | fill
                                                 // (numeric: the training mean; categorical: no category)
  std::string categorical = "auto";              // auto: a column whose values are mostly not numbers is one-hot
                                                 // encoded; none: every feature must be numeric
  std::vector<std::string> categorical_columns;  // feature columns one-hot encoded whatever they hold
  // For dataset: text (see text.h).
  std::string mode = "lm";  // lm: next-character prediction; classify: one `label<TAB>text` per line
  int64_t seq_len = 64;     // characters per example (lm), or padded/truncated length (classify)
  // For dataset: images (see image_folder.h).
  int64_t image_size = 0;          // side of the square input; 0 = from the data (auto_image_side)
  int64_t channels = 0;            // 1 or 3; 0 = 3 when any image has colour, else 1
  std::string bad_files = "stop";  // an unreadable image: stop (one error) | skip (counted and listed)
  // For csv, text and images: the test split.
  std::string test_path;       // a separate test file; "" = carve test_fraction off `path`
  double test_fraction = 0.2;  // share of `path` held out for testing when there is no test_path

  double val_fraction = 0.1;  // of the training files, held out for validation
  int64_t split_seed = 0;     // fixed so that every experiment sees the same split
  int64_t limit = 0;          // keep only this many training examples (0 = all); for quick tests

  static TaskOptions from_config(ConfigSection& section);
};

// Loads and splits the data; throws InputError naming the file on bad or missing data.
TaskData load_task(const TaskOptions& options);

// A fixed permutation of 0..n-1 from the split seed (the same for every experiment).
std::vector<int64_t> split_permutation(int64_t n, uint64_t split_seed);
// Stratified hold-out: from each class's examples (labels[i] = class), a `fraction` (rounded;
// at least 1 and at most all but one when the class has 2 or more) goes to `held`, chosen in an
// order fixed by the split seed and `purpose` ("test", "val"); the rest to `kept`. Both sorted.
void stratified_holdout(const std::vector<int64_t>& labels, double fraction, uint64_t split_seed,
                        const std::string& purpose, std::vector<int64_t>& held, std::vector<int64_t>& kept);
// Examples per class id (0..classes-1) of a split.
std::vector<int64_t> class_counts(const Split& s, int64_t classes);
// Per-channel mean and standard deviation of a split's uint8 images, in [0, 1] units.
void image_channel_stats(const Split& train, std::vector<float>& mean, std::vector<float>& std);
// Rows idx of a split.
Split take(const Split& s, const std::vector<int64_t>& idx);
// Validation and training sizes out of n examples, honouring val_fraction and limit; throws
// InputError when either would be empty.
std::pair<int64_t, int64_t> val_train_sizes(int64_t n, const TaskOptions& o);

// The distinct labels, in numeric order when every label is a number, else alphabetical: the
// class ids of csv and labelled-text tasks.
std::vector<std::string> distinct_labels(const std::vector<std::string>& labels);

// uint8 images -> normalised float [N, C, H, W]; float inputs pass through.
torch::Tensor normalize(const torch::Tensor& x, const TaskData& data);

// The train and validation splits joined (for final training, once the search is over).
Split join(const Split& a, const Split& b);

}  // namespace nascent::data
