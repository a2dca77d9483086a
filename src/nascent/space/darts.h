// `darts`: the DARTS cell space (Liu et al., ICLR 2019). A normal and a reduction cell, each with
// two inputs (the previous two cells) and 4 intermediate nodes that pick two (input, operation)
// pairs; the cell outputs the concatenation of the intermediate nodes. The network stacks
// `layers` cells with reduction cells at 1/3 and 2/3 of the depth (the reference NetworkCIFAR).
#pragma once

#include <cstdint>
#include <string>

#include "nascent/space/darts_genotype.h"
#include "nascent/space/space.h"

namespace nascent {
class ConfigSection;
}

namespace nascent::space {

struct DartsOptions {
  int64_t C = 16;                 // initial channels (stem 3C; doubled at each reduction cell)
  int64_t layers = 8;             // cells; reductions at layers/3 and 2*layers/3
  bool auxiliary = false;         // auxiliary classifier after the 2/3-depth cell, training only
  double auxiliary_weight = 0.4;  // its loss weight
  double drop_path = 0.0;         // drop-path probability reached at the end of training (linear ramp)
  int64_t search_C = 0;           // C of the supernet (DARTS searches at 16 and evaluates at 36); 0 = C
  int64_t search_layers = 0;      // cells of the supernet (DARTS: 8 in search, 20 in evaluation); 0 = layers

  int64_t search_channels() const { return search_C > 0 ? search_C : C; }
  int64_t search_cells() const { return search_layers > 0 ? search_layers : layers; }

  static DartsOptions from_config(ConfigSection& section);
};

class DartsSpace : public SearchSpace {
 public:
  explicit DartsSpace(DartsOptions options = {});

  // Orders each node's two (input, operation) pairs, so swapping them hashes equal; a `none`
  // edge's input is inactive (always 0).
  Arch canonical(const Arch& arch) const override;
  // Per edge `none` or 7 operations x inputs: prod over nodes of m^2, m = 1 + 7 x inputs, per
  // cell type. (Closed form: the generic count would enumerate every op decision.)
  double size() const override;
  // Unordered pairs per node: prod over nodes of m(m+1)/2, m = 1 + 7 x inputs; per cell type.
  double distinct_size() const override;
  // Compact: "normal sep3~0+sep3~1 ... reduce max~0+max~1 ...".
  std::string describe(const Arch& arch) const override;
  // The normal and the reduction cell: inputs c_{k-2}, c_{k-1}, nodes 2..5, their concatenation.
  Diagram diagram(const Arch& arch) const override;

  std::string text_field() const override { return "genotype"; }
  std::string to_text(const Arch& arch) const override;
  Arch from_text(const std::string& text, const std::string& source) const override;

  std::shared_ptr<Network> build(const Arch& arch, const Task& task, double width_mult) const override;
  std::shared_ptr<Supernet> build_supernet(const Task& task, const SupernetOptions& options) const override;

  darts::Genotype genotype(const Arch& arch) const;
  Arch arch(const darts::Genotype& genotype) const;
  const DartsOptions& options() const { return options_; }

  // Decision index of cell type t (0 normal, 1 reduce), intermediate node k (0..3), gene g (0 a,
  // 1 b); the op decision is at that index, the input decision right after it.
  static size_t op_decision(int t, int k, int g) { return static_cast<size_t>(((t * darts::kSteps + k) * 2 + g) * 2); }

 private:
  DartsOptions options_;
};

}  // namespace nascent::space
