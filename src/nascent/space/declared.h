// `declared`: a search space written in the config instead of C++. A list of layers whose fields
// are fixed values or `{choice: [...]}` lists, plus residual blocks and repeated blocks whose
// count may itself be a choice. Every choice becomes a Decision named by its path
// (`layers.0.channels`); the decisions of copy k of a repeated block exist only when the count
// is at least k. A classification head is appended. See docs/spaces/declared.md.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "nascent/space/space.h"

namespace nascent::space {

// A layer field: a fixed option text, or the index of the decision that chooses it.
struct DeclaredValue {
  std::string fixed;
  int decision = -1;
};

struct DeclaredLayer {
  std::string type;  // conv | dwconv | pool | global_pool | flatten | batchnorm | linear | dropout |
                     // activation | residual | repeat
  std::string path;  // for messages: "space.declared.layers[2]"
  std::map<std::string, DeclaredValue> fields;     // absent optional fields are left out
  std::vector<DeclaredLayer> body;                 // residual: the layers inside
  DeclaredValue count;                             // repeat: how many copies
  std::vector<std::vector<DeclaredLayer>> copies;  // repeat: copy 1, 2, ... up to the largest count
};

struct DeclaredOptions {
  std::string input = "image";        // image ([C, H, W]) | vector ([features], tabular data)
  std::vector<DeclaredLayer> layers;  // parsed from `layers`
  std::vector<Decision> decisions;    // one per choice list, in the order they appear

  // Parses `input` and `layers`; errors name the YAML path
  // (`space.declared.layers[2].kernel: expected an odd integer or a choice list`).
  static DeclaredOptions from_config(ConfigSection& section);
};

class DeclaredSpace : public SearchSpace {
 public:
  explicit DeclaredSpace(DeclaredOptions options);

  std::shared_ptr<Network> build(const Arch& arch, const Task& task, double width_mult) const override;
  bool supports(const Task& task) const override;
  Task default_task() const override;
  const DeclaredOptions& options() const { return options_; }

 private:
  DeclaredOptions options_;
};

}  // namespace nascent::space
