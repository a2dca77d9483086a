// `nb201`: the NAS-Bench-201 cell space (Dong & Yang, ICLR 2020). One cell of 4 nodes and 6
// edges, each edge one of 5 operations, repeated in the benchmark's fixed macro skeleton
// (3 stages of N cells joined by residual reduction blocks). 15,625 cells, 6,466 distinct.
#pragma once

#include <cstdint>
#include <string>

#include "nascent/space/nb201_cell.h"
#include "nascent/space/space.h"

namespace nascent {
class ConfigSection;
}

namespace nascent::space {

struct Nb201Options {
  int64_t C = 16;        // channels of the first stage (2C and 4C after the two reduction blocks)
  int64_t N = 5;         // cells per stage
  int64_t search_C = 0;  // C of the supernet (one-shot search network); 0 = C
  int64_t search_N = 0;  // N of the supernet; 0 = N

  int64_t search_channels() const { return search_C > 0 ? search_C : C; }
  int64_t search_cells() const { return search_N > 0 ? search_N : N; }

  static Nb201Options from_config(ConfigSection& section);
};

class Nb201Space : public SearchSpace {
 public:
  explicit Nb201Space(Nb201Options options = {});

  // Isomorphic and dead-edge variants fold onto one representative (see nb201_cell.h).
  Arch canonical(const Arch& arch) const override;
  double distinct_size() const override { return nb201::distinct_count(); }
  std::string size_unit() const override { return "cells"; }
  std::string describe(const Arch& arch) const override { return to_text(arch); }
  // The cell: nodes 0 (input) .. 3 (output), an edge per operation other than `none`.
  Diagram diagram(const Arch& arch) const override;

  // The benchmark's string form, "|nor_conv_3x3~0|+|...~0|...~1|+|...~0|...~1|...~2|".
  std::string text_field() const override { return "string"; }
  std::string to_text(const Arch& arch) const override;
  Arch from_text(const std::string& text, const std::string& source) const override;

  std::shared_ptr<Network> build(const Arch& arch, const Task& task, double width_mult) const override;
  std::shared_ptr<Supernet> build_supernet(const Task& task, const SupernetOptions& options) const override;

  nb201::Cell cell(const Arch& arch) const;
  Arch arch(const nb201::Cell& cell) const;
  const Nb201Options& options() const { return options_; }

 private:
  Nb201Options options_;
};

}  // namespace nascent::space
